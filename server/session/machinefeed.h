#pragma once

#include "geometry/hexsphere.h"
#include "sim/worldstate.h"

#include <QByteArray>

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace hex::sim {
struct Content;
}

namespace hex::server {

/// The machines' moving parts as TickUpdate.machines pieces: per chunk, the machines
/// that changed since the last tick this chunk was looked at, and the whole chunk for
/// sessions that see it anew. Each piece is encoded once per tick, when a first session
/// needs it, and shared by every session that views the chunk (as chunk deltas are).
/// Tick thread only.
class MachineFeed
{
public:
    /// Starts a tick: forgets the pieces of the last one and finds the chunks that
    /// hold machines. `state` and `content` must stay unchanged until the next call.
    void beginTick(const sim::WorldState &state, const sim::Content &content);
    /// Chunks with at least one machine this tick, or one that went since the last
    /// tick, ascending.
    std::span<const geometry::ChunkId> activeChunks() const { return m_active; }
    /// An Envelope{tick{machines}} piece with the machines of `chunk` that changed (or
    /// went) since the last tick it was asked for; empty when none did.
    const QByteArray &changedPiece(geometry::ChunkId chunk);
    /// An Envelope{tick{machines}} piece with every machine of `chunk`, full = true.
    const QByteArray &fullPiece(geometry::ChunkId chunk);

private:
    const sim::WorldState *m_state = nullptr;
    const sim::Content *m_content = nullptr;
    std::vector<geometry::ChunkId> m_active;
    std::unordered_map<geometry::ChunkId, QByteArray> m_changed;
    std::unordered_map<geometry::ChunkId, QByteArray> m_full;
    /// Per chunk, each machine's view as last sent in a changed piece, as a hash.
    std::unordered_map<geometry::ChunkId, std::unordered_map<geometry::CellId, std::uint64_t>>
        m_sent;
};

} // namespace hex::server
