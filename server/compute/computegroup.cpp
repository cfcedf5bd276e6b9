// server/compute/computegroup.cpp
#include "computegroup.h"

#include "workerprocess.h"

#include "sim/parttimes.h"
#include "sim/worldgen.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QScopeGuard>
#include <QThread>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory_resource>
#include <new>
#include <numeric>
#include <sys/statvfs.h>

Q_DECLARE_LOGGING_CATEGORY(lcCompute)

namespace hex::server::compute {

namespace {

using Clock = std::chrono::steady_clock;

static_assert(kMaxParts == sim::kMaxAutomatonParts);

/// This file's texts, in one translation context (a free tr() would take lupdate's
/// guess at the enclosing class).
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(hex::server::compute::ComputeGroup)
};

std::size_t alignUp(std::size_t bytes)
{
    return (bytes + 63) & ~std::size_t(63);
}

/// What generateWorld() uses of the exchange while no world steps: the ground's two
/// arrays and one noise field.
std::size_t generationScratchBytes(std::uint32_t cells)
{
    return 2 * alignUp(cells) + alignUp(cells * sizeof(std::int64_t));
}

} // namespace

struct ComputeGroup::Slot
{
    enum class State {
        Running,  ///< attached, gets jobs
        Starting, ///< launched, not attached yet: the server takes parts in its place
        Down,     ///< failed, waits for restartAt
        GivenUp,  ///< failed maxFailures times in a row; never restarted
    };
    std::unique_ptr<WorkerProcess> process;
    State state = State::Down;
    int failures = 0; ///< in a row
    Clock::time_point launchedAt;
    Clock::time_point restartAt;
    Clock::time_point healthySince;
};

struct ComputeGroup::Private
{
    Private(std::shared_ptr<const geometry::HexSphere> sphere, const ComputeOptions &options,
            Segment segment)
        : sphere(std::move(sphere))
        , options(options)
        , segment(std::move(segment))
    {}

    std::shared_ptr<const geometry::HexSphere> sphere;
    /// Set by attach().
    sim::World *world = nullptr;
    ComputeOptions options;
    Segment segment;
    std::unique_ptr<SegmentArena> arena;
    std::byte *exchange = nullptr;
    /// Bytes from `exchange` to the sphere's tables.
    std::size_t exchangeRegion = 0;
    std::vector<Slot> workerSlots;
    ComputeStats stats;
    /// How long each part of each phase has taken lately: orders the parts of the next
    /// job.
    sim::PartTimes partTimes;
    std::uint64_t sequence = 0;
    std::uint64_t stamp = 0;
    /// In start(): failures are reported by start() itself.
    bool starting = true;

    /// For log lines: the world's tick, 0 before attach().
    std::uint64_t tick() const { return world ? world->state().tick : 0; }

    WakerOptions wakerOptions() const
    {
        WakerOptions o;
        o.spin = options.method == WakeMethod::Futex ? options.spin : std::chrono::nanoseconds(0);
        return o;
    }

    /// Starts slot `index`'s worker without waiting for it.
    void launch(int index)
    {
        Slot &slot = workerSlots[std::size_t(index)];
        slot.process = std::make_unique<WorkerProcess>(segment, index);
        slot.launchedAt = Clock::now();
        if (slot.process->launch(options.program, options.method, wakerOptions(), WorkerMode::Step)) {
            slot.state = Slot::State::Starting;
            return;
        }
        fail(index, slot.process->errorString(), false);
    }

