#include "httpfrontdoor.h"

#include "netlog.h"

#include "hexsphere.pb.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"
#include "sim/world.h"

#include <QCoreApplication>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>

#include <sys/socket.h>

namespace hex::server {

namespace http = boost::beast::http;

namespace {

using Request = http::request<http::string_body>;
using RequestParser = http::request_parser<http::string_body>;

QString tr(const char *text)
{
    return QCoreApplication::translate("hex::server::HttpFrontDoor", text);
}

/// What the front door answers: a status, a JSON body, and the few headers that vary.
struct Response
{
    http::status status = http::status::ok;
    std::string json;
    /// Allow (405), Retry-After (503) or Upgrade (426); empty when not needed.
    http::field extraField = http::field::unknown;
    std::string extraValue;
    /// The connection closes after this response.
    bool close = false;
};

Response errorResponse(http::status status, const char *code, const QString &message)
{
    protocol::HttpError error;
    error.mutable_error()->set_code(code);
    error.mutable_error()->set_message(message.toStdString());
    Response response;
    response.status = status;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(error, &response.json, options);
    return response;
}

std::string toJson(const google::protobuf::Message &message)
{
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    return json;
}

QString describeMethod(const Request &request)
{
    return QString::fromLatin1(request.method_string().data(),
                               qsizetype(request.method_string().size()));
}

/// The refusal for a parser error met while reading a request.
Response parseErrorResponse(const boost::system::error_code &ec)
{
    if (ec == http::error::header_limit) {
        return errorResponse(
            http::status::request_header_fields_too_large, "header_too_large",
            tr("The request head is larger than %1 bytes.").arg(HttpFrontDoor::kMaxHeadBytes));
    }
    if (ec == http::error::body_limit) {
        return errorResponse(
            http::status::payload_too_large, "payload_too_large",
            tr("The request body is larger than %1 bytes.").arg(HttpFrontDoor::kMaxBodyBytes));
    }
    return errorResponse(
        http::status::bad_request, "bad_request",
        tr("The request is not valid HTTP/1.1 (%1).").arg(QString::fromStdString(ec.message())));
}

/// The response as bytes on the wire: status line, headers, JSON body. Serialised by
/// Beast, which also writes Content-Length.
std::string serialize(const Response &response)
{
    http::response<http::string_body> message{response.status, 11};
    message.set(http::field::server, "hexsphere");
    message.set(http::field::content_type, "application/json");
    if (response.extraField != http::field::unknown)
        message.set(response.extraField, response.extraValue);
    message.keep_alive(!response.close);
    message.body() = response.json + "\n";
    message.prepare_payload();
    std::ostringstream out;
    out << message;
    return out.str();
}

} // namespace

/// One HTTP connection: reads requests with a fresh parser each, answers them in order,
/// and either hands the socket over (WebSocket upgrade) or closes it when done.
class HttpFrontDoor::Connection
{
public:
    /// Every signal reaches this object through `m_timer` as the context, so that
    /// destroying the Connection cuts them all.
    Connection(HttpFrontDoor &door, QTcpSocket *socket)
        : m_door(door)
        , m_socket(socket)
        , m_timer(new QTimer(socket))
    {
        m_timer->setSingleShot(true);
        QObject::connect(m_timer, &QTimer::timeout, m_timer, [this] { onTimeout(); });
        QObject::connect(socket, &QTcpSocket::readyRead, m_timer, [this] { process(); });
        QObject::connect(socket, &QTcpSocket::bytesWritten, m_timer, [this] { onBytesWritten(); });
        m_timer->start(kHeadTimeoutMs);
    }

