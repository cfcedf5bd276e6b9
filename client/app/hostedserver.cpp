#include "hostedserver.h"

#include "gameserver.h"

#include <QLoggingCategory>

namespace hex::client {

namespace {
Q_LOGGING_CATEGORY(lcHost, "hex.client.app")
}

HostedServer::HostedServer(QObject *parent)
    : QObject(parent)
{
    m_thread.setObjectName(QStringLiteral("hexsphere-hosted-server"));
}

HostedServer::~HostedServer()
{
    stop();
}

void HostedServer::start(const server::ServerConfig &config)
{
    if (m_state == State::Starting || m_state == State::Running)
        return;
    stop(); // A failed server is still parked on its thread: clear it away first.

    m_state = State::Starting;
    m_errorString.clear();
    m_bindAddress = config.bindAddress;
    m_thread.start();

    // Created here, then handed to the thread before start(): GameServer must be used
    // only from the thread that starts it.
    m_server = new server::GameServer(config);
    m_server->moveToThread(&m_thread);
    connect(m_server, &server::GameServer::started, this, &HostedServer::onStarted,
            Qt::QueuedConnection);
    connect(m_server, &server::GameServer::failed, this, &HostedServer::onFailed,
            Qt::QueuedConnection);
    connect(m_server, &server::GameServer::progress, this, &HostedServer::progress,
            Qt::QueuedConnection);
    qCInfo(lcHost).nospace() << "starting hosted server: n=" << config.subdivisions << ", "
                             << config.ups << " UPS, seed " << config.seed << ", bind "
                             << config.bindAddress.toString() << ':' << config.port;
    QMetaObject::invokeMethod(m_server, &server::GameServer::startAndReport, Qt::QueuedConnection);
}

void HostedServer::stop()
{
    if (m_server) {
        disconnect(m_server, nullptr, this, nullptr);
        server::GameServer *gameServer = m_server;
        // Thread-safe: a start() running on the server thread gives up at its next step.
        gameServer->requestCancel();
        m_server = nullptr;
        // Stop and destroy it where it lives: its sockets and timers belong to that thread.
        QMetaObject::invokeMethod(
            gameServer,
            [gameServer] {
                gameServer->stop();
                delete gameServer;
            },
            Qt::BlockingQueuedConnection);
        qCInfo(lcHost) << "hosted server stopped";
    }
    if (m_thread.isRunning()) {
        m_thread.quit();
        m_thread.wait();
    }
    if (m_state != State::Failed)
        m_state = State::Stopped;
    m_port = 0;
}

QUrl HostedServer::joinUrl(const QHostAddress &bindAddress, quint16 port)
{
    QHostAddress host = bindAddress;
    if (host.isNull() || host == QHostAddress(QHostAddress::Any)
        || host == QHostAddress(QHostAddress::AnyIPv4))
        host = QHostAddress(QHostAddress::LocalHost);
    else if (host == QHostAddress(QHostAddress::AnyIPv6))
        host = QHostAddress(QHostAddress::LocalHostIPv6);
    QUrl url;
    url.setScheme(QStringLiteral("ws"));
    url.setHost(host.toString());
    url.setPort(port);
    // The server speaks WebSocket on /ws (its HTTP API shares the port).
    url.setPath(QStringLiteral("/ws"));
    return url;
}

QUrl HostedServer::joinUrl() const
{
    return m_state == State::Running ? joinUrl(m_bindAddress, m_port) : QUrl();
}

void HostedServer::onStarted(quint16 port)
{
    m_state = State::Running;
    m_port = port;
    qCInfo(lcHost) << "hosted server listening on port" << port;
    emit started(port);
}

void HostedServer::onFailed(const QString &reason)
{
    m_state = State::Failed;
    m_errorString = reason;
    qCWarning(lcHost).noquote() << "hosted server failed to start:" << reason;
    emit failed(reason);
}

} // namespace hex::client
