#pragma once

#include "worldstore.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace hex::sim {
class World;
struct StepResult;
} // namespace hex::sim

namespace hex::server::persistence {

/// How the write-behind keeps a world.
struct WriteBehindOptions
{
    /// Milliseconds between snapshot flushes of the dirty chunks.
    int flushIntervalMs = 5000;
    /// Chunk records per transaction while flushing: the most; a batch shrinks to fit the
    /// gap between two steps.
    int chunksPerBatch = 64;
    /// Milliseconds from one step's start to the next's as the tick loop plans it (1000 /
    /// UPS); 0: unknown. The write-behind also measures the spacing of beforeStep() calls
    /// and uses the shorter of the two.
    int tickPeriodMs = 0;
    /// False: snapshot writes go as soon as they can, steps or not (as before gap
    /// scheduling; for comparisons in benchmarks).
    bool writeInGaps = true;
    /// Events kept in memory while the database cannot take them. Past this, the
    /// server refuses new actions (backlogFull()) until the backlog drains; warnings are
    /// logged at 10%, 50% and 90% of it.
    std::size_t maxBacklogEvents = 200'000;
    /// Milliseconds between reconnection attempts while the database is gone.
    int reconnectIntervalMs = 1000;
    /// For tests and benchmarks: called on the background thread after each snapshot
    /// write (a chunk batch or the snapshot's commit, successful or not) with the steady
    /// clock times it started and ended. Must be quick and thread-safe.
    std::function<void(std::chrono::steady_clock::time_point,
                       std::chrono::steady_clock::time_point)>
        snapshotWriteObserver;
};

/// What the write-behind has done, for /api/v1/status, logs and tests. A copy.
struct PersistenceStats
{
    /// The last tick whose events are committed: actions applied in a tick <= this are
    /// durable.
    std::uint64_t durableTick = 0;
    /// Ticks stepped but not yet committed, and the events they hold.
    std::uint64_t backlogTicks = 0;
    std::uint64_t backlogEvents = 0;
    bool backlogFull = false;
    /// False while the database is unreachable.
    bool connected = true;
    /// The tick of the newest complete snapshot in the store.
    std::uint64_t snapshotTick = 0;
    std::uint64_t snapshotsWritten = 0;
    /// Chunk records written, the cells they hold, and the milliseconds spent writing
    /// them: the store's writeChunks() and commitSnapshot() calls only, not the copy, the
    /// compression (packMs) or the waits for a gap between steps.
    std::uint64_t chunksWritten = 0;
    std::uint64_t cellsWritten = 0;
    double flushMs = 0;
    /// Milliseconds spent compressing the snapshots' chunks, machines and players.
    double packMs = 0;
    /// Chunk records of the snapshot under way still to be written.
    std::uint64_t chunksPending = 0;
    /// Snapshot writes that waited for a step to end or for a gap long enough for them,
    /// counted once per step waited for.
    std::uint64_t writesDeferred = 0;
    /// Snapshot writes started although no gap was expected to fit them, because the
    /// snapshot had waited for several steps (ticks that nearly fill their period).
    std::uint64_t writesForced = 0;
    /// Snapshot writes (forced or not) that overlapped a step: a step began before they
    /// ended.
    std::uint64_t writesDuringSteps = 0;
    /// Milliseconds the tick thread waited in beforeStep() (a copy running late), the
    /// longest wait and their sum.
    double longestStepWaitMs = 0;
    double totalStepWaitMs = 0;
    QString lastError;
};

/// Memory first, database behind. The tick thread hands over each step; a background
/// thread with its own store connection commits every step's events once per tick
/// (group commit) and advances durableTick(), and every flushIntervalMs writes a
/// consistent snapshot of the chunks that changed since the last one, in batches of
/// chunksPerBatch per transaction.
///
/// The snapshot's writes run in the gaps between steps: the database (PostgreSQL's
/// backend on the same cores, too) then seldom competes with a step for a core. A chunk
/// batch starts only when no step runs and it is expected to end before the next step
/// is due (the tick period is measured from the spacing of beforeStep() calls, the cost
/// of a batch from the last ones); it shrinks to fit a short gap. A snapshot that found
/// no gap for 4 steps writes one batch anyway, and then one after each step until a gap
/// fits again, so it always progresses; with no steps coming (a paused server, stop())
/// it writes freely. The copy, too, gives the lock back before the next step is due. The
/// group commit of the events does not wait for gaps.
///
/// The tick thread never waits on the database. The snapshot's copy of the dirty
/// chunks and the machine state is taken by the background thread between two ticks,
/// under a lock the tick thread takes in beforeStep(); when a step is due while the copy
/// runs, the copy gives up at once (the step waits for at most one chunk's copy) and
/// starts over after the step. The compression and the writes then run without the
/// lock.
///
/// When the database goes away, ticks go on: the events stay in memory (bounded by
/// maxBacklogEvents, with warnings as it grows), reconnection is tried every
/// reconnectIntervalMs, and the backlog drains once it is back. Nothing acknowledged as
/// durable is lost, since durableTick() only moves after a commit.
class WriteBehind : public QObject
{
    Q_OBJECT
public:
    /// `world` must outlive this object and be stepped only between beforeStep() and
    /// afterStep(); addPlayer() only on the tick thread. `store` is opened with
    /// WorldStore::open() on the background thread from `location` and `worldName`
    /// (Qt Sql connections belong to their thread).
    WriteBehind(sim::World &world, StoreLocation location, QString worldName,
                WriteBehindOptions options = {}, QObject *parent = nullptr);
    /// stop()s.
    ~WriteBehind() override;

    /// Starts the background thread. `snapshotTick` is the tick of the store's newest
    /// complete snapshot (chunks are dirty only after it) and `durableTick` the store's
    /// last committed tick. False if the store does not open (errorString()).
    [[nodiscard]] bool start(std::uint64_t snapshotTick, std::uint64_t durableTick);
    QString errorString() const;

    /// Tick thread, right before world.step(): the world is the step's alone until
    /// afterStep().
    void beforeStep();
    /// Tick thread, right after world.step(): queues the step's events for the next
    /// group commit, marks its changed chunks dirty, and lets the copy run again.
    void afterStep(const sim::StepResult &step);

    /// The last tick whose events are committed. Any thread.
    std::uint64_t durableTick() const { return m_durableTick.load(std::memory_order_acquire); }
    /// True while the backlog is at maxBacklogEvents: new actions must be refused.
    bool backlogFull() const { return m_backlogFull.load(std::memory_order_acquire); }
    PersistenceStats stats() const;

    /// Saves `player` in the next transaction, ahead of any snapshot (a logout save,
    /// write-through). `saved`, if given, is called on this object's thread once it is
    /// committed (true) or when it could not be (false: the database is gone; the record
    /// stays queued and is written once it is back).
    void savePlayer(PlayerRecord player, std::function<void(bool)> saved = {});
    /// A snapshot at the next gap between ticks, whatever the interval says.
    void requestSnapshot();

    /// Commits every step handed over, writes a final snapshot at the world's current
    /// tick, and stops the thread; waits up to `timeoutMs`. Tick thread, with no step
    /// running (at shutdown, or when the host leaves). False if the database could not
    /// take it all in time (errorString() says what is left unsaved).
    bool stop(int timeoutMs = 30'000);

signals:
    /// Once per group commit (queued to this object's thread): durableTick() moved.
    void durableTickChanged(quint64 tick);

private:
    struct Private;
    std::unique_ptr<Private> d;
    std::atomic<std::uint64_t> m_durableTick{0};
    std::atomic<bool> m_backlogFull{false};
};

} // namespace hex::server::persistence
