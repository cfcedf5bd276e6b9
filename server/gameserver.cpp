#include "gameserver.h"

#include "tick/tickloop.h"
#include "transport/websockettransport.h"
#include "worldstate.h"

#include <QElapsedTimer>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcServer, "hex.server")

namespace hex::server {

GameServer::GameServer(ServerConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
{}

GameServer::~GameServer()
{
    stop();
}

bool GameServer::start()
{
    if (m_world) {
        m_errorString = tr("The server is already running.");
        return false;
    }
    QElapsedTimer timer;
    timer.start();
    m_world
        = std::make_unique<WorldState>(m_config.worldName, m_config.subdivisions, m_config.seed);
    m_world->ups = m_config.ups;
    qCInfo(lcServer).nospace().noquote()
        << "tick 0: world '" << m_config.worldName << "' generated: n=" << m_config.subdivisions
        << ", " << m_world->sphere.cellCount() << " cells, " << m_world->sphere.chunkCount()
        << " chunks, seed " << m_config.seed << ", in " << timer.elapsed() << " ms";

    m_webSocket = new WebSocketTransport(*m_world, this);
    if (!m_webSocket->listen(m_config.bindAddress, m_config.port)) {
        m_errorString = m_webSocket->errorString();
        delete m_webSocket;
        m_webSocket = nullptr;
        m_world.reset();
        return false;
    }

    m_tickLoop = new TickLoop(m_config.ups, this);
    connect(m_tickLoop, &TickLoop::ticked, this, [this](std::uint64_t tick) {
        m_world->tick = tick;
        m_webSocket->broadcastTick(tick);
    });
    m_tickLoop->start(m_world->tick);
    return true;
}

void GameServer::startAndReport()
{
    if (start())
        emit started(port());
    else
        emit failed(m_errorString);
}

void GameServer::stop()
{
    if (m_tickLoop) {
        m_tickLoop->stop();
        delete m_tickLoop;
        m_tickLoop = nullptr;
    }
    if (m_webSocket) {
        m_webSocket->close();
        delete m_webSocket;
        m_webSocket = nullptr;
    }
    if (m_world) {
        qCInfo(lcServer).nospace() << "tick " << m_world->tick << ": server stopped";
        m_world.reset();
    }
}

quint16 GameServer::port() const
{
    return m_webSocket ? m_webSocket->port() : 0;
}

quint64 GameServer::tick() const
{
    return m_world ? m_world->tick : 0;
}

} // namespace hex::server
