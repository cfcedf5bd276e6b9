// Integration: bad input on every transport (WebSocket frames, the HTTP API, mailboxes)
// gets its specific refusal, the server keeps serving well-behaved clients, and the
// world is exactly what the accepted actions alone make of it.
//
// Accepted actions: one, Owen's claim of the cell the "others' cells" rows aim at, made
// in initTestCase. worldHashMatchesAReplay() replays it at the tick the server reported
// for it; every other action in this test is refused, by the transport or by the
// simulation, and changes no state.
#include "httpclient.h"
#include "serverprocess.h"
#include "wsclient.h"

#include "geometry/hexsphere.h"
#include "protocol/actioncodec.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "sim/actions.h"
#include "sim/content.h"
#include "sim/world.h"

#include <QTest>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

using namespace hex;
using hex::tests::fromJson;
using hex::tests::HttpConnection;
using hex::tests::HttpResponse;
using hex::tests::httpError;
using hex::tests::toJson;
using hex::tests::WsClient;

class tst_BadInput : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void refusedWithItsReason_data();
    void refusedWithItsReason();
    void worldHashMatchesAReplay();

private:
    /// A frame with one ClientAction of Wes, numbered uniquely.
    QByteArray actionFrame(protocol::ActionKind kind, std::uint32_t cell,
                           std::uint32_t *clientSeq = nullptr, std::uint32_t orientation = 0,
                           std::uint32_t count = 0);
    QString tokenOf(const QString &who) const;

    ServerProcess m_server;
    std::unique_ptr<WsClient> m_watcher;
    std::unique_ptr<WsClient> m_owen;
    /// Players in the order the server added them.
    QStringList m_players;
    QHash<QString, protocol::SessionInfo> m_sessions;
    std::uint32_t m_owenCell = 0;
    std::uint64_t m_owenClaimTick = 0;
    std::uint32_t m_cellCount = 0;
    std::uint32_t m_nextSeq = 1000;
    protocol::WorldInfo m_info;
};

