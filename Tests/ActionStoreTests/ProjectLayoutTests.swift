import ActionStore
import Foundation
import Testing

@Test func everythingWrittenLivesUnderDotActionlab() {
    let layout = ProjectLayout(root: URL(fileURLWithPath: "/data/clips"))
    #expect(layout.databaseURL.path.hasPrefix("/data/clips/.actionlab/"))
    #expect(layout.relativePath(of: URL(fileURLWithPath: "/data/clips/run/a.mp4")) == "run/a.mp4")
    #expect(layout.relativePath(of: URL(fileURLWithPath: "/elsewhere/a.mp4")) == "/elsewhere/a.mp4")
}

@Test func clipsAreRecognisedByExtensionInAnyCase() {
    #expect(ProjectLayout.isClipPath("run/a.mp4"))
    #expect(ProjectLayout.isClipPath("B.MOV"))
    #expect(ProjectLayout.isClipPath("x.tar/c.webm"))
    #expect(!ProjectLayout.isClipPath("notes.txt"))
    #expect(!ProjectLayout.isClipPath("mp4"))
    #expect(!ProjectLayout.isClipPath(".mp4"))
    #expect(!ProjectLayout.isClipPath("clip.mp4/"))
}
