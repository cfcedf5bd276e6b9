#pragma once

#include "serverconfig.h"

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QThread>
#include <QUrl>

namespace hex::server {
class GameServer;
}

namespace hex::client {

/// Host-and-play: runs a hex::server::GameServer on a thread of its own, so that the
/// tick loop never waits on rendering. The client then joins it over WebSocket like
/// any remote player. Create and use from the GUI thread.
class HostedServer : public QObject
{
    Q_OBJECT
public:
    enum class State { Stopped, Starting, Running, Failed };
    Q_ENUM(State)

    explicit HostedServer(QObject *parent = nullptr);
    /// Stops the server and joins its thread.
    ~HostedServer() override;

    /// Starts a server with `config` on the server thread; reports through started()
    /// or failed(). Does nothing unless the state is Stopped or Failed.
    void start(const server::ServerConfig &config);
    /// Stops the server in its own thread, destroys it there and joins the thread.
    /// Blocks until done; safe to call in any state, and twice. A start under way is
    /// asked to give up first (see GameServer::requestCancel()), so this returns soon
    /// even while a big world loads.
    void stop();

    State state() const { return m_state; }
    /// Where a client on this machine reaches a server bound to `bindAddress`:`port`,
    /// e.g. ws://127.0.0.1:PORT/ws for localhost or any address.
    static QUrl joinUrl(const QHostAddress &bindAddress, quint16 port);
    /// joinUrl() for the running server; empty unless Running.
    QUrl joinUrl() const;

    /// The bound port while Running, else 0.
    quint16 port() const { return m_port; }
    /// Why the last start failed; empty otherwise.
    QString errorString() const { return m_errorString; }

signals:
    /// How the start is getting on (see GameServer::progress()).
    void progress(const QString &stage, qint64 done, qint64 total);
    /// The server listens on `port` (on the configured address).
    void started(quint16 port);
    /// The server could not start; `reason` is one sentence.
    void failed(const QString &reason);

private:
    void onStarted(quint16 port);
    void onFailed(const QString &reason);

    QThread m_thread;
    server::GameServer *m_server = nullptr;
    State m_state = State::Stopped;
    quint16 m_port = 0;
    QHostAddress m_bindAddress;
    QString m_errorString;
};

} // namespace hex::client
