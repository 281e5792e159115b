#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A fixed-size, zero-initialised Float buffer with a stable address, for the kernels'
/// parameters, activations and caches. Swift arrays may move; these never do.
///
/// Large buffers are their own memory mapping, so they start as untouched zero pages
/// and `discard()` can hand their memory back to the system between uses.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    private let mappedBytes: Int    // 0 when allocated on the heap
    private let owner: FloatBuffer? // set for a view into another buffer's memory

    /// By default buffers of at least this many bytes are mapped and may be discarded.
    /// Only the large ones are worth it: a discarded buffer costs page faults when next
    /// written.
    static let defaultMappingThreshold = 64 << 20

    /// A buffer of `count` zeros, mapped when it takes at least `mappingThreshold` bytes.
    init(count: Int, mappingThreshold: Int = FloatBuffer.defaultMappingThreshold) {
        self.count = max(count, 0)
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if bytes >= mappingThreshold,
           let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
           raw != MAP_FAILED {
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            mappedBytes = bytes
        } else {
            pointer = .allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            mappedBytes = 0
        }
        owner = nil
    }

    /// `count` values of `owner`'s memory from `offset` on, kept alive by the view.
    /// Discarding a view does nothing: its memory is the owner's to hand back.
    init(viewing owner: FloatBuffer, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= owner.count, "a view must lie inside its buffer")
        self.owner = owner
        pointer = owner.pointer + offset
        self.count = count
        mappedBytes = 0
    }

    deinit {
        guard owner == nil else { return }
        if mappedBytes > 0 { munmap(pointer, mappedBytes) } else { pointer.deallocate() }
    }

    func zero() { pointer.update(repeating: 0, count: count) }

    /// Bytes of memory of its own: 0 for a view, whose memory is its owner's.
    var ownBytes: Int { owner == nil ? count * MemoryLayout<Float>.stride : 0 }

    /// Returns a mapped buffer's memory to the system; it reads as zeros afterwards.
    /// Small buffers keep theirs (and their contents).
    func discard() {
        if mappedBytes > 0 { _ = madvise(pointer, mappedBytes, Int32(MADV_DONTNEED)) }
    }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Grows a buffer to hold at least `count` values, keeping it when already big enough;
/// a new one is mapped when it takes at least `mappingThreshold` bytes.
func ensure(_ buffer: inout FloatBuffer?, _ count: Int,
            mappingThreshold: Int = FloatBuffer.defaultMappingThreshold) -> FloatBuffer {
    if let existing = buffer, existing.count >= count { return existing }
    let fresh = FloatBuffer(count: count, mappingThreshold: mappingThreshold)
    buffer = fresh
    return fresh
}
