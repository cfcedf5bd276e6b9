// server/compute/workerprocess.h
#pragma once
#include "segment.h"
#include "wakeup.h"

#include <QProcess>
#include <QString>

#include <chrono>
#include <memory>

namespace hex::server::compute {

/// What a started worker does.
enum class WorkerMode {
    Ping, ///< answers every wake-up at once (latency measurements)
    Step, ///< runs the StepJob's phase of its part of the world, then answers
};

/// The server's end of one hexsphere-worker process bound to one slot of a Segment: starts
/// it with the wake-up method's arguments, waits until it reports Ready, and stops it
/// through the slot's state word. Use from one thread only (Signal wake-ups are bound to
/// the thread that called start()). The Segment must outlive this object.
class WorkerProcess
{
public:
    /// `slot` in 0 .. kMaxWorkerSlots-1.
    WorkerProcess(Segment &segment, int slot);
    /// Kills the process if it still runs.
    ~WorkerProcess();
    WorkerProcess(const WorkerProcess &) = delete;
    WorkerProcess &operator=(const WorkerProcess &) = delete;

    /// Starts `program --ping <segment> --slot <n> --wakeup <method> ...` and waits up to
    /// `readyTimeout` for the slot to become Ready. On failure the process is killed and
    /// errorString() says why (with the worker's stderr when it exited).
    [[nodiscard]] bool start(const QString &program, WakeMethod method, const WakerOptions &options,
                             std::chrono::milliseconds readyTimeout,
                             WorkerMode mode = WorkerMode::Ping);
    /// Starts the process as start() does but returns as soon as it runs, without waiting
    /// for Ready: see isReady(). False (errorString()) when it cannot be started at all.
    [[nodiscard]] bool launch(const QString &program, WakeMethod method,
                              const WakerOptions &options, WorkerMode mode);
    /// The slot says Ready: the worker attached, checked the segment and waits for jobs.
    bool isReady() const;
    /// The process has not exited (a zombie counts as exited). Does not reap it.
    bool isRunning() const;
    /// SIGKILL, then waits until the process is gone: afterwards it writes nothing more.
    void kill();
    /// Starts the process with exactly `arguments` and returns without waiting for Ready:
    /// for tests that feed a worker bad input. No Waker is created.
    void startRaw(const QString &program, const QStringList &arguments);
    /// Valid after a successful start().
    Waker &waker() { return *m_waker; }
    /// Sets the slot to Stopping, wakes the worker and waits up to `timeout` for it to exit.
    /// True when it exited by itself (see exitCode()); false when it had to be killed.
    [[nodiscard]] bool stop(std::chrono::milliseconds timeout);
    /// Waits up to `timeout` for the process to exit by itself.
    [[nodiscard]] bool waitForExit(std::chrono::milliseconds timeout);
    /// -1 while running or after a crash.
    int exitCode() const;
    QString standardError() const { return m_stderr; }
    qint64 processId() const { return m_process.processId(); }
    QString errorString() const { return m_error; }

private:
    Segment &m_segment;
    int m_slotIndex;
    QProcess m_process;
    std::unique_ptr<Waker> m_waker;
    QString m_stderr;
    QString m_error;
};

} // namespace hex::server::compute
