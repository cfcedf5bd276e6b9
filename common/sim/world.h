#pragma once

#include "actions.h"
#include "automaton.h"
#include "content.h"
#include "worldgen.h"
#include "worldstate.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <memory_resource>
#include <span>
#include <vector>

namespace hex::sim {

/// The cells of one chunk that changed in a step, ascending: what the network sends. A
/// view: the cells belong to the ChunkDeltas (or the vector) it was taken from.
struct ChunkDelta
{
    ChunkId chunk = 0;
    std::span<const CellId> cells;
    bool operator==(const ChunkDelta &other) const
    {
        return chunk == other.chunk && std::ranges::equal(cells, other.cells);
    }
};

/// Every chunk's changed cells of one step, ascending by chunk, in one array: a step
/// changes cells in thousands of chunks, and a vector per chunk cost an allocation each
/// on the tick thread. Read it as a sequence of ChunkDelta views.
class ChunkDeltas
{
public:
    class Iterator
    {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = ChunkDelta;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = ChunkDelta;

        Iterator() = default;
        Iterator(const ChunkDeltas *deltas, std::size_t index)
            : m_deltas(deltas)
            , m_index(index)
        {}
        ChunkDelta operator*() const { return (*m_deltas)[m_index]; }
        Iterator &operator++()
        {
            ++m_index;
            return *this;
        }
        Iterator operator++(int)
        {
            Iterator before = *this;
            ++m_index;
            return before;
        }
        bool operator==(const Iterator &other) const { return m_index == other.m_index; }

    private:
        const ChunkDeltas *m_deltas = nullptr;
        std::size_t m_index = 0;
    };

    /// Chunks with changes.
    std::size_t size() const { return m_chunks.size(); }
    bool empty() const { return m_chunks.empty(); }
    /// Changed cells in all of them.
    std::size_t cellCount() const { return m_cells.size(); }
    ChunkDelta operator[](std::size_t i) const
    {
        const std::size_t begin = i == 0 ? 0 : m_ends[i - 1];
        return {m_chunks[i], std::span<const CellId>(m_cells).subspan(begin, m_ends[i] - begin)};
    }
    Iterator begin() const { return {this, 0}; }
    Iterator end() const { return {this, size()}; }

    void reserve(std::size_t chunks, std::size_t cells)
    {
        m_chunks.reserve(chunks);
        m_ends.reserve(chunks);
        m_cells.reserve(cells);
    }
    /// Adds `cells` to `chunk`: a new chunk after the last, or the last one again.
    void append(ChunkId chunk, std::span<const CellId> cells)
    {
        if (m_chunks.empty() || m_chunks.back() != chunk) {
            m_chunks.push_back(chunk);
            m_ends.push_back(std::uint32_t(m_cells.size()));
        }
        m_cells.insert(m_cells.end(), cells.begin(), cells.end());
        m_ends.back() = std::uint32_t(m_cells.size());
    }
    bool operator==(const ChunkDeltas &) const = default;

private:
    std::vector<CellId> m_cells;
    std::vector<ChunkId> m_chunks;
    std::vector<std::uint32_t> m_ends; ///< m_cells' end of each chunk's run
};

/// What one step produced.
struct StepResult
{
    std::uint64_t tick = 0;            ///< the tick just completed
    std::vector<ActionResult> actions; ///< one per queued action, in order
    /// The queued actions themselves, in the order applied (actions[i] answers
    /// applied[i]): with `joined`, everything a replay of this step needs.
    std::vector<Action> applied;
    /// Players added by addPlayer() since the previous step, ascending. They joined
    /// before this step's actions applied.
    std::vector<PlayerId> joined;
    ChunkDeltas deltas;                ///< ascending chunk id; only chunks with changes
    std::uint64_t stateHash = 0;       ///< stateHash() after the step
};

/// Runs the parts of each automaton phase for a World: the World's own threads when it has
/// none; server/compute's ComputeGroup hands them to worker processes that map the same
/// memory. Called from the World's thread only.
class StepRunner
{
public:
    virtual ~StepRunner() = default;
    /// Parts the automaton is split into while this runner is in use (1..64).
    virtual int partCount() const = 0;
    /// The exchange (Automaton::exchangeBytes() bytes for partCount() parts, aligned to
    /// 64, zero-filled when new); the same memory every tick.
    virtual std::byte *exchange() = 0;
    /// A value never returned before for this exchange (AutomatonMemory::stamp).
    virtual std::uint64_t newStamp() = 0;
    /// Runs `phase` of every part over `memory` and returns when all are done. A part it
    /// cannot hand out, or whose runner fails, it runs itself with automaton.runPart().
    virtual void runPhase(AutomatonPhase phase, const AutomatonMemory &memory,
                          Automaton &automaton)
        = 0;
};

/// A running world: state, rules and the step. Deterministic: the same seed, content
/// and ordered actions give the same state hash on every machine, for any thread
/// count. Not thread-safe: one thread (the tick thread) calls it; the step itself may
/// fan out to `threadCount()` threads.
class World
{
public:
    /// Generates a new world from `seed` (see generateWorld()).
    World(std::shared_ptr<const geometry::HexSphere> sphere, std::shared_ptr<const Content> content,
          std::uint64_t seed, int threads = 1);
    /// Resumes a saved state; recomputes its cells hash.
    World(WorldState state, std::shared_ptr<const Content> content, int threads = 1);
    ~World();
    World(const World &) = delete;
    World &operator=(const World &) = delete;

