#pragma once

#include "worldstore.h"

#include "sim/world.h"
#include "sim/worldstate.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <tl/expected.hpp>

#include <memory>
#include <span>
#include <vector>

/// How a world's state becomes store records and back. Cells travel per chunk; the
/// sparse machine state and the players travel whole with each snapshot. Every blob
/// starts with a format byte, so a later program can still read older saves.
namespace hex::server::persistence {

/// The uncompressed bytes of one chunk's cells: for each layer (terrain, elevation,
/// resource kind, resource amount, flora, water, pollution, structure, orientation,
/// owner), its values for sphere.chunkCells(chunk) in order. A plain copy (the chunk's
/// non-pentagon cells have consecutive ids), cheap enough to take between two ticks.
QByteArray rawChunk(const sim::WorldState &state, geometry::ChunkId chunk);
/// rawChunk() compressed for the store (zstd, level 1), format byte first. Any thread.
QByteArray packChunk(QByteArrayView raw);
/// Unpacks a packed chunk into the chunk's cells of `state` (sized for the sphere).
/// Checks the format byte, the decompressed size and every value's range against
/// `content`; changes nothing and says why when the blob is bad.
tl::expected<void, QString> unpackChunk(QByteArrayView packed, geometry::ChunkId chunk,
                                        const sim::Content &content, sim::WorldState &state);

/// The machine state of every structure, compressed.
QByteArray encodeMachines(const sim::MachineMap &machines);
/// Decodes encodeMachines()'s blob. Checks the format byte, that the cells are below
/// `cellCount` and ascending, and the running flags and lane counts; says why when it is bad.
tl::expected<sim::MachineMap, QString> decodeMachines(QByteArrayView blob, std::uint32_t cellCount);
/// The players (name, inventory, cells owned), in id order, compressed.
QByteArray encodePlayers(std::span<const sim::Player> players);
tl::expected<std::vector<sim::Player>, QString> decodePlayers(QByteArrayView blob);

/// A whole world as records: every chunk packed (in parallel on `threads` threads) and
/// the snapshot blobs, all at state.tick. What a new world's first save and a full save
/// write.
struct FullSave
{
    std::vector<ChunkRecord> chunks;
    SnapshotRecord snapshot;
};
FullSave encodeFullSave(const sim::World &world, int threads = 2);

/// Rebuilds the state a LoadedWorld's snapshot holds (before its events): unpacks every
/// chunk and the blobs. An error names the chunk or blob that is bad, or a chunk that
/// is missing.
tl::expected<sim::WorldState, QString>
decodeSnapshotState(const LoadedWorld &loaded, std::shared_ptr<const geometry::HexSphere> sphere,
                    const sim::Content &content, int threads = 2);

/// Feeds `events` (ascending (tick, seq), ticks > world.state().tick) into `world`:
/// for each tick up to `untilTick`, the joins (addPlayer), then the actions
/// (queueAction), then step(). Every logged result must equal the replayed one, and a
/// join must get the logged player id; otherwise the error says at which tick and
/// event the replay departed from the log. Returns the state hash at untilTick.
/// `progress`, if given, is called with (ticks done, ticks total) every few dozen ticks
/// and at the end; when it returns false the replay stops there with the error
/// kReplayCancelled.
tl::expected<std::uint64_t, QString>
replayEvents(sim::World &world, std::span<const EventRecord> events, std::uint64_t untilTick,
             const std::function<bool(std::uint64_t, std::uint64_t)> &progress = {});
/// The error replayEvents() returns when its progress callback asked it to stop.
QString replayCancelledError();

/// The events of one step, in log order: joins, then actions with their results.
TickRecord tickRecord(const sim::StepResult &step, const sim::WorldState &state);

} // namespace hex::server::persistence
