#include "net/serverconnection.h"

#include "geometry/hexsphere.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <functional>
#include <utility>
#include <vector>

using hex::client::ServerConnection;
using hex::client::WorldDescription;
using hex::geometry::CellId;
using hex::geometry::HexSphere;
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
    info->set_player_id(3);
    return encode(envelope);
}

/// A snapshot of tick 8 of a world of `cellCount` cells: cell c has elevation c, flora
/// c+1, ..., structure 0 and no owner; `change` may spoil it.
protocol::Snapshot snapshotOf(std::uint32_t cellCount,
                              const std::function<void(protocol::Snapshot &)> &change = {})
{
    protocol::Snapshot snapshot;
    snapshot.set_tick(8);
    std::string terrain, elevation, flora, water, pollution, resource, structure, orientation,
        owner;
    for (std::uint32_t c = 0; c < cellCount; ++c) {
        terrain.push_back(char(3));
        elevation.push_back(char(c));
        flora.push_back(char(c + 1));
        water.push_back(char(c + 2));
        pollution.push_back(char(c + 3));
        resource.push_back(char(c % 5));
        structure.append("\0\0", 2);
        orientation.push_back(char(c % 6));
        owner.append("\xff\xff", 2);
    }
    snapshot.set_terrain(terrain);
    snapshot.set_elevation(elevation);
    snapshot.set_flora(flora);
    snapshot.set_water(water);
    snapshot.set_pollution(pollution);
    snapshot.set_resource(resource);
    snapshot.set_structure(structure);
    snapshot.set_orientation(orientation);
    snapshot.set_owner(owner);
    if (change)
        change(snapshot);
    return snapshot;
}

QByteArray snapshot(std::uint32_t cellCount,
                    const std::function<void(protocol::Snapshot &)> &change = {})
{
    protocol::Envelope envelope;
    *envelope.mutable_snapshot() = snapshotOf(cellCount, change);
    return encode(envelope);
}

/// A delta of `chunk` that gives every cell listed flora v, water v+1, pollution v+2,
/// resource 1, structure 0x100·v + 7, orientation v mod 6 and owner v.
protocol::ChunkDelta delta(std::uint32_t chunk, const std::vector<CellId> &cells, std::uint8_t v)
{
    protocol::ChunkDelta delta;
    delta.set_chunk(chunk);
    for (const CellId cell : cells) {
        delta.add_cells(cell);
        delta.mutable_flora()->push_back(char(v));
        delta.mutable_water()->push_back(char(v + 1));
        delta.mutable_pollution()->push_back(char(v + 2));
        delta.mutable_resource()->push_back(char(1));
        delta.mutable_structure()->push_back(char(7));
        delta.mutable_structure()->push_back(char(v));
        delta.mutable_orientation()->push_back(char(v % 6));
        delta.mutable_owner()->push_back(char(v));
        delta.mutable_owner()->push_back(char(0));
    }
    return delta;
}

QByteArray tick(std::uint64_t number, const std::vector<protocol::ChunkDelta> &deltas = {},
                std::uint64_t stateHash = 0)
{
    protocol::Envelope envelope;
    protocol::TickUpdate *update = envelope.mutable_tick();
    update->set_tick(number);
    update->set_server_time_ms(1'700'000'000'000);
    for (const protocol::ChunkDelta &d : deltas)
        *update->add_deltas() = d;
    update->set_state_hash(stateHash);
    return encode(envelope);
}

/// The part of a TickUpdate only one client gets, as its own Envelope: the server
/// appends it to the shared tick() bytes of the same frame.
QByteArray ownPart(const std::vector<protocol::ActionResult> &results,
                   const std::vector<std::pair<std::uint32_t, std::uint32_t>> &inventory = {})
{
    protocol::Envelope envelope;
    protocol::TickUpdate *update = envelope.mutable_tick();
    for (const protocol::ActionResult &r : results)
        *update->add_results() = r;
    for (const auto &[item, count] : inventory) {
        protocol::ItemCount *entry = update->add_inventory();
        entry->set_item(item);
        entry->set_count(count);
    }
    return encode(envelope);
}

