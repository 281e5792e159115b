import CNcursesw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Puts the terminal back the way it was on every way out of the program: the
/// normal quit, Ctrl-C and kill (SIGINT, SIGTERM, SIGHUP: restore and exit), and
/// crashes (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP: restore, then hand
/// the signal to whoever handled it before, such as Swift's backtracer).
///
/// Signal handlers can only reach global state, so this is a set of globals
/// written once on the main thread before the handlers are installed.
enum TerminalRestore {
    static let exitSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
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

    private static func setHandler(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void) {
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
    if terminalIsActive == 1 {
        terminalIsActive = 0
        endwin()
    }
    // Labels are committed as they are made, so nothing is left to save.
    _exit(128 + signal)
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
