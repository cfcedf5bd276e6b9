#pragma once

#include "serverconfig.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <vector>

namespace hex::sim {
class World;
struct Content;
}

namespace hex::server::compute {
class ComputeGroup;
}

namespace hex::server::persistence {
class WriteBehind;
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

    /// Loads the world from config().store (or generates and saves it there when it is
    /// new, or just generates it when the store is Kind::None), binds the listening
    /// socket and starts ticking. On failure returns false and errorString() says why
    /// (for instance: port in use, a store that does not open, a saved world whose
    /// replay does not reach its stored state hash).
    [[nodiscard]] bool start();
    /// Stops ticking, closes every connection and, with a store, saves the players of
    /// live sessions, every step's events and a final snapshot. Safe to call twice.
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
    /// The write-behind keeping the world, or null without a store (Kind::None), before
    /// start() and after stop(). Tick thread only.
    persistence::WriteBehind *writeBehind() const { return m_writeBehind.get(); }

    /// Asks a start() under way on the server's thread to give up at its next step
    /// (between replayed ticks or saved batches): it then fails with "cancelled" and
    /// leaves no half-made world behind. Any thread.
    void requestCancel() { m_cancelRequested.store(true, std::memory_order_relaxed); }

signals:
    /// How start() is getting on: `stage` is a translated sentence, `done` of `total`
    /// steps are done (total 0 when it cannot tell). Emitted on the server's thread.
    void progress(const QString &stage, qint64 done, qint64 total);
    /// Emitted once start() succeeded, with the bound port.
    void started(quint16 port);
    /// Emitted when start() failed, with errorString().
    void failed(const QString &reason);

public slots:
    /// start() for queued calls across threads: reports through started()/failed().
    void startAndReport();

private:
    /// Removes the shared-memory segments that servers which died left behind (never a
    /// live server's), before this one starts compute workers: only then, so that a
    /// server without workers leaves /dev/shm alone.
    void removeStaleSegments(std::uint64_t tick);
    /// Starts the compute workers the config asks for (see ServerConfig::workers) for the
    /// world, unless newWorld() did or tried; when none can start, logs why and leaves the
    /// world on threads.
    void startCompute();
    /// Generates the config's new world, its ground computed by the compute workers when
    /// the config asks for them (they then step it: m_compute). Null when cancelled.
    std::unique_ptr<sim::World> newWorld(std::shared_ptr<const sim::Content> content);
    /// Opens the store, then loads the world or creates and saves it; sets m_world, the
    /// token key and the saved players. False with m_errorString.
    bool openStoredWorld(std::shared_ptr<const sim::Content> content,
                         std::uint64_t *snapshotTick, std::uint64_t *durableTick,
                         QByteArray *tokenKey, std::vector<persistence::PlayerRecord> *players);

    /// True once requestCancel() was called (and start() should stop).
    bool cancelled() const { return m_cancelRequested.load(std::memory_order_relaxed); }

    ServerConfig m_config;
    QString m_errorString;
    std::atomic<bool> m_cancelRequested{false};
    std::unique_ptr<sim::World> m_world;
    /// Declared after m_world: it holds the world's arrays, and moves them back into the
    /// heap when it goes, so it goes first.
    std::unique_ptr<compute::ComputeGroup> m_compute;
    /// newWorld() or startCompute() has decided about workers for this start.
    bool m_computeTried = false;
    /// Declared after m_world: it refers to the world, so it goes first.
    std::unique_ptr<persistence::WriteBehind> m_writeBehind;
    TickLoop *m_tickLoop = nullptr;
    SessionManager *m_sessions = nullptr;
    WebSocketTransport *m_webSocket = nullptr;
    /// Owns the port: HTTP here, WebSocket upgrades handed to m_webSocket.
    HttpFrontDoor *m_frontDoor = nullptr;
    /// Answers LAN discovery when config().announceOnLan; null otherwise.
    LanAnnouncer *m_lanAnnouncer = nullptr;
};

} // namespace hex::server