    ~Connection()
    {
        // The socket may be in one of this object's signals right now: disconnect
        // instead of deleting.
        QObject::disconnect(m_socket, nullptr, m_timer, nullptr);
        m_timer->disconnect();
        m_timer->stop();
        m_timer->deleteLater();
    }

    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    /// Reads and answers as many requests as have arrived.
    void process()
    {
        while (true) {
            if (m_phase == Phase::Closing) {
                m_socket->skip(m_socket->bytesAvailable());
                return;
            }
            if (m_socket->bytesAvailable() == 0)
                return;
            if (m_phase == Phase::Idle) {
                m_phase = Phase::Head;
                m_timer->start(kHeadTimeoutMs);
            }
            if (m_phase == Phase::Head && !readHead())
                return;
            if (m_phase == Phase::Body && !readBody())
                return;
        }
    }

    /// Closes the connection now, without a response.
    void abort() { m_socket->abort(); }

private:
    enum class Phase { Head, Body, Idle, Closing };

    /// Parses the head from the unread bytes, consuming them only once it is complete
    /// and not a WebSocket upgrade. False when waiting for more bytes or when done.
    bool readHead()
    {
        const QByteArray data
            = m_socket->peek(std::min<qint64>(m_socket->bytesAvailable(), kMaxHeadBytes + 1));
        m_parser.emplace();
        m_parser->header_limit(kMaxHeadBytes);
        m_parser->body_limit(kMaxBodyBytes);
        m_parser->eager(false);
        boost::system::error_code ec;
        const std::size_t used
            = m_parser->put(boost::asio::buffer(data.constData(), std::size_t(data.size())), ec);
        if (ec == http::error::need_more) {
            if (data.size() > kMaxHeadBytes)
                ec = http::error::header_limit;
            else
                return false;
        }
        if (ec) {
            refuse(parseErrorResponse(ec), "bad head");
            return false;
        }
        const Request &request = m_parser->get();
        // Any path: `/ws` is the documented one, but clients that connect to
        // ws://HOST:PORT (path "/") have always been served.
        if (boost::beast::websocket::is_upgrade(request)) {
            handOver();
            return false;
        }
        m_socket->skip(qint64(used));
        if (m_parser->is_done()) {
            respond();
        } else {
            m_phase = Phase::Body;
            m_timer->start(kBodyTimeoutMs);
        }
        return true;
    }

    /// Feeds the body's unread bytes to the parser. False when waiting or when done.
    bool readBody()
    {
        while (!m_parser->is_done()) {
            const QByteArray data = m_socket->peek(m_socket->bytesAvailable());
            if (data.isEmpty())
                return false;
            boost::system::error_code ec;
            const std::size_t used = m_parser->put(
                boost::asio::buffer(data.constData(), std::size_t(data.size())), ec);
            m_socket->skip(qint64(used));
            if (ec == http::error::need_more) {
                if (used == 0)
                    return false;
                continue;
            }
            if (ec) {
                refuse(parseErrorResponse(ec), "bad body");
                return false;
            }
        }
        respond();
        return true;
    }

    static std::string path(const Request &request)
    {
        const std::string_view target(request.target().data(), request.target().size());
        return std::string(target.substr(0, target.find('?')));
    }

    void respond()
    {
        const Request &request = m_parser->get();
        ++m_served;
        Response response = route(request);
        if (!request.keep_alive() || m_served >= kMaxRequestsPerConnection)
            response.close = true;
        const int status = int(response.status);
        if (status >= 400) {
            qCInfo(lcNet).nospace().noquote()
                << "tick " << m_door.m_world.state().tick << ": http " << status << " "
                << describeMethod(request) << " " << QString::fromStdString(path(request))
                << " from " << m_socket->peerAddress().toString();
        } else {
            qCDebug(lcNet).nospace().noquote()
                << "tick " << m_door.m_world.state().tick << ": http " << status << " "
                << describeMethod(request) << " " << QString::fromStdString(path(request));
        }
        send(response);
        m_parser.reset();
        if (response.close) {
            closeGracefully();
            return;
        }
        m_phase = Phase::Idle;
        m_timer->start(kIdleTimeoutMs);
    }

