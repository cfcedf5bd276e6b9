#include "writebehind.h"

#include "statecodec.h"

#include "sim/world.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QMetaObject>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <vector>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcWriteBehind, "hex.db")

namespace hex::server::persistence {

namespace {

/// Copies abandoned in a row before the copy is let finish while a step waits.
constexpr int kMaxAbandonedCopies = 20;

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// Steps a snapshot waits for a gap that fits a write before it writes one batch anyway.
constexpr std::uint64_t kMaxStarvedSteps = 4;
/// Spacings of beforeStep() calls the tick period is measured over (their median).
constexpr std::size_t kPeriodSamples = 16;

std::int64_t nanoseconds(Clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

Clock::time_point fromNanoseconds(std::int64_t ns)
{
    return Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

/// What a chunk batch costs, learnt from the last ones: milliseconds = fixed + perChunk *
/// chunks, fitted by least squares in which each older batch weighs 10% less. A fixed
/// part (a transaction's commit) makes a small batch dearer per chunk than a big one.
class BatchCost
{
public:
    void add(double chunks, double ms)
    {
        constexpr double keep = 0.9;
        m_w = keep * m_w + 1;
        m_x = keep * m_x + chunks;
        m_y = keep * m_y + ms;
        m_xx = keep * m_xx + chunks * chunks;
        m_xy = keep * m_xy + chunks * ms;
    }
    bool known() const { return m_w > 0; }
    /// The most chunks a batch is expected to write in `ms`; may be negative.
    double chunksWithin(double ms) const
    {
        const double meanX = m_x / m_w;
        const double meanY = m_y / m_w;
        const double variance = m_xx / m_w - meanX * meanX;
        double perChunk = meanX > 0 ? meanY / meanX : meanY;
        double fixed = 0;
        if (variance > 0.25) {
            // Two or more sizes seen: the fit, unless noise makes it absurd.
            const double slope = (m_xy / m_w - meanX * meanY) / variance;
            const double intercept = meanY - slope * meanX;
            if (slope > 0 && intercept >= 0) {
                perChunk = slope;
                fixed = intercept;
            }
        }
        if (perChunk <= 0)
            return ms >= fixed ? 1e9 : -1;
        return (ms - fixed) / perChunk;
    }

private:
    double m_w = 0;
    double m_x = 0;
    double m_y = 0;
    double m_xx = 0;
    double m_xy = 0;
};

/// Nice steps the write-behind thread runs below the tick thread.
constexpr int kNiceSteps = 10;

/// Makes the calling thread yield the CPU to the tick thread when both want it: on two
/// cores the compression and the writes of a snapshot otherwise stretch ticks (the
/// longest tick at n=512 went from 1.3-1.55 to 0.85-1.06 times the longest without
/// persistence in bench_persistence, before the writes went into the gaps; with them,
/// 0.6-0.98 against 1.1-1.45 at the tick thread's priority, interleaved runs on
/// PostgreSQL). Linux gives each thread its own nice value.
void lowerThisThreadsPriority()
{
    const auto thread = id_t(::syscall(SYS_gettid));
    errno = 0;
    const int now = ::getpriority(PRIO_PROCESS, thread);
    if (errno == 0 && ::setpriority(PRIO_PROCESS, thread, std::min(19, now + kNiceSteps)) != 0) {
        qCDebug(lcWriteBehind) << "the write-behind thread keeps its priority:"
                               << std::strerror(errno);
    }
}

} // namespace

/// A snapshot on its way to the store: copied, then packed and written batch by batch.
struct PendingSnapshot
{
    /// record.machines and record.players are encoded from these before the commit
    /// (unless `encoded`), in a gap too.
    SnapshotRecord record;
    std::optional<sim::MachineMap> machines;
    std::vector<sim::Player> players;
    /// The cells of chunks[packed..] are still raw (rawChunk()), not packChunk()ed.
    std::vector<ChunkRecord> chunks;
    std::size_t packed = 0;
    /// Chunk records already written (a batch is one transaction).
    std::size_t written = 0;
    std::uint64_t cells = 0;
};

struct QueuedPlayer
{
    PlayerRecord record;
    std::function<void(bool)> saved;
};

struct WriteBehind::Private
{
    Private(sim::World &world, StoreLocation location, QString worldName,
            WriteBehindOptions options)
        : world(world)
        , location(std::move(location))
        , worldName(std::move(worldName))
        , options(options)
    {}

    sim::World &world;
    const StoreLocation location;
    const QString worldName;
    const WriteBehindOptions options;
    QString error;
    std::thread thread;

    // --- The world lock: held by the tick thread from beforeStep() to afterStep(), and
    // by the copier while it copies.
    std::mutex worldMutex;
    std::unique_lock<std::mutex> stepLock{worldMutex, std::defer_lock};
    std::atomic<bool> stepWantsLock{false};
    /// Per chunk: changed since the last snapshot's copy. Under worldMutex.
    std::vector<std::uint8_t> dirty;
    /// Set by the copier when it needs the players at the next gap between ticks.
    std::atomic<bool> playersWanted{false};
    /// The players (and the state hash) as of playersTick, copied by afterStep(). Under
    /// worldMutex.
    std::vector<sim::Player> players;
    std::uint64_t playersTick = 0;
    std::uint64_t playersHash = 0;
    bool playersValid = false;
    int abandonedCopies = 0;
    /// Raw chunks of the snapshot being copied, current unless dirty again. Under
    /// worldMutex.
    std::map<geometry::ChunkId, QByteArray> copiedChunks;
    /// The players and state hash as of the last step (or start()): players added since
    /// joined no step yet, so no saved tick holds them. Tick thread only.
    std::size_t playersAtLastStep = 0;
    std::uint64_t hashAtLastStep = 0;

    // --- The step clock: written by the tick thread, read by the background thread.
    /// beforeStep() and afterStep() calls so far: odd while a step runs.
    std::atomic<std::uint64_t> stepEdges{0};
    /// When the last step began (steady clock, ns; 0: none yet) and the median spacing
    /// of the last beforeStep() calls (ns; 0: too few yet).
    std::atomic<std::int64_t> lastStepStartNs{0};
    std::atomic<std::int64_t> measuredPeriodNs{0};
    /// The last spacings of beforeStep() calls, in ns. Tick thread only.
    std::array<std::int64_t, kPeriodSamples> spacings{};
    std::size_t spacingsSeen = 0;

    // --- The queue, under mutex.
    std::mutex mutex;
    std::condition_variable wake;
    /// Steps handed over and not yet committed; consecutive event-less ones coalesce.
    std::deque<TickRecord> ticks;
    std::uint64_t queuedEvents = 0;
    std::uint64_t lastQueuedTick = 0;
    std::deque<QueuedPlayer> playerSaves;
    bool snapshotRequested = false;
    /// The final snapshot handed over by stop(), copied on the tick thread.
    std::optional<PendingSnapshot> finalSnapshot;
    bool stopping = false;
    bool abort = false;
    bool finished = false;
    PersistenceStats stats;
    /// The backlog warnings given in this outage (10, 50, 90: bit 0, 1, 2).
    int backlogWarnings = 0;

    // --- Background thread only.
    std::unique_ptr<WorldStore> store;
    std::optional<PendingSnapshot> snapshot;
    Clock::time_point nextSnapshot;
    Clock::time_point lostSince;
    Clock::time_point nextReconnect;
    BatchCost batchCost;
    /// Milliseconds a snapshot's commit took, a moving average; negative: none yet.
    double commitCostMs = -1;
    /// stepEdges when the snapshot under way last wrote (or was copied).
    std::uint64_t edgesAtLastWrite = 0;
    /// The last write was forced: the next one is too, after the next step, unless a gap
    /// fits it first.
    bool starving = false;
    /// stepEdges when a deferred write was last counted in writesDeferred.
    std::uint64_t edgesAtLastDeferral = ~std::uint64_t(0);
    /// The snapshot's next write waits for a step to end or until snapshotRetryAt.
    bool snapshotDeferred = false;
    Clock::time_point snapshotRetryAt;

    void run(WriteBehind *q);
    bool commitTicks(WriteBehind *q);
    bool writePlayers(WriteBehind *q);
    bool writeSnapshotBatch(std::size_t chunks, bool forced);
    std::size_t nextWrite(bool *forced);
    /// When the next step is due, less a margin; nullopt when no step is expected (none
    /// yet, or the last one is a period overdue: paused).
    std::optional<Clock::time_point> gapEnd(Clock::time_point now) const;
    std::int64_t tickPeriodNs() const;
    void noteStepStart(Clock::time_point start);
    std::optional<PendingSnapshot> tryCopy();
    void failed(const char *what, std::uint64_t tick);
    void updateBacklog(WriteBehind *q);
};

WriteBehind::WriteBehind(sim::World &world, StoreLocation location, QString worldName,
                         WriteBehindOptions options, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(world, std::move(location), std::move(worldName), options))
{}

WriteBehind::~WriteBehind()
{
    stop();
}

bool WriteBehind::start(std::uint64_t snapshotTick, std::uint64_t durableTick)
{
    if (d->thread.joinable()) {
        d->error = tr("The write-behind is running already.");
        return false;
    }
    const std::uint32_t chunkCount = d->world.state().sphere->chunkCount();
    // Chunks changed since the snapshot (replayed events) are not known one by one:
    // the first snapshot then writes every chunk.
    d->dirty.assign(chunkCount, d->world.state().tick == snapshotTick ? 0 : 1);
    m_durableTick.store(durableTick, std::memory_order_release);
    d->lastQueuedTick = std::max(durableTick, d->world.state().tick);
    d->stats.durableTick = durableTick;
    d->stats.snapshotTick = snapshotTick;
    d->stopping = false;
    d->finished = false;
    d->abort = false;
    d->snapshotRequested = d->world.state().tick != snapshotTick;
    d->playersAtLastStep = d->world.state().players.size();
    d->hashAtLastStep = d->world.stateHash();

    // The store is opened on the background thread; start() waits for the answer.
    std::promise<QString> opened;
    auto openedFuture = opened.get_future();
    static std::atomic<int> counter{0};
    const QString connectionName
        = QStringLiteral("hex-writebehind-%1-%2").arg(d->worldName).arg(counter.fetch_add(1));
    d->thread = std::thread([this, connectionName, opened = std::move(opened)]() mutable {
        // Also when writing in the gaps: what still meets a step (forced writes, a batch
        // that runs late) yields to it. The copy, which holds the world lock at this
        // priority, gives the lock back before the next step is due, so that other
        // processes preempting it seldom make a step wait (they did, up to 240 ms at
        // n=512 on a busy machine, when the copy ran until a step came).
        lowerThisThreadsPriority();
        QString error;
        d->store = WorldStore::open(d->location, d->worldName, connectionName, &error);
        if (!d->store) {
            opened.set_value(error.isEmpty() ? tr("The store does not open.") : error);
            return;
        }
        opened.set_value(QString());
        d->run(this);
        d->store.reset();
    });
    const QString error = openedFuture.get();
    if (!error.isEmpty()) {
        d->thread.join();
        d->error = error;
        return false;
    }
    qCInfo(lcWriteBehind).nospace().noquote()
        << "tick " << d->world.state().tick << ": write-behind started for world '" << d->worldName
        << "' in " << d->location.describe() << ", snapshot every " << d->options.flushIntervalMs
        << " ms";
    return true;
}

QString WriteBehind::errorString() const
{
    return d->error;
}

void WriteBehind::beforeStep()
{
    if (!d->thread.joinable())
        return;
    const auto start = Clock::now();
    d->noteStepStart(start);
    // From here on the background thread starts no snapshot write.
    d->stepEdges.fetch_add(1, std::memory_order_acq_rel);
    d->stepWantsLock.store(true, std::memory_order_release);
    d->stepLock.lock();
    d->stepWantsLock.store(false, std::memory_order_release);
    const double waited = msSince(start);
    // Uncontended locking takes well under a microsecond; only real waits count.
    if (waited > 0.05) {
        std::lock_guard lock(d->mutex);
        d->stats.totalStepWaitMs += waited;
        d->stats.longestStepWaitMs = std::max(d->stats.longestStepWaitMs, waited);
    }
}

void WriteBehind::afterStep(const sim::StepResult &step)
{
    if (!d->thread.joinable())
        return;
    const sim::WorldState &state = d->world.state();
    d->playersAtLastStep = state.players.size();
    d->hashAtLastStep = step.stateHash;
    for (const sim::ChunkDelta &delta : step.deltas) {
        if (delta.chunk < d->dirty.size())
            d->dirty[delta.chunk] = 1;
    }
    if (d->playersWanted.load(std::memory_order_acquire)) {
        d->players = state.players;
        d->playersTick = step.tick;
        d->playersHash = step.stateHash;
        d->playersValid = true;
    }
    // Queued before the copier may run, so a snapshot never gets ahead of the log.
    TickRecord record = tickRecord(step, state);
    {
        std::lock_guard lock(d->mutex);
        d->queuedEvents += record.events.size();
        if (!d->ticks.empty() && d->ticks.back().events.empty() && record.events.empty())
            d->ticks.back() = std::move(record); // only the newest event-less tick matters
        else
            d->ticks.push_back(std::move(record));
        d->lastQueuedTick = step.tick;
        d->updateBacklog(this);
    }
    if (d->stepLock.owns_lock())
        d->stepLock.unlock();
    d->stepEdges.fetch_add(1, std::memory_order_acq_rel);
    d->wake.notify_all();
}

void WriteBehind::Private::noteStepStart(Clock::time_point start)
{
    const std::int64_t now = nanoseconds(start);
    const std::int64_t previous = lastStepStartNs.load(std::memory_order_relaxed);
    if (previous != 0) {
        spacings[spacingsSeen++ % kPeriodSamples] = now - previous;
        // The median: a pause, or a step started late and the next one early to catch
        // up, does not move it.
        if (spacingsSeen >= 4) {
            std::array<std::int64_t, kPeriodSamples> sorted = spacings;
            const std::size_t n = std::min(spacingsSeen, kPeriodSamples);
            std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.begin() + n);
            measuredPeriodNs.store(sorted[n / 2], std::memory_order_release);
        }
    }
    lastStepStartNs.store(now, std::memory_order_release);
}

PersistenceStats WriteBehind::stats() const
{
    std::lock_guard lock(d->mutex);
    PersistenceStats stats = d->stats;
    stats.durableTick = durableTick();
    stats.backlogFull = backlogFull();
    return stats;
}

void WriteBehind::savePlayer(PlayerRecord player, std::function<void(bool)> saved)
{
    {
        std::lock_guard lock(d->mutex);
        d->playerSaves.push_back({std::move(player), std::move(saved)});
    }
    d->wake.notify_all();
}

void WriteBehind::requestSnapshot()
{
    {
        std::lock_guard lock(d->mutex);
        d->snapshotRequested = true;
    }
    d->wake.notify_all();
}

bool WriteBehind::stop(int timeoutMs)
{
    if (!d->thread.joinable())
        return true;
    // The tick thread, no step running: the world is ours to copy whole.
    PendingSnapshot last;
    {
        std::lock_guard world(d->worldMutex);
        const sim::WorldState &state = d->world.state();
        // The state as of the last step: players who joined since are in no saved tick
        // (their join is not in the log), so the snapshot leaves them out too.
        // Chunks of an unfinished copy are part of what the final snapshot must hold.
        for (const auto &entry : d->copiedChunks)
            d->dirty[entry.first] = 1;
        d->copiedChunks.clear();
        last.record.tick = state.tick;
        last.record.stateHash = d->hashAtLastStep;
        last.record.machines = encodeMachines(state.machines);
        last.record.players
            = encodePlayers(std::span<const sim::Player>(state.players)
                                .first(std::min(d->playersAtLastStep, state.players.size())));
        for (geometry::ChunkId c = 0; c < d->dirty.size(); ++c) {
            if (!d->dirty[c])
                continue;
            d->dirty[c] = 0;
            ChunkRecord chunk;
            chunk.chunk = c;
            chunk.tick = state.tick;
            chunk.cells = rawChunk(state, c); // packed by the background thread
            last.cells += state.sphere->chunkCells(c).size();
            last.chunks.push_back(std::move(chunk));
        }
    }
    const std::uint64_t lastTick = last.record.tick;
    bool done = false;
    {
        std::unique_lock lock(d->mutex);
        d->finalSnapshot = std::move(last);
        d->stopping = true;
        d->wake.notify_all();
        done = d->wake.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                                [this] { return d->finished; });
        if (!done) {
            d->abort = true;
            d->error = tr("The store did not take everything in %1 ms: %2 ticks (%3 events) "
                          "after tick %4 are not saved.")
                           .arg(timeoutMs)
                           .arg(d->lastQueuedTick - durableTick())
                           .arg(d->stats.backlogEvents)
                           .arg(durableTick());
        }
        d->wake.notify_all();
    }
    d->thread.join();
    if (!done) {
        qCWarning(lcWriteBehind).nospace().noquote() << "tick " << lastTick << ": " << d->error;
        return false;
    }
    qCInfo(lcWriteBehind).nospace().noquote()
        << "tick " << lastTick << ": world '" << d->worldName << "' saved: events up to tick "
        << durableTick() << ", snapshot at tick " << stats().snapshotTick;
    return true;
}

void WriteBehind::Private::updateBacklog(WriteBehind *q)
{
    // Under mutex.
    stats.backlogTicks = lastQueuedTick - q->durableTick();
    stats.backlogEvents = queuedEvents;
    const std::size_t bound = std::max<std::size_t>(options.maxBacklogEvents, 1);
    const int percents[] = {10, 50, 90};
    for (int i = 0; i < 3; ++i) {
        if (!(backlogWarnings & (1 << i))
            && queuedEvents * 100 >= bound * std::size_t(percents[i])) {
            backlogWarnings |= 1 << i;
            qCWarning(lcWriteBehind).nospace().noquote()
                << "tick " << lastQueuedTick << ": the unsaved backlog holds " << queuedEvents
                << " events in " << stats.backlogTicks << " ticks, " << percents[i] << "% of "
                << "the " << bound << " kept before actions are refused";
        }
    }
    const bool full = queuedEvents >= bound;
    if (full != q->backlogFull()) {
        q->m_backlogFull.store(full, std::memory_order_release);
        if (full) {
            qCCritical(lcWriteBehind).nospace().noquote()
                << "tick " << lastQueuedTick << ": the unsaved backlog is full (" << queuedEvents
                << " events): new actions are refused until the database takes them";
        } else {
            qCInfo(lcWriteBehind).nospace()
                << "tick " << lastQueuedTick << ": the backlog has room again; actions are taken";
        }
    }
    if (queuedEvents == 0)
        backlogWarnings = 0;
}

void WriteBehind::Private::failed(const char *what, std::uint64_t tick)
{
    const QString message = store->errorString();
    std::uint64_t backlogTicks = 0;
    std::uint64_t backlogEvents = 0;
    {
        std::lock_guard lock(mutex);
        stats.lastError = message;
        backlogTicks = stats.backlogTicks;
        backlogEvents = stats.backlogEvents;
        if (store->connectionLost() && stats.connected) {
            stats.connected = false;
            lostSince = Clock::now();
        }
    }
    nextReconnect = Clock::now() + std::chrono::milliseconds(options.reconnectIntervalMs);
    if (store->connectionLost()) {
        qCWarning(lcWriteBehind).nospace().noquote()
            << "tick " << tick << ": DATABASE UNREACHABLE while writing " << what << " of world '"
            << worldName << "' (" << location.describe() << "): " << message << " The backlog ("
            << backlogTicks << " ticks, " << backlogEvents << " events) stays in memory; "
            << "reconnecting every " << options.reconnectIntervalMs << " ms";
    } else {
        qCCritical(lcWriteBehind).nospace().noquote()
            << "tick " << tick << ": writing " << what << " of world '" << worldName
            << "' failed: " << message << " Kept, and retried in " << options.reconnectIntervalMs
            << " ms";
    }
}

bool WriteBehind::Private::writePlayers(WriteBehind *q)
{
    std::vector<QueuedPlayer> batch;
    {
        std::lock_guard lock(mutex);
        batch.assign(std::make_move_iterator(playerSaves.begin()),
                     std::make_move_iterator(playerSaves.end()));
        playerSaves.clear();
    }
    if (batch.empty())
        return true;
    std::vector<PlayerRecord> records;
    records.reserve(batch.size());
    for (const QueuedPlayer &p : batch)
        records.push_back(p.record);
    const bool ok = store->savePlayers(records);
    if (!ok)
        failed("player records", q->durableTick());
    for (QueuedPlayer &p : batch) {
        if (p.saved) {
            QMetaObject::invokeMethod(
                q, [saved = std::move(p.saved), ok] { saved(ok); }, Qt::QueuedConnection);
        }
    }
    if (!ok) {
        // Kept (without their callbacks, already answered) for the next attempt.
        std::lock_guard lock(mutex);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it)
            playerSaves.push_front({std::move(it->record), {}});
    }
    return ok;
}

