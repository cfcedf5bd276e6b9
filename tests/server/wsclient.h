#pragma once

// A WebSocket test client for integration tests against a real server process.

#include "geometry/hexsphere.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"
#include "sim/terrain.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <map>
#include <optional>
#include <vector>

namespace hex::tests {

/// A player's items by item id, as TickUpdate.inventory lists them.
using Inventory = std::map<std::uint32_t, std::uint32_t>;

/// Connects to `url` and keeps every decoded Envelope it receives, with its arrival
/// time; helpers send Hello and actions and look through what arrived.
class WsClient : public QObject
{
public:
    explicit WsClient(const QString &url)
    {
        connect(&m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &f) {
            auto envelope = hex::protocol::decodeEnvelope(f);
            if (envelope) {
                m_received.push_back(*envelope);
                m_receivedAtMs.push_back(m_clock.elapsed());
            } else
                ++m_undecodable;
        });
        m_clock.start();
        m_socket.open(QUrl(url));
    }

    bool waitConnected()
    {
        if (m_socket.state() == QAbstractSocket::ConnectedState)
            return true;
        QSignalSpy spy(&m_socket, &QWebSocket::connected);
        return spy.wait(10'000);
    }

    void send(const hex::protocol::Envelope &e)
    {
        m_socket.sendBinaryMessage(hex::protocol::encodeEnvelope(e));
    }

    void sendRaw(const QByteArray &frame) { m_socket.sendBinaryMessage(frame); }
    /// Closes the connection as a client that leaves does.
    void close() { m_socket.close(); }
    void sendText(const QString &text) { m_socket.sendTextMessage(text); }

    void hello(const char *name, std::uint32_t version = hex::protocol::kProtocolVersion)
    {
        hex::protocol::Envelope e;
        e.mutable_hello()->set_protocol_version(version);
        e.mutable_hello()->set_player_name(name);
        send(e);
    }

    /// Sends `hello` as it is, with the protocol version filled in when it is 0.
    void hello(hex::protocol::Hello hello)
    {
        if (hello.protocol_version() == 0)
            hello.set_protocol_version(hex::protocol::kProtocolVersion);
        hex::protocol::Envelope e;
        *e.mutable_hello() = std::move(hello);
        send(e);
    }

    /// Says Hello{token, resume_after}: resumes the session `token` names.
    void resume(const QString &token, std::uint64_t after)
    {
        hex::protocol::Hello h;
        h.set_token(token.toStdString());
        h.set_resume_after(after);
        hello(h);
    }

    /// Connects, says Hello as `name` and waits for the first TickUpdate.
    bool join(const char *name)
    {
        if (!waitConnected())
            return false;
        hello(name);
        return waitFor([&] { return count(hex::protocol::Envelope::kTick) >= 1; });
    }

    /// Sends an action; returns its client_seq.
    std::uint32_t act(hex::protocol::ActionKind kind, std::uint32_t cell,
                      std::uint32_t prototype = 0, std::uint32_t orientation = 0)
    {
        hex::protocol::Envelope e;
        hex::protocol::ClientAction *a = e.mutable_client_action();
        a->set_client_seq(++m_seq);
        a->set_kind(kind);
        a->set_cell(cell);
        a->set_prototype(prototype);
        a->set_orientation(orientation);
        send(e);
        return m_seq;
    }

    template<typename Pred>
    bool waitFor(Pred pred, int timeoutMs = 15'000)
    {
        QElapsedTimer t;
        t.start();
        while (!pred() && t.elapsed() < timeoutMs)
            QTest::qWait(10);
        return pred();
    }

    int count(hex::protocol::Envelope::BodyCase kind) const
    {
        int n = 0;
        for (const auto &e : m_received)
            n += e.body_case() == kind;
        return n;
    }

    /// Every envelope of `kind` received so far, in order; valid until the next frame.
    std::vector<const hex::protocol::Envelope *> all(hex::protocol::Envelope::BodyCase kind) const
    {
        std::vector<const hex::protocol::Envelope *> found;
        for (const auto &e : m_received)
            if (e.body_case() == kind)
                found.push_back(&e);
        return found;
    }

    const hex::protocol::Envelope *first(hex::protocol::Envelope::BodyCase kind) const
    {
        for (const auto &e : m_received)
            if (e.body_case() == kind)
                return &e;
        return nullptr;
    }

    std::vector<hex::protocol::Error> errors() const
    {
        std::vector<hex::protocol::Error> out;
        for (const auto &e : m_received)
            if (e.has_error())
                out.push_back(e.error());
        return out;
    }

    /// The SessionInfo the server sent after WorldInfo, if it came.
    const hex::protocol::SessionInfo *session() const
    {
        const auto *e = first(hex::protocol::Envelope::kSession);
        return e ? &e->session() : nullptr;
    }

    QString token() const
    {
        return session() ? QString::fromStdString(session()->token()) : QString();
    }

    /// The seqs of the sequenced messages (seq > 0) in arrival order.
    std::vector<std::uint64_t> seqs() const
    {
        std::vector<std::uint64_t> out;
        for (const auto &e : m_received)
            if (e.seq() > 0)
                out.push_back(e.seq());
        return out;
    }

    /// The seq of the last sequenced message; 0 before any.
    std::uint64_t lastSeq() const
    {
        const auto all = seqs();
        return all.empty() ? 0 : all.back();
    }

    /// Waits for the first Error and returns it.
    std::optional<hex::protocol::Error> waitError(int timeoutMs = 10'000)
    {
        if (!waitFor([&] { return !errors().empty(); }, timeoutMs))
            return std::nullopt;
        return errors().front();
    }

    std::uint32_t playerId() const
    {
        return first(hex::protocol::Envelope::kWorldInfo)->world_info().player_id();
    }

    /// The number of the last TickUpdate received; 0 before any.
    std::uint64_t lastTick() const
    {
        for (auto it = m_received.rbegin(); it != m_received.rend(); ++it)
            if (it->has_tick())
                return it->tick().tick();
        return 0;
    }

    /// The result for `seq`, if one arrived (in a TickUpdate or a Resync marker).
    std::optional<hex::protocol::ActionResult> result(std::uint32_t seq) const
    {
        for (const auto &e : m_received) {
            if (e.has_tick())
                for (const auto &r : e.tick().results())
                    if (r.client_seq() == seq)
                        return r;
            if (e.has_resync())
                for (const auto &r : e.resync().results())
                    if (r.client_seq() == seq)
                        return r;
        }
        return std::nullopt;
    }

    bool waitResult(std::uint32_t seq)
    {
        return waitFor([&] { return result(seq).has_value(); });
    }

    int resultCount() const
    {
        int n = 0;
        for (const auto &e : m_received)
            if (e.has_tick())
                n += e.tick().results_size();
        return n;
    }

    /// The last inventory received (non-zero counts), and how many TickUpdates had one.
    Inventory inventory(int *updates = nullptr) const
    {
        Inventory out;
        int n = 0;
        for (const auto &e : m_received) {
            if (!e.has_tick() || e.tick().inventory_size() == 0)
                continue;
            ++n;
            out.clear();
            for (const auto &entry : e.tick().inventory())
                if (entry.count() > 0)
                    out[entry.item()] = entry.count();
        }
        if (updates)
            *updates = n;
        return out;
    }

    /// The snapshot with every later TickUpdate's deltas applied, for a world of size
    /// `subdivisions`.
    hex::protocol::VisibleCells mirror(int subdivisions) const
    {
        const hex::geometry::HexSphere sphere(subdivisions);
        const auto &snapshot = first(hex::protocol::Envelope::kSnapshot)->snapshot();
        auto cells = hex::protocol::decodeSnapshot(snapshot, sphere.cellCount());
        Q_ASSERT(cells);
        for (const auto &e : m_received) {
            if (!e.has_tick() || e.tick().tick() <= snapshot.tick())
                continue;
            for (const auto &delta : e.tick().deltas()) {
                const auto applied = hex::protocol::applyChunkDelta(delta, sphere, *cells);
                Q_ASSERT(applied);
            }
        }
        return *cells;
    }

    /// Land cells nobody owns and nothing stands on, from the snapshot.
    std::vector<std::uint32_t> freeGrassland(int subdivisions) const
    {
        const auto cells = mirror(subdivisions);
        std::vector<std::uint32_t> out;
        for (std::uint32_t c = 0; c < cells.cellCount(); ++c)
            if (cells.terrain[c] == std::uint8_t(hex::sim::Terrain::Grassland)
                && cells.owner[c] == hex::sim::kNoPlayer
                && cells.structure[c] == hex::sim::kNoStructure)
                out.push_back(c);
        return out;
    }

    std::vector<hex::protocol::Envelope> m_received;
    /// When each of m_received arrived, in ms since construction.
    std::vector<qint64> m_receivedAtMs;
    int m_undecodable = 0;
    QWebSocket m_socket;
    QElapsedTimer m_clock;
    std::uint32_t m_seq = 0;
};

} // namespace hex::tests