    Response route(const Request &request) const
    {
        const std::string target = path(request);
        const QString shown = QString::fromStdString(target);
        const bool isGet = request.method() == http::verb::get;
        auto wrongMethod = [&] {
            Response r = errorResponse(
                http::status::method_not_allowed, "method_not_allowed",
                tr("%1 is not allowed on %2: use GET.").arg(describeMethod(request), shown));
            r.extraField = http::field::allow;
            r.extraValue = "GET";
            return r;
        };
        static const std::string chunksPrefix = "/api/v1/chunks/";
        if (target == "/api/v1/world")
            return isGet ? world() : wrongMethod();
        if (target.starts_with(chunksPrefix))
            return isGet ? chunk(target.substr(chunksPrefix.size())) : wrongMethod();
        if (target == "/ws") {
            if (!isGet)
                return wrongMethod();
            Response r = errorResponse(http::status::upgrade_required, "upgrade_required",
                                       tr("/ws speaks WebSocket only: send a WebSocket upgrade "
                                          "request."));
            r.extraField = http::field::upgrade;
            r.extraValue = "websocket";
            return r;
        }
        return errorResponse(http::status::not_found, "not_found",
                             tr("There is no route %1.").arg(shown));
    }

    Response world() const
    {
        const sim::WorldState &state = m_door.m_world.state();
        protocol::WorldInfo info;
        info.set_protocol_version(protocol::kProtocolVersion);
        info.set_world_name(m_door.m_info.worldName.toStdString());
        info.set_subdivisions(std::uint32_t(state.sphere->subdivisions()));
        info.set_cell_count(state.sphere->cellCount());
        info.set_chunk_split(std::uint32_t(state.sphere->chunkSplit()));
        info.set_seed(state.seed);
        info.set_tick(state.tick);
        info.set_ups(std::uint32_t(m_door.m_info.ups));
        Response response;
        response.json = toJson(info);
        return response;
    }

    Response chunk(const std::string &id) const
    {
        const sim::WorldState &state = m_door.m_world.state();
        const std::uint32_t count = state.sphere->chunkCount();
        const QString shown = QString::fromStdString(id);
        const bool digits
            = !id.empty() && id.size() <= 18
              && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) {
            return errorResponse(http::status::bad_request, "bad_request",
                                 tr("The chunk id \"%1\" is not a number: chunk ids are 0..%2.")
                                     .arg(shown)
                                     .arg(count - 1));
        }
        const unsigned long long chunk = std::stoull(id);
        if (chunk >= count) {
            return errorResponse(
                http::status::not_found, "not_found",
                tr("There is no chunk %1: chunk ids are 0..%2.").arg(chunk).arg(count - 1));
        }
        protocol::ChunkSnapshot snapshot;
        protocol::encodeChunkSnapshot(state, geometry::ChunkId(chunk), &snapshot);
        Response response;
        response.json = toJson(snapshot);
        return response;
    }

    void send(const Response &response)
    {
        const std::string bytes = serialize(response);
        m_socket->write(bytes.data(), qint64(bytes.size()));
    }

    /// Answers with a refusal and closes: after an unreadable request the stream cannot
    /// be trusted.
    void refuse(Response response, const char *what)
    {
        response.close = true;
        qCInfo(lcNet).nospace().noquote()
            << "tick " << m_door.m_world.state().tick << ": http " << int(response.status) << " ("
            << what << ") to " << m_socket->peerAddress().toString();
        send(response);
        m_parser.reset();
        closeGracefully();
    }