    /// Records a failure of slot `index`: kills what is left of its worker and plans a
    /// restart, or gives the slot up.
    void fail(int index, const QString &why, bool duringJob)
    {
        Slot &slot = workerSlots[std::size_t(index)];
        QString error = why;
        if (slot.process) {
            slot.process->kill();
            if (slot.process->exitCode() >= 0)
                error += Text::tr(", exit status %1").arg(slot.process->exitCode());
            const QString output = slot.process->standardError();
            if (!output.isEmpty())
                error += QStringLiteral(" (") + output + QLatin1Char(')');
        }
        stats.lastError = Text::tr("worker %1: %2").arg(index).arg(error);
        ++slot.failures;
        if (slot.failures >= options.maxFailures) {
            slot.state = Slot::State::GivenUp;
            const QString line
                = Text::tr("worker %1 given up after %2 failures in a row; the server "
                           "takes parts in its place from now on. Last: %3")
                      .arg(index)
                      .arg(slot.failures)
                      .arg(error);
            stats.givenUp << line;
            qCCritical(lcCompute).noquote() << "tick" << tick() << line;
            return;
        }
        auto backoff = std::chrono::milliseconds(100) * (1 << std::min(slot.failures - 1, 16));
        backoff = std::min<std::chrono::milliseconds>(backoff, options.maxBackoff);
        slot.state = Slot::State::Down;
        slot.restartAt = Clock::now() + backoff;
        if (starting)
            return; // start() reports it, or restarts it with the others later
        qCWarning(lcCompute).noquote().nospace()
            << "tick " << tick() << ": "
            << (duringJob ? "failed during a job: " : "") << stats.lastError
            << "; the server takes parts in its place; restart in " << backoff.count() << " ms";
    }

    /// Between ticks: takes in workers that attached, restarts the ones due.
    void maintain()
    {
        const auto now = Clock::now();
        for (int i = 0; i < int(workerSlots.size()); ++i) {
            Slot &slot = workerSlots[std::size_t(i)];
            switch (slot.state) {
            case Slot::State::Starting:
                if (slot.process->isReady()) {
                    slot.state = Slot::State::Running;
                    slot.healthySince = now;
                    qCInfo(lcCompute) << "tick" << tick() << "worker" << i
                                      << "attached, pid" << slot.process->processId();
                } else if (!slot.process->isRunning()) {
                    fail(i, Text::tr("exited before it attached"), false);
                } else if (now - slot.launchedAt > options.startTimeout) {
                    fail(i,
                         Text::tr("did not attach within %1 ms").arg(options.startTimeout.count()),
                         false);
                }
                break;
            case Slot::State::Down:
                if (now >= slot.restartAt) {
                    ++stats.restarts;
                    launch(i);
                }
                break;
            case Slot::State::Running:
                if (slot.failures > 0 && now - slot.healthySince > std::chrono::seconds(60))
                    slot.failures = 0;
                break;
            case Slot::State::GivenUp:
                break;
            }
        }
    }

    /// Wakes every running worker for the job just written; returns the slots woken.
    std::vector<int> wakeRunning()
    {
        std::vector<int> woken;
        for (int i = 0; i < int(workerSlots.size()); ++i) {
            Slot &slot = workerSlots[std::size_t(i)];
            if (slot.state != Slot::State::Running)
                continue;
            ++stats.jobs;
            if (slot.process->waker().notify())
                woken.push_back(i);
            else if (!slot.process->isRunning())
                failedJob(i, Text::tr("crashed"), false); // signals find a dead worker here
            else
                fail(i, Text::tr("waking it failed: %1").arg(slot.process->waker().errorString()),
                     true);
        }
        return woken;
    }

    /// Counts and handles a worker that failed a job (see waitFor()): killed and reaped
    /// first, so that from then on nothing else writes what it was working on.
    void failedJob(int index, const QString &why, bool late)
    {
        if (late)
            ++stats.missedDeadlines;
        else
            ++stats.crashes;
        fail(index, why, true);
    }

