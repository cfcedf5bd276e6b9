#include "net/serverconnection.h"

#include "protocol/codec.h"
#include "protocol/protocolversion.h"

#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

using hex::client::ServerConnection;
using hex::client::WorldDescription;
namespace protocol = hex::protocol;

namespace {

/// One frame the fake server sends: binary bytes, or text.
struct Frame
{
    QByteArray bytes;
    bool text = false;
};

QByteArray encode(const protocol::Envelope &envelope)
{
    return protocol::encodeEnvelope(envelope);
}

/// A valid WorldInfo for a world of size `n`, optionally with a wrong field.
QByteArray worldInfo(int n, std::uint32_t cellCount = 0, std::uint32_t version = 0)
{
    protocol::Envelope envelope;
    protocol::WorldInfo *info = envelope.mutable_world_info();
    info->set_protocol_version(version ? version : protocol::kProtocolVersion);
    info->set_world_name("Testworld");
    info->set_subdivisions(std::uint32_t(n));
    info->set_cell_count(cellCount ? cellCount : std::uint32_t(10 * n * n + 2));
    info->set_chunk_split(1);
    info->set_seed(42);
    info->set_ups(20);
    info->set_tick(7);
    return encode(envelope);
}

QByteArray snapshot(std::size_t terrainBytes, std::size_t elevationBytes)
{
    protocol::Envelope envelope;
    protocol::Snapshot *snapshot = envelope.mutable_snapshot();
    snapshot->set_tick(8);
    snapshot->set_terrain(std::string(terrainBytes, '\3'));
    snapshot->set_elevation(std::string(elevationBytes, '\200'));
    return encode(envelope);
}

QByteArray tick(std::uint64_t number)
{
    protocol::Envelope envelope;
    envelope.mutable_tick()->set_tick(number);
    envelope.mutable_tick()->set_server_time_ms(1'700'000'000'000);
    return encode(envelope);
}

QByteArray error(protocol::Error::Code code, const char *message)
{
    protocol::Envelope envelope;
    envelope.mutable_error()->set_code(code);
    envelope.mutable_error()->set_message(message);
    return encode(envelope);
}

QByteArray hello()
{
    protocol::Envelope envelope;
    envelope.mutable_hello()->set_protocol_version(protocol::kProtocolVersion);
    envelope.mutable_hello()->set_player_name("mirror");
    return encode(envelope);
}

/// A server that waits for the client's Hello, remembers it, then sends its script.
class FakeServer : public QObject
{
public:
    explicit FakeServer(QList<Frame> script)
        : m_server(QStringLiteral("fake"), QWebSocketServer::NonSecureMode)
        , m_script(std::move(script))
    {
        connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            QWebSocket *socket = m_server.nextPendingConnection();
            socket->setParent(this);
            connect(socket, &QWebSocket::binaryMessageReceived, this,
                    [this, socket](const QByteArray &frame) {
                        const auto envelope = protocol::decodeEnvelope(frame);
                        if (envelope && envelope->has_hello())
                            m_hello = envelope->hello();
                        for (const Frame &f : std::as_const(m_script)) {
                            if (f.text)
                                socket->sendTextMessage(QString::fromUtf8(f.bytes));
                            else
                                socket->sendBinaryMessage(f.bytes);
                        }
                    });
        });
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    QUrl url() const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(m_server.serverPort()));
    }
    const protocol::Hello &hello() const { return m_hello; }

private:
    QWebSocketServer m_server;
    QList<Frame> m_script;
    protocol::Hello m_hello;
};

} // namespace

Q_DECLARE_METATYPE(Frame)

class tst_ServerConnection : public QObject
{
    Q_OBJECT

private slots:
    void joinsAndReceivesTheWorld();
    void rejectsBadFrames_data();
    void rejectsBadFrames();
    void reportsRefusedConnection();
};

void tst_ServerConnection::joinsAndReceivesTheWorld()
{
    FakeServer server({{worldInfo(2)}, {snapshot(42, 42)}, {tick(9)}, {tick(10)}});
    QVERIFY(server.listen());

    ServerConnection connection;
    QSignalSpy worlds(&connection, &ServerConnection::worldReceived);
    QSignalSpy snapshots(&connection, &ServerConnection::snapshotReceived);
    QSignalSpy ticks(&connection, &ServerConnection::tickReceived);
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    connection.open(server.url(), QStringLiteral("Ada"));
    QCOMPARE(connection.state(), ServerConnection::State::Connecting);

    QTRY_COMPARE(ticks.size(), 2);
    QCOMPARE(errors.size(), 0);
    QCOMPARE(server.hello().protocol_version(), protocol::kProtocolVersion);
    QCOMPARE(server.hello().player_name(), std::string("Ada"));
    QCOMPARE(connection.state(), ServerConnection::State::Joined);

    QCOMPARE(worlds.size(), 1);
    const auto world = worlds.first().first().value<WorldDescription>();
    QCOMPARE(world.name, QStringLiteral("Testworld"));
    QCOMPARE(world.subdivisions, 2);
    QCOMPARE(world.cellCount, 42u);
    QCOMPARE(world.ups, 20);

    QCOMPARE(snapshots.size(), 1);
    QCOMPARE(snapshots.first().at(0).toULongLong(), 8ull);
    QCOMPARE(snapshots.first().at(1).toByteArray(), QByteArray(42, '\3'));
    QCOMPARE(snapshots.first().at(2).toByteArray(), QByteArray(42, '\200'));
    QCOMPARE(ticks.last().at(0).toULongLong(), 10ull);

    connection.close();
    QCOMPARE(connection.state(), ServerConnection::State::Disconnected);
}

