// server/persistence/worldloader.h
#pragma once

#include "worldstore.h"

#include "sim/content.h"
#include "sim/world.h"

#include <QString>

#include <tl/expected.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

/// A saved world made whole again and saved whole: what a server does when it resumes a
/// world (GameServer), and what `hexsphere-server world simulate` does around its run.
namespace hex::server::persistence {

/// A world rebuilt from its store, at the tick the store recorded.
struct RestoredWorld
{
    std::unique_ptr<sim::World> world;
    /// What the store said of the world; `summary.tick` and `summary.stateHash` are the
    /// world's tick and state hash now.
    WorldSummary summary;
    /// The tick of the snapshot it was rebuilt from; the events after it were replayed.
    std::uint64_t snapshotTick = 0;
    std::size_t eventsReplayed = 0;
    /// Milliseconds the replay took.
    qint64 replayMs = 0;
};

/// Rebuilds the world `store` holds exactly as a server resumes it: the newest snapshot
/// (its state hash checked against the saved one), then the replay of the events after it
/// up to the world's last committed tick (every result and the final hash checked). The
/// World steps on `threads` threads (1..64). `progress`, if given, is called during the
/// replay with (ticks done, ticks to replay); when it returns false, the error is
/// replayCancelledError(). An error says, in a sentence, why the world does not load
/// (the caller names the world and the store). Call from the thread that opened `store`.
tl::expected<RestoredWorld, QString>
restoreWorld(WorldStore &store, std::shared_ptr<const sim::Content> content, int threads,
             const std::function<bool(std::uint64_t, std::uint64_t)> &progress = {});

/// Saves `world` as a new complete save point of the world `store` holds: the world's
/// tick and state hash advance to `world`'s, every chunk is written, then the snapshot
/// (machines, players) is committed, which drops what it supersedes. For a world that was
/// only stepped without actions since the store's last committed tick (a bulk
/// simulation): the tick is advanced first, so that a save cut short at any point
/// leaves a world that still loads to this very state (its replay steps the missing
/// ticks without events). Packs on `threads` threads. An error names what failed.
tl::expected<void, QString> saveWholeWorld(WorldStore &store, const sim::World &world,
                                           int threads = 2);

/// A state hash as logs and messages show it: 16 hex digits.
QString stateHashText(std::uint64_t hash);

} // namespace hex::server::persistence