    /// Waits for slot `index` to finish job `sequence`. False: it died, failed to answer or
    /// missed the deadline (`why` says which); it is then still to be killed.
    bool waitFor(int index, std::uint64_t sequence, Clock::time_point deadline, QString &why,
                 bool &late)
    {
        Slot &slot = workerSlots[std::size_t(index)];
        WorkerSlot &words = segment.slot(index);
        Waker &waker = slot.process->waker();
        for (;;) {
            if (words.done.load(std::memory_order_acquire) == sequence)
                return true;
            const auto left = deadline - Clock::now();
            const WaitResult result = waker.wait(std::clamp<std::chrono::nanoseconds>(
                left, std::chrono::microseconds(1), std::chrono::milliseconds(2)));
            if (result == WaitResult::Woken)
                continue;
            if (result == WaitResult::Failed) {
                why = Text::tr("waiting for it failed: %1").arg(waker.errorString());
                return false;
            }
            if (words.done.load(std::memory_order_acquire) == sequence)
                return true;
            if (!slot.process->isRunning()) {
                why = Text::tr("crashed");
                return false;
            }
            if (Clock::now() >= deadline) {
                why = Text::tr("missed the %1 ms deadline").arg(options.deadline.count());
                late = true;
                return false;
            }
        }
    }
};

ComputeGroup::ComputeGroup(std::unique_ptr<Private> d)
    : d(std::move(d))
{}

QString ComputeGroup::defaultProgram()
{
    return QDir(QCoreApplication::applicationDirPath())
        .filePath(QStringLiteral("hexsphere-worker"));
}

tl::expected<std::unique_ptr<ComputeGroup>, QString>
ComputeGroup::start(sim::World &world, const ComputeOptions &options)
{
    if (world.stepRunner())
        return tl::unexpected(Text::tr("this world already has compute workers"));
    auto group = create(world.state().sphere, world.content(), options);
    if (!group)
        return group;
    if (auto attached = (*group)->attach(world); !attached)
        return tl::unexpected(attached.error());
    return group;
}