protocol::ActionResult result(std::uint32_t seq, std::uint32_t cell, std::uint32_t reason = 0,
                              const char *message = "")
{
    protocol::ActionResult r;
    r.set_client_seq(seq);
    r.set_cell(cell);
    r.set_reason(reason);
    r.set_message(message);
    r.set_tick(9);
    return r;
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
            m_sockets.push_back(socket);
            connect(socket, &QWebSocket::binaryMessageReceived, this,
                    [this, socket](const QByteArray &frame) {
                        const auto envelope = protocol::decodeEnvelope(frame);
                        if (envelope && envelope->has_client_action()) {
                            m_actions.push_back(envelope->client_action());
                            return;
                        }
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
    /// Sends `frames` to every client still connected.
    void sendAgain(const QList<Frame> &frames)
    {
        for (const QPointer<QWebSocket> &socket : m_sockets) {
            for (const Frame &f : frames) {
                if (socket)
                    socket->sendBinaryMessage(f.bytes);
            }
        }
    }
    /// The ClientActions received, in order.
    const std::vector<protocol::ClientAction> &actions() const { return m_actions; }

private:
    QWebSocketServer m_server;
    QList<Frame> m_script;
    std::vector<QPointer<QWebSocket>> m_sockets;
    protocol::Hello m_hello;
    std::vector<protocol::ClientAction> m_actions;
};

} // namespace

Q_DECLARE_METATYPE(Frame)
Q_DECLARE_METATYPE(std::vector<hex::protocol::ChunkDelta>)

namespace {

/// The mirror a snapshotOf(cellCount) gives, with delta(chunk, cells, v) applied for
/// each of `deltas`.
protocol::VisibleCells
expectedMirror(std::uint32_t cellCount,
               const std::vector<std::pair<std::vector<CellId>, std::uint8_t>> &deltas)
{
    auto cells = protocol::decodeSnapshot(snapshotOf(cellCount), cellCount);
    Q_ASSERT(cells);
    for (const auto &[ids, v] : deltas) {
        for (const CellId c : ids) {
            cells->flora[c] = v;
            cells->water[c] = std::uint8_t(v + 1);
            cells->pollution[c] = std::uint8_t(v + 2);
            cells->resource[c] = 1;
            cells->structure[c] = std::uint16_t(0x100 * v + 7);
            cells->orientation[c] = v % 6;
            cells->owner[c] = v;
        }
    }
    return *cells;
}

std::vector<CellId> cellsOf(const HexSphere &sphere, std::uint32_t chunk, std::size_t count)
{
    const auto all = sphere.chunkCells(chunk);
    return {all.begin(), all.begin() + std::ptrdiff_t(count)};
}

} // namespace

class tst_ServerConnection : public QObject
{
    Q_OBJECT

private slots:
    void joinsAndMirrorsTheWorld();
    void rejectsBadFrames_data();
    void rejectsBadFrames();
    void rejectsBadDeltas_data();
    void rejectsBadDeltas();
    void anotherWorldReplacesTheMirror();
    void reportsRefusedConnection();
    void sendsActionsAndRoutesResults();
    void rejectsBadResults_data();
    void rejectsBadResults();
    void heldFramesWaitForTheScheduler();
    void openDropsHeldFrames();
};

void tst_ServerConnection::joinsAndMirrorsTheWorld()
{
    const HexSphere shape(2, 1); // 42 cells in 10 chunks, as the server splits them
    const std::vector<CellId> inChunk0 = cellsOf(shape, 0, 2);
    const std::vector<CellId> inChunk3 = {shape.chunkCells(3).back()};
    FakeServer server({{worldInfo(2)},
                       {snapshot(42)},
                       {tick(9, {delta(0, inChunk0, 40), delta(3, inChunk3, 50)}, 0x1234)},
                       {tick(10, {}, 0x5678)}});
    QVERIFY(server.listen());

    ServerConnection connection;
    QSignalSpy worlds(&connection, &ServerConnection::worldReceived);
    QSignalSpy snapshots(&connection, &ServerConnection::snapshotReceived);
    QSignalSpy ticks(&connection, &ServerConnection::tickReceived);
    QSignalSpy changes(&connection, &ServerConnection::cellsChanged);
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    QStringList order;
    std::vector<CellId> changedAtTick;
    protocol::VisibleCells mirrorAtSnapshot;
    connect(&connection, &ServerConnection::snapshotReceived, this, [&](quint64 tick) {
        order << QStringLiteral("snapshot %1").arg(tick);
        mirrorAtSnapshot = connection.cells();
    });
    connect(&connection, &ServerConnection::tickReceived, this,
            [&](quint64 tick) { order << QStringLiteral("tick %1").arg(tick); });
    connect(&connection, &ServerConnection::cellsChanged, this, [&](quint64 tick) {
        order << QStringLiteral("cells %1").arg(tick);
        changedAtTick = connection.lastChangedCells();
    });
    QVERIFY(!connection.sphere());
    QVERIFY(!connection.hasSnapshot());
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
    QCOMPARE(world.chunkSplit, 1);
    QCOMPARE(world.ups, 20);
    QVERIFY(connection.sphere());
    QCOMPARE(connection.sphere()->cellCount(), 42u);
    QCOMPARE(connection.sphere()->chunkSplit(), 1);

    // The snapshot fills the mirror; tick 9's deltas change five cells of it.
    QCOMPARE(order, QStringList({"snapshot 8", "tick 9", "cells 9", "tick 10"}));
    QCOMPARE(snapshots.size(), 1);
    QCOMPARE(snapshots.first().at(0).toULongLong(), 8ull);
    QVERIFY(mirrorAtSnapshot == expectedMirror(42, {}));
    QVERIFY(connection.hasSnapshot());
    QVERIFY(connection.cells() == expectedMirror(42, {{inChunk0, 40}, {inChunk3, 50}}));
    QCOMPARE(changes.size(), 1);
    std::vector<CellId> expectedChanged = inChunk0;
    expectedChanged.insert(expectedChanged.end(), inChunk3.begin(), inChunk3.end());
    QVERIFY(changedAtTick == expectedChanged);
    QVERIFY2(connection.lastChangedCells().empty(), "tick 10 changed nothing");
    QCOMPARE(ticks.last().at(0).toULongLong(), 10ull);
    QCOMPARE(ticks.last().at(1).toLongLong(), 1'700'000'000'000ll);
    QCOMPARE(connection.lastTick(), 10ull);
    QCOMPARE(connection.lastStateHash(), 0x5678ull);

    connection.close();
    QCOMPARE(connection.state(), ServerConnection::State::Disconnected);
}

void tst_ServerConnection::rejectsBadFrames_data()
{
    QTest::addColumn<QList<Frame>>("script");
    QTest::addColumn<QString>("message");
    QTest::addColumn<bool>("staysJoinable"); // the world still arrives after the bad frame

    const QString badSnapshot
        = QStringLiteral("The server sent a snapshot of tick 8 that does not fit the world: ");
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
        << QList<Frame>{{snapshot(12)}} << "The server sent a snapshot before describing the world."
        << false;
    QTest::newRow("a tick before the world")
        << QList<Frame>{{tick(1)}} << "The server sent a tick before describing the world."
        << false;
    QTest::newRow("a terrain field one byte short")
        << QList<Frame>{{worldInfo(1)},
                        {snapshot(12,
                                  [](protocol::Snapshot &s) { s.mutable_terrain()->pop_back(); })}}
        << badSnapshot
               + "The snapshot's terrain field does not hold one value for each of the 12 cells."
        << true;
    QTest::newRow("an elevation field one byte long")
        << QList<Frame>{{worldInfo(1)},
                        {snapshot(
                            12,
                            [](protocol::Snapshot &s) { s.mutable_elevation()->push_back('x'); })}}
        << badSnapshot
               + "The snapshot's elevation field does not hold one value for each of the 12 cells."
        << true;
    QTest::newRow("a structure field of one byte per cell")
        << QList<Frame>{{worldInfo(1)},
                        {snapshot(
                            12, [](protocol::Snapshot &s) { s.mutable_structure()->resize(12); })}}
        << badSnapshot
               + "The snapshot's structure field does not hold one value for each of the 12 cells."
        << true;
    QTest::newRow("no owner field")
        << QList<Frame>{{worldInfo(1)},
                        {snapshot(12, [](protocol::Snapshot &s) { s.clear_owner(); })}}
        << badSnapshot
               + "The snapshot's owner field does not hold one value for each of the 12 cells."
        << true;
    QTest::newRow("a cell count that disagrees with the size")
        << QList<Frame>{{worldInfo(1, 13)}}
        << "The server described 13 cells, but a world of size 1 has 12." << false;
    QTest::newRow("a world too large to show")
        << QList<Frame>{{worldInfo(5000, 7)}}
        << "The server described a world of size 5000, outside 1..1024." << false;
    QTest::newRow("another protocol version")
        << QList<Frame>{{worldInfo(1, 0, 99)}}
        << QStringLiteral("The server speaks protocol version 99, but this client speaks "
                          "version %1.")
               .arg(protocol::kProtocolVersion)
        << false;
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
    QVERIFY(!connection.hasSnapshot());
    QCOMPARE(connection.cells().cellCount(), 0u);
    if (staysJoinable)
        QTRY_COMPARE(worlds.size(), 1);
}

void tst_ServerConnection::rejectsBadDeltas_data()
{
    QTest::addColumn<bool>("withSnapshot");
    QTest::addColumn<std::vector<protocol::ChunkDelta>>("deltas");
    QTest::addColumn<QString>("reason");

    const HexSphere shape(2, 1); // what worldInfo(2) describes: 10 chunks
    const std::vector<CellId> two = cellsOf(shape, 0, 2);
    const CellId inChunk1 = shape.chunkCells(1).front();
    auto spoilt = [](protocol::ChunkDelta d, const std::function<void(protocol::ChunkDelta &)> &f) {
        f(d);
        return d;
    };

    QTest::newRow("a chunk the world does not have")
        << true << std::vector{delta(10, {two[0]}, 1)}
        << "A delta names chunk 10, but the world has 10 chunks.";
    QTest::newRow("a cell outside its chunk")
        << true << std::vector{delta(0, {two[0], inChunk1}, 1)}
        << QStringLiteral("The delta of chunk 0 lists cell %1, which is out of order or not in "
                          "that chunk.")
               .arg(inChunk1);
    QTest::newRow("a cell past the end of the world")
        << true << std::vector{delta(0, {two[0], 42}, 1)}
        << "The delta of chunk 0 lists cell 42, which is out of order or not in that chunk.";
    QTest::newRow("cells out of order")
        << true << std::vector{delta(0, {two[1], two[0]}, 1)}
        << QStringLiteral("The delta of chunk 0 lists cell %1, which is out of order or not in "
                          "that chunk.")
               .arg(two[0]);
    QTest::newRow("a cell listed twice")
        << true << std::vector{delta(0, {two[0], two[0]}, 1)}
        << QStringLiteral("The delta of chunk 0 lists cell %1, which is out of order or not in "
                          "that chunk.")
               .arg(two[0]);
    QTest::newRow("a flora field one byte short")
        << true
        << std::vector{spoilt(delta(0, two, 1),
                              [](protocol::ChunkDelta &d) { d.mutable_flora()->pop_back(); })}
        << "The delta of chunk 0 lists 2 cells but its flora field does not match.";
    QTest::newRow("a structure field of one byte per cell")
        << true
        << std::vector{spoilt(delta(0, two, 1),
                              [](protocol::ChunkDelta &d) { d.mutable_structure()->resize(2); })}
        << "The delta of chunk 0 lists 2 cells but its structure field does not match.";
    QTest::newRow("no owner field")
        << true
        << std::vector{spoilt(delta(0, two, 1), [](protocol::ChunkDelta &d) { d.clear_owner(); })}
        << "The delta of chunk 0 lists 2 cells but its owner field does not match.";
    QTest::newRow("a good delta, then a bad one: the tick is taken back whole")
        << true
        << std::vector{delta(0, two, 1),
                       spoilt(delta(3, cellsOf(shape, 3, 3), 2),
                              [](protocol::ChunkDelta &d) { d.mutable_water()->push_back('x'); })}
        << "The delta of chunk 3 lists 3 cells but its water field does not match.";
    QTest::newRow("a delta before the snapshot")
        << false << std::vector{delta(0, two, 1)} << "A delta arrived before the snapshot.";
}

void tst_ServerConnection::rejectsBadDeltas()
{
    QFETCH(bool, withSnapshot);
    QFETCH(std::vector<protocol::ChunkDelta>, deltas);
    QFETCH(QString, reason);

    const HexSphere shape(2, 1);
    ServerConnection connection; // fed frames directly: no socket needed
    connection.handleFrame(worldInfo(2));
    if (withSnapshot)
        connection.handleFrame(snapshot(42));
    std::vector<protocol::ChunkDelta> good;
    if (withSnapshot)
        good.push_back(delta(5, cellsOf(shape, 5, 2), 9));
    connection.handleFrame(tick(9, good, 0x99));
    QCOMPARE(connection.errorString(), QString());
    const protocol::VisibleCells before = connection.cells();
    QCOMPARE(before.cellCount(), withSnapshot ? 42u : 0u);

    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    QSignalSpy ticks(&connection, &ServerConnection::tickReceived);
    QSignalSpy changes(&connection, &ServerConnection::cellsChanged);
    connection.handleFrame(tick(10, deltas, 0xBAD));

    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().first().toString(),
             "The server sent tick 10 with changes that do not fit the world: " + reason);
    QVERIFY2(connection.cells() == before, "the mirror is unchanged");
    QCOMPARE(ticks.size(), 0);
    QCOMPARE(changes.size(), 0);
    QVERIFY(connection.lastChangedCells().empty());
    QCOMPARE(connection.lastTick(), 9ull);
    QCOMPARE(connection.lastStateHash(), 0x99ull);
    QCOMPARE(connection.state(), ServerConnection::State::Joined);

    // The next good tick is applied as usual.
    connection.handleFrame(tick(11, {}, 0x111));
    QCOMPARE(ticks.size(), 1);
    QCOMPARE(connection.lastStateHash(), 0x111ull);
    QCOMPARE(errors.size(), 1);
}

