#include "lanannouncer.h"

#include "session/sessionmanager.h"

#include "protocol/codec.h"
#include "protocol/protocolversion.h"

#include <QLoggingCategory>
#include <QNetworkDatagram>
#include <QNetworkInterface>
#include <QUdpSocket>

#include <algorithm>

namespace hex::server {

namespace {
Q_LOGGING_CATEGORY(lcLan, "hex.lan", QtInfoMsg)

bool isAnyAddress(const QHostAddress &address)
{
    return address == QHostAddress(QHostAddress::Any)
           || address == QHostAddress(QHostAddress::AnyIPv4)
           || address == QHostAddress(QHostAddress::AnyIPv6) || address.isNull();
}
} // namespace

LanAnnouncer::LanAnnouncer(const ServerConfig &config, const SessionManager &sessions,
                           quint16 gamePort, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_sessions(sessions)
    , m_gamePort(gamePort)
{
    m_announceTimer.setInterval(kAnnounceIntervalMs);
    connect(&m_announceTimer, &QTimer::timeout, this, &LanAnnouncer::announce);
}

LanAnnouncer::~LanAnnouncer()
{
    stop();
}

bool LanAnnouncer::start()
{
    stop();
    m_socket = new QUdpSocket(this);
    if (!m_socket->bind(QHostAddress::AnyIPv4, protocol::kLanDiscoveryPort,
                        QUdpSocket::ShareAddress | QUdpSocket::ReuseAddressHint)) {
        m_errorString = tr("UDP port %1 for LAN discovery is not available: %2")
                            .arg(protocol::kLanDiscoveryPort)
                            .arg(m_socket->errorString());
        delete m_socket;
        m_socket = nullptr;
        return false;
    }
    connect(m_socket, &QUdpSocket::readyRead, this, &LanAnnouncer::readDatagrams);
    m_replyTokens = kMaxRepliesPerSecond;
    m_tokenClock.start();
    m_announceTimer.start();
    qCInfo(lcLan).nospace() << "announcing on UDP port " << protocol::kLanDiscoveryPort
                            << " (game port " << m_gamePort << ")";
    announce();
    return true;
}

void LanAnnouncer::stop()
{
    m_announceTimer.stop();
    if (m_socket) {
        m_socket->close();
        delete m_socket;
        m_socket = nullptr;
    }
}

QList<QHostAddress> LanAnnouncer::announceTargets(const QHostAddress &bindAddress)
{
    QList<QHostAddress> targets;
    const bool anyInterface = isAnyAddress(bindAddress);
    if (anyInterface || !bindAddress.isLoopback()) {
        const auto interfaces = QNetworkInterface::allInterfaces();
        for (const QNetworkInterface &interface : interfaces) {
            const auto flags = interface.flags();
            if (!flags.testFlag(QNetworkInterface::IsUp)
                || !flags.testFlag(QNetworkInterface::CanBroadcast)
                || flags.testFlag(QNetworkInterface::IsLoopBack))
                continue;
            for (const QNetworkAddressEntry &entry : interface.addressEntries()) {
                if (entry.ip().protocol() != QAbstractSocket::IPv4Protocol
                    || entry.broadcast().isNull())
                    continue;
                if (!anyInterface && !entry.ip().isEqual(bindAddress))
                    continue;
                if (!targets.contains(entry.broadcast()))
                    targets.append(entry.broadcast());
            }
        }
    }
    // A server reachable on this machine tells this machine's clients, even with no
    // network at all.
    if (anyInterface || bindAddress.isLoopback())
        targets.append(loopbackBroadcast());
    return targets;
}

void LanAnnouncer::fillAnnouncement(protocol::LanAnnouncement *out, std::uint64_t nonce) const
{
    out->set_protocol_version(protocol::kProtocolVersion);
    out->set_nonce(nonce);
    out->set_world_name(m_config.worldName.toStdString());
    out->set_port(m_gamePort);
    out->set_players(std::uint32_t(std::max(0, m_sessions.onlineCount())));
    out->set_max_players(std::uint32_t(std::max(0, m_config.maxClients)));
    out->set_subdivisions(std::uint32_t(std::max(0, m_config.subdivisions)));
    out->set_password(!m_config.joinPassword.isEmpty());
    out->set_accounts(m_config.requireAccounts);
    out->set_host_name(m_config.hostName.left(64).toStdString());
}

void LanAnnouncer::announce()
{
    if (!m_socket)
        return;
    protocol::Envelope envelope;
    fillAnnouncement(envelope.mutable_lan_announcement(), 0);
    const QByteArray datagram = protocol::encodeEnvelope(envelope);
    const auto targets = announceTargets(m_config.bindAddress);
    for (const QHostAddress &target : targets) {
        if (m_socket->writeDatagram(datagram, target, protocol::kLanDiscoveryPort) < 0
            && !m_sendErrorLogged) {
            // Some networks refuse broadcasts; say so once, not every second.
            qCDebug(lcLan).noquote()
                << "cannot announce to" << target.toString() << ":" << m_socket->errorString();
            m_sendErrorLogged = true;
        }
    }
}

bool LanAnnouncer::takeReplyToken()
{
    const double seconds = double(m_tokenClock.restart()) / 1000.0;
    m_replyTokens
        = std::min(double(kMaxRepliesPerSecond), m_replyTokens + seconds * kMaxRepliesPerSecond);
    if (m_replyTokens < 1.0)
        return false;
    m_replyTokens -= 1.0;
    return true;
}

void LanAnnouncer::readDatagrams()
{
    while (m_socket && m_socket->hasPendingDatagrams()) {
        const QNetworkDatagram datagram = m_socket->receiveDatagram(kMaxDatagramBytes + 1);
        const QHostAddress sender = datagram.senderAddress();
        const QByteArray data = datagram.data();
        if (data.size() > kMaxDatagramBytes) {
            ++m_ignored;
            qCDebug(lcLan).noquote() << "ignoring an oversized datagram from" << sender.toString();
            continue;
        }
        const auto envelope = protocol::decodeEnvelope(data);
        if (!envelope) {
            ++m_ignored;
            qCDebug(lcLan).noquote() << "ignoring an undecodable datagram from" << sender.toString()
                                     << ":" << protocol::describe(envelope.error());
            continue;
        }
        // Announcements, ours and other servers', arrive here too: not for us.
        if (envelope->has_lan_announcement())
            continue;
        if (!envelope->has_lan_query()) {
            ++m_ignored;
            qCDebug(lcLan).noquote()
                << "ignoring a datagram that is no LanQuery from" << sender.toString();
            continue;
        }
        const protocol::LanQuery &query = envelope->lan_query();
        if (query.protocol_version() != protocol::kProtocolVersion) {
            ++m_ignored;
            qCDebug(lcLan).noquote() << "ignoring a LanQuery of protocol version"
                                     << query.protocol_version() << "from" << sender.toString();
            continue;
        }
        if (sender.isNull() || datagram.senderPort() <= 0) {
            ++m_ignored;
            continue;
        }
        if (!takeReplyToken()) {
            ++m_ignored;
            qCDebug(lcLan).noquote() << "reply cap reached: not answering" << sender.toString();
            continue;
        }
        protocol::Envelope reply;
        fillAnnouncement(reply.mutable_lan_announcement(), query.nonce());
        m_socket->writeDatagram(protocol::encodeEnvelope(reply), sender,
                                quint16(datagram.senderPort()));
        ++m_answered;
    }
}

} // namespace hex::server