    /// Adds a player with the content's starting inventory; returns its id.
    PlayerId addPlayer(const QString &name);
    /// Queues an action for the next step; actions apply in the order queued.
    void queueAction(const Action &action);

    /// One tick: queued actions, then the automaton, then the machines.
    StepResult step();
    /// Fast-forwards `ticks` ticks (queued actions apply in the first), without
    /// collecting deltas. Returns the state hash.
    std::uint64_t simulate(std::uint64_t ticks);
    /// As simulate(), calling `progress(done, ticks)` after every `every` ticks and after
    /// the last; stops early (and returns the hash so far) when it returns false.
    std::uint64_t simulate(std::uint64_t ticks, std::uint64_t every,
                           const std::function<bool(std::uint64_t done, std::uint64_t ticks)> &progress);

    const WorldState &state() const { return m_state; }
    const Content &content() const { return *m_content; }
    /// The hash kept up to date step by step.
    std::uint64_t stateHash() const;
    /// The same hash recomputed from every array (slow; for tests and saves).
    std::uint64_t fullStateHash() const;

    int threadCount() const;
    /// 1..64; takes effect from the next step.
    void setThreadCount(int threads);

    /// Hands the automaton's phases to `runner` from the next step on (nullptr: back to the
    /// World's own threads). The runner must outlive its use; the rest of the step (actions,
    /// machines, deltas, the hash) stays on this thread and the World's threads.
    void setStepRunner(StepRunner *runner);
    StepRunner *stepRunner() const;
    /// Exchange bytes a runner of `parts` parts must provide.
    std::size_t exchangeBytes(int parts);
    /// The first cell of each of `parts` parts and the cell count at the end.
    std::vector<CellId> partCells(int parts);

    /// Moves every per-cell array of the state, and the step's dirty marks, into memory
    /// from `resource` (values kept; std::pmr::get_default_resource() moves them back to the
    /// heap). The arrays never change size afterwards, so they stay where they are until
    /// the next call. Returns the bytes copied.
    std::size_t placeArrays(std::pmr::memory_resource *resource);
    /// Bytes placeArrays() asks its resource for: every array, each rounded up to 64.
    std::size_t arrayBytes() const;
    /// arrayBytes() of any world of `cellCount` cells.
    static std::size_t arrayBytesFor(std::uint32_t cellCount);
    /// The step's dirty marks (ChangeSet::dirty), wherever placeArrays() put them.
    const std::uint8_t *dirtyMarks() const;

private:
    /// The automaton's phases, on the runner or the World's threads.
    void stepAutomaton();
    /// The collect phase: clears the step's marks; with `deltas`, lists the marked cells
    /// by chunk (ascending).
    void collectChanges(ChunkDeltas *deltas);

    struct Private;
    WorldState m_state;
    std::shared_ptr<const Content> m_content;
    std::unique_ptr<Private> d;
};

/// A new world's state: the ground from generateTerrain(), deposits placed by each
/// resource's abundance and terrains, standing water and flora seeded on suitable
/// land. Integer arithmetic only.
WorldState generateWorld(std::shared_ptr<const geometry::HexSphere> sphere, const Content &content,
                         std::uint64_t seed);
/// Computes a NoiseField for every cell of `terrain` (see noiseFieldRange()) into `out`
/// (one value per cell).
using NoiseFieldFill
    = std::function<void(const NoiseField &field, const std::uint8_t *terrain, std::int64_t *out)>;

/// As above, on `ground`: generateTerrain(*sphere, seed), however it was computed; the
/// noise fields of deposits and flora are computed by `fill` when given (else here, on
/// this thread).
WorldState generateWorld(std::shared_ptr<const geometry::HexSphere> sphere, const Content &content,
                         std::uint64_t seed, const GeneratedTerrain &ground,
                         const NoiseFieldFill &fill = {});

} // namespace hex::sim
