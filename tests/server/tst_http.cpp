// Integration: the HTTP front door of a real hexsphere-server process over loopback,
// with WebSocket on the same port.
#include "httpclient.h"
#include "serverprocess.h"
#include "wsclient.h"

#include "geometry/hexsphere.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <vector>

using namespace hex;

class tst_Http : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void worldMatchesWebSocket();
    void chunkMatchesWebSocketMirror_data();
    void chunkMatchesWebSocketMirror();
    void badInputsGetJsonErrors_data();
    void badInputsGetJsonErrors();
    void keepAliveStopsAtTheRequestCap();
    void idleKeptAliveConnectionCloses();
    void stillServesAfterBadInputs();
    void connectionCapAnswers503();
    void curlExamplesInProtocolDocRun();

private:
    ServerProcess m_server;
    QString base() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_server.port()); }
};

namespace {

/// The world size the shared server runs: 16 chunks per rhombus row, 2 cells apart.
constexpr int kSize = 8;

/// GET `url` with QNetworkAccessManager; the body, and the status in `status`.
QByteArray get(const QString &url, int *status)
{
    QNetworkAccessManager manager;
    QNetworkReply *reply = manager.get(QNetworkRequest(QUrl(url)));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!finished.wait(10'000))
        return {};
    *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    reply->deleteLater();
    return body;
}

using hex::tests::exchange;
using hex::tests::fromJson;
using hex::tests::HttpResponse;
using hex::tests::parseResponses;
using hex::tests::WsClient;

QByteArray repeated(char c, int count)
{
    return QByteArray(count, c);
}

} // namespace

void tst_Http::initTestCase()
{
    QVERIFY2(m_server.start({"--size", QString::number(kSize), "--ups", "30"}),
             qPrintable(m_server.output()));
}

void tst_Http::cleanupTestCase()
{
    QCOMPARE(m_server.stop(), 0);
}

void tst_Http::worldMatchesWebSocket()
{
    WsClient ws(m_server.url());
    QVERIFY(ws.join(""));
    QVERIFY(ws.waitFor([&] { return ws.first(protocol::Envelope::kWorldInfo) != nullptr; }));
    const protocol::WorldInfo &viaWs = ws.first(protocol::Envelope::kWorldInfo)->world_info();

    int status = 0;
    const QByteArray json = get(base() + "/api/v1/world", &status);
    QCOMPARE(status, 200);
    protocol::WorldInfo viaHttp;
    QVERIFY2(fromJson(json, &viaHttp), json.constData());
    QVERIFY2(!json.contains("player_id") && !json.contains("playerId"), json.constData());
    QCOMPARE(viaHttp.protocol_version(), protocol::kProtocolVersion);
    QCOMPARE(viaHttp.world_name(), viaWs.world_name());
    QCOMPARE(viaHttp.subdivisions(), viaWs.subdivisions());
    QCOMPARE(viaHttp.cell_count(), viaWs.cell_count());
    QCOMPARE(viaHttp.chunk_split(), viaWs.chunk_split());
    QCOMPARE(viaHttp.seed(), viaWs.seed());
    QCOMPARE(viaHttp.ups(), viaWs.ups());
    QVERIFY(viaHttp.tick() >= viaWs.tick());
    QCOMPARE(viaHttp.player_id(), 0u);
}

void tst_Http::chunkMatchesWebSocketMirror_data()
{
    QTest::addColumn<int>("chunk");
    QTest::newRow("chunk 0, holds a pentagon") << 0;
    QTest::newRow("chunk 7") << 7;
    QTest::newRow("the last chunk") << -1;
}

void tst_Http::chunkMatchesWebSocketMirror()
{
    // A WebSocket client mirrors the world from its snapshot and the deltas; the HTTP
    // chunk taken at tick T equals the mirror's cells of that chunk at tick T.
    QFETCH(int, chunk);
    WsClient ws(m_server.url());
    QVERIFY(ws.join(""));
    QVERIFY(ws.waitFor([&] { return ws.first(protocol::Envelope::kSnapshot) != nullptr; }));
    const protocol::WorldInfo &info = ws.first(protocol::Envelope::kWorldInfo)->world_info();
    const geometry::HexSphere sphere(int(info.subdivisions()), int(info.chunk_split()));
    if (chunk < 0)
        chunk = int(sphere.chunkCount()) - 1;

    int status = 0;
    const QByteArray json = get(base() + "/api/v1/chunks/" + QString::number(chunk), &status);
    QCOMPARE(status, 200);
    protocol::ChunkSnapshot viaHttp;
    QVERIFY2(fromJson(json, &viaHttp), json.constData());
    QCOMPARE(viaHttp.chunk(), std::uint32_t(chunk));
    const auto cells = sphere.chunkCells(geometry::ChunkId(chunk));
    QCOMPARE(std::vector<std::uint32_t>(viaHttp.cells().begin(), viaHttp.cells().end()),
             std::vector<std::uint32_t>(cells.begin(), cells.end()));

    QVERIFY(ws.waitFor([&] { return ws.lastTick() >= viaHttp.tick(); }));
    const protocol::Snapshot &snapshot = ws.first(protocol::Envelope::kSnapshot)->snapshot();
    QVERIFY(snapshot.tick() <= viaHttp.tick());
    auto mirror = protocol::decodeSnapshot(snapshot, sphere.cellCount());
    QVERIFY2(mirror, qPrintable(mirror ? QString() : mirror.error()));
    for (const auto &e : ws.m_received) {
        if (e.body_case() != protocol::Envelope::kTick || e.tick().tick() <= snapshot.tick()
            || e.tick().tick() > viaHttp.tick())
            continue;
        for (const auto &delta : e.tick().deltas()) {
            const auto applied = protocol::applyChunkDelta(delta, sphere, *mirror);
            QVERIFY2(applied, qPrintable(applied ? QString() : applied.error()));
        }
    }

    const std::size_t n = cells.size();
    auto byte = [](const std::string &bytes, std::size_t i) {
        return std::uint8_t(bytes[i]);
    };
    auto word = [](const std::string &bytes, std::size_t i) {
        return std::uint16_t(std::uint8_t(bytes[2 * i]) | std::uint8_t(bytes[2 * i + 1]) << 8);
    };
    QCOMPARE(viaHttp.terrain().size(), n);
    QCOMPARE(viaHttp.structure().size(), 2 * n);
    QCOMPARE(viaHttp.owner().size(), 2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        const geometry::CellId c = cells[i];
        QCOMPARE(byte(viaHttp.terrain(), i), mirror->terrain[c]);
        QCOMPARE(byte(viaHttp.elevation(), i), mirror->elevation[c]);
        QCOMPARE(byte(viaHttp.flora(), i), mirror->flora[c]);
        QCOMPARE(byte(viaHttp.water(), i), mirror->water[c]);
        QCOMPARE(byte(viaHttp.pollution(), i), mirror->pollution[c]);
        QCOMPARE(byte(viaHttp.resource(), i), mirror->resource[c]);
        QCOMPARE(word(viaHttp.structure(), i), mirror->structure[c]);
        QCOMPARE(byte(viaHttp.orientation(), i), mirror->orientation[c]);
        QCOMPARE(word(viaHttp.owner(), i), mirror->owner[c]);
    }
}

void tst_Http::badInputsGetJsonErrors_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QList<int>>("statuses");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QByteArray>("header"); // "name: value" the last response must carry