void tst_ServerConnection::anotherWorldReplacesTheMirror()
{
    const HexSphere shape(2, 1);
    ServerConnection connection;
    QSignalSpy snapshots(&connection, &ServerConnection::snapshotReceived);
    connection.handleFrame(worldInfo(2));
    const auto sphere = connection.sphere();
    QVERIFY(sphere);
    connection.handleFrame(snapshot(42));
    connection.handleFrame(tick(9, {delta(0, cellsOf(shape, 0, 1), 3)}));
    QVERIFY(connection.cells() == expectedMirror(42, {{cellsOf(shape, 0, 1), 3}}));

    // A new snapshot replaces every cell.
    connection.handleFrame(snapshot(42));
    QCOMPARE(snapshots.size(), 2);
    QVERIFY(connection.cells() == expectedMirror(42, {}));

    // The same world again, say after a reconnect: the sphere is kept, the mirror waits
    // for its snapshot.
    connection.handleFrame(worldInfo(2));
    QCOMPARE(connection.sphere(), sphere);
    QVERIFY(!connection.hasSnapshot());
    QCOMPARE(connection.cells().cellCount(), 0u);

    // A world of another size: a new sphere.
    connection.handleFrame(worldInfo(1));
    QVERIFY(connection.sphere() != sphere);
    QCOMPARE(connection.sphere()->cellCount(), 12u);
    connection.handleFrame(snapshot(12));
    QVERIFY(connection.hasSnapshot());
    QCOMPARE(connection.cells().cellCount(), 12u);
    QCOMPARE(connection.errorString(), QString());
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

void tst_ServerConnection::sendsActionsAndRoutesResults()
{
    FakeServer server({{worldInfo(2)}, {snapshot(42)}});
    QVERIFY(server.listen());
    ServerConnection connection;
    QSignalSpy results(&connection, &ServerConnection::actionResult);
    QSignalSpy inventories(&connection, &ServerConnection::inventoryChanged);
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    QCOMPARE(connection.sendAction({}), 0u); // not joined yet: nothing sent
    connection.open(server.url(), QStringLiteral("Ada"));
    QTRY_VERIFY(connection.hasSnapshot());
    QCOMPARE(connection.playerId(), hex::sim::PlayerId(3));

    hex::sim::Action build;
    build.kind = hex::sim::ActionKind::Build;
    build.cell = 17;
    build.prototype = 4;
    build.orientation = 2;
    hex::sim::Action claim;
    claim.cell = 5;
    QCOMPARE(connection.sendAction(claim), 1u);
    QCOMPARE(connection.sendAction(build), 2u);
    QTRY_COMPARE(server.actions().size(), std::size_t(2));
    QCOMPARE(server.actions()[0].kind(), protocol::CLAIM);
    QCOMPARE(server.actions()[0].client_seq(), 1u);
    QCOMPARE(server.actions()[0].cell(), 5u);
    QCOMPARE(server.actions()[1].kind(), protocol::BUILD);
    QCOMPARE(server.actions()[1].client_seq(), 2u);
    QCOMPARE(server.actions()[1].cell(), 17u);
    QCOMPARE(server.actions()[1].prototype(), 4u);
    QCOMPARE(server.actions()[1].orientation(), 2u);

    // The shared tick and this client's part, as the server sends them: one frame.
    connection.handleFrame(
        tick(9) + ownPart({result(1, 5), result(2, 17, 3, "Taken.")}, {{0, 10}, {2, 3}}));
    QCOMPARE(errors.size(), 0);
    QCOMPARE(connection.lastTick(), 9ull);
    QCOMPARE(results.size(), 2);
    QCOMPARE(results[0], QVariantList({1u, 5u, 0, QString()}));
    QCOMPARE(results[1], QVariantList({2u, 17u, 3, QStringLiteral("Taken.")}));
    QCOMPARE(inventories.size(), 1);
    QVERIFY((connection.inventory() == std::map<hex::sim::ItemId, std::uint32_t>{{0, 10}, {2, 3}}));

    // A tick without an own part leaves the inventory; a count of 0 removes an item.
    connection.handleFrame(tick(10));
    QCOMPARE(inventories.size(), 1);
    connection.handleFrame(tick(11) + ownPart({}, {{0, 0}, {2, 3}}));
    QCOMPARE(inventories.size(), 2);
    QVERIFY((connection.inventory() == std::map<hex::sim::ItemId, std::uint32_t>{{2, 3}}));
    QCOMPARE(results.size(), 2);
    QCOMPARE(errors.size(), 0);
}

void tst_ServerConnection::rejectsBadResults_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("message");
    QTest::newRow("a result for an action never sent")
        << tick(9) + ownPart({result(7, 5)})
        << "The server sent tick 9 with results that do not fit: The server sent a result "
           "for action 7, which this client did not send.";
    QTest::newRow("a result with sequence number 0")
        << tick(9) + ownPart({result(0, 5)})
        << "The server sent tick 9 with results that do not fit: The server sent a result "
           "for action 0, which this client did not send.";
    protocol::Envelope action;
    action.mutable_client_action()->set_kind(protocol::CLAIM);
    QTest::newRow("an action from the server")
        << encode(action) << "The server sent an action, which only clients send.";
}

