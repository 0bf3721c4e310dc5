#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer to a file descriptor, for output that may be large
/// (a plan of a million people): bytes are appended and written in blocks.
public final class ByteOutput {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let path: String?
    private var failure: Int32?

    /// Writes to an open descriptor, such as 1 for standard output.
    public init(descriptor: Int32) {
        fd = descriptor
        path = nil
        buffer.reserveCapacity(1 << 16)
    }

    /// Creates (or truncates) a file with the given mode and writes to it.
    /// - Throws: ``SyncError`` naming the path.
    public init(creating path: String, mode: UInt32 = 0o600) throws {
        let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard opened >= 0 else {
            throw SyncError(.io, "cannot write \(path): \(String(cString: strerror(errno)))",
                            hint: "check that the folder exists and this user may write there")
        }
        fd = opened
        self.path = path
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        flush()
        if path != nil { close(fd) }
    }

    /// Writes out what is buffered and reports whether every write reached the file.
    /// - Throws: ``SyncError`` naming the file and the system's reason (a full disk, say).
    public func finish() throws {
        flush()
        if path != nil, fsync(fd) != 0, failure == nil { failure = errno }
        if let failure {
            throw SyncError(.io, "writing \(path ?? "standard output") failed: \(String(cString: strerror(failure)))",
                            hint: "check free disk space and the file's permissions")
        }
    }

    /// Appends text.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Appends bytes.
    public func write(bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Appends `text` as a JSON string literal, escaped straight into the buffer.
    public func writeJSONString(_ text: String) {
        JSONWriter.appendQuoted(text, to: &buffer)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Appends one byte.
    @inline(__always) public func write(byte: UInt8) { buffer.append(byte) }

    /// Writes out what is buffered.
    public func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = failure ?? errno
                break
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// `write(2)`, which the methods named `write` above would otherwise shadow.
private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}
