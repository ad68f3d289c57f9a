import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, so its exit status and its own peak memory
/// (`wait4`'s rusage, which counts the child only, not the parent that made its input) are ours
/// to read. Foundation's `Process` reaps children itself and hides both.
final class ChildProcess {
    let pid: pid_t
    /// Read end of the child's stdout when `captureOutput` was asked for, else -1.
    let output: Int32
    private var buffer: [UInt8] = []

    struct Exit {
        /// Exit code, or nil when a signal ended the child.
        var code: Int32?
        var signal: Int32?
        /// Peak resident memory in bytes.
        var maxRSS: Int
    }

    init(_ executable: String, _ arguments: [String], captureOutput: Bool, environment: [String: String] = [:]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var fds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            posix_spawn_file_actions_addclose(&actions, fds[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, envp)
        if captureOutput { close(fds[1]) }
        guard rc == 0 else {
            if captureOutput { close(fds[0]) }
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        pid = child
        output = captureOutput ? fds[0] : -1
    }

    deinit { if output >= 0 { close(output) } }

    /// The next line of the child's stdout; nil at end of output, `.timedOut` when nothing
    /// complete arrived within `timeout` seconds.
    enum Line { case text(String), end, timedOut }

    func readLine(timeout: Double) -> Line {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return .text(line)
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return .timedOut }
            var p = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(left, 3600) * 1000) + 1)
            if ready < 0 { if errno == EINTR { continue }; return .end }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(output, &chunk, chunk.count)
            if n <= 0 { return .end }
            buffer += chunk[..<n]
        }
    }

    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    func wait() -> Exit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        return Exit(code: signaled ? nil : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil,
                    maxRSS: Int(usage.ru_maxrss) * 1024)
    }
}
