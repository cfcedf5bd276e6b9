#pragma once

#include "serverconfig.h"

#include <QObject>
#include <QString>

#include <memory>

namespace hex::sim {
class World;
}

namespace hex::server {

class HttpFrontDoor;
class LanAnnouncer;
class SessionManager;
class TickLoop;
class WebSocketTransport;

/// The whole server as one object: world, tick loop and transports. The dedicated
/// server's main() and the client's Host mode both create one. It lives in, and must
/// be used from, the thread that calls start(); moving it to a QThread before start()
/// is how the client hosts a game.
class GameServer : public QObject
{
    Q_OBJECT
public:
    explicit GameServer(ServerConfig config, QObject *parent = nullptr);
    ~GameServer() override;

    /// Generates the world, binds the listening socket and starts ticking. On failure
    /// returns false and errorString() says why (for instance: port in use).
    [[nodiscard]] bool start();
    /// Stops ticking and closes every connection. Safe to call twice.
    void stop();

    QString errorString() const { return m_errorString; }
    /// The port actually bound (differs from the configured one when that was 0).
    quint16 port() const;
    const ServerConfig &config() const { return m_config; }
    /// Ticks completed since start().
    quint64 tick() const;
    /// The running world, or null before start() and after stop(). Tick thread only.
    const sim::World *world() const { return m_world.get(); }
    /// The sessions, or null before start() and after stop(). Tick thread only.
    SessionManager *sessions() const { return m_sessions; }

signals:
    /// Emitted once start() succeeded, with the bound port.
    void started(quint16 port);
    /// Emitted when start() failed, with errorString().
    void failed(const QString &reason);

public slots:
    /// start() for queued calls across threads: reports through started()/failed().
    void startAndReport();

private:
    ServerConfig m_config;
    QString m_errorString;
    std::unique_ptr<sim::World> m_world;
    TickLoop *m_tickLoop = nullptr;
    SessionManager *m_sessions = nullptr;
    WebSocketTransport *m_webSocket = nullptr;
    /// Owns the port: HTTP here, WebSocket upgrades handed to m_webSocket.
    HttpFrontDoor *m_frontDoor = nullptr;
    /// Answers LAN discovery when config().announceOnLan; null otherwise.
    LanAnnouncer *m_lanAnnouncer = nullptr;
};

} // namespace hex::server