bool WriteBehind::Private::commitTicks(WriteBehind *q)
{
    std::vector<TickRecord> batch;
    {
        std::lock_guard lock(mutex);
        batch.assign(std::make_move_iterator(ticks.begin()), std::make_move_iterator(ticks.end()));
        ticks.clear();
    }
    if (batch.empty())
        return true;
    std::uint64_t events = 0;
    for (const TickRecord &t : batch)
        events += t.events.size();
    if (!store->appendTicks(batch)) {
        failed("the event log", batch.back().tick);
        std::lock_guard lock(mutex);
        // Back in front of whatever came meanwhile, in order.
        ticks.insert(ticks.begin(), std::make_move_iterator(batch.begin()),
                     std::make_move_iterator(batch.end()));
        return false;
    }
    const std::uint64_t tick = batch.back().tick;
    q->m_durableTick.store(tick, std::memory_order_release);
    {
        std::lock_guard lock(mutex);
        queuedEvents -= events;
        stats.durableTick = tick;
        updateBacklog(q);
    }
    QMetaObject::invokeMethod(
        q, [q, tick] { emit q->durableTickChanged(tick); }, Qt::QueuedConnection);
    return true;
}

std::optional<PendingSnapshot> WriteBehind::Private::tryCopy()
{
    std::unique_lock world(worldMutex, std::try_to_lock);
    if (!world.owns_lock())
        return std::nullopt; // a step runs: try after it
    const sim::WorldState &state = this->world.state();
    if (!playersValid || playersTick != state.tick)
        return std::nullopt; // players of this gap not copied yet: after the next step
    // Chunks copied in earlier gaps stay valid unless a step changed them since (then
    // they are dirty again and copied anew): a copy that gives way to a step resumes
    // where it stopped, and completes in the first gap that leaves nothing dirty.
    const bool mayAbandon = abandonedCopies < kMaxAbandonedCopies;
    // Writing in the gaps, the copy also gives the lock back before the next step is
    // due: a step then seldom finds it held (by a thread another process may preempt).
    const std::optional<Clock::time_point> deadline
        = options.writeInGaps ? gapEnd(Clock::now()) : std::nullopt;
    unsigned copied = 0;
    for (geometry::ChunkId c = 0; c < dirty.size(); ++c) {
        if (!dirty[c])
            continue;
        if (mayAbandon
            && (stepWantsLock.load(std::memory_order_acquire)
                || (deadline && copied++ % 8 == 0 && Clock::now() >= *deadline))) {
            ++abandonedCopies;
            return std::nullopt;
        }
        copiedChunks[c] = rawChunk(state, c);
        dirty[c] = 0;
    }
    if (mayAbandon && stepWantsLock.load(std::memory_order_acquire)) {
        ++abandonedCopies;
        return std::nullopt;
    }
    const int gaps = abandonedCopies;
    auto machines = state.machines;
    PendingSnapshot copy;
    copy.record.tick = state.tick;
    copy.record.stateHash = playersHash;
    std::map<geometry::ChunkId, QByteArray> raws = std::move(copiedChunks);
    copiedChunks.clear();
    std::vector<sim::Player> players = std::move(this->players);
    playersValid = false;
    playersWanted.store(false, std::memory_order_release);
    abandonedCopies = 0;
    world.unlock();

    if (!mayAbandon) {
        qCInfo(lcWriteBehind).nospace()
            << "tick " << copy.record.tick << ": the snapshot's copy gave way to " << gaps
            << " steps and then finished while a step waited (" << raws.size() << " chunks)";
    }

    // Outside the lock. The chunks are packed batch by batch and the machines and players
    // encoded before the commit, all in the gaps between steps (the copy may have used
    // its gap up to the next step).
    copy.machines = std::move(machines);
    copy.players = std::move(players);
    copy.chunks.reserve(raws.size());
    for (auto &[chunk, raw] : raws) {
        ChunkRecord record;
        record.chunk = chunk;
        record.tick = copy.record.tick;
        record.cells = std::move(raw);
        copy.cells += state.sphere->chunkCells(chunk).size();
        copy.chunks.push_back(std::move(record));
    }
    return copy;
}

