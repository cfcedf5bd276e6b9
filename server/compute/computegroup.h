// server/compute/computegroup.h
#pragma once
#include "segment.h"
#include "wakeup.h"

#include "sim/world.h"

#include <QString>
#include <QStringList>

#include <tl/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace hex::server::compute {

class WorkerProcess;

struct ComputeOptions
{
    /// Worker processes (1..kMaxWorkerSlots).
    int workers = 2;
    /// Automaton parts per worker, taken by whichever worker is free (see StepJob): more
    /// parts even out a worker slowed by other load, at a little cost per part.
    /// workers * partsPerWorker is at most kMaxParts.
    int partsPerWorker = 4;
    WakeMethod method = WakeMethod::Futex;
    /// The hexsphere-worker executable.
    QString program;
    /// How long one phase of one worker may take before the server kills it and computes
    /// its part itself.
    std::chrono::milliseconds deadline{250};
    /// How long the first start waits for every worker to attach.
    std::chrono::milliseconds startTimeout{30000};
    /// Spin before sleeping, both ways (futex only).
    std::chrono::nanoseconds spin = std::chrono::microseconds(20);
    /// Restarts after a failure wait 100 ms, doubling up to this.
    std::chrono::milliseconds maxBackoff{10000};
    /// Failures in a row after which a slot is given up (reported, not restarted).
    int maxFailures = 5;
    /// Copy the planet's geometry (HexSphere's tables) into the segment once, for the
    /// workers to read there (when /dev/shm has room); false: each worker builds its own.
    bool shareSphere = true;
    /// Hand out each phase's parts longest first, by what each took the last few ticks,
    /// so that the parts left at the end are short and the workers finish together;
    /// false: in part order (bench_ipc's comparison).
    bool longestFirst = true;
};

/// What a ComputeGroup has been through, for /api/v1/status, logs and tests.
struct ComputeStats
{
    int workers = 0;         ///< slots
    int running = 0;         ///< slots whose worker is attached and answering
    int parts = 0;           ///< automaton parts the world is split into
    std::uint64_t jobs = 0;  ///< phases handed out (one per slot per phase)
    std::uint64_t crashes = 0;        ///< workers found dead during a job
    std::uint64_t missedDeadlines = 0; ///< workers killed for taking too long
    std::uint64_t takenOver = 0;      ///< parts' phases the server computed itself
    /// Per slot: the parts' phases its workers ran. A slot whose worker shares its core
    /// with other load runs fewer.
    std::vector<std::uint64_t> partsRun;
    std::uint64_t restarts = 0;       ///< workers started again after a failure
    /// Bytes of world state copied between the server's memory and the segment: the
    /// arrays moved in at start (and out at the end); never per tick.
    std::uint64_t bytesCopied = 0;
    /// Bytes of the sphere's tables copied into the segment at start, for the workers to
    /// share (geometry, not world state: not in bytesCopied); 0 when each worker builds
    /// its own (ComputeOptions::shareSphere).
    std::uint64_t sphereBytes = 0;
    /// One line per slot given up after repeated failures, with the last error.
    QStringList givenUp;
    QString lastError;
};

/// The server's compute workers for one World: a shared-memory segment holding the world's
/// cell arrays and the automaton's exchange, and hexsphere-worker processes. Installed as
/// the World's StepRunner: each automaton phase is published in the segment's StepJob, the
/// workers are woken, take the phase's parts one at a time until none is left (several per
/// worker, so a worker slowed by other load takes fewer), step them in place and answer; the
/// server goes on when all have.
///
/// Supervision: a worker found dead, failing to wake, or past the deadline is killed, and
/// the parts it took and did not finish are computed here in the same tick (so no tick is
/// lost or doubled; see Automaton::runPart() for why a rerun is safe). It is restarted with
/// backoff without stalling ticks (while a slot is down this thread takes parts too); after
/// maxFailures failures in a row its slot is given up and reported.
///
/// Use from one thread (the World's). Destroying it stops the workers, moves the arrays
/// back into the heap, uninstalls it from the World and removes the segment.
class ComputeGroup final : public sim::StepRunner
{
public:
    /// create() for `world`'s sphere and content, then attach(world). Fails (leaving `world`
    /// as it was) when the segment cannot be made or no worker starts; the caller then
    /// keeps stepping on threads.
    static tl::expected<std::unique_ptr<ComputeGroup>, QString>
    start(sim::World &world, const ComputeOptions &options);
    /// Creates the segment for worlds on `sphere` under `content` and starts the workers,
    /// waiting for them to attach. It serves no world yet: generateWorld() may run, then
    /// attach() gives it the world.
    static tl::expected<std::unique_ptr<ComputeGroup>, QString>
    create(std::shared_ptr<const geometry::HexSphere> sphere, const sim::Content &content,
           const ComputeOptions &options);
    ~ComputeGroup() override;
    ComputeGroup(const ComputeGroup &) = delete;
    ComputeGroup &operator=(const ComputeGroup &) = delete;

    /// Moves `world`'s arrays into the segment and becomes its StepRunner. Once; the world
    /// must be on the sphere and content of create() and outlive the group.
    [[nodiscard]] tl::expected<void, QString> attach(sim::World &world);

    /// A new world, sim::generateWorld(sphere, content, seed): its ground and the noise
    /// fields of its deposits and flora (the bulk of the work) computed as bulk jobs by the
    /// workers and this thread together (a worker that fails is replaced by this thread),
    /// the rest here. `progress(done, total)` is called as jobs finish (from this thread);
    /// returning false cancels the run, which then fails with "cancelled". Only before
    /// attach().
    tl::expected<sim::WorldState, QString>
    generateWorld(const sim::Content &content, std::uint64_t seed,
                  const std::function<bool(std::uint64_t done, std::uint64_t total)> &progress);

    QString segmentName() const;
    ComputeStats stats() const;
    /// The process id of the worker of `slot`, or 0 when none runs.
    qint64 workerPid(int slot) const;
    /// How long each part of `phase` has taken the last few ticks, in nanoseconds, by
    /// part (a running mean; 0 until measured).
    std::vector<double> partTimes(sim::AutomatonPhase phase) const;
    /// The order the next job of `phase` hands its parts out in: longest first (see
    /// ComputeOptions::longestFirst), or in part order.
    std::vector<int> partOrder(sim::AutomatonPhase phase) const;

    // sim::StepRunner
    int partCount() const override;
    std::byte *exchange() override;
    std::uint64_t newStamp() override;
    void runPhase(sim::AutomatonPhase phase, const sim::AutomatonMemory &memory,
                  sim::Automaton &automaton) override;

    /// The default hexsphere-worker path: next to the running executable.
    static QString defaultProgram();

private:
    /// partOrder() into the first partCount() entries of `order`.
    void fillPartOrder(sim::AutomatonPhase phase, std::span<std::uint32_t> order) const;
    struct Slot;
    struct Private;
    /// Runs the jobs of the BulkRing (count, ranges and kind set) on the running workers
    /// and this thread (`runHere(job)`), rerunning here the jobs of a worker that fails.
    /// `progress(fraction done)` returning false cancels: false then.
    bool runBulk(const std::function<void(std::uint32_t job)> &runHere,
                 const std::function<bool(double fraction)> &progress);
    explicit ComputeGroup(std::unique_ptr<Private> d);
    std::unique_ptr<Private> d;
};

} // namespace hex::server::compute
