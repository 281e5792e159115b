import CNcursesw
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Puts the terminal back the way it was on every way out of the program: the
/// normal quit, a hang-up (SIGHUP: restore and exit), and crashes (SIGSEGV, SIGBUS,
/// SIGABRT, SIGILL, SIGFPE, SIGTRAP: restore, then hand the signal to whoever handled
/// it before, such as Swift's backtracer). Ctrl-C and kill (SIGINT, SIGTERM) are a
/// request to quit, handled by `QuitSignals`.
///
/// Signal handlers can only reach global state, so this is a set of globals
/// written once on the main thread before the handlers are installed.
enum TerminalRestore {
    static let exitSignals: [Int32] = [SIGHUP]
    static let crashSignals: [Int32] = [SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP]

    /// Installs the handlers; call right after the screen is initialised.
    static func install() {
        terminalIsActive = 1
        var handled = sigset_t()
        sigemptyset(&handled)
        for signal in exitSignals {
            setHandler(signal, exitHandler)
            sigaddset(&handled, signal)
        }
        for signal in crashSignals {
            var previous = sigaction()
            setHandler(signal, crashHandler, previous: &previous)
            previousCrashActions[Int(signal)] = previous
            sigaddset(&handled, signal)
        }
        // A program can inherit blocked signals from whatever started it (launchers,
        // test runners); Ctrl-C must still reach this thread.
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
    }

    /// Restores the terminal (once) and puts the previous handlers back.
    static func restore() {
        guard terminalIsActive == 1 else { return }
        terminalIsActive = 0
        endwin()
        for signal in exitSignals { Glibc.signal(signal, SIG_DFL) }
        for signal in crashSignals {
            var previous = previousCrashActions[Int(signal)]
            sigaction(signal, &previous, nil)
        }
    }

    fileprivate static func setHandler(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var ignored = sigaction()
        setHandler(signal, handler, previous: &ignored)
    }

    private static func setHandler(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void,
                                   previous: inout sigaction) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, &previous)
    }
}

/// 1 while curses owns the terminal.
nonisolated(unsafe) private var terminalIsActive: sig_atomic_t = 0
/// The handlers that were installed before ours, by signal number.
nonisolated(unsafe) private var previousCrashActions = [SignalAction](repeating: SignalAction(), count: 65)
private typealias SignalAction = sigaction

private func exitHandler(_ signal: Int32) {
    restoreTerminalAndExit(signal)
}

/// Gives the terminal back if curses still has it and exits at once with 128 + `signal`.
/// Labels are committed as they are made; a run in progress is marked interrupted
/// when the project is next opened.
private func restoreTerminalAndExit(_ signal: Int32) -> Never {
    if terminalIsActive == 1 {
        terminalIsActive = 0
        endwin()
    }
    _exit(128 + signal)
}

/// Ctrl-C (SIGINT) and kill (SIGTERM) as a request to quit: the handler only records
/// the signal, and the main loop quits as `q` does (the run in progress stops after its
/// batch with a checkpoint, the terminal is restored), then the program exits with
/// 128 + the signal (130, 143). The same signal again while that is under way (a
/// second Ctrl-C) exits at once, with the terminal restored.
enum QuitSignals {
    static let signals: [Int32] = [SIGINT, SIGTERM]

    /// Installs the handlers; they stay until the program exits.
    static func install() {
        // Touch the globals here, on the main thread: a handler must not be the first to.
        receivedSignal.store(0, ordering: .sequentiallyConsistent)
        shutdownStarted.store(0, ordering: .sequentiallyConsistent)
        var handled = sigset_t()
        sigemptyset(&handled)
        for signal in signals {
            TerminalRestore.setHandler(signal, quitHandler)
            sigaddset(&handled, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
    }

    /// The signal that asked to quit (SIGINT or SIGTERM), if one did.
    static var received: Int32? {
        let signal = receivedSignal.load(ordering: .sequentiallyConsistent)
        return signal == 0 ? nil : signal
    }

    /// From now on the program is shutting down: a quit signal exits at once.
    static func beginShutdown() {
        shutdownStarted.store(1, ordering: .sequentiallyConsistent)
    }
}

/// The first quit signal received (0: none). Lock-free atomics are async-signal-safe.
private let receivedSignal = Atomic<Int32>(0)
/// 1 once the program has begun to shut down after the main loop ended.
private let shutdownStarted = Atomic<Int32>(0)

private func quitHandler(_ signal: Int32) {
    let (first, _) = receivedSignal.compareExchange(expected: 0, desired: signal, ordering: .sequentiallyConsistent)
    if !first || shutdownStarted.load(ordering: .sequentiallyConsistent) == 1 {
        restoreTerminalAndExit(signal)
    }
}

private func crashHandler(_ signal: Int32) {
    if terminalIsActive == 1 {
        terminalIsActive = 0
        endwin()
    }
    // Reinstate the previous handler and raise the signal again: it is delivered to
    // that handler as soon as this one returns, so the backtrace or core dump still happens.
    var previous = previousCrashActions[Int(signal)]
    sigaction(signal, &previous, nil)
    raise(signal)
}
