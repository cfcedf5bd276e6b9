#pragma once

#include <cstdint>

namespace hex::protocol {

/// The version a client and server exchange in Hello / WorldInfo. Bump it on any
/// change a peer of the previous version could not read.
///
/// Changelog:
/// - 1: Hello, WorldInfo, Snapshot (terrain, elevation), TickUpdate, Error.
/// - 2: the living planet: Snapshot gains flora, water, pollution, resource, structure,
///   orientation, owner; TickUpdate carries ChunkDelta per changed chunk and the
///   state hash.
/// - 3: players act: Envelope gains ClientAction; TickUpdate gains the receiving
///   client's ActionResults and inventory (ItemCount); WorldInfo gains player_id;
///   Error gains RATE_LIMITED, BAD_ACTION and NAME_IN_USE.
/// - 4: HTTP on the WebSocket's port: `GET /api/v1/world` (WorldInfo as JSON),
///   `GET /api/v1/chunks/{id}` (the new ChunkSnapshot), refusals as the new HttpError.
/// - 5: sessions: Hello gains token, password, resume_after and View; Envelope gains
///   seq, SessionInfo, View and Resync; TickUpdate gains ChunkSnapshots of newly viewed
///   chunks and the unsubscribed list; WorldInfo gains chunk_count; Error gains
///   UNAUTHORIZED and BAD_VIEW. HTTP gains sessions, accounts, actions, view, long-poll
///   and the mailbox (MessageBatch, ActionBatch, ActionBatchReply).
/// - 6: chat (ChatSend; TickUpdate.chat), the player list (TickUpdate.players), a
///   server password (Hello.server_password, SessionRequest.server_password), and LAN
///   discovery over UDP (LanQuery, LanAnnouncement).
/// - 7: players see each other's cursors: Cursor (client to server), TickUpdate.cursors.
/// - 8: durable acknowledgement: TickUpdate.durable_tick (actions applied at or before it
///   are saved), Error gains STORAGE_UNAVAILABLE (HTTP 503 "storage_unavailable"),
///   `GET /api/v1/status`; TickUpdate.machines (ChunkMachines, MachineView).
inline constexpr std::uint32_t kProtocolVersion = 8;

/// The UDP port of LAN discovery (see LanQuery in hexsphere.proto).
inline constexpr std::uint16_t kLanDiscoveryPort = 7358;

} // namespace hex::protocol
