// server/compute/segment.h
#pragma once
#include "geometry/hexsphere.h"
#include "sim/parttimes.h"

#include <QString>
#include <QStringList>

#include <tl/expected.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>
#include <optional>

namespace hex::server::compute {

/// "HEXCMPT1" read as a little-endian 64-bit word: the first eight bytes of every segment.
inline constexpr std::uint64_t kSegmentMagic = 0x3154504D43584548ULL;
/// Bumped whenever ControlBlock or WorkerSlot change shape; server and worker must agree.
inline constexpr std::uint32_t kLayoutVersion = 8;
/// The most workers one segment has slots for.
inline constexpr int kMaxWorkerSlots = 16;
/// The most automaton parts a world is split into (several per worker: see StepJob).
inline constexpr int kMaxParts = 64;

/// What a worker slot is doing. Stored in WorkerSlot::state.
enum class SlotState : std::uint32_t {
    Empty = 0,    ///< No worker assigned.
    Starting = 1, ///< The server started a worker process and waits for it.
    Ready = 2,    ///< The worker attached, checked the layout and waits for wake-ups.
    Stopping = 3, ///< The server asks the worker to exit; it answers no more wake-ups.
    Stopped = 4,  ///< The worker saw Stopping and is exiting with status 0.
};

/// One worker's words in the control block, on a cache line of its own. All fields are
/// written with atomics by both processes; 32-bit words are futex words.
struct alignas(64) WorkerSlot
{
    std::atomic<std::uint32_t> state;    ///< A SlotState.
    std::atomic<std::uint32_t> toWorker; ///< Wake-ups sent to the worker (a counter, futex word).
    std::atomic<std::uint32_t> toServer; ///< Wake-ups sent to the server (a counter, futex word).
    std::atomic<std::uint32_t> workerSleeping; ///< 1 while the worker sleeps in FUTEX_WAIT.
    std::atomic<std::uint32_t> serverSleeping; ///< 1 while the server sleeps in FUTEX_WAIT.
    std::atomic<std::uint32_t> echo;           ///< Last toWorker value the worker answered.
    std::atomic<std::int32_t> workerPid;       ///< Set by the worker when it attaches.
    std::atomic<std::int32_t> workerTid;       ///< The worker thread that waits (signal wake-ups).
    std::atomic<std::int32_t> serverPid;       ///< The server process (signal wake-ups).
    std::atomic<std::int32_t> serverTid;       ///< The server thread that waits (signal wake-ups).
    std::atomic<std::uint64_t>
        heartbeat; ///< Incremented by the worker on every wake-up it handles.
    /// StepJob::sequence of the last job the worker finished (stored before it answers).
    std::atomic<std::uint64_t> done;
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

/// Where one automaton array lives: a byte offset from the segment's start.
enum class StepArray : int {
    Terrain,
    Elevation,
    Flora,
    Water,
    Pollution,
    ResourceKind,
    ResourceAmount,
    Dirty,
    Exchange,
    Count,
};

/// The tables of the world's HexSphere, copied into the segment once by the server, so
/// that its workers read them there instead of each building its own (120 MiB at n=512).
enum class SphereTable : int {
    Centres,
    Neighbours,
    ChunkOf,
    ChunkOffsets,
    ChunkCells,
    ChunkNeighbourOffsets,
    ChunkNeighbours,
    Lattice,
    Count,
};

static_assert(static_cast<std::size_t>(SphereTable::Count) == geometry::HexSphereTables::kCount,
              "SphereTable follows HexSphereTables::forEach()");

/// Where the sphere's tables lie in a segment (StepJob::sphere): byte offsets from the
/// segment's start, each aligned to 64, and entry counts. All zero: the segment has none,
/// and a worker builds its own (when /dev/shm had no room for them).
struct SphereTablesPlace
{
    std::uint64_t offsets[static_cast<int>(SphereTable::Count)];
    std::uint64_t counts[static_cast<int>(SphereTable::Count)];
    double skipRingCos; ///< HexSphereTables::skipRingCos