    const QByteArray close = "Host: t\r\nConnection: close\r\n\r\n";
    const QString badHttp = QStringLiteral("The request is not valid HTTP/1.1 (%1).");
    const QString chunks
        = QStringLiteral("chunk ids are 0..%1.").arg(geometry::HexSphere(kSize).chunkCount() - 1);

    QTest::newRow("garbage bytes")
        << QByteArray("\x01\xff\xfe garbage\r\n\r\n", 15) << QList<int>{400}
        << QStringLiteral("bad_request") << badHttp.arg("bad method") << QByteArray();
    QTest::newRow("an HTTP/0.9 request line")
        << QByteArray("GET /api/v1/world\r\n\r\n") << QList<int>{400}
        << QStringLiteral("bad_request") << badHttp.arg("bad target") << QByteArray();
    QTest::newRow("bare LF line endings")
        << QByteArray("GET /api/v1/world HTTP/1.1\nHost: t\n\n") << QList<int>{400}
        << QStringLiteral("bad_request") << badHttp.arg("bad version") << QByteArray();
    QTest::newRow("a header line without a colon")
        << QByteArray("GET /api/v1/world HTTP/1.1\r\nHost t\r\n\r\n") << QList<int>{400}
        << QStringLiteral("bad_request") << badHttp.arg("bad field") << QByteArray();
    QTest::newRow("a header over 8 KiB")
        << "GET /api/v1/world HTTP/1.1\r\nX-Big: " + repeated('a', 9000) + "\r\n" + close
        << QList<int>{431} << QStringLiteral("header_too_large")
        << QStringLiteral("The request head is larger than 8192 bytes.") << QByteArray();
    QTest::newRow("a head that never ends")
        << "GET /api/v1/world HTTP/1.1\r\nX-Big: " + repeated('a', 20000) << QList<int>{431}
        << QStringLiteral("header_too_large")
        << QStringLiteral("The request head is larger than 8192 bytes.") << QByteArray();
    QTest::newRow("a request line over 8 KiB")
        << "GET /" + repeated('x', 9000) + " HTTP/1.1\r\n" + close << QList<int>{431}
        << QStringLiteral("header_too_large")
        << QStringLiteral("The request head is larger than 8192 bytes.") << QByteArray();
    QTest::newRow("a body over the cap by Content-Length")
        << QByteArray("POST /api/v1/world HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n")
        << QList<int>{413} << QStringLiteral("payload_too_large")
        << QStringLiteral("The request body is larger than 65536 bytes.") << QByteArray();
    QByteArray chunked
        = "POST /api/v1/world HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 9; ++i)
        chunked += "2000\r\n" + repeated('b', 0x2000) + "\r\n";
    chunked += "0\r\n\r\n";
    QTest::newRow("a chunked body over the cap")
        << chunked << QList<int>{413} << QStringLiteral("payload_too_large")
        << QStringLiteral("The request body is larger than 65536 bytes.") << QByteArray();
    QTest::newRow("a Content-Length that is not a number")
        << QByteArray("POST /api/v1/world HTTP/1.1\r\nHost: t\r\nContent-Length: ten\r\n\r\n")
        << QList<int>{400} << QStringLiteral("bad_request") << badHttp.arg("bad Content-Length")
        << QByteArray();
    QTest::newRow("a chunk size that is not hex")
        << QByteArray("POST /api/v1/world HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
                      "chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        << QList<int>{400} << QStringLiteral("bad_request") << badHttp.arg("bad chunk")
        << QByteArray();
    QTest::newRow("an unknown route")
        << "GET /api/v1/nothing HTTP/1.1\r\n" + close << QList<int>{404}
        << QStringLiteral("not_found") << QStringLiteral("There is no route /api/v1/nothing.")
        << QByteArray();
    QTest::newRow("POST on the world")
        << "POST /api/v1/world HTTP/1.1\r\nContent-Length: 0\r\n" + close << QList<int>{405}
        << QStringLiteral("method_not_allowed")
        << QStringLiteral("POST is not allowed on /api/v1/world: use GET.")
        << QByteArray("allow: GET");
    QTest::newRow("DELETE on a chunk")
        << "DELETE /api/v1/chunks/1 HTTP/1.1\r\n" + close << QList<int>{405}
        << QStringLiteral("method_not_allowed")
        << QStringLiteral("DELETE is not allowed on /api/v1/chunks/1: use GET.")
        << QByteArray("allow: GET");
    QTest::newRow("chunk id -1") << "GET /api/v1/chunks/-1 HTTP/1.1\r\n" + close << QList<int>{400}
                                 << QStringLiteral("bad_request")
                                 << "The chunk id \"-1\" is not a number: " + chunks
                                 << QByteArray();
    QTest::newRow("chunk id abc") << "GET /api/v1/chunks/abc HTTP/1.1\r\n" + close
                                  << QList<int>{400} << QStringLiteral("bad_request")
                                  << "The chunk id \"abc\" is not a number: " + chunks
                                  << QByteArray();
    QTest::newRow("an empty chunk id")
        << "GET /api/v1/chunks/ HTTP/1.1\r\n" + close << QList<int>{400}
        << QStringLiteral("bad_request") << "The chunk id \"\" is not a number: " + chunks
        << QByteArray();
    QTest::newRow("chunk id 999999")
        << "GET /api/v1/chunks/999999 HTTP/1.1\r\n" + close << QList<int>{404}
        << QStringLiteral("not_found") << QStringLiteral("There is no chunk 999999: ") + chunks
        << QByteArray();
    QTest::newRow("chunk id with 30 digits")
        << "GET /api/v1/chunks/" + repeated('9', 30) + " HTTP/1.1\r\n" + close << QList<int>{400}
        << QStringLiteral("bad_request")
        << "The chunk id \"" + QString(30, '9') + "\" is not a number: " + chunks << QByteArray();
    QTest::newRow("a WebSocket upgrade with POST")
        << QByteArray("POST /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                      "dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n")
        << QList<int>{405} << QStringLiteral("method_not_allowed")
        << QStringLiteral("POST is not allowed on /ws: use GET.") << QByteArray("allow: GET");
    QTest::newRow("a plain GET on /ws")
        << "GET /ws HTTP/1.1\r\n" + close << QList<int>{426} << QStringLiteral("upgrade_required")
        << QStringLiteral("/ws speaks WebSocket only: send a WebSocket upgrade request.")
        << QByteArray("upgrade: websocket");
    QTest::newRow("a slow head (slowloris)")
        << QByteArray("GET /api/v1/world HTTP/1.1\r\nHost: t\r\nX-Slow: ") << QList<int>{408}
        << QStringLiteral("request_timeout")
        << QStringLiteral("The request head did not arrive within 5 seconds.") << QByteArray();
    QTest::newRow("a body that never comes")
        << QByteArray("POST /api/v1/world HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        << QList<int>{408} << QStringLiteral("request_timeout")
        << QStringLiteral("The request body did not arrive within 10 seconds.") << QByteArray();
    QTest::newRow("pipelined requests, answered in order")
        << "GET /api/v1/world HTTP/1.1\r\nHost: t\r\n\r\nGET /api/v1/chunks/2 "
           "HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\n"
               + close
        << QList<int>{200, 200, 404} << QStringLiteral("not_found")
        << QStringLiteral("There is no route /nope.") << QByteArray();
    QTest::newRow("a good request followed by garbage")
        << QByteArray("GET /api/v1/world HTTP/1.1\r\nHost: t\r\n\r\n\x01\x02\x03\r\n\r\n")
        << QList<int>{200, 400} << QStringLiteral("bad_request") << badHttp.arg("bad method")
        << QByteArray();
}

void tst_Http::badInputsGetJsonErrors()
{
    QFETCH(QByteArray, request);
    QFETCH(QList<int>, statuses);
    QFETCH(QString, code);
    QFETCH(QString, message);
    QFETCH(QByteArray, header);

    const QByteArray received = exchange(m_server.port(), request, 15'000);
    const std::vector<HttpResponse> responses = parseResponses(received);
    QList<int> got;
    for (const HttpResponse &r : responses)
        got.push_back(r.status);
    QVERIFY(!responses.empty());
    QVERIFY2(got == statuses, received.left(2000).constData());
    const HttpResponse &last = responses.back();
    QCOMPARE(last.headers.value("content-type"), QByteArray("application/json"));
    protocol::HttpError error;
    QVERIFY2(fromJson(last.body, &error), last.body.constData());
    QCOMPARE(QString::fromStdString(error.error().code()), code);
    QCOMPARE(QString::fromStdString(error.error().message()), message);
    if (!header.isEmpty()) {
        const QList<QByteArray> nameValue = header.split(':');
        QCOMPARE(last.headers.value(nameValue[0]), nameValue[1].trimmed());
    }
    for (const HttpResponse &r : responses) {
        if (r.status != 200)
            continue;
        QJsonParseError parseError;
        QJsonDocument::fromJson(r.body, &parseError);
        QCOMPARE(parseError.error, QJsonParseError::NoError);
    }
}

void tst_Http::keepAliveStopsAtTheRequestCap()
{
    // 101 pipelined requests on one connection: the first 100 are answered, the 100th
    // says Connection: close, and the server closes.
    QByteArray requests;
    for (int i = 0; i < 101; ++i)
        requests += "GET /api/v1/world HTTP/1.1\r\nHost: t\r\n\r\n";
    const std::vector<HttpResponse> responses = parseResponses(exchange(m_server.port(), requests));
    QCOMPARE(int(responses.size()), 100);
    for (const HttpResponse &r : responses)
        QCOMPARE(r.status, 200);
    QCOMPARE(responses.back().headers.value("connection"), QByteArray("close"));
    QVERIFY(!responses.front().headers.contains("connection"));
}

void tst_Http::idleKeptAliveConnectionCloses()
{
    // A kept-alive connection that asks nothing more is closed after 15 s, silently.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server.port());
    QVERIFY(socket.waitForConnected(5'000));
    socket.write("GET /api/v1/world HTTP/1.1\r\nHost: t\r\n\r\n");
    QByteArray received;
    QTRY_VERIFY_WITH_TIMEOUT((received += socket.readAll(), parseResponses(received).size() == 1),
                             5'000);
    QElapsedTimer idle;
    idle.start();
    while (socket.state() == QAbstractSocket::ConnectedState && idle.elapsed() < 25'000) {
        socket.waitForReadyRead(100);
        received += socket.readAll();
    }
    QCOMPARE(socket.state(), QAbstractSocket::UnconnectedState);
    QVERIFY2(idle.elapsed() >= 14'000 && idle.elapsed() < 20'000,
             qPrintable(QString::number(idle.elapsed())));
    QCOMPARE(int(parseResponses(received).size()), 1);
}

void tst_Http::stillServesAfterBadInputs()
{
    int status = 0;
    protocol::WorldInfo info;
    QVERIFY(fromJson(get(base() + "/api/v1/world", &status), &info));
    QCOMPARE(status, 200);
    QCOMPARE(info.subdivisions(), std::uint32_t(kSize));
    WsClient ws(m_server.url());
    QVERIFY(ws.join(""));
    QVERIFY(ws.waitFor([&] { return ws.lastTick() > info.tick() + 3; }));
    // Host mode's client connects without a path; that upgrade is handed over too.
    WsClient noPath(QStringLiteral("ws://127.0.0.1:%1").arg(m_server.port()));
    QVERIFY(noPath.join(""));
    QVERIFY(noPath.waitFor([&] { return noPath.lastTick() > info.tick() + 3; }));
}

void tst_Http::connectionCapAnswers503()
{
    // A server of its own: 10 connections past the cap each get 503 with Retry-After,
    // while the ones within the cap stay open.
    ServerProcess server;
    const int cap = 256;
    QVERIFY2(server.start({"--size", "4", "--max-http", QString::number(cap)}),
             qPrintable(server.output()));
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < cap + 10; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        socket->connectToHost(QHostAddress::LocalHost, server.port());
        QVERIFY(socket->waitForConnected(5'000));
        sockets.push_back(std::move(socket));
    }
    std::vector<QByteArray> received(sockets.size());
    auto busyCount = [&] {
        int n = 0;
        for (std::size_t i = 0; i < sockets.size(); ++i) {
            received[i] += sockets[i]->readAll();
            n += received[i].startsWith("HTTP/1.1 503");
        }
        return n;
    };
    QElapsedTimer timer;
    timer.start();
    while (busyCount() < 10 && timer.elapsed() < 4'000)
        QTest::qWait(20);
    QCOMPARE(busyCount(), 10);
    for (const QByteArray &bytes : received) {
        if (!bytes.startsWith("HTTP/1.1 503"))
            continue;
        const auto responses = parseResponses(bytes);
        QCOMPARE(int(responses.size()), 1);
        QCOMPARE(responses[0].headers.value("retry-after"), QByteArray("5"));
        protocol::HttpError error;
        QVERIFY(fromJson(responses[0].body, &error));
        QCOMPARE(error.error().code(), std::string("server_busy"));
        QCOMPARE(QString::fromStdString(error.error().message()),
                 QString("The server is busy (256 open connections): try again in 5 seconds."));
    }
    sockets.clear();
    // Once they are gone, the server serves again.
    int status = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        (get(QStringLiteral("http://127.0.0.1:%1/api/v1/world").arg(server.port()), &status),
         status == 200),
        10'000);
}

void tst_Http::curlExamplesInProtocolDocRun()
{
    QFile doc(QStringLiteral(HEX_SOURCE_DIR "/docs/PROTOCOL.md"));
    QVERIFY(doc.open(QIODevice::ReadOnly | QIODevice::Text));
    const QString text = QString::fromUtf8(doc.readAll());
    const qsizetype section = text.indexOf(QStringLiteral("\n### HTTP examples"));
    QVERIFY2(section >= 0, "docs/PROTOCOL.md has no \"### HTTP examples\" section");
    const qsizetype sectionEnd
        = text.indexOf(QRegularExpression(QStringLiteral("\n##? ")), section + 1);
    const QString examples = text.mid(section, sectionEnd < 0 ? -1 : sectionEnd - section);
    // The blocks run in order as one shell script, so that later lines can use what
    // earlier ones saved (a token, a session id). Each curl line's output (its stdout,
    // or the file it writes) is kept as OUT/N.json and must be a JSON object.
    QTemporaryDir work;
    QVERIFY(work.isValid());
    QStringList script{QStringLiteral("set -e")};
    QStringList commands;
    static const QRegularExpression block(QStringLiteral("```sh\n(.*?)```"),
                                          QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression intoFile(QStringLiteral(" > (\\S+)$"));
    for (auto it = block.globalMatch(examples); it.hasNext();) {
        for (const QString &line : it.next().captured(1).split('\n')) {
            if (line.isEmpty() || line.startsWith(QStringLiteral("export HEX=")))
                continue;
            if (!line.startsWith(QStringLiteral("curl "))) {
                script << line;
                continue;
            }
            const QString out = QStringLiteral("\"$OUT/%1.json\"").arg(commands.size());
            const auto file = intoFile.match(line);
            script << (file.hasMatch() ? line + QStringLiteral(" && cp %1 %2").arg(file.captured(1), out)
                                       : line + QStringLiteral(" > ") + out);
            commands << line;
        }
    }
    QVERIFY2(commands.size() >= 10, qPrintable(examples));

    QProcess shell;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HEX"), base());
    env.insert(QStringLiteral("OUT"), work.path());
    shell.setProcessEnvironment(env);
    shell.setWorkingDirectory(work.path());
    shell.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), script.join('\n')});
    QVERIFY(shell.waitForFinished(60'000));
    QVERIFY2(shell.exitStatus() == QProcess::NormalExit && shell.exitCode() == 0,
             qPrintable(script.join('\n') + QStringLiteral("\n: ")
                        + QString::fromUtf8(shell.readAllStandardError())));
    for (qsizetype i = 0; i < commands.size(); ++i) {
        QFile output(work.filePath(QStringLiteral("%1.json").arg(i)));
        QVERIFY2(output.open(QIODevice::ReadOnly), qPrintable(commands[i]));
        const QByteArray out = output.readAll();
        QJsonParseError error;
        const QJsonDocument json = QJsonDocument::fromJson(out, &error);
        QVERIFY2(error.error == QJsonParseError::NoError && json.isObject(),
                 qPrintable(commands[i] + ": " + QString::fromUtf8(out)));
    }
}

QTEST_GUILESS_MAIN(tst_Http)
#include "tst_http.moc"
