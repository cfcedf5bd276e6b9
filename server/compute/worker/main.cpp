// hexsphere-worker: the compute process hexsphere-server starts to step its part of
// the world in shared memory. This first slice has one mode, --ping: attach to the
// server's segment, check its layout, and answer every wake-up with a wake-up back until
// the slot's state says Stopping. Stepping the world is not here yet.
#include "compute/segment.h"
#include "compute/wakeup.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <cerrno>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace hex::server::compute;

namespace {

/// Exit statuses, so the server can tell a refused segment from a lost server.
enum ExitCode : int {
    ExitStopped = 0,
    ExitUsage = 1,
    ExitBadSegment = 2,
    ExitWakeFailed = 3,
    ExitServerGone = 4,
};

int fail(int code, const QString &message)
{
    QTextStream(stderr) << "hexsphere-worker: " << message << '\n';
    return code;
}

QString tr(const char *text)
{
    return QCoreApplication::translate("main", text);
}

bool processAlive(pid_t pid)
{
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

int runPing(const QString &segmentName, int slotIndex, WakeMethod method,
            const WakerOptions &options)
{
    auto segment = Segment::attach(segmentName);
    if (!segment)
        return fail(ExitBadSegment, segment.error());
    WorkerSlot &slot = segment->slot(slotIndex);
    const pid_t serverPid = segment->control()->serverPid;

    auto waker = Waker::create(method, WakeSide::Worker, slot, options);
    if (!waker)
        return fail(ExitWakeFailed, waker.error());

    slot.workerPid.store(::getpid(), std::memory_order_seq_cst);
    slot.workerTid.store(static_cast<pid_t>(::syscall(SYS_gettid)), std::memory_order_seq_cst);
    std::uint32_t expected = static_cast<std::uint32_t>(SlotState::Starting);
    if (!slot.state.compare_exchange_strong(expected, static_cast<std::uint32_t>(SlotState::Ready))
        && expected != static_cast<std::uint32_t>(SlotState::Stopping)) {
        expected = static_cast<std::uint32_t>(SlotState::Empty);
        slot.state.compare_exchange_strong(expected, static_cast<std::uint32_t>(SlotState::Ready));
    }

    const auto stopping = [&slot] {
        return slot.state.load(std::memory_order_acquire)
               == static_cast<std::uint32_t>(SlotState::Stopping);
    };
    for (;;) {
        const WaitResult result = (*waker)->wait(std::chrono::seconds(1));
        if (result == WaitResult::Failed)
            return fail(ExitWakeFailed, (*waker)->errorString());
        if (stopping()) {
            slot.state.store(static_cast<std::uint32_t>(SlotState::Stopped),
                             std::memory_order_release);
            return ExitStopped;
        }
        if (result == WaitResult::TimedOut) {
            if (!processAlive(serverPid))
                return fail(ExitServerGone,
                            tr("the server process %1 is gone; exiting").arg(serverPid));
            continue;
        }
        slot.heartbeat.fetch_add(1, std::memory_order_relaxed);
        slot.echo.store(slot.toWorker.load(std::memory_order_acquire), std::memory_order_release);
        if (!(*waker)->notify())
            return fail(ExitWakeFailed, (*waker)->errorString());
    }
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hexsphere-worker"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HEX_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere compute worker. hexsphere-server starts it; it is not run by hand."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption segmentOption(QStringLiteral("segment"),
                                           tr("Shared-memory segment to attach to."), tr("name"));
    const QCommandLineOption pingOption(
        QStringLiteral("ping"),
        tr("Ping mode: attach to the segment and answer every wake-up with one back until "
           "the slot is told to stop."),
        tr("segment"));
    const QCommandLineOption slotOption(
        QStringLiteral("slot"),
        tr("Worker slot in the segment (0 to %1).").arg(kMaxWorkerSlots - 1), tr("n"));
    const QCommandLineOption wakeupOption(
        QStringLiteral("wakeup"), tr("Wake-up method: futex, eventfd or signal."), tr("method"));
    const QCommandLineOption eventFdInOption(
        QStringLiteral("eventfd-in"), tr("Inherited eventfd the server wakes us on."), tr("fd"));
    const QCommandLineOption eventFdOutOption(
        QStringLiteral("eventfd-out"), tr("Inherited eventfd we wake the server on."), tr("fd"));
    const QCommandLineOption spinOption(QStringLiteral("spin-us"),
                                        tr("Futex only: microseconds to spin before sleeping."),
                                        tr("us"), QStringLiteral("20"));
    parser.addOptions({segmentOption, pingOption, slotOption, wakeupOption, eventFdInOption,
                       eventFdOutOption, spinOption});
    parser.process(app);

    if (!parser.isSet(pingOption)) {
        return fail(ExitUsage, tr("workers are started by hexsphere-server; this build only "
                                  "has the --ping mode of the shared-memory protocol."));
    }

    bool ok = false;
    const int slotIndex = parser.value(slotOption).toInt(&ok);
    if (!parser.isSet(slotOption) || !ok || slotIndex < 0 || slotIndex >= kMaxWorkerSlots)
        return fail(ExitUsage, tr("--slot must be a number from 0 to %1, not \"%2\"")
                                   .arg(kMaxWorkerSlots - 1)
                                   .arg(parser.value(slotOption)));
    const auto method = parseWakeMethod(parser.value(wakeupOption));
    if (!method)
        return fail(ExitUsage, tr("--wakeup must be futex, eventfd or signal, not \"%1\"")
                                   .arg(parser.value(wakeupOption)));
    WakerOptions options;
    const int spinUs = parser.value(spinOption).toInt(&ok);
    if (!ok || spinUs < 0 || spinUs > 1'000'000)
        return fail(ExitUsage, tr("--spin-us must be a number from 0 to 1000000, not \"%1\"")
                                   .arg(parser.value(spinOption)));
    options.spin = std::chrono::microseconds(spinUs);
    if (*method == WakeMethod::EventFd) {
        bool inOk = false;
        bool outOk = false;
        options.eventFdIn = parser.value(eventFdInOption).toInt(&inOk);
        options.eventFdOut = parser.value(eventFdOutOption).toInt(&outOk);
        if (!inOk || !outOk)
            return fail(ExitUsage,
                        tr("--wakeup eventfd needs --eventfd-in and --eventfd-out descriptors"));
    }
    return runPing(parser.value(pingOption), slotIndex, *method, options);
}