void tst_ServerConnection::rejectsBadFrames_data()
{
    QTest::addColumn<QList<Frame>>("script");
    QTest::addColumn<QString>("message");
    QTest::addColumn<bool>("staysJoinable"); // the world still arrives after the bad frame

    QTest::newRow("garbage bytes")
        << QList<Frame>{{QByteArray("\xff\xff\xff\xff", 4)}}
        << "The server sent a frame that could not be read: The frame is not a valid "
           "Hexsphere envelope."
        << false;
    QTest::newRow("an envelope with no body")
        << QList<Frame>{{QByteArray("\x78\x01", 2)}} << "could not be read" << false;
    QTest::newRow("a text frame")
        << QList<Frame>{{"hello?", true}, {worldInfo(1)}}
        << "The server sent a text frame; Hexsphere servers send binary frames only." << true;
    QTest::newRow("a snapshot before the world")
        << QList<Frame>{{snapshot(12, 12)}}
        << "The server sent a snapshot before describing the world." << false;
    QTest::newRow("a tick before the world")
        << QList<Frame>{{tick(1)}} << "The server sent a tick before describing the world."
        << false;
    QTest::newRow("too few terrain bytes")
        << QList<Frame>{{worldInfo(1)}, {snapshot(11, 12)}}
        << "The snapshot has 11 terrain bytes for 12 cells." << true;
    QTest::newRow("too many elevation bytes")
        << QList<Frame>{{worldInfo(1)}, {snapshot(12, 13)}}
        << "The snapshot has 13 elevation bytes for 12 cells." << true;
    QTest::newRow("a cell count that disagrees with the size")
        << QList<Frame>{{worldInfo(1, 13)}}
        << "The server described 13 cells, but a world of size 1 has 12." << false;
    QTest::newRow("a world too large to show")
        << QList<Frame>{{worldInfo(5000, 7)}}
        << "The server described a world of size 5000, outside 1..1024." << false;
    QTest::newRow("another protocol version")
        << QList<Frame>{{worldInfo(1, 0, 99)}}
        << "The server speaks protocol version 99, but this client speaks version 1." << false;
    QTest::newRow("a Hello from the server")
        << QList<Frame>{{hello()}, {worldInfo(1)}}
        << "The server sent a Hello, which only clients send." << true;
    QTest::newRow("an Error frame") << QList<Frame>{{error(protocol::Error::UNEXPECTED, "go away")}}
                                    << "The server reported an error: go away" << false;
    QTest::newRow("a version refusal")
        << QList<Frame>{{error(protocol::Error::VERSION_MISMATCH, "server speaks 2")}}
        << "The server refused this client's version: server speaks 2" << false;
}

void tst_ServerConnection::rejectsBadFrames()
{
    QFETCH(QList<Frame>, script);
    QFETCH(QString, message);
    QFETCH(bool, staysJoinable);

    FakeServer server(script);
    QVERIFY(server.listen());
    ServerConnection connection;
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    QSignalSpy worlds(&connection, &ServerConnection::worldReceived);
    QSignalSpy snapshots(&connection, &ServerConnection::snapshotReceived);
    connection.open(server.url(), QStringLiteral("Ada"));

    QTRY_VERIFY(!errors.isEmpty());
    const QString reported = errors.first().first().toString();
    QVERIFY2(reported.contains(message), qPrintable(reported));
    QCOMPARE(connection.errorString(), reported);
    QCOMPARE(snapshots.size(), 0); // Nothing bad ever reaches the view.
    if (staysJoinable)
        QTRY_COMPARE(worlds.size(), 1);
}

void tst_ServerConnection::reportsRefusedConnection()
{
    // Find a port nobody listens on: bind one, note it, close it.
    quint16 port = 0;
    {
        QWebSocketServer probe(QStringLiteral("probe"), QWebSocketServer::NonSecureMode);
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    ServerConnection connection;
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    connection.open(QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(port)), QStringLiteral("Ada"));
    QTRY_VERIFY(!errors.isEmpty());
    QVERIFY2(errors.first().first().toString().startsWith(
                 QStringLiteral("Connection to ws://127.0.0.1:%1 failed: ").arg(port)),
             qPrintable(errors.first().first().toString()));
    QTRY_COMPARE(connection.state(), ServerConnection::State::Disconnected);
}

QTEST_GUILESS_MAIN(tst_ServerConnection)
#include "tst_serverconnection.moc"