tl::expected<std::unique_ptr<ComputeGroup>, QString>
ComputeGroup::create(std::shared_ptr<const geometry::HexSphere> sphere, const sim::Content &content,
                     const ComputeOptions &options)
{
    if (options.workers < 1 || options.workers > kMaxWorkerSlots)
        return tl::unexpected(Text::tr("the number of compute workers must be 1 to %1, not %2")
                                  .arg(kMaxWorkerSlots)
                                  .arg(options.workers));
    const QFileInfo program(options.program);
    if (!program.isFile() || !program.isExecutable())
        return tl::unexpected(
            Text::tr("the compute worker %1 is not an executable file").arg(options.program));
    const QByteArray contentVersion = content.version.toUtf8();
    if (contentVersion.size() >= int(sizeof(StepJob::contentVersion)))
        return tl::unexpected(
            Text::tr("the content version \"%1\" is too long for the shared segment")
                .arg(content.version));

    if (options.partsPerWorker < 1 || options.workers * options.partsPerWorker > kMaxParts)
        return tl::unexpected(
            Text::tr("%1 workers with %2 parts each make more than the %3 parts a "
                     "world can be split into")
                .arg(options.workers)
                .arg(options.partsPerWorker)
                .arg(kMaxParts));
    const int parts = options.workers * options.partsPerWorker;
    const std::size_t exchangeBytes = sim::Automaton::exchangeBytesFor(*sphere, parts);
    const std::size_t arrayBytes = sim::World::arrayBytesFor(sphere->cellCount());
    // The sphere's tables go last, when asked for and /dev/shm has room for them: the
    // workers read them there rather than each building its own.
    const std::size_t tablesBytes = sphereTablesBytes(sphere->tables());
    const std::size_t exchangeRegion
        = alignUp(std::max(exchangeBytes, generationScratchBytes(sphere->cellCount())));
    // Pages are only backed once written: the arrays and the sphere entirely, the
    // exchange's worst-case lists a little. Refuse when /dev/shm cannot hold what will be
    // written for certain.
    bool shareSphere = options.shareSphere;
    struct statvfs shm
    {};
    if (::statvfs("/dev/shm", &shm) == 0) {
        const std::uint64_t free = std::uint64_t(shm.f_bavail) * shm.f_frsize;
        const std::uint64_t needed = arrayBytes + exchangeBytes / 4;
        if (free < needed)
            return tl::unexpected(
                Text::tr("/dev/shm has %1 MiB free; compute workers for this world "
                         "need about %2 MiB")
                    .arg(free >> 20)
                    .arg(needed >> 20));
        if (shareSphere && free < needed + tablesBytes) {
            qCInfo(lcCompute).noquote()
                << Text::tr("/dev/shm has %1 MiB free, too little to share the planet's geometry "
                            "(%2 MiB) with the workers: each builds its own")
                       .arg(free >> 20)
                       .arg(tablesBytes >> 20);
            shareSphere = false;
        }
    }
    const std::size_t sphereBytes = shareSphere ? tablesBytes : 0;
    const std::size_t payload = alignUp(arrayBytes) + exchangeRegion + sphereBytes;
    auto segment = Segment::create(payload);
    if (!segment)
        return tl::unexpected(segment.error());

    auto d = std::make_unique<Private>(sphere, options, std::move(*segment));
    StepJob &job = d->segment.control()->job;
    job.subdivisions = sphere->subdivisions();
    job.chunkSplit = sphere->chunkSplit();
    job.cellCount = sphere->cellCount();
    job.parts = std::uint32_t(parts);
    job.exchangeBytes = exchangeBytes;
    const std::vector<geometry::CellId> partCells = sim::Automaton::partCellsFor(*sphere, parts);
    std::fill(std::begin(job.partCells), std::end(job.partCells), 0u);
    std::copy(partCells.begin(), partCells.end(), job.partCells);
    std::memset(job.contentVersion, 0, sizeof job.contentVersion);
    std::memcpy(job.contentVersion, contentVersion.constData(), std::size_t(contentVersion.size()));
    job.sphere = SphereTablesPlace{}; // no tables: each worker builds its own
    if (shareSphere) {
        job.sphere = copySphereTables(
            sphere->tables(), reinterpret_cast<std::byte *>(d->segment.control()),
            std::size_t(d->segment.payload() - reinterpret_cast<std::byte *>(d->segment.control()))
                + alignUp(arrayBytes) + exchangeRegion);
    }
    d->stats.sphereBytes = sphereBytes;

    d->arena = std::make_unique<SegmentArena>(d->segment.payload(), alignUp(arrayBytes));
    d->exchange = d->segment.payload() + alignUp(arrayBytes);
    d->exchangeRegion = exchangeRegion;
    d->stats.workers = options.workers;
    d->stats.parts = parts;
    d->stats.partsRun.assign(std::size_t(options.workers), 0);

    d->workerSlots.resize(std::size_t(options.workers));
    for (int i = 0; i < options.workers; ++i)
        d->launch(i);
    const auto until = Clock::now() + options.startTimeout;
    for (;;) {
        bool waiting = false;
        for (int i = 0; i < options.workers; ++i) {
            Slot &slot = d->workerSlots[std::size_t(i)];
            if (slot.state != Slot::State::Starting)
                continue;
            if (slot.process->isReady()) {
                slot.state = Slot::State::Running;
                slot.healthySince = Clock::now();
            } else if (!slot.process->isRunning()) {
                (void)slot.process->waitForExit(std::chrono::milliseconds(1000));
                d->fail(i, Text::tr("exited before it attached"), false);
            } else if (Clock::now() > until) {
                d->fail(i,
                        Text::tr("did not attach within %1 ms").arg(options.startTimeout.count()),
                        false);
            } else {
                waiting = true;
            }
        }
        if (!waiting)
            break;
        QThread::usleep(500);
    }
    const bool anyRunning = std::any_of(d->workerSlots.begin(), d->workerSlots.end(),
                                        [](const Slot &slot) {
                                            return slot.state == Slot::State::Running;
                                        });
    if (!anyRunning) {
        const QString error = Text::tr("no compute worker started (%1): %2")
                                  .arg(options.program, d->stats.lastError);
        for (Slot &slot : d->workerSlots) {
            if (slot.process)
                slot.process->kill();
        }
        return tl::unexpected(error);
    }
    for (int i = 0; i < options.workers; ++i) {
        if (d->workerSlots[std::size_t(i)].state != Slot::State::Running)
            qCWarning(lcCompute).noquote()
                << "tick 0:" << d->stats.lastError
                << "- the server takes parts in its place until it restarts";
    }
    d->starting = false;
    qCInfo(lcCompute).noquote().nospace()
        << "tick 0: " << options.workers << (options.workers == 1 ? " worker" : " workers")
        << " for " << parts << " parts (" 
        << wakeMethodName(options.method) << " wake-ups) attached to segment "
        << d->segment.name() << " of " << (d->segment.size() + (1 << 20) - 1) / (1 << 20)
        << " MiB";
    return std::unique_ptr<ComputeGroup>(new ComputeGroup(std::move(d)));
}