    /// Stops reading requests, sends what is queued, then half-closes so the peer reads
    /// the response before the connection goes (a close with unread input would reset it).
    void closeGracefully()
    {
        m_phase = Phase::Closing;
        m_socket->skip(m_socket->bytesAvailable());
        m_timer->start(2'000);
        onBytesWritten();
    }

    void onBytesWritten()
    {
        if (m_phase != Phase::Closing || m_socket->bytesToWrite() > 0 || m_halfClosed)
            return;
        m_socket->flush();
        if (m_socket->bytesToWrite() > 0)
            return;
        m_halfClosed = true;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    }

    void onTimeout()
    {
        switch (m_phase) {
        case Phase::Closing:
        case Phase::Idle:
            m_socket->disconnectFromHost();
            return;
        case Phase::Head:
            refuse(errorResponse(http::status::request_timeout, "request_timeout",
                                 tr("The request head did not arrive within %1 seconds.")
                                     .arg(kHeadTimeoutMs / 1000)),
                   "slow head");
            return;
        case Phase::Body:
            refuse(errorResponse(http::status::request_timeout, "request_timeout",
                                 tr("The request body did not arrive within %1 seconds.")
                                     .arg(kBodyTimeoutMs / 1000)),
                   "slow body");
            return;
        }
    }

    void handOver()
    {
        QTcpSocket *socket = m_socket;
        HttpFrontDoor &door = m_door;
        qCDebug(lcNet).nospace().noquote()
            << "tick " << m_door.m_world.state().tick << ": WebSocket upgrade from "
            << socket->peerAddress().toString();
        socket->disconnect();
        door.forget(socket); // deletes this Connection: touch no member below
        socket->setParent(nullptr);
        door.m_webSocket.handleConnection(socket);
    }

    HttpFrontDoor &m_door;
    QTcpSocket *m_socket;
    QTimer *m_timer;
    std::optional<RequestParser> m_parser;
    Phase m_phase = Phase::Head;
    int m_served = 0;
    bool m_halfClosed = false;
};

HttpFrontDoor::HttpFrontDoor(const sim::World &world, ServerInfo info,
                             WebSocketTransport &webSocket, QObject *parent)
    : QObject(parent)
    , m_world(world)
    , m_info(std::move(info))
    , m_webSocket(webSocket)
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &HttpFrontDoor::onNewConnection);
}

HttpFrontDoor::~HttpFrontDoor()
{
    close();
}

bool HttpFrontDoor::listen(const QHostAddress &address, quint16 port)
{
    if (!m_server->listen(address, port)) {
        m_errorString = tr("Cannot listen on %1 port %2: %3")
                            .arg(address.toString())
                            .arg(port)
                            .arg(m_server->errorString());
        return false;
    }
    return true;
}

quint16 HttpFrontDoor::port() const
{
    return m_server->isListening() ? m_server->serverPort() : 0;
}

void HttpFrontDoor::close()
{
    m_server->close();
    auto connections = std::move(m_connections);
    m_connections.clear();
    for (auto &[socket, connection] : connections) {
        socket->disconnect();
        socket->abort();
        socket->deleteLater();
    }
}

void HttpFrontDoor::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        if (m_connections.size() >= std::size_t(kMaxConnections)) {
            qCWarning(lcNet).nospace().noquote()
                << "tick " << m_world.state().tick << ": refusing "
                << socket->peerAddress().toString() << ": HTTP connection limit " << kMaxConnections
                << " reached";
            Response busy = errorResponse(
                http::status::service_unavailable, "server_busy",
                tr("The server is busy (%1 open connections): try again in %2 seconds.")
                    .arg(kMaxConnections)
                    .arg(kRetryAfterSeconds));
            busy.extraField = http::field::retry_after;
            busy.extraValue = std::to_string(kRetryAfterSeconds);
            busy.close = true;
            const std::string bytes = serialize(busy);
            socket->write(bytes.data(), qint64(bytes.size()));
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            socket->disconnectFromHost();
            QTimer::singleShot(2'000, socket, [socket] { socket->abort(); });
            continue;
        }
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            forget(socket);
            socket->deleteLater();
        });
        m_connections.emplace(socket, std::make_unique<Connection>(*this, socket));
    }
}

void HttpFrontDoor::forget(QTcpSocket *socket)
{
    m_connections.erase(socket);
}

} // namespace hex::server
