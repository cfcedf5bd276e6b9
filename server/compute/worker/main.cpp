// hexsphere-worker: the compute process hexsphere-server starts to step its part of
// the world in shared memory. Two modes:
//   --step SEGMENT: attach, check that the segment's world is one this program can step
//     (content version, sphere, exchange layout), then for every wake-up run the StepJob's
//     automaton phase for this slot's part in place, record the job as done and answer;
//   --ping SEGMENT: answer every wake-up at once (latency measurements).
// Both exit when the slot says Stopping, or when the server process is gone.
#include "compute/segment.h"
#include "compute/wakeup.h"

#include "geometry/hexsphere.h"
#include "i18n/language.h"
#include "sim/automaton.h"
#include "sim/content.h"
#include "sim/worldgen.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <cerrno>
#include <chrono>
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
    ExitWrongWorld = 5,
    ExitBadJob = 6,
};

int fail(int code, const QString &message)
{
    QTextStream(stderr) << "hexsphere-worker: " << message << '\n';
    return code;
}

/// This file's texts, in one translation context (a free tr() would take lupdate's
/// guess at the enclosing class).
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(main)
};

bool processAlive(pid_t pid)
{
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

/// awaitJob(): a wake-up came, with a job to do.
constexpr int kJob = -1;

/// Waits for the next wake-up: kJob, or the exit status when the slot says Stopping (it is
/// then Stopped), the server is gone or waiting failed.
int awaitJob(Waker &waker, WorkerSlot &slot, pid_t serverPid)
{
    for (;;) {
        const WaitResult result = waker.wait(std::chrono::seconds(1));
        if (result == WaitResult::Failed)
            return fail(ExitWakeFailed, waker.errorString());
        if (slot.state.load(std::memory_order_acquire)
            == static_cast<std::uint32_t>(SlotState::Stopping)) {
            slot.state.store(static_cast<std::uint32_t>(SlotState::Stopped),
                             std::memory_order_release);
            return ExitStopped;
        }
        if (result == WaitResult::Woken)
            return kJob;
        if (!processAlive(serverPid))
            return fail(ExitServerGone,
                        Text::tr("the server process %1 is gone; exiting").arg(serverPid));
    }
}

/// Marks the slot Ready (unless the server already asks it to stop) and records who waits.
void announceReady(WorkerSlot &slot)
{
    slot.workerPid.store(::getpid(), std::memory_order_seq_cst);
    slot.workerTid.store(static_cast<pid_t>(::syscall(SYS_gettid)), std::memory_order_seq_cst);
    std::uint32_t expected = static_cast<std::uint32_t>(SlotState::Starting);
    if (!slot.state.compare_exchange_strong(expected, static_cast<std::uint32_t>(SlotState::Ready))
        && expected != static_cast<std::uint32_t>(SlotState::Stopping)) {
        expected = static_cast<std::uint32_t>(SlotState::Empty);
        slot.state.compare_exchange_strong(expected, static_cast<std::uint32_t>(SlotState::Ready));
    }
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

    announceReady(slot);

    for (;;) {
        if (const int exitCode = awaitJob(**waker, slot, serverPid); exitCode != kJob)
            return exitCode;
        slot.heartbeat.fetch_add(1, std::memory_order_relaxed);
        slot.echo.store(slot.toWorker.load(std::memory_order_acquire), std::memory_order_release);
        if (!(*waker)->notify())
            return fail(ExitWakeFailed, (*waker)->errorString());
    }
}

/// Takes jobs of the segment's BulkRing until none is left. False (after one line on stderr)
/// when the ring asks for something impossible.
bool runBulk(const Segment &segment, std::uint32_t cellCount, const hex::geometry::HexSphere &sphere,
             int slotIndex, WorkerSlot &slot)
{
    BulkRing &ring = segment.control()->bulk;
    auto *base = reinterpret_cast<std::byte *>(segment.control());
    const std::uint64_t size = segment.size();
    const auto inside = [&](std::uint64_t offset, std::uint64_t bytes) {
        return offset >= sizeof(ControlBlock) && offset <= size && size - offset >= bytes;
    };
    if (ring.count > std::uint32_t(kMaxBulkJobs)) {
        fail(ExitBadJob, Text::tr("%1 bulk jobs are more than the ring holds").arg(ring.count));
        return false;
    }
    const auto kind = BulkKind(ring.kind);
    const bool fits
        = kind == BulkKind::Terrain
              ? inside(ring.outputOffsets[0], cellCount) && inside(ring.outputOffsets[1], cellCount)
          : kind == BulkKind::Noise
              ? inside(ring.inputOffset, cellCount)
                    && inside(ring.outputOffsets[0], std::uint64_t(cellCount) * 8)
                    && ring.outputOffsets[0] % alignof(std::int64_t) == 0
              : false;
    if (kind != BulkKind::Terrain && kind != BulkKind::Noise) {
        fail(ExitBadJob, Text::tr("bulk job kind %1 does not exist").arg(ring.kind));
        return false;
    }
    if (!fits) {
        fail(ExitBadJob,
             Text::tr("a bulk job reads or writes outside the %1-byte segment").arg(size));
        return false;
    }
    const hex::sim::NoiseField field{ring.seed, ring.frequency, ring.octaves,
                                     std::uint8_t(ring.terrainMask)};
    for (;;) {
        const std::uint32_t i = ring.next.fetch_add(1, std::memory_order_acq_rel);
        if (i >= ring.count)
            return true;
        if (ring.begin[i] > ring.end[i] || ring.end[i] > cellCount) {
            fail(ExitBadJob, Text::tr("bulk job %1 covers cells %2..%3 of %4")
                                 .arg(i)
                                 .arg(ring.begin[i])
                                 .arg(ring.end[i])
                                 .arg(cellCount));
            return false;
        }
        ring.state[i].store(std::uint32_t(slotIndex) + 1, std::memory_order_release);
        if (kind == BulkKind::Terrain) {
            hex::sim::generateTerrainRange(
                sphere, ring.seed, ring.begin[i], ring.end[i],
                reinterpret_cast<std::uint8_t *>(base + ring.outputOffsets[0]),
                reinterpret_cast<std::uint8_t *>(base + ring.outputOffsets[1]));
        } else {
            hex::sim::noiseFieldRange(
                sphere, field, reinterpret_cast<const std::uint8_t *>(base + ring.inputOffset),
                ring.begin[i], ring.end[i],
                reinterpret_cast<std::int64_t *>(base + ring.outputOffsets[0]));
        }
        ring.state[i].store(kBulkDone, std::memory_order_release);
        ring.done.fetch_add(1, std::memory_order_acq_rel);
        slot.heartbeat.fetch_add(1, std::memory_order_relaxed);
    }
}

int runStep(const QString &segmentName, int slotIndex, WakeMethod method,
            const WakerOptions &options)
{
    using namespace hex;
    auto segment = Segment::attach(segmentName);
    if (!segment)
        return fail(ExitBadSegment, segment.error());
    // Read only, but for the parts taken through nextPart and partState.
    StepJob &job = segment->control()->job;
    WorkerSlot &slot = segment->slot(slotIndex);
    const pid_t serverPid = segment->control()->serverPid;

    // The world: only one this program steps exactly as the server would.
    auto content = sim::loadDefaultContent();
    if (!content)
        return fail(ExitWrongWorld,
                    Text::tr("the game content does not load: %1").arg(content.error()));
    const QString serverContent = QString::fromUtf8(
        job.contentVersion, static_cast<int>(::strnlen(job.contentVersion, sizeof job.contentVersion)));
    if (serverContent != content->version)
        return fail(ExitWrongWorld,
                    Text::tr("the server steps content version \"%1\", this worker has "
                             "content version \"%2\"")
                        .arg(serverContent, content->version));
    if (job.subdivisions < 1 || job.subdivisions > 1024
        || geometry::HexSphere::cellCountFor(job.subdivisions) != job.cellCount)
        return fail(ExitWrongWorld, Text::tr("the segment's world is inconsistent: %1 subdivisions "
                                             "but %2 cells")
                                        .arg(job.subdivisions)
                                        .arg(job.cellCount));
    if (job.chunkSplit < 0 || job.chunkSplit > job.subdivisions)
        return fail(ExitWrongWorld,
                    Text::tr("the segment's chunk split %1 does not fit %2 subdivisions")
                        .arg(job.chunkSplit)
                        .arg(job.subdivisions));
    if (job.parts < 1 || job.parts > std::uint32_t(kMaxParts))
        return fail(ExitWrongWorld,
                    Text::tr("the world is split into %1 parts; a worker takes 1 to %2")
                        .arg(job.parts)
                        .arg(kMaxParts));
    // The sphere's tables as the server copied them into the segment, shared; only when
    // /dev/shm had no room for them does this worker build its own.
    std::shared_ptr<const geometry::HexSphere> sphere;
    if (job.sphere.present()) {
        const auto tables = sphereTablesAt(
            job.sphere, reinterpret_cast<const std::byte *>(segment->control()), segment->size());
        if (!tables)
            return fail(ExitWrongWorld, tables.error());
        auto view = geometry::HexSphere::view(job.subdivisions, job.chunkSplit, *tables);
        if (!view)
            return fail(
                ExitWrongWorld,
                Text::tr("the segment's sphere does not fit its world: %1").arg(view.error()));
        sphere = std::move(*view);
    } else {
        sphere = std::make_shared<const geometry::HexSphere>(job.subdivisions, job.chunkSplit);
    }
    sim::Automaton automaton(sphere, *content);
    automaton.setPartCount(int(job.parts));
    const std::vector<sim::CellId> partCells = automaton.partCells();
    for (std::size_t i = 0; i < partCells.size(); ++i) {
        if (partCells[i] != job.partCells[i])
            return fail(ExitWrongWorld,
                        Text::tr("the server's part %1 starts at cell %2, this worker's "
                                 "at cell %3: different programs")
                            .arg(i)
                            .arg(job.partCells[i])
                            .arg(partCells[i]));
    }
    if (automaton.exchangeBytes() != job.exchangeBytes)
        return fail(ExitWrongWorld, Text::tr("the server's exchange for %1 parts is %2 bytes, this "
                                             "worker's would be %3 bytes: different programs")
                                        .arg(job.parts)
                                        .arg(job.exchangeBytes)
                                        .arg(automaton.exchangeBytes()));

    auto waker = Waker::create(method, WakeSide::Worker, slot, options);
    if (!waker)
        return fail(ExitWakeFailed, waker.error());
    announceReady(slot);

    auto *base = reinterpret_cast<std::byte *>(segment->control());
    const std::uint64_t size = segment->size();
    const std::uint64_t cells = job.cellCount;
    // Bytes each array spans, to check that a job's offsets stay inside the segment.
    const std::uint64_t arrayBytes[] = {cells,     cells,          cells, cells, cells,
                                        cells * sizeof(sim::ResourceId),
                                        cells * 2, cells,          job.exchangeBytes};
    static_assert(std::size(arrayBytes) == std::size_t(StepArray::Count));
    for (;;) {
        if (const int exitCode = awaitJob(**waker, slot, serverPid); exitCode != kJob)
            return exitCode;
        const std::uint64_t sequence = job.sequence;
        if (job.phase == kBulkPhase) {
            if (!runBulk(*segment, job.cellCount, *sphere, slotIndex, slot))
                return ExitBadJob;
            slot.done.store(sequence, std::memory_order_release);
            if (!(*waker)->notify())
                return fail(ExitWakeFailed, (*waker)->errorString());
            continue;
        }
        if (job.phase >= std::uint32_t(sim::kAutomatonPhaseCount))
            return fail(ExitBadJob, Text::tr("job %1 asks for phase %2, which does not exist")
                                        .arg(sequence)
                                        .arg(job.phase));
        std::byte *at[std::size_t(StepArray::Count)];
        for (std::size_t i = 0; i < std::size(arrayBytes); ++i) {
            const std::uint64_t offset = job.offsets[i];
            if (offset < sizeof(ControlBlock) || offset > size || size - offset < arrayBytes[i])
                return fail(ExitBadJob,
                            Text::tr("job %1 puts array %2 at bytes %3..%4, outside the "
                                     "%5-byte segment")
                                .arg(sequence)
                                .arg(i)
                                .arg(offset)
                                .arg(offset + arrayBytes[i])
                                .arg(size));
            at[i] = base + offset;
        }
        if (job.offsets[std::size_t(StepArray::Exchange)] % 64 != 0)
            return fail(ExitBadJob,
                        Text::tr("job %1's exchange is not aligned to 64 bytes").arg(sequence));
        sim::AutomatonMemory memory;
        memory.seed = job.seed;
        memory.tick = job.tick;
        memory.stamp = job.stamp;
        memory.terrain = reinterpret_cast<const std::uint8_t *>(at[int(StepArray::Terrain)]);
        memory.elevation = reinterpret_cast<const std::uint8_t *>(at[int(StepArray::Elevation)]);
        memory.flora = reinterpret_cast<std::uint8_t *>(at[int(StepArray::Flora)]);
        memory.water = reinterpret_cast<std::uint8_t *>(at[int(StepArray::Water)]);
        memory.pollution = reinterpret_cast<std::uint8_t *>(at[int(StepArray::Pollution)]);
        memory.resourceKind = reinterpret_cast<sim::ResourceId *>(at[int(StepArray::ResourceKind)]);
        memory.resourceAmount
            = reinterpret_cast<std::uint16_t *>(at[int(StepArray::ResourceAmount)]);
        memory.dirty = reinterpret_cast<std::uint8_t *>(at[int(StepArray::Dirty)]);
        memory.exchange = at[int(StepArray::Exchange)];
        // The phase's parts go to whichever worker is free: take the next until none is
        // left (see StepJob).
        const auto badPart = takeParts(job, std::uint32_t(slotIndex) + 1, [&](std::uint32_t part) {
            automaton.runPart(sim::AutomatonPhase(job.phase), int(part), memory);
        });
        if (badPart) {
            return fail(ExitBadJob, Text::tr("job %1 hands out part %2 of a world of %3 parts")
                                        .arg(sequence)
                                        .arg(*badPart)
                                        .arg(job.parts));
        }
        // Within a tick the next phase follows in microseconds: spin longer for it than
        // for the next tick, which is a whole tick away.
        (*waker)->setSpin(job.phase == std::uint32_t(sim::AutomatonPhase::Collect)
                              ? options.spin
                              : std::max<std::chrono::nanoseconds>(options.spin,
                                                                   std::chrono::microseconds(300)));
        slot.heartbeat.fetch_add(1, std::memory_order_relaxed);
        slot.done.store(sequence, std::memory_order_release);
        if (!(*waker)->notify())
            return fail(ExitWakeFailed, (*waker)->errorString());
    }
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hexsphere-worker"));
    // Ctrl-C in the server's terminal, or a service manager's SIGTERM to the whole group,
    // reaches the workers too: the server stops its workers itself, through their slots
    // (and a worker whose server is gone exits within a second).
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    QCoreApplication::setApplicationVersion(QStringLiteral(HEX_VERSION));
    // The server passes its language (--lang): the refusals it logs and reports are in it.
    (void)hex::i18n::installTranslators(app, hex::i18n::languageFromArguments(app.arguments()));

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere compute worker. hexsphere-server starts it; it is not run by hand."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption segmentOption(QStringLiteral("segment"),
                                           Text::tr("Shared-memory segment to attach to."),
                                           Text::tr("name"));
    const QCommandLineOption pingOption(
        QStringLiteral("ping"),
        Text::tr("Ping mode: attach to the segment and answer every wake-up with one back until "
                 "the slot is told to stop."),
        Text::tr("segment"));
    const QCommandLineOption slotOption(
        QStringLiteral("slot"),
        Text::tr("Worker slot in the segment (0 to %1).").arg(kMaxWorkerSlots - 1), Text::tr("n"));
    const QCommandLineOption wakeupOption(QStringLiteral("wakeup"),
                                          Text::tr("Wake-up method: futex, eventfd or signal."),
                                          Text::tr("method"));
    const QCommandLineOption eventFdInOption(QStringLiteral("eventfd-in"),
                                             Text::tr("Inherited eventfd the server wakes us on."),
                                             Text::tr("fd"));
    const QCommandLineOption eventFdOutOption(QStringLiteral("eventfd-out"),
                                              Text::tr("Inherited eventfd we wake the server on."),
                                              Text::tr("fd"));
    const QCommandLineOption spinOption(
        QStringLiteral("spin-us"), Text::tr("Futex only: microseconds to spin before sleeping."),
        Text::tr("us"), QStringLiteral("20"));
    const QCommandLineOption stepOption(
        QStringLiteral("step"),
        Text::tr("Step mode: attach to the segment and run the parts it takes of every automaton "
                 "phase the server asks for, until the slot is told to stop."),
        Text::tr("segment"));
    const QCommandLineOption langOption(
        QStringLiteral("lang"), Text::tr("Language of messages: en or fr."), Text::tr("code"));
    parser.addOptions({segmentOption, pingOption, stepOption, slotOption, wakeupOption,
                       eventFdInOption, eventFdOutOption, spinOption, langOption});
    parser.process(app);

    if (parser.isSet(pingOption) == parser.isSet(stepOption)) {
        return fail(ExitUsage,
                    Text::tr("workers are started by hexsphere-server with either --step "
                             "or --ping and a segment name."));
    }

    bool ok = false;
    const int slotIndex = parser.value(slotOption).toInt(&ok);
    if (!parser.isSet(slotOption) || !ok || slotIndex < 0 || slotIndex >= kMaxWorkerSlots)
        return fail(ExitUsage, Text::tr("--slot must be a number from 0 to %1, not \"%2\"")
                                   .arg(kMaxWorkerSlots - 1)
                                   .arg(parser.value(slotOption)));
    const auto method = parseWakeMethod(parser.value(wakeupOption));
    if (!method)
        return fail(ExitUsage, Text::tr("--wakeup must be futex, eventfd or signal, not \"%1\"")
                                   .arg(parser.value(wakeupOption)));
    WakerOptions options;
    const int spinUs = parser.value(spinOption).toInt(&ok);
    if (!ok || spinUs < 0 || spinUs > 1'000'000)
        return fail(ExitUsage, Text::tr("--spin-us must be a number from 0 to 1000000, not \"%1\"")
                                   .arg(parser.value(spinOption)));
    options.spin = std::chrono::microseconds(spinUs);
    if (*method == WakeMethod::EventFd) {
        bool inOk = false;
        bool outOk = false;
        options.eventFdIn = parser.value(eventFdInOption).toInt(&inOk);
        options.eventFdOut = parser.value(eventFdOutOption).toInt(&outOk);
        if (!inOk || !outOk)
            return fail(
                ExitUsage,
                Text::tr("--wakeup eventfd needs --eventfd-in and --eventfd-out descriptors"));
    }
    if (parser.isSet(stepOption))
        return runStep(parser.value(stepOption), slotIndex, *method, options);
    return runPing(parser.value(pingOption), slotIndex, *method, options);
}