namespace {

constexpr int kSize = 8;

QByteArray frame(const protocol::Envelope &e)
{
    return protocol::encodeEnvelope(e);
}

QByteArray helloFrame(const std::function<void(protocol::Hello &)> &change)
{
    protocol::Envelope e;
    e.mutable_hello()->set_protocol_version(protocol::kProtocolVersion);
    change(*e.mutable_hello());
    return frame(e);
}

protocol::View view(float x, float y, float z, float radius)
{
    protocol::View v;
    v.set_x(x);
    v.set_y(y);
    v.set_z(z);
    v.set_radius_degrees(radius);
    return v;
}

QByteArray viewFrame(const protocol::View &v)
{
    protocol::Envelope e;
    *e.mutable_view() = v;
    return frame(e);
}

QByteArray request(const QByteArray &method, const QByteArray &target, const QByteArray &body,
                   const QString &token)
{
    return hex::tests::httpRequest(method, target, body, token);
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

} // namespace

QString tst_BadInput::tokenOf(const QString &who) const
{
    return QString::fromStdString(m_sessions.value(who).token());
}

QByteArray tst_BadInput::actionFrame(protocol::ActionKind kind, std::uint32_t cell,
                                     std::uint32_t *clientSeq, std::uint32_t orientation,
                                     std::uint32_t count)
{
    protocol::Envelope e;
    protocol::ClientAction *a = e.mutable_client_action();
    a->set_client_seq(++m_nextSeq);
    a->set_kind(kind);
    a->set_cell(cell);
    a->set_orientation(orientation);
    a->set_count(count);
    if (clientSeq)
        *clientSeq = m_nextSeq;
    return frame(e);
}

void tst_BadInput::initTestCase()
{
    QVERIFY2(m_server.start({"--size", QString::number(kSize), "--ups", "20"}),
             qPrintable(m_server.output()));
    auto joinWs = [&](const char *name, std::unique_ptr<WsClient> &client) {
        client = std::make_unique<WsClient>(m_server.url());
        if (!client->join(name) || !client->session())
            return false;
        m_sessions.insert(name, *client->session());
        m_players << name;
        return true;
    };
    QVERIFY(joinWs("Watcher", m_watcher));
    m_info = m_watcher->first(protocol::Envelope::kWorldInfo)->world_info();
    m_cellCount = m_info.cell_count();

    // Owen owns the cell of the "others' cells" rows: the one accepted action.
    QVERIFY(joinWs("Owen", m_owen));
    m_owenCell = m_watcher->freeGrassland(kSize).front();
    const std::uint32_t claim = m_owen->act(protocol::CLAIM, m_owenCell);
    QVERIFY(m_owen->waitResult(claim));
    QCOMPARE(m_owen->result(claim)->reason(), 0u);
    m_owenClaimTick = m_owen->result(claim)->tick();

    // Wes (WebSocket) and Flo (WebSocket, for the flood) are resumed by token by the
    // rows; Hattie and Flynn (for the flood) play over HTTP.
    std::unique_ptr<WsClient> wes;
    QVERIFY(joinWs("Wes", wes));
    std::unique_ptr<WsClient> flo;
    QVERIFY(joinWs("Flo", flo));
    HttpConnection http(m_server.port());
    for (const char *name : {"Hattie", "Flynn"}) {
        protocol::SessionRequest r;
        r.set_player_name(name);
        const HttpResponse response = http.request("POST", "/api/v1/session", toJson(r));
        QCOMPARE(response.status, 200);
        protocol::SessionInfo info;
        QVERIFY(fromJson(response.body, &info));
        m_sessions.insert(name, info);
        m_players << name;
    }
    for (int i = 0; i < m_players.size(); ++i)
        QCOMPARE(m_sessions.value(m_players[i]).player_id(), std::uint32_t(i));
}

void tst_BadInput::cleanupTestCase()
{
    m_owen.reset();
    m_watcher.reset();
    QCOMPARE(m_server.stop(), 0);
}

void tst_BadInput::refusedWithItsReason_data()
{
    // transport: "ws" (a new connection, no Hello), "ws:NAME" (a new connection resuming
    // NAME's session), "http" (requests on one connection; the last answer is checked).
    QTest::addColumn<QString>("transport");
    QTest::addColumn<QList<QByteArray>>("input");
    // WebSocket: the Error code, or minus the close code; HTTP: the status.
    QTest::addColumn<int>("expected");
    // HTTP: error.code; action results: empty.
    QTest::addColumn<QString>("code");
    // A substring of the Error's or error's message, or of the result's.
    QTest::addColumn<QString>("message");
    // For actions the simulation refuses: the client_seq and the RejectReason.
    QTest::addColumn<int>("clientSeq");
    QTest::addColumn<int>("reason");

    using E = protocol::Error;
    const QString hattie = tokenOf("Hattie");
    const QString wesToken = tokenOf("Wes");
    QString forged = hattie;
    const qsizetype mac = forged.lastIndexOf('.') + 1;
    forged[mac] = forged[mac] == 'A' ? 'B' : 'A';
    const QByteArray flynnId = QByteArray::fromStdString(m_sessions.value("Flynn").session_id());
    const QByteArray hattieId = QByteArray::fromStdString(m_sessions.value("Hattie").session_id());
    const QByteArray cell = QByteArray::number(m_owenCell);
    const QString malformed = QStringLiteral("not a valid Hexsphere envelope");
    const QString beforeHello = QStringLiteral("The first message must be Hello.");

    auto ws = [](const char *name, QString transport, QList<QByteArray> frames, E::Code code,
                 QString message) {
        QTest::newRow(name) << transport << frames << int(code) << QString() << message << -1
                            << -1;
    };
    auto http = [](const char *name, QList<QByteArray> requests, int status, QString code,
                   QString message) {
        QTest::newRow(name) << QStringLiteral("http") << requests << status << code << message
                            << -1 << -1;
    };

    // --- WebSocket, before Hello ---
    ws("ws: an empty frame", "ws", {QByteArray()}, E::MALFORMED, "The frame is empty.");
    ws("ws: a truncated frame", "ws", {QByteArray("\x0a\x10\x08\x05", 4)}, E::MALFORMED,
       malformed);
    ws("ws: garbage bytes", "ws", {QByteArray("\xff\xff\xff\xff", 4)}, E::MALFORMED, malformed);
    ws("ws: a text frame", "ws", {"TEXT:{\"hello\":{}}"}, E::MALFORMED,
       "Text frames are not accepted");
    ws("ws: an action before Hello", "ws", {actionFrame(protocol::CLAIM, m_owenCell)},
       E::UNEXPECTED, beforeHello);
    ws("ws: a view before Hello", "ws", {viewFrame(view(1, 0, 0, 30))}, E::UNEXPECTED,
       beforeHello);
    {
        protocol::Envelope info;
        info.mutable_world_info()->set_subdivisions(3);
        ws("ws: a WorldInfo from the client before Hello", "ws", {frame(info)}, E::UNEXPECTED,
           beforeHello);
    }
    ws("ws: Hello of protocol version 4", "ws",
       {helloFrame([](auto &h) { h.set_protocol_version(4); })}, E::VERSION_MISMATCH,
       "the client speaks version 4");
    ws("ws: Hello of protocol version 0", "ws",
       {helloFrame([](auto &h) { h.set_protocol_version(0); })}, E::VERSION_MISMATCH,
       "the client speaks version 0");
    ws("ws: Hello with a name of bad characters", "ws",
       {helloFrame([](auto &h) { h.set_player_name("bad/name!"); })}, E::BAD_ACTION,
       "is not a valid player name");
    ws("ws: Hello with a 40-letter name", "ws",
       {helloFrame([](auto &h) { h.set_player_name(std::string(40, 'x')); })}, E::BAD_ACTION,
       "is not a valid player name");
    ws("ws: Hello with a name that is playing", "ws",
       {helloFrame([](auto &h) { h.set_player_name("Watcher"); })}, E::NAME_IN_USE,
       "is already playing");
    ws("ws: Hello with a forged token", "ws",
       {helloFrame([&](auto &h) { h.set_token(forged.toStdString()); })}, E::UNAUTHORIZED,
       "not issued by this server");
    ws("ws: Hello with a garbage token", "ws",
       {helloFrame([](auto &h) { h.set_token("garbage"); })}, E::UNAUTHORIZED,
       "not well formed");
    ws("ws: Hello logging in to an unknown account", "ws", {helloFrame([](auto &h) {
           h.set_player_name("Zed");
           h.set_password("whatever it is");
       })},
       E::UNAUTHORIZED, "Wrong name or password.");
    ws("ws: Hello with a NaN view", "ws", {helloFrame([](auto &h) {
           h.set_player_name("Nora");
           *h.mutable_view() = view(kNaN, 0, 1, 30);
       })},
       E::BAD_VIEW, "not a number");
    ws("ws: Hello with a zero view direction", "ws", {helloFrame([](auto &h) {
           h.set_player_name("Nora");
           *h.mutable_view() = view(0, 0, 0, 30);
       })},
       E::BAD_VIEW, "is zero");
    ws("ws: Hello with a negative view radius", "ws", {helloFrame([](auto &h) {
           h.set_player_name("Nora");
           *h.mutable_view() = view(0, 0, 1, -5);
       })},
       E::BAD_VIEW, "negative");
    {
        const QByteArray wesHello
            = helloFrame([&](auto &h) { h.set_token(wesToken.toStdString()); });
        ws("ws: Hello twice", "ws", {wesHello, wesHello}, E::UNEXPECTED,
           "Hello was already received.");
    }
    QTest::newRow("ws: a frame over 64 KiB closes with 1009")
        << QStringLiteral("ws") << QList<QByteArray>{QByteArray(70'000, '\x08')}
        << -int(QWebSocketProtocol::CloseCodeTooMuchData) << QString() << QString() << -1 << -1;

    // --- WebSocket, joined as Wes ---
    {
        protocol::Envelope info;
        info.mutable_world_info()->set_subdivisions(3);
        ws("ws: a WorldInfo from the client", "ws:Wes", {frame(info)}, E::UNEXPECTED,
           "Clients may not send this message.");
        protocol::Envelope snapshot;
        snapshot.mutable_snapshot()->set_tick(5);
        ws("ws: a Snapshot from the client", "ws:Wes", {frame(snapshot)}, E::UNEXPECTED,
           "Clients may not send this message.");
    }
    ws("ws: an action of no kind", "ws:Wes",
       {actionFrame(protocol::ACTION_KIND_UNSPECIFIED, m_owenCell)}, E::BAD_ACTION,
       "kind 0 is not one of the known kinds");
    ws("ws: an action on a cell past the last", "ws:Wes",
       {actionFrame(protocol::CLAIM, m_cellCount)}, E::BAD_ACTION,
       QStringLiteral("cell %1 does not exist").arg(m_cellCount));
    ws("ws: an action with orientation 9", "ws:Wes",
       {actionFrame(protocol::ROTATE, m_owenCell, nullptr, 9)}, E::BAD_ACTION,
       "orientation is 9");
    ws("ws: an action with count 70000", "ws:Wes",
       {actionFrame(protocol::TAKE_ITEMS, m_owenCell, nullptr, 0, 70'000)}, E::BAD_ACTION,
       "count is 70000");
    ws("ws: a view with a NaN coordinate", "ws:Wes", {viewFrame(view(0, kNaN, 1, 30))},
       E::BAD_VIEW, "not a number");
    ws("ws: a view of infinite radius", "ws:Wes",
       {viewFrame(view(0, 0, 1, std::numeric_limits<float>::infinity()))}, E::BAD_VIEW,
       "not a number");
    ws("ws: a view with a zero direction", "ws:Wes", {viewFrame(view(0, 0, 0, 45))},
       E::BAD_VIEW, "is zero");
    ws("ws: a view with a negative radius", "ws:Wes", {viewFrame(view(1, 1, 0, -1))},
       E::BAD_VIEW, "negative");
    {
        const auto result = [&](const char *name, protocol::ActionKind kind,
                                sim::RejectReason reason) {
            std::uint32_t seq = 0;
            const QByteArray f = actionFrame(kind, m_owenCell, &seq);
            QTest::newRow(name) << QStringLiteral("ws:Wes") << QList<QByteArray>{f} << 0
                                << QString() << sim::describe(reason) << int(seq) << int(reason);
        };
        result("ws: claiming another player's cell", protocol::CLAIM,
               sim::RejectReason::CellTaken);
        result("ws: building on another player's cell", protocol::BUILD,
               sim::RejectReason::NotYourCell);
        result("ws: removing from another player's cell", protocol::REMOVE,
               sim::RejectReason::NotYourCell);
    }
    {
        QList<QByteArray> flood;
        for (int i = 0; i < 60; ++i)
            flood << actionFrame(protocol::CLAIM, m_owenCell);
        ws("ws: a flood of 60 actions", "ws:Flo", flood, E::RATE_LIMITED,
           "Too many actions: at most 20 per second, 40 at once.");
    }

    // --- HTTP API ---
    const QString notIssued = QStringLiteral("not issued by this server");
    const QByteArray claim = R"({"actions":[{"client_seq":1,"kind":"CLAIM","cell":)" + cell + "}]}";
    http("http: chunk id out of range", {request("GET", "/api/v1/chunks/999999", {}, {})}, 404,
         "not_found", "There is no chunk 999999");
    http("http: chunk id not a number", {request("GET", "/api/v1/chunks/abc", {}, {})}, 400,
         "bad_request", "is not a number");
    http("http: an unknown route", {request("GET", "/api/v2/world", {}, {})}, 404, "not_found",
         "There is no route /api/v2/world.");
    http("http: PUT on actions", {request("PUT", "/api/v1/actions", claim, hattie)}, 405,
         "method_not_allowed", "PUT is not allowed on /api/v1/actions: use POST.");
    http("http: GET on session", {request("GET", "/api/v1/session", {}, {})}, 405,
         "method_not_allowed", "use POST, DELETE");
    http("http: session with invalid JSON", {request("POST", "/api/v1/session", "{", {})}, 400,
         "invalid_json", "not a valid SessionRequest");
    http("http: session with a number for the name",
         {request("POST", "/api/v1/session", R"({"player_name":5})", {})}, 400, "invalid_json",
         "not a valid SessionRequest");
    http("http: session with an unknown field",
         {request("POST", "/api/v1/session", R"({"name":"Una"})", {})}, 400, "invalid_json",
         "not a valid SessionRequest");
    http("http: session with a bad name",
         {request("POST", "/api/v1/session", R"({"player_name":"a/b"})", {})}, 400, "bad_name",
         "is not a valid player name");
    http("http: session with a name that is playing",
         {request("POST", "/api/v1/session", R"({"player_name":"Watcher"})", {})}, 409,
         "name_in_use", "is already playing");
    http("http: session with a NaN view",
         {request("POST", "/api/v1/session",
                  R"({"player_name":"Nell","view":{"x":"NaN","y":0,"z":1,"radius_degrees":30}})",
                  {})},
         400, "bad_view", "not a number");
    http("http: login to an unknown account",
         {request("POST", "/api/v1/session",
                  R"({"player_name":"Zed","password":"whatever it is"})", {})},
         401, "unauthorized", "Wrong name or password.");
    http("http: register with a weak password",
         {request("POST", "/api/v1/accounts", R"({"player_name":"Wendy","password":"short"})",
                  {})},
         400, "weak_password", "");
    http("http: register a guest's name",
         {request("POST", "/api/v1/accounts",
                  R"({"player_name":"Owen","password":"long enough"})", {})},
         409, "name_taken", "is a guest's name");
    http("http: actions without a token", {request("POST", "/api/v1/actions", claim, {})}, 401,
         "unauthorized", "carries no session token");
    http("http: actions with a forged token", {request("POST", "/api/v1/actions", claim, forged)},
         401, "unauthorized", notIssued);
    http("http: actions with Basic authorization",
         {"POST /api/v1/actions HTTP/1.1\r\nHost: t\r\nAuthorization: Basic eDp5\r\n"
          "Content-Length: "
          + QByteArray::number(claim.size()) + "\r\n\r\n" + claim},
         401, "unauthorized", "must be \"Bearer TOKEN\"");
    http("http: an action with \"cell\":\"abc\"",
         {request("POST", "/api/v1/actions",
                  R"({"actions":[{"client_seq":1,"kind":"CLAIM","cell":"abc"}]})", hattie)},
         400, "invalid_json", "not a valid ActionBatch");
    http("http: an action with an unknown field",
         {request("POST", "/api/v1/actions", R"({"actions":[{"cel":1}]})", hattie)}, 400,
         "invalid_json", "not a valid ActionBatch");
    http("http: an action of an unknown kind",
         {request("POST", "/api/v1/actions", R"({"actions":[{"kind":"EXPLODE","cell":1}]})",
                  hattie)},
         400, "invalid_json", "not a valid ActionBatch");
    http("http: no actions", {request("POST", "/api/v1/actions", R"({"actions":[]})", hattie)},
         400, "bad_action", "There is no action to queue.");
    http("http: an action on a cell past the last",
         {request("POST", "/api/v1/actions",
                  R"({"actions":[{"client_seq":1,"kind":"CLAIM","cell":)"
                      + QByteArray::number(m_cellCount) + "}]}",
                  hattie)},
         400, "bad_action", "does not exist");
    http("http: one bad action refuses the batch",
         {request("POST", "/api/v1/actions",
                  R"({"actions":[{"client_seq":1,"kind":"CLAIM","cell":)" + cell
                      + R"(},{"client_seq":2,"kind":"ROTATE","cell":1,"orientation":7}]})",
                  hattie)},
         400, "bad_action", "Action 2 of 2: The action's orientation is 7");
    {
        QByteArray many = R"({"actions":[)";
        for (int i = 0; i < 41; ++i)
            many += QByteArray(i ? "," : "") + R"({"client_seq":1,"kind":"CLAIM","cell":)" + cell + "}";
        http("http: 41 actions in one request",
             {request("POST", "/api/v1/actions", many + "]}", hattie)}, 400, "bad_action",
             "41 actions in one request is more than 40.");
    }
    http("http: a body over 64 KiB",
         {"POST /api/v1/actions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + hattie.toLatin1()
          + "\r\nContent-Length: 70000\r\n\r\n"},
         413, "payload_too_large", "larger than 65536 bytes");
    http("http: a view with a NaN coordinate",
         {request("POST", "/api/v1/view", R"({"x":"NaN","y":0,"z":1,"radius_degrees":10})",
                  hattie)},
         400, "bad_view", "not a number");
    http("http: a view with a zero direction",
         {request("POST", "/api/v1/view", R"({"x":0,"y":0,"z":0,"radius_degrees":10})", hattie)},
         400, "bad_view", "is zero");
    http("http: a view with a negative radius",
         {request("POST", "/api/v1/view", R"({"x":0,"y":0,"z":1,"radius_degrees":-10})",
                  hattie)},
         400, "bad_view", "negative");
    http("http: poll after=abc", {request("GET", "/api/v1/poll?after=abc", {}, hattie)}, 400,
         "bad_request", "after=abc is not a message seq");
    http("http: poll after beyond the last seq",
         {request("GET", "/api/v1/poll?after=99999999", {}, hattie)}, 400, "bad_request",
         "after=99999999 is beyond the last message");
    http("http: poll with timeout=31", {request("GET", "/api/v1/poll?after=0&timeout=31", {}, hattie)},
         400, "bad_request", "timeout=31 is not a number of seconds from 0 to 30.");
    http("http: poll with a forged token", {request("GET", "/api/v1/poll?after=0", {}, forged)},
         401, "unauthorized", notIssued);
    http("mailbox: another session's messages",
         {request("GET", "/mailbox/" + flynnId + "/messages", {}, hattie)}, 403, "forbidden",
         "is not your session's");
    http("mailbox: another session's actions",
         {request("POST", "/mailbox/" + flynnId + "/actions", claim, hattie)}, 403, "forbidden",
         "is not your session's");
    http("mailbox: a malformed id", {request("GET", "/mailbox/zzz/messages", {}, hattie)}, 404,
         "not_found", "There is no mailbox \"zzz\"");
    http("mailbox: GET on actions", {request("GET", "/mailbox/" + hattieId + "/actions", {}, hattie)},
         405, "method_not_allowed", "use POST");
    http("mailbox: messages with a forged token",
         {request("GET", "/mailbox/" + hattieId + "/messages", {}, forged)}, 401, "unauthorized",
         notIssued);
    http("mailbox: an unknown mailbox route",
         {request("GET", "/mailbox/" + hattieId + "/other", {}, hattie)}, 404, "not_found",
         "There is no route");
    {
        const std::uint32_t seq = ++m_nextSeq;
        QTest::newRow("http: claiming another player's cell")
            << QStringLiteral("http")
            << QList<QByteArray>{request("POST", "/api/v1/actions",
                                         R"({"actions":[{"client_seq":)" + QByteArray::number(seq)
                                             + R"(,"kind":"CLAIM","cell":)" + cell + "}]}",
                                         hattie)}
            << 202 << QString() << sim::describe(sim::RejectReason::CellTaken) << int(seq)
            << int(sim::RejectReason::CellTaken);
    }
    {
        QByteArray batch = R"({"actions":[)";
        for (int i = 0; i < 40; ++i)
            batch += QByteArray(i ? "," : "") + R"({"client_seq":1,"kind":"CLAIM","cell":)" + cell + "}";
        batch += "]}";
        const QString flynn = tokenOf("Flynn");
        http("http: a flood of 41 actions",
             {request("POST", "/api/v1/actions", batch, flynn),
              request("POST", "/api/v1/actions", claim, flynn)},
             429, "rate_limited", "Too many actions: at most 20 per second, 40 at once.");
    }
}

void tst_BadInput::refusedWithItsReason()
{
    QFETCH(QString, transport);
    QFETCH(QList<QByteArray>, input);
    QFETCH(int, expected);
    QFETCH(QString, code);
    QFETCH(QString, message);
    QFETCH(int, clientSeq);
    QFETCH(int, reason);

    const std::uint64_t tickBefore = m_watcher->lastTick();
    if (transport.startsWith(QLatin1String("ws"))) {
        WsClient ws(m_server.url());
        QVERIFY(ws.waitConnected());
        if (transport.startsWith(QLatin1String("ws:"))) {
            ws.resume(tokenOf(transport.mid(3)), 0);
            QVERIFY(ws.waitFor([&] { return ws.session() != nullptr; }));
        }
        for (const QByteArray &f : input) {
            if (f.startsWith("TEXT:"))
                ws.sendText(QString::fromUtf8(f.mid(5)));
            else
                ws.sendRaw(f);
        }
        if (reason >= 0) {
            QVERIFY(ws.waitResult(std::uint32_t(clientSeq)));
            const auto r = *ws.result(std::uint32_t(clientSeq));
            QCOMPARE(int(r.reason()), reason);
            QCOMPARE(QString::fromStdString(r.message()), message);
            QCOMPARE(r.cell(), m_owenCell);
            QVERIFY(ws.errors().empty());
        } else if (expected < 0) {
            QVERIFY(ws.waitFor(
                [&] { return ws.m_socket.state() == QAbstractSocket::UnconnectedState; }));
            QCOMPARE(int(ws.m_socket.closeCode()), -expected);
        } else {
            const auto error = ws.waitError();
            QVERIFY(error);
            QCOMPARE(int(error->code()), expected);
            QVERIFY2(QString::fromStdString(error->message()).contains(message),
                     error->message().c_str());
        }
    } else {
        HttpConnection http(m_server.port());
        HttpResponse r;
        for (const QByteArray &bytes : input) {
            http.socket().state() == QAbstractSocket::ConnectedState
                || (http.socket().connectToHost(QHostAddress::LocalHost, m_server.port()),
                    http.socket().waitForConnected(5'000));
            http.socket().write(bytes);
            const auto answer = http.waitResponse(15'000);
            QVERIFY(answer);
            r = *answer;
        }
        QVERIFY2(r.status == expected, r.body.constData());
        if (reason >= 0) {
            // Accepted by the transport, refused by the simulation: the result says why.
            const QString hattie = tokenOf("Hattie");
            std::optional<protocol::ActionResult> result;
            std::uint64_t after = 0;
            QElapsedTimer timer;
            timer.start();
            while (!result && timer.elapsed() < 15'000) {
                protocol::MessageBatch batch;
                QVERIFY(fromJson(
                    http.request("GET", "/api/v1/poll?after=" + QByteArray::number(after)
                                            + "&timeout=2", {}, hattie)
                        .body,
                    &batch));
                for (const auto &e : batch.messages())
                    for (const auto &res : e.tick().results())
                        if (res.client_seq() == std::uint32_t(clientSeq))
                            result = res;
                after = batch.last_seq();
            }
            QVERIFY(result);
            QCOMPARE(int(result->reason()), reason);
            QCOMPARE(QString::fromStdString(result->message()), message);
        } else {
            QCOMPARE(r.headers.value("content-type"), QByteArray("application/json"));
            const auto [errorCode, errorMessage] = httpError(r);
            QCOMPARE(errorCode, code);
            QVERIFY2(errorMessage.contains(message), qPrintable(errorMessage));
            if (expected == 401)
                QCOMPARE(r.headers.value("www-authenticate").left(6), QByteArray("Bearer"));
            if (expected == 429)
                QVERIFY(r.headers.value("retry-after").toInt() >= 1);
        }
    }

    // The server still serves well-behaved clients.
    QVERIFY(m_server.running());
    HttpConnection world(m_server.port());
    QCOMPARE(world.request("GET", "/api/v1/world").status, 200);
    QVERIFY(m_watcher->waitFor([&] { return m_watcher->lastTick() > tickBefore + 2; }));
    QVERIFY(m_watcher->errors().empty());
}

void tst_BadInput::worldHashMatchesAReplay()
{
    // The watcher's latest tick, and the same world replayed in-process: the same
    // players in the same order, and the one accepted action at its tick.
    const std::uint64_t now = m_watcher->lastTick();
    QVERIFY(m_watcher->waitFor([&] { return m_watcher->lastTick() > now; }));
    const protocol::TickUpdate *last = nullptr;
    for (auto it = m_watcher->m_received.rbegin(); it != m_watcher->m_received.rend(); ++it)
        if (it->has_tick()) {
            last = &it->tick();
            break;
        }
    QVERIFY(last);
    const std::uint64_t tick = last->tick();
    QVERIFY(tick > m_owenClaimTick);

    auto content = sim::loadDefaultContent();
    QVERIFY2(content, qPrintable(content ? QString() : content.error()));
    sim::World world(std::make_shared<const geometry::HexSphere>(int(m_info.subdivisions())),
                     std::make_shared<const sim::Content>(std::move(*content)), m_info.seed(), 1);
    for (int i = 0; i < m_players.size(); ++i)
        QCOMPARE(world.addPlayer(m_players[i]), sim::PlayerId(i));
    protocol::ClientAction claim;
    claim.set_client_seq(1);
    claim.set_kind(protocol::CLAIM);
    claim.set_cell(m_owenCell);
    const auto action = protocol::decodeClientAction(claim, m_cellCount,
                                                     m_sessions.value("Owen").player_id());
    QVERIFY(action);
    std::uint64_t hash = 0;
    while (world.state().tick < tick) {
        if (world.state().tick + 1 == m_owenClaimTick)
            world.queueAction(*action);
        const sim::StepResult step = world.step();
        hash = step.stateHash;
        if (step.tick == m_owenClaimTick) {
            QCOMPARE(int(step.actions.size()), 1);
            QCOMPARE(int(step.actions.front().reason), 0);
        }
    }
    QCOMPARE(world.state().tick, tick);
    QCOMPARE(hash, last->state_hash());
    QCOMPARE(world.stateHash(), last->state_hash());
}

QTEST_GUILESS_MAIN(tst_BadInput)
#include "tst_badinput.moc"