std::int64_t WriteBehind::Private::tickPeriodNs() const
{
    const std::int64_t planned = std::int64_t(std::max(options.tickPeriodMs, 0)) * 1'000'000;
    const std::int64_t measured = measuredPeriodNs.load(std::memory_order_acquire);
    if (planned > 0 && measured > 0)
        return std::min(planned, measured);
    return std::max(planned, measured);
}

std::optional<Clock::time_point> WriteBehind::Private::gapEnd(Clock::time_point now) const
{
    const std::int64_t periodNs = tickPeriodNs();
    const std::int64_t lastStart = lastStepStartNs.load(std::memory_order_acquire);
    if (periodNs <= 0 || lastStart == 0)
        return std::nullopt;
    const auto period = std::chrono::nanoseconds(periodNs);
    const Clock::time_point due = fromNanoseconds(lastStart) + period;
    if (now >= due + period)
        return std::nullopt;
    const auto margin
        = std::max<std::chrono::nanoseconds>(std::chrono::milliseconds(1), period / 20);
    return due - std::chrono::duration_cast<Clock::duration>(margin);
}

std::size_t WriteBehind::Private::nextWrite(bool *forced)
{
    *forced = false;
    const PendingSnapshot &s = *snapshot;
    const bool commit = s.written == s.chunks.size();
    const auto most = std::size_t(std::max(options.chunksPerBatch, 1));
    const std::size_t all = commit ? 1 : std::min(most, s.chunks.size() - s.written);
    const auto now = Clock::now();
    const std::uint64_t edges = stepEdges.load(std::memory_order_acquire);
    const std::int64_t periodNs = tickPeriodNs();
    const auto period = std::chrono::nanoseconds(periodNs > 0 ? periodNs : 50'000'000);
    const auto defer = [&](Clock::time_point retry) -> std::size_t {
        snapshotRetryAt = std::max(retry, now + std::chrono::milliseconds(1));
        if (edges != edgesAtLastDeferral) {
            edgesAtLastDeferral = edges;
            std::lock_guard lock(mutex);
            ++stats.writesDeferred;
        }
        return 0;
    };
    // Starved: the steps leave no gap that fits. One batch per step then, at a gap's
    // start if this thread gets there in time, else at once: a server whose steps fill
    // their period still completes its snapshots.
    const std::uint64_t starved = (edges - edgesAtLastWrite) / 2;
    const std::uint64_t patience = starving ? 1 : kMaxStarvedSteps;
    if (starved >= patience + (edges % 2 == 1 ? 2 : 0)) {
        *forced = true;
        return all;
    }
    if (edges % 2 == 1)
        return defer(now + period); // a step runs; its afterStep() wakes this thread
    // No step expected (none yet, or paused): nothing to give way to.
    const std::optional<Clock::time_point> end = gapEnd(now);
    if (!end)
        return all;
    const double leftMs = std::chrono::duration<double, std::milli>(*end - now).count();
    std::size_t fits = 0;
    // Nothing measured yet: early in a gap, and for a chunk batch a small one, to learn.
    const bool early = leftMs > 0.5 * double(periodNs) / 1e6;
    if (commit) {
        fits = (commitCostMs < 0 ? early : commitCostMs <= leftMs) ? 1 : 0;
    } else if (!batchCost.known()) {
        fits = early ? std::max<std::size_t>(1, most / 8) : 0;
    } else {
        const double within = std::floor(batchCost.chunksWithin(leftMs));
        fits = within < 1 ? 0 : std::size_t(std::min(within, 1e9));
    }
    fits = std::min(fits, all);
    // A batch much smaller than it could be costs a transaction for little: rather wait
    // for a longer gap, unless that leaves the last few.
    const std::size_t smallest = std::min(all, std::max<std::size_t>(1, most / 8));
    if (fits >= smallest)
        return fits;
    // After the next step (it wakes this thread), or when it is a period late.
    return defer(*end + period + period / 10);
}

