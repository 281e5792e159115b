import ActionStore
import Foundation
import Testing

@Suite struct ProjectConfigTests {
    @Test func withoutAFileTheFiveDefaultClassesApply() throws {
        let project = try TemporaryProject()
        let config = try ProjectConfig.load(project.layout)
        #expect(config.classes == ["run", "walk", "jump", "wave", "spin"])
        #expect(config.sampling == nil)
    }

    @Test func readsClassesAndSampling() throws {
        let project = try TemporaryProject()
        try project.write("actionlab.toml", """
            classes = ["box", "clap", "wave"]   # keys 1..3
            [sampling]
            frames = 16
            height = 64
            width = 48
            channels = 3
            [cache]
            max_size_mib = 512
            """)
        let config = try ProjectConfig.load(project.layout)
        #expect(config.classes == ["box", "clap", "wave"])
        #expect(config.sampling == .init(frames: 16, height: 64, width: 48, channels: 3))
        #expect(config.cacheSizeLimit == 512 << 20)
    }

    @Test func brokenTOMLNamesTheFileAndLine() throws {
        let project = try TemporaryProject()
        let url = try project.write("actionlab.toml", "classes = [\"run\", \"walk\"]\n\n[sampling\nframes = 3\n")
        let error = #expect(throws: ProjectConfigError.self) { try ProjectConfig.load(project.layout) }
        #expect(error?.file == url.path)
        #expect(error?.line == 3)
        #expect(error?.description.hasPrefix("\(url.path):3: ") == true)
    }

    @Test(arguments: [
        ("classes = \"run\"", "must be an array"),
        ("classes = []", "is empty"),
        ("classes = [\"a\", 2]", "only strings"),
        ("classes = [\"a\", \"a\"]", "named twice"),
        ("classes = [\" a\"]", "surrounding spaces"),
        ("classes = [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\"]", "at most 9"),
        ("colours = 3", "unknown setting 'colours'"),
        ("[sampling]\nframes = 16\nheight = 64\nwidth = 64", "missing 'channels'"),
        ("[sampling]\nframes = 0\nheight = 64\nwidth = 64\nchannels = 1", "frames must be a whole number from 1 to 10000"),
        ("[sampling]\nframes = 8\nheight = 64\nwidth = 4611686018427387904\nchannels = 1", "width must be a whole number"),
        ("[sampling]\nframes = 8\nheight = 64.5\nwidth = 64\nchannels = 1", "height must be a whole number"),
        ("[cache]\nmax_size_mib = 0", "max_size_mib must be a whole number from 1"),
        ("[cache]\nmax_size = 3", "unknown [cache] setting 'max_size'"),
        ("cache = 3", "'cache' must be a table"),
        ("[sampling]\nframes = 8\nheight = 64\nwidth = 64\nchannels = 2", "channels must be 1 (gray) or 3"),
        ("[sampling]\nframes = 8\nheight = 64\nwidth = 64\nchannels = 1\nfps = 3", "unknown [sampling] setting 'fps'"),
    ])
    func invalidSettingsAreExplained(text: String, expected: String) throws {
        // Each would otherwise reach an allocation of frames x height x width bytes, or an empty cache.
        let error = #expect(throws: ProjectConfigError.self) { try ProjectConfig.parse(text, file: "p/actionlab.toml") }
        #expect(error?.description.hasPrefix("p/actionlab.toml: ") == true)
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }
}