    bool present() const { return counts[static_cast<int>(SphereTable::Centres)] != 0; }
};

/// Bytes the sphere's tables take in a segment, each table's start aligned to 64.
std::size_t sphereTablesBytes(const geometry::HexSphereTables &tables);
/// Copies the sphere's tables to `base` + `offset` (aligned to 64), that is
/// sphereTablesBytes() bytes, and says where they are.
SphereTablesPlace copySphereTables(const geometry::HexSphereTables &tables, std::byte *base,
                                   std::size_t offset);
/// The sphere's tables as placed in a mapping of `size` bytes at `base`; refuses a place
/// that leaves the mapping or is misaligned.
tl::expected<geometry::HexSphereTables, QString>
sphereTablesAt(const SphereTablesPlace &place, const std::byte *base, std::size_t size);

/// StepJob::partNanos' value for a part run since `begin`: sim::PartTimes::nanosSince(),
/// saturated to 32 bits.
inline std::uint32_t partNanosSince(std::chrono::steady_clock::time_point begin)
{
    return std::uint32_t(std::min<std::uint64_t>(sim::PartTimes::nanosSince(begin), 0xFFFF'FFFF));
}

/// StepJob::partState of a part the server runs itself, and the flag added to a part's
/// state once its phase is finished (who ran it stays in the low bits).
inline constexpr std::uint32_t kPartServer = 0xFFFF;
inline constexpr std::uint32_t kPartDone = 0x8000'0000;

/// The world a segment holds and the job every worker runs next. The server writes the
/// world fields before it starts any worker, and the job fields before each wake-up (the
/// wake-up orders them); workers only read them, and take parts through nextPart.
///
/// A phase's parts are not tied to workers: there are several parts per worker, and each
/// woken worker takes the next untaken part (nextPart) until none is left, then answers. A
/// worker that a neighbour process or the hypervisor slows down takes fewer parts, instead
/// of holding up the whole phase with a fixed share. partState records who runs what, so
/// that the parts a failed worker took and did not finish are run again by the server.
struct StepJob
{
    // The world, fixed for the segment's life.
    std::int32_t subdivisions; ///< HexSphere(subdivisions, chunkSplit)
    std::int32_t chunkSplit;
    std::uint32_t cellCount;
    std::uint32_t parts;         ///< automaton parts, 1..kMaxParts
    std::uint64_t exchangeBytes; ///< Automaton::exchangeBytes() for `parts` parts
    char contentVersion[64];     ///< Content::version, NUL-terminated
    /// The partition table: part i steps the cells [partCells[i], partCells[i + 1]) (and
    /// part 0 the twelve pentagons among them), for i < parts.
    std::uint32_t partCells[kMaxParts + 1];
    /// The world's HexSphere(subdivisions, chunkSplit) tables.
    SphereTablesPlace sphere;

    // The job.
    std::uint64_t sequence; ///< bumped for every job; answered in WorkerSlot::done
    std::uint64_t seed;
    std::uint64_t tick;
    std::uint64_t stamp;    ///< AutomatonMemory::stamp
    std::uint32_t phase;    ///< hex::sim::AutomatonPhase
    std::uint32_t reserved;
    std::uint64_t offsets[static_cast<int>(StepArray::Count)];
    /// The order in which the job's parts are taken: the k-th part taken is order[k], for
    /// k < parts. The server puts the parts that took longest last time first, so that the
    /// last ones taken are short and the workers finish together.
    std::uint32_t order[kMaxParts];
    /// The next part to take, as an index into `order`; >= parts: none left. Reset to 0
    /// for every job.
    alignas(64) std::atomic<std::uint32_t> nextPart;
    /// Per part, for this job: 0 not taken, 1 + slot while a worker runs it, kPartServer
    /// while the server does; kPartDone is added when it is finished. Reset to 0 for every
    /// job.
    std::atomic<std::uint32_t> partState[kMaxParts];
    /// Per part, for this job: how long its runner took, in nanoseconds (saturated), once
    /// it is finished; what the server orders the next job of the phase by.
    std::atomic<std::uint32_t> partNanos[kMaxParts];
};

/// Takes `job`'s parts in its order until none is left, as `runner` (1 + slot, or
/// kPartServer): marks each one taken, calls run(part), records its time and marks it
/// done. The protocol of StepJob's part fields, for the server and the workers alike.
/// Returns a part the order names that does not exist, after taking no more, or nullopt.
template<typename Run>
std::optional<std::uint32_t> takeParts(StepJob &job, std::uint32_t runner, Run &&run)
{
    for (;;) {
        const std::uint32_t taken = job.nextPart.fetch_add(1, std::memory_order_acq_rel);
        if (taken >= job.parts)
            return std::nullopt;
        const std::uint32_t part = job.order[taken];
        if (part >= job.parts)
            return part;
        job.partState[part].store(runner, std::memory_order_relaxed);
        const auto begin = std::chrono::steady_clock::now();
        run(part);
        job.partNanos[part].store(partNanosSince(begin), std::memory_order_relaxed);
        job.partState[part].store(runner | kPartDone, std::memory_order_release);
    }
}

/// StepJob::phase of a bulk job: work the BulkRing until no job is left, then answer.
inline constexpr std::uint32_t kBulkPhase = 100;
/// The most jobs one bulk run is cut into.
inline constexpr int kMaxBulkJobs = 1024;

/// What a bulk run computes.
enum class BulkKind : std::uint32_t {
    None = 0,
    Terrain = 1, ///< hex::sim::generateTerrainRange() into the two output arrays
    Noise = 2,   ///< hex::sim::noiseFieldRange() over the input terrain into output 0 (int64)
};

/// A bulk run (world generation): `count` jobs, each a cell range, taken by whoever is free
/// (every woken worker and the server itself) through `next`, and counted in `done` as
/// they finish; their results go straight to the output arrays in the segment. A job
/// taken by a worker that dies is run again by the server: every kind's results depend
/// only on the range, so a second run writes the same bytes.
struct BulkRing
{
    std::uint64_t generation;         ///< bumped for every run
    std::uint32_t kind;               ///< a BulkKind
    std::uint32_t count;              ///< jobs, at most kMaxBulkJobs
    std::uint64_t seed;
    std::int32_t frequency;           ///< Noise: the field's
    std::int32_t octaves;             ///< Noise: the field's
    std::uint32_t terrainMask;        ///< Noise: the field's
    std::uint32_t reserved;
    std::uint64_t inputOffset;        ///< Noise: the terrain, from the segment's start
    std::uint64_t outputOffsets[2];   ///< from the segment's start
    std::atomic<std::uint32_t> next;  ///< the next job to take; >= count: none left
    std::atomic<std::uint32_t> done;  ///< jobs finished
    std::uint32_t begin[kMaxBulkJobs];
    std::uint32_t end[kMaxBulkJobs];
    /// Per job: 0 not taken, 1 + slot while a worker runs it, kBulkServer while the server
    /// does, kBulkDone when finished.
    std::atomic<std::uint32_t> state[kMaxBulkJobs];
};
inline constexpr std::uint32_t kBulkServer = 0xFFFF;
inline constexpr std::uint32_t kBulkDone = 0xFFFFFFFF;

/// The start of every segment. The server fills it in before any worker starts; the
/// fixed header fields never change afterwards.
struct ControlBlock
{
    std::uint64_t magic;         ///< kSegmentMagic.
    std::uint32_t layoutVersion; ///< kLayoutVersion of the server that created the segment.
    std::uint32_t slotCount;     ///< kMaxWorkerSlots.
    std::uint64_t size;          ///< Bytes mapped, control block included.
    std::int32_t serverPid;      ///< The creating server process.
    std::uint32_t reserved;
    WorkerSlot workerSlots[kMaxWorkerSlots];
    alignas(64) StepJob job;
    alignas(64) BulkRing bulk;
};

/// A POSIX shared-memory segment (Boost.Interprocess) named /hexsphere-<pid>-<counter>,
/// with a ControlBlock at its start. The creating process removes it when the Segment is
/// destroyed; an attached one only unmaps it. Movable, not copyable. Any thread may read
/// the mapping; the control block's words are atomics.
class Segment
{
public:
    /// Creates and maps a new segment of sizeof(ControlBlock) + `payloadBytes` bytes, named
    /// after this process and a per-process counter, with every slot Empty.
    static tl::expected<Segment, QString> create(std::size_t payloadBytes = 0);
    /// Maps an existing segment by name (with or without the leading slash). Refuses one
    /// that is too small, has the wrong magic, or another layout version.
    static tl::expected<Segment, QString> attach(const QString &name);
    /// Removes the segments of this naming scheme whose creating process is no longer
    /// alive; never one of a live process. Returns the names removed. Note: a pid that
    /// the kernel has reused for another process keeps its stale segment.
    static QStringList removeStale();
    /// The naming scheme's prefix, as it appears in /dev/shm.
    static QString namePrefix();

    Segment(Segment &&other) noexcept;
    Segment &operator=(Segment &&other) noexcept;
    Segment(const Segment &) = delete;
    Segment &operator=(const Segment &) = delete;
    ~Segment();

    /// The name without the leading slash, e.g. "hexsphere-1234-0": what a worker's
    /// --segment option takes.
    QString name() const { return m_name; }
    /// True for the Segment that created (and will remove) the shared memory.
    bool isOwner() const { return m_owner; }
    ControlBlock *control() const;
    /// `index` in 0 .. kMaxWorkerSlots-1.
    WorkerSlot &slot(int index) const;
    /// Bytes mapped.
    std::size_t size() const;
    /// The first byte after the control block, aligned to 64: `payloadBytes` from create().
    std::byte *payload() const;

private:
    struct Mapping;
    Segment(std::unique_ptr<Mapping> mapping, QString name, bool owner);

    std::unique_ptr<Mapping> m_mapping;
    QString m_name;
    bool m_owner = false;
};

/// A bump allocator over a segment's payload (or any fixed block): hands out blocks
/// aligned to at least 64 bytes front to back, throws std::bad_alloc when the block is
/// used up, and never takes memory back: the World's arrays keep their size once placed
/// (World::placeArrays()), and the segment goes away as a whole.
class SegmentArena final : public std::pmr::memory_resource
{
public:
    SegmentArena(std::byte *begin, std::size_t size)
        : m_begin(begin)
        , m_size(size)
    {}

private:
    void *do_allocate(std::size_t bytes, std::size_t alignment) override
    {
        const std::size_t align = std::max<std::size_t>(alignment, 64);
        const std::size_t at = (m_used + align - 1) & ~(align - 1);
        if (at > m_size || m_size - at < bytes)
            throw std::bad_alloc();
        m_used = at + bytes;
        return m_begin + at;
    }
    void do_deallocate(void *, std::size_t, std::size_t) override {}
    bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override
    {
        return this == &other;
    }

    std::byte *m_begin;
    std::size_t m_size;
    std::size_t m_used = 0;
};

} // namespace hex::server::compute
