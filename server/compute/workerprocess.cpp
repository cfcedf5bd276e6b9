// server/compute/workerprocess.cpp
#include "workerprocess.h"

#include "i18n/language.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

namespace hex::server::compute {

namespace {

/// This file's texts, in one translation context (a free tr() would take lupdate's
/// guess at the enclosing class).
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(hex::server::compute::WorkerProcess)
};

} // namespace

WorkerProcess::WorkerProcess(Segment &segment, int slot)
    : m_segment(segment)
    , m_slotIndex(slot)
{
    Q_ASSERT(slot >= 0 && slot < kMaxWorkerSlots);
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    m_process.setStandardOutputFile(QProcess::nullDevice());
}

WorkerProcess::~WorkerProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

void WorkerProcess::startRaw(const QString &program, const QStringList &arguments)
{
    m_stderr.clear();
    m_process.start(program, arguments);
}

bool WorkerProcess::launch(const QString &program, WakeMethod method, const WakerOptions &options,
                           WorkerMode mode)
{
    WorkerSlot &slot = m_segment.slot(m_slotIndex);
    slot.state.store(static_cast<std::uint32_t>(SlotState::Starting), std::memory_order_seq_cst);
    m_error.clear();
    auto waker = Waker::create(method, WakeSide::Server, slot, options);
    if (!waker) {
        m_error = waker.error();
        return false;
    }
    m_waker = std::move(*waker);
    QStringList arguments{
        mode == WorkerMode::Step ? QStringLiteral("--step") : QStringLiteral("--ping"),
        m_segment.name(), QStringLiteral("--slot"), QString::number(m_slotIndex),
        QStringLiteral("--wakeup"), wakeMethodName(method), QStringLiteral("--spin-us"),
        QString::number(
            std::chrono::duration_cast<std::chrono::microseconds>(options.spin).count()),
        // The worker's refusals reach the log and the status in this process's language.
        QStringLiteral("--lang"), i18n::languageCode(i18n::installedLanguage())};
    if (method == WakeMethod::EventFd) {
        const auto [in, out] = m_waker->peerEventFds();
        arguments << QStringLiteral("--eventfd-in") << QString::number(in)
                  << QStringLiteral("--eventfd-out") << QString::number(out);
        // Runs in the child between fork and exec: only this worker inherits the pair.
        m_process.setChildProcessModifier([in = in, out = out] {
            ::fcntl(in, F_SETFD, 0);
            ::fcntl(out, F_SETFD, 0);
        });
    } else {
        m_process.setChildProcessModifier({});
    }
    startRaw(program, arguments);
    if (!m_process.waitForStarted(10000)) {
        m_error = Text::tr("cannot start %1: %2").arg(program, m_process.errorString());
        return false;
    }
    return true;
}

bool WorkerProcess::start(const QString &program, WakeMethod method, const WakerOptions &options,
                          std::chrono::milliseconds readyTimeout, WorkerMode mode)
{
    if (!launch(program, method, options, mode))
        return false;
    QElapsedTimer timer;
    timer.start();
    while (!isReady()) {
        if (m_process.waitForFinished(1)) {
            m_stderr = QString::fromLocal8Bit(m_process.readAllStandardError()).trimmed();
            m_error = Text::tr("worker exited with status %1 before it was ready: %2")
                          .arg(m_process.exitCode())
                          .arg(m_stderr);
            return false;
        }
        if (timer.elapsed() > readyTimeout.count()) {
            m_error = Text::tr("worker was not ready after %1 ms").arg(readyTimeout.count());
            kill();
            return false;
        }
    }
    return true;
}

bool WorkerProcess::isReady() const
{
    return m_segment.slot(m_slotIndex).state.load(std::memory_order_acquire)
           == static_cast<std::uint32_t>(SlotState::Ready);
}

bool WorkerProcess::isRunning() const
{
    const qint64 pid = m_process.processId();
    if (pid <= 0)
        return false;
    siginfo_t info{};
    // WNOWAIT: look without reaping, QProcess reaps it. ECHILD: already reaped.
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0)
        return false;
    return info.si_pid == 0;
}

void WorkerProcess::kill()
{
    if (m_process.state() != QProcess::NotRunning) {
        const qint64 pid = m_process.processId();
        if (pid > 0)
            ::kill(static_cast<pid_t>(pid), SIGKILL);
        m_process.waitForFinished(5000);
    }
    m_stderr += QString::fromLocal8Bit(m_process.readAllStandardError()).trimmed();
}

bool WorkerProcess::waitForExit(std::chrono::milliseconds timeout)
{
    if (m_process.state() != QProcess::NotRunning
        && !m_process.waitForFinished(static_cast<int>(timeout.count())))
        return false;
    m_stderr = QString::fromLocal8Bit(m_process.readAllStandardError()).trimmed();
    return true;
}

bool WorkerProcess::stop(std::chrono::milliseconds timeout)
{
    WorkerSlot &slot = m_segment.slot(m_slotIndex);
    slot.state.store(static_cast<std::uint32_t>(SlotState::Stopping), std::memory_order_seq_cst);
    if (m_waker && !m_waker->notify())
        m_error = m_waker->errorString();
    if (waitForExit(timeout))
        return true;
    m_error = Text::tr("worker did not stop within %1 ms; killed").arg(timeout.count());
    kill();
    return false;
}

int WorkerProcess::exitCode() const
{
    if (m_process.state() != QProcess::NotRunning || m_process.exitStatus() != QProcess::NormalExit)
        return -1;
    return m_process.exitCode();
}

} // namespace hex::server::compute
