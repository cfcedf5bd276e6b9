#include "landiscovery.h"

#include "lan/lanannouncer.h"

#include "serverlistmodel.h"

#include "protocol/codec.h"
#include "protocol/protocolversion.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QNetworkDatagram>
#include <QNetworkInterface>
#include <QRandomGenerator>
#include <QUdpSocket>

namespace hex::client {

namespace {
Q_LOGGING_CATEGORY(lcLan, "hex.lan", QtInfoMsg)

/// Nonces older than this are forgotten: an answer that late gets no ping.
constexpr qint64 kNonceLifetimeMs = 5'000;
/// Announcements are far smaller; anything longer is not one.
constexpr qint64 kMaxDatagramBytes = 512;
} // namespace

LanDiscovery::LanDiscovery(ServerListModel *model, QObject *parent)
    : QObject(parent)
    , m_model(model)
{
    Q_ASSERT(model);
    m_timer.setInterval(kQueryIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        sendQuery();
        m_model->expire();
    });
}

LanDiscovery::~LanDiscovery()
{
    stop();
}

QList<QHostAddress> LanDiscovery::defaultQueryTargets()
{
    // Where a server on every interface announces itself: each LAN's broadcast address,
    // and this machine's.
    return server::LanAnnouncer::announceTargets(QHostAddress(QHostAddress::Any));
}

void LanDiscovery::setQueryTargets(QList<QHostAddress> targets)
{
    m_targets = std::move(targets);
}

void LanDiscovery::start()
{
    stop();
    m_clock.start();
    m_ownAddresses.clear();
    const auto addresses = QNetworkInterface::allAddresses();
    for (const QHostAddress &address : addresses)
        if (!address.isLoopback())
            m_ownAddresses.append(address);
    m_querySocket = new QUdpSocket(this);
    if (!m_querySocket->bind(QHostAddress::AnyIPv4, 0))
        qCWarning(lcLan).noquote()
            << "cannot open a UDP socket for LAN queries:" << m_querySocket->errorString();
    connect(m_querySocket, &QUdpSocket::readyRead, this, [this] { readDatagrams(m_querySocket); });
    m_listenSocket = new QUdpSocket(this);
    if (m_listenSocket->bind(QHostAddress::AnyIPv4, protocol::kLanDiscoveryPort,
                             QUdpSocket::ShareAddress | QUdpSocket::ReuseAddressHint)) {
        connect(m_listenSocket, &QUdpSocket::readyRead, this,
                [this] { readDatagrams(m_listenSocket); });
    } else {
        qCDebug(lcLan).noquote() << "not listening for LAN announcements:"
                                 << m_listenSocket->errorString();
        delete m_listenSocket;
        m_listenSocket = nullptr;
    }
    m_timer.start();
    sendQuery();
}

void LanDiscovery::stop()
{
    m_timer.stop();
    delete m_querySocket;
    m_querySocket = nullptr;
    delete m_listenSocket;
    m_listenSocket = nullptr;
    m_sentAt.clear();
}

void LanDiscovery::sendQuery()
{
    if (!m_querySocket)
        return;
    const qint64 now = m_clock.elapsed();
    for (auto it = m_sentAt.begin(); it != m_sentAt.end();)
        it = now - it.value() > kNonceLifetimeMs ? m_sentAt.erase(it) : std::next(it);

    std::uint64_t nonce = 0;
    while (nonce == 0 || m_sentAt.contains(nonce))
        nonce = QRandomGenerator::global()->generate64();
    m_sentAt.insert(nonce, now);

    protocol::Envelope envelope;
    envelope.mutable_lan_query()->set_protocol_version(protocol::kProtocolVersion);
    envelope.mutable_lan_query()->set_nonce(nonce);
    const QByteArray datagram = protocol::encodeEnvelope(envelope);
    const QList<QHostAddress> targets = m_targets.isEmpty() ? defaultQueryTargets() : m_targets;
    for (const QHostAddress &target : targets) {
        if (m_querySocket->writeDatagram(datagram, target, protocol::kLanDiscoveryPort) < 0)
            qCDebug(lcLan).noquote()
                << "cannot query" << target.toString() << ":" << m_querySocket->errorString();
    }
}

void LanDiscovery::readDatagrams(QUdpSocket *socket)
{
    while (socket->hasPendingDatagrams()) {
        const QNetworkDatagram datagram = socket->receiveDatagram(kMaxDatagramBytes + 1);
        const qint64 now = m_clock.elapsed();
        if (datagram.data().size() > kMaxDatagramBytes) {
            ++m_ignored;
            continue;
        }
        const auto envelope = protocol::decodeEnvelope(datagram.data());
        // Queries of other clients arrive on the shared port too: not for us.
        if (envelope && envelope->has_lan_query())
            continue;
        if (!envelope || !envelope->has_lan_announcement()) {
            ++m_ignored;
            qCDebug(lcLan).noquote() << "ignoring a datagram that is no LanAnnouncement from"
                                     << datagram.senderAddress().toString();
            continue;
        }
        const protocol::LanAnnouncement &a = envelope->lan_announcement();
        if (a.protocol_version() != protocol::kProtocolVersion) {
            ++m_ignored;
            qCDebug(lcLan).noquote()
                << "ignoring a server of protocol version" << a.protocol_version() << "at"
                << datagram.senderAddress().toString();
            continue;
        }
        if (a.port() == 0 || a.port() > 65535 || datagram.senderAddress().isNull()) {
            ++m_ignored;
            continue;
        }
        ServerEntry entry;
        // Bound to IPv4 only, but normalise a mapped address all the same.
        bool isV4 = false;
        const quint32 v4 = datagram.senderAddress().toIPv4Address(&isV4);
        entry.address = isV4 ? QHostAddress(v4) : datagram.senderAddress();
        entry.port = quint16(a.port());
        entry.worldName = QString::fromStdString(a.world_name()).left(64);
        entry.hostName = QString::fromStdString(a.host_name()).left(64);
        entry.players = int(std::min<std::uint32_t>(a.players(), 1'000'000));
        entry.maxPlayers = int(std::min<std::uint32_t>(a.max_players(), 1'000'000));
        entry.subdivisions = int(std::min<std::uint32_t>(a.subdivisions(), 4096));
        entry.needsPassword = a.password();
        entry.needsAccount = a.accounts();
        entry.lastSeen = QDateTime::currentDateTimeUtc();
        // A server on this machine that answers on 127.0.0.1 too needs no second row
        // under one of this machine's LAN addresses (a row that came first expires).
        if (m_ownAddresses.contains(entry.address)
            && m_model->rowOf(QHostAddress(QHostAddress::LocalHost), entry.port) >= 0)
            continue;
        if (a.nonce() != 0) {
            if (const auto it = m_sentAt.constFind(a.nonce()); it != m_sentAt.cend())
                entry.pingMs = int(now - it.value());
        }
        m_model->upsert(entry);
    }
}

} // namespace hex::client
