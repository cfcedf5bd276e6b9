#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QUrl>
#include <QWebSocket>

#include <cstdint>

namespace hex::protocol {
class Envelope;
class Snapshot;
class WorldInfo;
} // namespace hex::protocol

namespace hex::client {

/// The world a server described in its WorldInfo, checked for consistency.
struct WorldDescription
{
    QString name;
    /// n of GP(n,0), 1..ServerConnection::kMaxSubdivisions.
    int subdivisions = 0;
    /// 10n²+2.
    std::uint32_t cellCount = 0;
    int chunkSplit = 0;
    std::uint64_t seed = 0;
    /// Simulation updates per second the server runs at.
    int ups = 0;
    /// The server's tick when it sent the description.
    std::uint64_t tick = 0;
};

/// One client connection to a Hexsphere server over WebSocket: sends Hello, then
/// decodes and checks every frame the server sends and reports it as a signal. Bad
/// frames never reach the rest of the client: they are reported through
/// errorOccurred() with a sentence that says what was wrong. Lives in the GUI thread.
class ServerConnection : public QObject
{
    Q_OBJECT
public:
    /// Largest world the client will build a view of.
    static constexpr int kMaxSubdivisions = 1024;

    enum class State {
        /// No socket open.
        Disconnected,
        /// The WebSocket handshake is in progress.
        Connecting,
        /// Hello was sent; waiting for WorldInfo.
        Joining,
        /// WorldInfo arrived; snapshots and ticks follow.
        Joined,
    };
    Q_ENUM(State)

    explicit ServerConnection(QObject *parent = nullptr);
    ~ServerConnection() override;

    /// Connects to `url` (ws:// or wss://) and joins as `playerName`. Closes any
    /// previous connection first.
    void open(const QUrl &url, const QString &playerName);
    /// Closes the connection; does nothing when already closed.
    void close();

    State state() const { return m_state; }
    QUrl url() const { return m_url; }
    /// The world of the last accepted WorldInfo; meaningful in state Joined.
    const WorldDescription &world() const { return m_world; }
    /// The last problem reported through errorOccurred(); empty if none yet.
    QString errorString() const { return m_errorString; }

    /// Decodes and handles one binary frame as if the server had sent it. The socket
    /// calls this; tests may too.
    void handleFrame(const QByteArray &frame);

signals:
    void stateChanged(hex::client::ServerConnection::State state);
    /// A valid WorldInfo arrived; the state is now Joined.
    void worldReceived(const hex::client::WorldDescription &world);
    /// A snapshot whose arrays hold exactly world().cellCount bytes each.
    void snapshotReceived(quint64 tick, const QByteArray &terrain, const QByteArray &elevation);
    /// One simulation tick passed on the server.
    void tickReceived(quint64 tick, qint64 serverTimeMs);
    /// Something went wrong: a socket error, an Error frame from the server, or a frame
    /// that failed to decode or check. `message` is one translated sentence.
    void errorOccurred(const QString &message);

private:
    void setState(State state);
    void reportError(const QString &message);
    void handleEnvelope(const protocol::Envelope &envelope);
    void handleWorldInfo(const protocol::WorldInfo &info);
    void handleSnapshot(const protocol::Snapshot &snapshot);
    void onConnected();
    void onDisconnected();
    void onSocketError(QAbstractSocket::SocketError error);

    QWebSocket m_socket;
    QUrl m_url;
    QString m_playerName;
    State m_state = State::Disconnected;
    bool m_closing = false;
    /// Counts open() calls, so that late callbacks know if they are stale.
    quint64 m_attempt = 0;
    WorldDescription m_world;
    QString m_errorString;
};

} // namespace hex::client

Q_DECLARE_METATYPE(hex::client::WorldDescription)
