#pragma once

#include "geometry/chunkcover.h"
#include "hexsphere.pb.h"
#include "sim/worldstate.h"

#include <QByteArray>
#include <QByteArrayList>
#include <QElapsedTimer>
#include <QString>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

namespace hex::server {

/// One message of a session's sequence: the bytes of one or more Envelopes that
/// protobuf reads as one, because parsing merges repeated occurrences of an embedded
/// message. The pieces shared by many sessions (a tick's header, each chunk's delta)
/// are encoded once and implicitly shared; only the last piece, with the seq and the
/// session's own results, is the session's alone.
struct OutgoingMessage
{
    std::uint64_t seq = 0;
    QByteArrayList pieces;
    /// True for a Resync marker standing in for dropped messages.
    bool resync = false;
    /// The last piece (the session's own) holds action results.
    bool hasResults = false;

    /// The pieces as one frame.
    QByteArray bytes() const;
    qsizetype size() const;
};

/// A view of the planet, in radians, with a unit direction.
struct ViewCap
{
    geometry::Vec3 direction{0.0f, 0.0f, 1.0f};
    double radius = 0.0;
};

/// One player's presence on the server, whatever transport it uses: the player, the
/// token that proves it, what part of the planet it views, and its outgoing sequence
/// of messages (the mailbox). Transports hold a shared pointer; the SessionManager
/// owns and changes it, and sets `ended` when it ends, so a holder can tell. Tick
/// thread only.
struct Session
{
    /// 32 lowercase hex characters; also the mailbox id.
    QString id;
    sim::PlayerId player = sim::kNoPlayer;
    QString playerName;
    bool account = false;
    QString token;
    std::int64_t expiresAtMs = 0;
    bool ended = false;

    /// The chunks the view subscribes (hysteresis applied).
    geometry::ChunkSet subscribed;
    std::uint32_t subscribedCount = 0;
    /// Chunks whose full state the next message must carry (new in view, or resync).
    geometry::ChunkSet pendingSnapshot;
    std::uint32_t pendingSnapshotCount = 0;
    /// Chunks that left the view since the last message.
    std::vector<geometry::ChunkId> pendingUnsubscribed;

    /// The mailbox: messages not yet known to be received, oldest first, ascending seq.
    std::deque<OutgoingMessage> outbox;
    /// The seq of the last message added to the sequence; 0 before any.
    std::uint64_t lastSeq = 0;
    /// Messages up to this seq were handed to the attached WebSocket.
    std::uint64_t sentSeq = 0;
    /// Action results of sent messages that left the resume window, with the seq of the
    /// message that carried them: a resume from before them gets them in its Resync.
    std::deque<std::pair<std::uint64_t, protocol::ActionResult>> trimmedResults;

    /// The inventory last put in a message, valid once inventorySent is true.
    std::map<sim::ItemId, std::uint32_t> sentInventory;
    bool inventorySent = false;
    /// Client sequence numbers of queued actions whose results are still to come.
    std::deque<std::uint32_t> inFlight;
    /// The tick of the newest action result sent whose durability the client has not
    /// been told yet (a later message's durable_tick >= it); 0 for none. Such a session
    /// gets a message each tick until it is told.
    std::uint64_t awaitingDurableTick = 0;
    /// The last view the client set, kept for the player's saved record.
    std::optional<protocol::View> lastView;

    /// The player list went into a message since it last changed.
    bool playersSent = false;
    /// Token bucket for chat lines.
    double chatTokens = 0.0;
    QElapsedTimer chatClock;

    /// Token bucket for actions, shared by every transport.
    double actionTokens = 0.0;
    QElapsedTimer bucketClock;

    /// A WebSocket carries this session now: it gets a message every tick it views
    /// something, and sent messages are only kept for a resume.
    bool webSocketAttached = false;
    /// Long-polls held open for this session.
    int heldPolls = 0;
    /// Since the last request or frame from the client.
    QElapsedTimer lastActivity;
    /// Since the last HTTP request; invalid before one.
    QElapsedTimer lastHttpRequest;

    /// True when every tick brings a message, even one with nothing but the tick.
    bool streaming() const { return webSocketAttached && subscribedCount > 0; }
};

} // namespace hex::server