tl::expected<void, QString> ComputeGroup::attach(sim::World &world)
{
    if (d->world)
        return tl::unexpected(Text::tr("the compute workers already serve a world"));
    if (world.stepRunner())
        return tl::unexpected(Text::tr("this world already has compute workers"));
    const geometry::HexSphere &sphere = *world.state().sphere;
    const StepJob &job = d->segment.control()->job;
    if (std::uint32_t(sphere.cellCount()) != job.cellCount
        || sphere.subdivisions() != job.subdivisions || sphere.chunkSplit() != job.chunkSplit
        || world.content().version != QString::fromUtf8(job.contentVersion)
        || world.exchangeBytes(partCount()) != job.exchangeBytes
        || world.arrayBytes() > std::size_t(d->exchange - d->segment.payload()))
        return tl::unexpected(
            Text::tr("this world is not the one the compute workers were made for"));
    try {
        d->stats.bytesCopied += world.placeArrays(d->arena.get());
    } catch (const std::bad_alloc &) {
        // The arena is sized from arrayBytesFor(); this would be a bug, not bad luck.
        return tl::unexpected(Text::tr("the world's arrays do not fit the shared segment"));
    }
    d->world = &world;
    world.setStepRunner(this);
    const int workers = int(d->workerSlots.size());
    qCInfo(lcCompute).noquote().nospace()
        << "tick " << d->tick() << ": the world steps on " << workers
        << (workers == 1 ? " worker" : " workers") << " in " << partCount() << " parts";
    return {};
}

ComputeGroup::~ComputeGroup()
{
    for (int i = 0; i < int(d->workerSlots.size()); ++i) {
        Slot &slot = d->workerSlots[std::size_t(i)];
        if (!slot.process)
            continue;
        if (slot.state == Slot::State::Running) {
            if (!slot.process->stop(std::chrono::milliseconds(2000)))
                qCWarning(lcCompute).noquote() << "worker" << i << slot.process->errorString();
        } else {
            slot.process->kill();
        }
    }
    if (d->world) {
        if (d->world->stepRunner() == this)
            d->world->setStepRunner(nullptr);
        // Back into the heap before the segment goes: the World outlives the group.
        d->stats.bytesCopied += d->world->placeArrays(std::pmr::get_default_resource());
    }
}

QString ComputeGroup::segmentName() const
{
    return d->segment.name();
}

ComputeStats ComputeGroup::stats() const
{
    ComputeStats stats = d->stats;
    stats.running = int(std::count_if(d->workerSlots.begin(), d->workerSlots.end(), [](const Slot &slot) {
        return slot.state == Slot::State::Running;
    }));
    return stats;
}

qint64 ComputeGroup::workerPid(int slot) const
{
    if (slot < 0 || slot >= int(d->workerSlots.size()) || !d->workerSlots[std::size_t(slot)].process)
        return 0;
    const Slot &s = d->workerSlots[std::size_t(slot)];
    if (s.state != Slot::State::Running && s.state != Slot::State::Starting)
        return 0;
    return s.process->processId();
}

int ComputeGroup::partCount() const
{
    return d->stats.parts;
}

std::byte *ComputeGroup::exchange()
{
    return d->exchange;
}

std::uint64_t ComputeGroup::newStamp()
{
    return ++d->stamp;
}

