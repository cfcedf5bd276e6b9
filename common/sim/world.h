#pragma once

#include "actions.h"
#include "content.h"
#include "worldstate.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace hex::sim {

/// The cells of one chunk that changed in a step, ascending: what the network sends.
struct ChunkDelta
{
    ChunkId chunk = 0;
    std::vector<CellId> cells;
    bool operator==(const ChunkDelta &) const = default;
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
    std::vector<ChunkDelta> deltas;    ///< ascending chunk id; only chunks with changes
    std::uint64_t stateHash = 0;       ///< stateHash() after the step
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

    const WorldState &state() const { return m_state; }
    const Content &content() const { return *m_content; }
    /// The hash kept up to date step by step.
    std::uint64_t stateHash() const;
    /// The same hash recomputed from every array (slow; for tests and saves).
    std::uint64_t fullStateHash() const;

    int threadCount() const;
    /// 1..64; takes effect from the next step.
    void setThreadCount(int threads);

private:
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

} // namespace hex::sim
