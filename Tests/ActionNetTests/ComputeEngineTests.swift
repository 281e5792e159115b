import ActionNet
import Testing

@Test func threadCountIsWhatWasSet() {
    BLAS.setThreads(1)
    #expect(BLAS.threads == 1)
    BLAS.setThreads(2)
    #expect(BLAS.threads == 2)
    #expect(!BLAS.coreName.isEmpty)
}