bool ComputeGroup::runBulk(const std::function<void(std::uint32_t job)> &runHere,
                           const std::function<bool(double fraction)> &progress)
{
    BulkRing &ring = d->segment.control()->bulk;
    const std::uint32_t count = ring.count;
    ring.generation += 1;
    for (std::uint32_t i = 0; i < count; ++i)
        ring.state[i].store(0, std::memory_order_relaxed);
    ring.done.store(0, std::memory_order_relaxed);
    ring.next.store(0, std::memory_order_release);

    d->maintain();
    StepJob &job = d->segment.control()->job;
    job.sequence = ++d->sequence;
    job.phase = kBulkPhase;
    const std::vector<int> handedOut = d->wakeRunning();

    const auto runJob = [&](std::uint32_t i) {
        runHere(i);
        ring.state[i].store(kBulkDone, std::memory_order_release);
        ring.done.fetch_add(1, std::memory_order_acq_rel);
    };
    bool cancelled = false;
    auto lastReport = Clock::now() - std::chrono::seconds(1);
    const auto report = [&](bool force) {
        const auto now = Clock::now();
        if (!progress || (!force && now - lastReport < std::chrono::milliseconds(50)))
            return;
        lastReport = now;
        const double done = double(ring.done.load(std::memory_order_acquire)) / count;
        if (!progress(done) && !cancelled) {
            cancelled = true;
            ring.next.store(count, std::memory_order_release); // nobody takes another job
        }
    };
    // This thread takes jobs too, so the run ends even if every worker fails.
    for (;;) {
        const std::uint32_t i = ring.next.fetch_add(1, std::memory_order_acq_rel);
        if (i >= count)
            break;
        ring.state[i].store(kBulkServer, std::memory_order_release);
        runJob(i);
        report(false);
    }
    // Then the workers' answers; the jobs of one that fails are run again here.
    const auto deadline
        = Clock::now() + std::max(d->options.deadline, std::chrono::milliseconds(10000));
    for (const int part : handedOut) {
        QString why;
        bool late = false;
        while (!d->waitFor(part, job.sequence,
                           std::min(deadline, Clock::now() + std::chrono::milliseconds(50)), why,
                           late)) {
            if (!late || Clock::now() >= deadline)
                break;
            report(false); // still working: show progress and wait on
            why.clear();
            late = false;
        }
        if (why.isEmpty())
            continue;
        d->failedJob(part, why, late);
        for (std::uint32_t i = 0; i < count; ++i) {
            if (ring.state[i].load(std::memory_order_acquire) == std::uint32_t(part) + 1) {
                runJob(i);
                ++d->stats.takenOver;
            }
        }
    }
    if (cancelled)
        return false;
    // Every job was either done or never taken; nothing else may be missing.
    for (std::uint32_t i = 0; i < count; ++i) {
        if (ring.state[i].load(std::memory_order_acquire) != kBulkDone)
            runJob(i);
    }
    report(true);
    return !cancelled; // a cancel in the last report still counts
}