void tst_ServerConnection::rejectsBadResults()
{
    QFETCH(QByteArray, frame);
    QFETCH(QString, message);
    FakeServer server({{worldInfo(2)}, {snapshot(42)}});
    QVERIFY(server.listen());
    ServerConnection connection;
    QSignalSpy results(&connection, &ServerConnection::actionResult);
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    connection.open(server.url(), QStringLiteral("Ada"));
    QTRY_VERIFY(connection.hasSnapshot());
    QCOMPARE(connection.sendAction({}), 1u);
    connection.handleFrame(frame);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().first().toString(), message);
    QCOMPARE(results.size(), 0);
}

void tst_ServerConnection::heldFramesWaitForTheScheduler()
{
    const HexSphere shape(2, 1);
    const std::vector<CellId> inChunk0 = cellsOf(shape, 0, 2);
    FakeServer server({{worldInfo(2)},
                       {snapshot(42)},
                       {tick(9, {delta(0, inChunk0, 40)}, 0x1234)},
                       {tick(10, {}, 0x5678)}});
    QVERIFY(server.listen());

    ServerConnection connection;
    std::vector<std::function<void()>> scheduled;
    connection.setFrameScheduler(
        [&](std::function<void()> work) { scheduled.push_back(std::move(work)); });
    QStringList order;
    connect(&connection, &ServerConnection::snapshotReceived, this,
            [&](quint64 tick) { order << QStringLiteral("snapshot %1").arg(tick); });
    connect(&connection, &ServerConnection::tickReceived, this,
            [&](quint64 tick) { order << QStringLiteral("tick %1").arg(tick); });
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    connection.open(server.url(), QStringLiteral("Ada"));

    // Everything arrives and waits: nothing handled, and one call asked for.
    QTRY_COMPARE(connection.heldFrames(), std::size_t(4));
    QCOMPARE(scheduled.size(), std::size_t(1));
    QVERIFY(order.isEmpty());
    QCOMPARE(connection.state(), ServerConnection::State::Joining);
    QVERIFY(!connection.hasSnapshot());
    QVERIFY(connection.bytesReceived() > 0);

    // The call handles them all, in order.
    std::exchange(scheduled, {}).front()();
    QCOMPARE(connection.heldFrames(), std::size_t(0));
    QCOMPARE(order, QStringList({"snapshot 8", "tick 9", "tick 10"}));
    QCOMPARE(errors.size(), 0);
    QCOMPARE(connection.state(), ServerConnection::State::Joined);
    QVERIFY(connection.cells() == expectedMirror(42, {{inChunk0, 40}}));
    QCOMPARE(connection.lastTick(), 10ull);

    // Without a scheduler, frames still held are handled from the event loop, and new
    // ones after them.
    server.sendAgain({Frame{tick(11, {}, 0x9abc)}});
    QTRY_COMPARE(connection.heldFrames(), std::size_t(1));
    QCOMPARE(scheduled.size(), std::size_t(1));
    connection.setFrameScheduler({});
    QCOMPARE(connection.heldFrames(), std::size_t(1)); // not from inside the call
    QTRY_COMPARE(connection.heldFrames(), std::size_t(0));
    QCOMPARE(order.last(), QStringLiteral("tick 11"));
    server.sendAgain({Frame{tick(12, {}, 0xdef0)}});
    QTRY_COMPARE(connection.lastTick(), 12ull);
    QCOMPARE(order.last(), QStringLiteral("tick 12"));
    // The call the first scheduler still holds finds nothing to do.
    scheduled.front()();
    QCOMPARE(order.size(), 5);
    QCOMPARE(errors.size(), 0);
    connection.close();
}

