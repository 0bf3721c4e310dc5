import ConnectorCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A buffered writer to a file descriptor, for output that may be large
/// (a plan of a million people): bytes are appended and written in blocks.
/// Or, made with ``init()``, to memory.
public final class ByteOutput {
    @usableFromInline static let capacity = 1 << 16
    /// The descriptor written to; -1 for memory.
    private let fd: Int32
    /// What was written, for output to memory.
    private var memory: [UInt8] = []
    // Raw memory, not an array: appending to an array property of a class costs an
    // exclusivity check per call, which was most of the time of printing a big plan.
    @usableFromInline let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: ByteOutput.capacity)
    @usableFromInline var count = 0
    private let path: String?
    private var temporary: String?
    private var failure: Int32?

    /// Writes to an open descriptor, such as 1 for standard output.
    public init(descriptor: Int32) {
        fd = descriptor
        path = nil
    }

    /// Collects the bytes in memory, for ``collected()``.
    public init() {
        fd = -1
        path = nil
    }

    /// Everything written to memory so far; the output is empty after.
    public func collected() -> [UInt8] {
        flush()
        defer { memory = [] }
        return memory
    }

    /// Writes a file with the given mode (whatever the umask), in full or not at all: the
    /// bytes go to a temporary file beside it, of a random name and created anew (`O_EXCL`,
    /// `O_NOFOLLOW`: a planted file or link is never written through), which ``finish()``
    /// moves into place. Until then readers see the old file.
    /// - Throws: ``SyncError`` naming the path.
    public init(creating path: String, mode: UInt32 = 0o600) throws {
        // A name no one can guess, made only if nothing is there (never through a planted file or link).
        let temporary = path + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let opened = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode_t(mode & 0o600))
        guard opened >= 0 else {
            throw SyncError(
                .io, "cannot write \(path): \(String(cString: strerror(errno)))",
                hint: "check that the folder exists and this user may write there")
        }
        // The mode asked for, whatever the umask (a service's UMask=0077 would leave metrics unreadable).
        guard fchmod(opened, mode_t(mode)) == 0 else {
            let reason = String(cString: strerror(errno))
            close(opened)
            unlink(temporary)
            throw SyncError(.io, "cannot set the mode of \(path): \(reason)")
        }
        fd = opened
        self.path = path
        self.temporary = temporary
    }

    deinit {
        flush()
        if path != nil { close(fd) }
        // Never finished: the file it was to replace stays as it was.
        if let temporary { unlink(temporary) }
        storage.deallocate()
    }

    /// Writes out what is buffered and reports whether every write reached the file.
    /// - Throws: ``SyncError`` naming the file and the system's reason (a full disk, say).
    public func finish() throws {
        flush()
        if path != nil, fsync(fd) != 0, failure == nil { failure = errno }
        if let failure {
            if let temporary { unlink(temporary) }
            throw SyncError(
                .io, "writing \(path ?? "standard output") failed: \(String(cString: strerror(failure)))",
                hint: "check free disk space and the file's permissions")
        }
        if let temporary, let path {
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw SyncError(
                    .io, "cannot move the new \(path) into place: \(reason)",
                    hint: "check the folder's permissions")
            }
            self.temporary = nil
        }
    }

    /// Appends text.
    public func write(_ text: String) {
        UTF8Text.withBytes(of: text) { append($0) }
    }

    /// Appends bytes as they are.
    @inlinable public func write(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// Appends `text` as a JSON string literal, escaped straight into the buffer.
    @inlinable public func writeJSONString(_ text: String) {
        write(byte: UInt8(ascii: "\""))
        UTF8Text.withBytes(of: text) { writeEscaped($0) }
        write(byte: UInt8(ascii: "\""))
    }

    /// Appends `text` escaped for a JSON string, without the quotes.
    public func writeEscapedText(_ text: String) {
        UTF8Text.withBytes(of: text) { writeEscaped($0) }
    }

    /// Appends one byte.
    @inlinable @inline(__always) public func write(byte: UInt8) {
        if count == Self.capacity { flush() }
        storage[count] = byte
        count += 1
    }

    /// Writes out what is buffered.
    public func flush() {
        writeOut(UnsafeBufferPointer(start: storage, count: count))
        count = 0
    }

    @usableFromInline func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return }
        if count + bytes.count > Self.capacity { flush() }
        if bytes.count > Self.capacity {
            writeOut(bytes)
            return
        }
        (storage + count).update(from: start, count: bytes.count)
        count += bytes.count
    }

    /// Appends a whole number in decimal, without making a string.
    public func write(decimal number: Int) {
        guard number >= 0 else { return write(String(number)) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var n = number
            var i = buffer.count
            repeat {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0
            append(UnsafeBufferPointer(rebasing: buffer[i...]))
        }
    }

    /// Runs of bytes that need no escape are copied whole.
    @usableFromInline func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        var run = 0
        // perf: eight bytes at a time while none needs an escape (nearly all text), then byte by byte.
        let clean = Self.cleanPrefix(bytes)
        if clean == bytes.count { return append(bytes) }
        for i in clean..<bytes.count {
            // perf: the test inline, so a byte that needs no escape (nearly all) costs one comparison chain.
            let byte = bytes[i]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\"),
                let escape = JSONWriter.escape(byte)
            else { continue }
            append(UnsafeBufferPointer(rebasing: bytes[run..<i]))
            escape.withUnsafeBufferPointer { append($0) }
            run = i + 1
        }
        append(UnsafeBufferPointer(rebasing: bytes[run...]))
    }

    /// How many leading bytes, a multiple of eight, surely need no JSON escape: words are tested whole
    /// for a byte below 0x20, a `"` or a `\` (the exact "has a zero byte" tests, so a word passes
    /// only when none of its bytes needs one). Tested against the byte loop in `ByteOutputTests`.
    static func cleanPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let raw = UnsafeRawBufferPointer(bytes)
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ w: UInt64) -> Bool { (w &- ones) & ~w & highs != 0 }
        var i = 0
        while i + 8 <= raw.count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let control = (w &- 0x2020_2020_2020_2020) & ~w & highs != 0
            if control || hasZero(w ^ 0x2222_2222_2222_2222) || hasZero(w ^ 0x5C5C_5C5C_5C5C_5C5C) { return i }
            i += 8
        }
        return i
    }

    private func writeOut(_ bytes: UnsafeBufferPointer<UInt8>) {
        if fd < 0 { return memory.append(contentsOf: bytes) }
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                failure = failure ?? errno
                break
            }
            offset += written
        }
    }
}

/// `write(2)`, which the methods named `write` above would otherwise shadow.
private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}