tl::expected<sim::WorldState, QString> ComputeGroup::generateWorld(
    const sim::Content &content, std::uint64_t seed,
    const std::function<bool(std::uint64_t, std::uint64_t)> &progress)
{
    if (d->world)
        return tl::unexpected(Text::tr("the world exists already"));
    const geometry::HexSphere &sphere = *d->sphere;
    const std::uint32_t cells = sphere.cellCount();
    // The exchange is free until a world steps: it holds the ground and one noise field.
    std::byte *terrainOut = d->exchange;
    std::byte *elevationOut = d->exchange + alignUp(cells);
    std::byte *noiseOut = d->exchange + 2 * alignUp(cells);
    const std::size_t scratch = generationScratchBytes(cells);
    if (scratch > d->exchangeRegion)
        return tl::unexpected(Text::tr("the shared segment is too small to generate the world in"));
    // Zeros again afterwards, whatever happens: the exchange's part headers hold the stamps
    // the automaton checks, and a leftover byte pattern must never pass for one.
    const auto clear = qScopeGuard([&] { std::memset(d->exchange, 0, scratch); });
    const auto *base = reinterpret_cast<const std::byte *>(d->segment.control());
    auto *terrain = reinterpret_cast<std::uint8_t *>(terrainOut);
    auto *elevation = reinterpret_cast<std::uint8_t *>(elevationOut);
    auto *noise = reinterpret_cast<std::int64_t *>(noiseOut);

    BulkRing &ring = d->segment.control()->bulk;
    ring.count = std::clamp<std::uint32_t>(cells / 8192, 1, kMaxBulkJobs);
    for (std::uint32_t i = 0; i < ring.count; ++i) {
        ring.begin[i] = std::uint32_t(std::uint64_t(cells) * i / ring.count);
        ring.end[i] = std::uint32_t(std::uint64_t(cells) * (i + 1) / ring.count);
    }
    // Progress: the ground is about half the work, the noise fields of deposits and flora
    // the rest.
    int fields = 1; // flora
    for (std::size_t r = 1; r < content.resources.size(); ++r)
        fields += content.resources[r].abundance != 0 && content.resources[r].maxAmount != 0;
    int stage = 0;
    const int stages = 1 + fields;
    const auto stageProgress = [&](double fraction) {
        const double overall = stage == 0 ? 0.5 * fraction
                                          : 0.5 + 0.5 * (stage - 1 + fraction) / fields;
        return !progress || progress(std::uint64_t(overall * cells), cells);
    };

    ring.kind = std::uint32_t(BulkKind::Terrain);
    ring.seed = seed;
    ring.outputOffsets[0] = std::uint64_t(terrainOut - base);
    ring.outputOffsets[1] = std::uint64_t(elevationOut - base);
    if (!runBulk([&](std::uint32_t i) {
            sim::generateTerrainRange(sphere, seed, ring.begin[i], ring.end[i], terrain, elevation);
        }, stageProgress))
        return tl::unexpected(Text::tr("cancelled"));
    sim::GeneratedTerrain ground;
    ground.terrain.assign(terrain, terrain + cells);
    ground.elevation.assign(elevation, elevation + cells);
    d->stats.bytesCopied += 2 * std::uint64_t(cells);

    bool cancelled = false;
    const sim::NoiseFieldFill fill = [&](const sim::NoiseField &field, const std::uint8_t *,
                                         std::int64_t *out) {
        ++stage;
        if (cancelled)
            return;
        ring.kind = std::uint32_t(BulkKind::Noise);
        ring.seed = field.seed;
        ring.frequency = field.frequency;
        ring.octaves = field.octaves;
        ring.terrainMask = field.terrainMask;
        ring.inputOffset = std::uint64_t(terrainOut - base);
        ring.outputOffsets[0] = std::uint64_t(noiseOut - base);
        // The field is over the generated ground, which the segment still holds.
        if (!runBulk([&](std::uint32_t i) {
                sim::noiseFieldRange(sphere, field, terrain, ring.begin[i], ring.end[i], noise);
            }, stageProgress)) {
            cancelled = true;
            return;
        }
        std::memcpy(out, noise, cells * sizeof(std::int64_t));
    };
    sim::WorldState state = sim::generateWorld(d->sphere, content, seed, ground, fill);
    Q_ASSERT(cancelled || stage == stages - 1);
    if (cancelled)
        return tl::unexpected(Text::tr("cancelled"));
    return state;
}

std::vector<double> ComputeGroup::partTimes(sim::AutomatonPhase phase) const
{
    return d->partTimes.times(phase, partCount());
}

std::vector<int> ComputeGroup::partOrder(sim::AutomatonPhase phase) const
{
    std::array<std::uint32_t, kMaxParts> order{};
    fillPartOrder(phase, order);
    return {order.begin(), order.begin() + partCount()};
}

void ComputeGroup::fillPartOrder(sim::AutomatonPhase phase, std::span<std::uint32_t> order) const
{
    const int parts = partCount();
    if (d->options.longestFirst)
        d->partTimes.order(phase, parts, order);
    else
        std::iota(order.begin(), order.begin() + parts, std::uint32_t(0));
}