void tst_ServerConnection::openDropsHeldFrames()
{
    FakeServer first({{worldInfo(2)}, {snapshot(42)}, {tick(9, {}, 0x1234)}});
    FakeServer second({{worldInfo(3)}, {snapshot(92)}});
    QVERIFY(first.listen());
    QVERIFY(second.listen());

    ServerConnection connection;
    std::vector<std::function<void()>> scheduled;
    connection.setFrameScheduler(
        [&](std::function<void()> work) { scheduled.push_back(std::move(work)); });
    QSignalSpy worlds(&connection, &ServerConnection::worldReceived);
    QSignalSpy ticks(&connection, &ServerConnection::tickReceived);
    QSignalSpy errors(&connection, &ServerConnection::errorOccurred);
    connection.open(first.url(), QStringLiteral("Ada"));
    QTRY_COMPARE(connection.heldFrames(), std::size_t(3));

    // Another server before the first one's frames were handled: they are dropped,
    // never applied to the new connection's mirror.
    connection.open(second.url(), QStringLiteral("Ada"));
    QCOMPARE(connection.heldFrames(), std::size_t(0));
    QTRY_COMPARE(connection.heldFrames(), std::size_t(2));
    for (std::function<void()> &work : scheduled)
        work();
    QCOMPARE(connection.heldFrames(), std::size_t(0));
    QCOMPARE(worlds.size(), 1);
    QCOMPARE(worlds.first().first().value<WorldDescription>().subdivisions, 3);
    QCOMPARE(connection.cells().cellCount(), 92u);
    QCOMPARE(connection.lastTick(), 8ull); // the second server's snapshot
    QCOMPARE(ticks.size(), 0);             // the first one's tick 9 never came through
    QCOMPARE(errors.size(), 0);

    // close() drops them too.
    connection.close();
    QCOMPARE(connection.heldFrames(), std::size_t(0));
}

QTEST_GUILESS_MAIN(tst_ServerConnection)
#include "tst_serverconnection.moc"
