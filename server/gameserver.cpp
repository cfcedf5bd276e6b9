#include "gameserver.h"

#include "lan/lanannouncer.h"
#include "session/sessionmanager.h"
#include "tick/tickloop.h"
#include "transport/httpfrontdoor.h"
#include "transport/websockettransport.h"

#include "sim/content.h"
#include "sim/world.h"

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
    auto content = sim::loadDefaultContent();
    if (!content) {
        m_errorString = tr("The game content does not load: %1").arg(content.error());
        return false;
    }
    auto sharedContent = std::make_shared<const sim::Content>(std::move(*content));
    auto sphere = std::make_shared<const geometry::HexSphere>(m_config.subdivisions);
    m_world = std::make_unique<sim::World>(sphere, sharedContent, m_config.seed, m_config.threads);
    qCInfo(lcServer).nospace().noquote()
        << "tick 0: world '" << m_config.worldName << "' generated: n=" << m_config.subdivisions
        << ", " << sphere->cellCount() << " cells, " << sphere->chunkCount() << " chunks, seed "
        << m_config.seed << ", content " << sharedContent->version << ", in " << timer.elapsed()
        << " ms";

    SessionLimits limits;
    limits.tokenTtlSeconds = m_config.tokenTtlSeconds;
    limits.requireAccounts = m_config.requireAccounts;
    limits.mailboxCapacity = m_config.mailboxCapacity;
    limits.detachedTtlMs = m_config.sessionIdleSeconds * 1000;
    limits.joinPassword = m_config.joinPassword;
    m_sessions = new SessionManager(*m_world, limits, this);
    m_sessions->setWorldInfo(m_config.worldName, m_config.ups);
    m_webSocket = new WebSocketTransport(*m_sessions, m_config.maxClients, this);
    m_frontDoor = new HttpFrontDoor(*m_sessions, *m_webSocket, m_config.maxHttpConnections,
                                    this);
    if (!m_frontDoor->listen(m_config.bindAddress, m_config.port)) {
        m_errorString = m_frontDoor->errorString();
        stop();
        return false;
    }
    if (m_config.announceOnLan) {
        // Optional: a server nobody finds on the LAN still serves those who know it.
        m_lanAnnouncer = new LanAnnouncer(m_config, *m_sessions, m_frontDoor->port(), this);
        if (!m_lanAnnouncer->start()) {
            qCWarning(lcServer).noquote() << "tick 0:" << m_lanAnnouncer->errorString();
            delete m_lanAnnouncer;
            m_lanAnnouncer = nullptr;
        }
    }

    m_tickLoop = new TickLoop(m_config.ups, this);
    connect(m_tickLoop, &TickLoop::ticked, this, [this](std::uint64_t) {
        const sim::StepResult result = m_world->step();
        m_sessions->publishTick(result);
        m_webSocket->flush();
        m_frontDoor->wakePolls();
        // Once a second is often enough to end idle sessions.
        if (result.tick % std::uint64_t(m_config.ups) == 0)
            m_sessions->expireIdle();
    });
    m_tickLoop->start(m_world->state().tick);
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
    delete m_lanAnnouncer;
    m_lanAnnouncer = nullptr;
    if (m_tickLoop) {
        m_tickLoop->stop();
        delete m_tickLoop;
        m_tickLoop = nullptr;
    }
    if (m_frontDoor) {
        m_frontDoor->close();
        delete m_frontDoor;
        m_frontDoor = nullptr;
    }
    if (m_webSocket) {
        m_webSocket->close();
        delete m_webSocket;
        m_webSocket = nullptr;
    }
    delete m_sessions;
    m_sessions = nullptr;
    if (m_world) {
        qCInfo(lcServer).nospace() << "tick " << m_world->state().tick << ": server stopped";
        m_world.reset();
    }
}

quint16 GameServer::port() const
{
    return m_frontDoor ? m_frontDoor->port() : 0;
}

quint64 GameServer::tick() const
{
    return m_world ? m_world->state().tick : 0;
}

} // namespace hex::server