void ComputeGroup::runPhase(sim::AutomatonPhase phase, const sim::AutomatonMemory &memory,
                            sim::Automaton &automaton)
{
    if (phase == sim::AutomatonPhase::Survey)
        d->maintain();

    StepJob &job = d->segment.control()->job;
    const auto *base = reinterpret_cast<const std::byte *>(d->segment.control());
    const auto offsetOf = [base](const void *p) {
        return std::uint64_t(static_cast<const std::byte *>(p) - base);
    };
    job.sequence = ++d->sequence;
    job.seed = memory.seed;
    job.tick = memory.tick;
    job.stamp = memory.stamp;
    job.phase = std::uint32_t(phase);
    job.offsets[int(StepArray::Terrain)] = offsetOf(memory.terrain);
    job.offsets[int(StepArray::Elevation)] = offsetOf(memory.elevation);
    job.offsets[int(StepArray::Flora)] = offsetOf(memory.flora);
    job.offsets[int(StepArray::Water)] = offsetOf(memory.water);
    job.offsets[int(StepArray::Pollution)] = offsetOf(memory.pollution);
    job.offsets[int(StepArray::ResourceKind)] = offsetOf(memory.resourceKind);
    job.offsets[int(StepArray::ResourceAmount)] = offsetOf(memory.resourceAmount);
    job.offsets[int(StepArray::Dirty)] = offsetOf(memory.dirty);
    job.offsets[int(StepArray::Exchange)] = offsetOf(memory.exchange);
    const int parts = partCount();
    fillPartOrder(phase, job.order);
    job.nextPart.store(0, std::memory_order_relaxed);
    for (int part = 0; part < parts; ++part) {
        job.partState[part].store(0, std::memory_order_relaxed);
        job.partNanos[part].store(0, std::memory_order_relaxed);
    }
    const auto runHere = [&](std::uint32_t part) {
        automaton.runPart(phase, int(part), memory);
    };
    // Each wake-up is an atomic read-modify-write the worker's wait acquires: the job's
    // fields above are visible to it.

    const std::vector<int> handedOut = d->wakeRunning();
    // While a slot has no worker, this thread takes parts in its place; the workers take
    // what is left.
    if (handedOut.size() < d->workerSlots.size()) {
        (void)takeParts(job, kPartServer, runHere); // the order is this thread's own
    }
    const auto deadline = Clock::now() + d->options.deadline;
    // The short phases end within a few hundred microseconds: spinning that long costs
    // less than sleeping and being woken (tens of microseconds each way on a VM). The spin
    // yields the core to a worker that needs it.
    const bool shortPhase = phase != sim::AutomatonPhase::Read;
    for (const int slot : handedOut) {
        d->workerSlots[std::size_t(slot)].process->waker().setSpin(
            shortPhase && d->options.method == WakeMethod::Futex
                ? std::max<std::chrono::nanoseconds>(d->options.spin, std::chrono::microseconds(300))
                : d->options.spin);
    }
    for (const int slot : handedOut) {
        QString why;
        bool late = false;
        if (!d->waitFor(slot, job.sequence, deadline, why, late))
            d->failedJob(slot, why, late); // killed and reaped: it writes nothing more
    }
    // Every worker answered or is gone. The parts a failed worker took and did not finish,
    // and any nobody took (all failed), run here.
    for (int part = 0; part < parts; ++part) {
        const std::uint32_t state = job.partState[part].load(std::memory_order_acquire);
        const std::uint32_t runner = state & ~kPartDone;
        if (!(state & kPartDone)) {
            const auto begin = Clock::now();
            runHere(std::uint32_t(part));
            job.partNanos[part].store(partNanosSince(begin), std::memory_order_relaxed);
            ++d->stats.takenOver;
        } else if (runner == kPartServer) {
            ++d->stats.takenOver;
        } else if (runner >= 1 && runner <= d->stats.partsRun.size()) {
            ++d->stats.partsRun[runner - 1];
        }
        d->partTimes.record(phase, parts, part,
                            job.partNanos[part].load(std::memory_order_relaxed));
    }
}

} // namespace hex::server::compute