bool WriteBehind::Private::writeSnapshotBatch(std::size_t chunks, bool forced)
{
    PendingSnapshot &s = *snapshot;
    const std::uint64_t edgesBefore = stepEdges.load(std::memory_order_acquire);
    const auto start = Clock::now();
    const auto finish = [&](bool ok, double writeMs, double packMs) {
        const auto end = Clock::now();
        const std::uint64_t edgesAfter = stepEdges.load(std::memory_order_acquire);
        if (ok) {
            edgesAtLastWrite = edgesAfter;
            starving = forced;
        }
        {
            std::lock_guard lock(mutex);
            stats.flushMs += writeMs;
            stats.packMs += packMs;
            stats.writesForced += forced ? 1 : 0;
            stats.writesDuringSteps += edgesBefore % 2 == 1 || edgesAfter != edgesBefore ? 1 : 0;
            stats.chunksPending = s.chunks.size() - s.written;
        }
        if (options.snapshotWriteObserver)
            options.snapshotWriteObserver(start, end);
        return ok;
    };
    if (s.written < s.chunks.size()) {
        const std::size_t n
            = std::min(s.chunks.size() - s.written, std::max<std::size_t>(chunks, 1));
        for (; s.packed < s.written + n; ++s.packed)
            s.chunks[s.packed].cells = packChunk(s.chunks[s.packed].cells);
        const double packMs = msSince(start);
        const auto writeStart = Clock::now();
        if (!store->writeChunks(std::span<const ChunkRecord>(s.chunks).subspan(s.written, n))) {
            failed("snapshot chunks", s.record.tick);
            return finish(false, 0, packMs);
        }
        const double writeMs = msSince(writeStart);
        batchCost.add(double(n), packMs + writeMs);
        s.written += n;
        {
            std::lock_guard lock(mutex);
            stats.chunksWritten += n;
        }
        return finish(true, writeMs, packMs);
    }
    if (s.machines) {
        s.record.machines = encodeMachines(*s.machines);
        s.record.players = encodePlayers(s.players);
        s.machines.reset();
        s.players.clear();
    }
    const double encodeMs = msSince(start);
    const auto commitStart = Clock::now();
    if (!store->commitSnapshot(s.record)) {
        failed("a snapshot", s.record.tick);
        return finish(false, 0, encodeMs);
    }
    const double commitMs = msSince(commitStart);
    commitCostMs
        = commitCostMs < 0 ? encodeMs + commitMs : 0.7 * commitCostMs + 0.3 * (encodeMs + commitMs);
    {
        std::lock_guard lock(mutex);
        stats.cellsWritten += s.cells;
        stats.snapshotTick = s.record.tick;
        ++stats.snapshotsWritten;
    }
    finish(true, commitMs, encodeMs);
    qCDebug(lcWriteBehind).nospace()
        << "tick " << s.record.tick << ": snapshot written, " << s.chunks.size() << " chunks";
    snapshot.reset();
    return true;
}

