import Foundation

/// Files shipped with the tests (see Fixtures/keras/README.md for their origin).
public enum Fixtures {
    /// The URL of a file under Tests/TestSupport/Fixtures.
    public static func url(_ relativePath: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relativePath)
    }

    public static var kerasGray: URL { url("keras/seed_stack_gray_12x12.safetensors") }
    public static var kerasRGB: URL { url("keras/seed_stack_rgb_8x10.safetensors") }
}
