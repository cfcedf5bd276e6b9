#include "writebehind.h"

#include "statecodec.h"

#include "sim/world.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QMetaObject>

#include <algorithm>
#include <cerrno>
#include <chrono>
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

/// Nice steps the write-behind thread runs below the tick thread.
constexpr int kNiceSteps = 10;

/// Makes the calling thread yield the CPU to the tick thread when both want it: on two
/// cores the compression and the writes of a snapshot otherwise stretch ticks (the
/// longest tick at n=512 went from 1.3-1.55 to 0.85-1.06 times the longest without
/// persistence in bench_persistence). Linux gives each thread its own nice value.
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

/// A snapshot on its way to the store: copied, then packed, then written batch by batch.
struct PendingSnapshot
{
    SnapshotRecord record;
    std::vector<ChunkRecord> chunks;
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

    void run(WriteBehind *q);
    bool commitTicks(WriteBehind *q);
    bool writePlayers(WriteBehind *q);
    bool writeSnapshotBatch();
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
    d->stepWantsLock.store(true, std::memory_order_release);
    const auto start = Clock::now();
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
    d->wake.notify_all();
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
            chunk.cells = packChunk(rawChunk(state, c));
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
    for (geometry::ChunkId c = 0; c < dirty.size(); ++c) {
        if (!dirty[c])
            continue;
        if (mayAbandon && stepWantsLock.load(std::memory_order_acquire)) {
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

    // Outside the lock: compression.
    copy.record.machines = encodeMachines(machines);
    copy.record.players = encodePlayers(players);
    copy.chunks.reserve(raws.size());
    for (const auto &[chunk, raw] : raws) {
        ChunkRecord record;
        record.chunk = chunk;
        record.tick = copy.record.tick;
        record.cells = packChunk(raw);
        copy.cells += state.sphere->chunkCells(chunk).size();
        copy.chunks.push_back(std::move(record));
    }
    return copy;
}

bool WriteBehind::Private::writeSnapshotBatch()
{
    PendingSnapshot &s = *snapshot;
    const auto start = Clock::now();
    if (s.written < s.chunks.size()) {
        const std::size_t n = std::min(s.chunks.size() - s.written,
                                       std::size_t(std::max(options.chunksPerBatch, 1)));
        if (!store->writeChunks(std::span<const ChunkRecord>(s.chunks).subspan(s.written, n))) {
            failed("snapshot chunks", s.record.tick);
            return false;
        }
        s.written += n;
        std::lock_guard lock(mutex);
        stats.chunksWritten += n;
        stats.flushMs += msSince(start);
        return true;
    }
    if (!store->commitSnapshot(s.record)) {
        failed("a snapshot", s.record.tick);
        return false;
    }
    {
        std::lock_guard lock(mutex);
        stats.cellsWritten += s.cells;
        stats.flushMs += msSince(start);
        stats.snapshotTick = s.record.tick;
        ++stats.snapshotsWritten;
    }
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
            const auto until = !connected    ? nextReconnect
                               : copyWaiting ? Clock::now() + std::chrono::milliseconds(50)
                                             : nextSnapshot;
            wake.wait_until(lock, until, [&] {
                if (abort || stopping)
                    return true;
                if (!connected) {
                    // Only the reconnection time, or a save to answer, ends the wait.
                    return std::any_of(playerSaves.begin(), playerSaves.end(),
                                       [](const QueuedPlayer &p) { return bool(p.saved); });
                }
                return !ticks.empty() || !playerSaves.empty() || snapshotRequested
                       || bool(snapshot);
            });
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
            if (snapshot)
                nextSnapshot = Clock::now() + interval;
        }
        if (ok && snapshot)
            ok = writeSnapshotBatch();

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
                    ok = writeSnapshotBatch();
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