void WriteBehind::Private::run(WriteBehind *q)
{
    const auto interval = std::chrono::milliseconds(std::max(options.flushIntervalMs, 1));
    nextSnapshot = Clock::now() + interval;
    bool connected = true;
    bool copyWaiting = false;
    for (;;) {
        bool stopNow = false;
        {
            std::unique_lock lock(mutex);
            // A copy waiting for the next gap between ticks looks again soon (a step
            // wakes it sooner).
            auto until = !connected    ? nextReconnect
                         : copyWaiting ? Clock::now() + std::chrono::milliseconds(50)
                                       : nextSnapshot;
            // A snapshot write waiting for a gap: a step's end wakes this thread, and
            // snapshotRetryAt is when no step came (the ticks stopped).
            if (connected && snapshot && snapshotDeferred)
                until = std::min(until, snapshotRetryAt);
            wake.wait_until(lock, until, [&] {
                if (abort || stopping)
                    return true;
                if (!connected) {
                    // Only the reconnection time, or a save to answer, ends the wait.
                    return std::any_of(playerSaves.begin(), playerSaves.end(),
                                       [](const QueuedPlayer &p) { return bool(p.saved); });
                }
                return !ticks.empty() || !playerSaves.empty() || snapshotRequested
                       || (snapshot && !snapshotDeferred);
            });
            snapshotDeferred = false;
            if (abort)
                break;
            stopNow = stopping;
            if (snapshotRequested) {
                snapshotRequested = false;
                nextSnapshot = Clock::now();
            }
        }

        if (!connected) {
            // Saves asked for while the database is gone are answered at once: not now
            // (they stay queued and are written once it is back).
            {
                std::lock_guard lock(mutex);
                for (QueuedPlayer &p : playerSaves) {
                    if (!p.saved)
                        continue;
                    QMetaObject::invokeMethod(
                        q, [saved = std::move(p.saved)] { saved(false); }, Qt::QueuedConnection);
                    p.saved = {};
                }
            }
            if (Clock::now() < nextReconnect && !stopNow)
                continue;
            if (!store->reconnect()) {
                nextReconnect
                    = Clock::now() + std::chrono::milliseconds(options.reconnectIntervalMs);
                if (stopNow) {
                    // stop() waits with its own deadline; keep trying until it aborts.
                    std::unique_lock lock(mutex);
                    wake.wait_until(lock, nextReconnect, [&] { return abort; });
                }
                continue;
            }
            connected = true;
            double goneMs = 0;
            std::uint64_t backlogEvents = 0;
            std::uint64_t backlogTicks = 0;
            std::uint64_t latest = 0;
            {
                std::lock_guard lock(mutex);
                stats.connected = true;
                goneMs = msSince(lostSince);
                backlogEvents = stats.backlogEvents;
                backlogTicks = stats.backlogTicks;
                latest = lastQueuedTick;
            }
            qCWarning(lcWriteBehind).nospace().noquote()
                << "tick " << latest << ": database back after " << qRound64(goneMs)
                << " ms; draining " << backlogTicks << " ticks (" << backlogEvents
                << " events) after tick " << q->durableTick();
        }

        // Group commit: every step handed over, then the players waiting (a player record
        // the store refuses never holds up the event log).
        bool ok = commitTicks(q);
        ok = writePlayers(q) && ok;

        // Snapshots: one batch per round, so commits keep their pace meanwhile.
        if (ok && !snapshot && Clock::now() >= nextSnapshot && !stopNow) {
            playersWanted.store(true, std::memory_order_release);
            snapshot = tryCopy();
            copyWaiting = !snapshot;
            if (snapshot) {
                nextSnapshot = Clock::now() + interval;
                edgesAtLastWrite = stepEdges.load(std::memory_order_acquire);
                std::lock_guard lock(mutex);
                stats.chunksPending = snapshot->chunks.size();
            }
        }
        if (ok && snapshot) {
            // In the gaps between steps; stop() wants it all now.
            bool forced = false;
            const std::size_t chunks = stopNow || !options.writeInGaps
                                           ? std::size_t(std::max(options.chunksPerBatch, 1))
                                           : nextWrite(&forced);
            if (chunks > 0)
                ok = writeSnapshotBatch(chunks, forced);
            else
                snapshotDeferred = true;
        }

        if (ok && stopNow && !snapshot) {
            // Drained: the final snapshot, then done.
            std::optional<PendingSnapshot> last;
            {
                std::lock_guard lock(mutex);
                if (!ticks.empty() || !playerSaves.empty())
                    continue;
                last = std::move(finalSnapshot);
                finalSnapshot.reset();
            }
            if (last) {
                snapshot = std::move(last);
                while (ok && snapshot)
                    ok = writeSnapshotBatch(std::size_t(std::max(options.chunksPerBatch, 1)),
                                            false);
                if (!ok) {
                    std::lock_guard lock(mutex);
                    finalSnapshot = std::move(snapshot);
                    snapshot.reset();
                }
            }
            if (ok) {
                std::lock_guard lock(mutex);
                finished = true;
                wake.notify_all();
                break;
            }
        }
        if (!ok) {
            connected = !store->connectionLost();
            if (connected) {
                // Bad data, not a lost connection: retry after a pause, never drop.
                std::unique_lock lock(mutex);
                wake.wait_for(lock, std::chrono::milliseconds(options.reconnectIntervalMs),
                              [&] { return abort; });
                if (abort)
                    break;
            }
        }
    }
}

} // namespace hex::server::persistence
