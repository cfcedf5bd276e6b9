#include "httpfrontdoor.h"

#include "netlog.h"

#include "hexsphere.pb.h"
#include "protocol/codec.h"
#include "protocol/protocolversion.h"
#include "protocol/worldcodec.h"
#include "sim/world.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
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

Response jsonResponse(const google::protobuf::Message &message,
                      http::status status = http::status::ok)
{
    Response response;
    response.status = status;
    response.json = toJson(message);
    return response;
}

/// The HTTP form of a session refusal: its status and code, with WWW-Authenticate on
/// 401 and Retry-After on 429 and 503.
Response refusalResponse(const Refusal &refusal)
{
    Response response = errorResponse(http::status(refusal.httpStatus), refusal.httpCode,
                                      refusal.message);
    if (refusal.httpStatus == 401) {
        response.extraField = http::field::www_authenticate;
        response.extraValue = "Bearer realm=\"hexsphere\"";
    } else if (refusal.httpStatus == 429 || refusal.httpStatus == 503) {
        response.extraField = http::field::retry_after;
        response.extraValue = std::to_string(std::max(1, (refusal.retryAfterMs + 999) / 1000));
    }
    return response;
}

/// Parses `body` as the protobuf JSON mapping of `out`. Unknown fields are refused, so
/// that a misspelt field is an error rather than silently ignored.
std::optional<Response> parseJson(const std::string &body, google::protobuf::Message *out)
{
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(body, out, options);
    if (status.ok())
        return std::nullopt;
    return errorResponse(http::status::bad_request, "invalid_json",
                         tr("The body is not a valid %1 in JSON: %2")
                             .arg(QString::fromStdString(out->GetDescriptor()->name()),
                                  QString::fromStdString(std::string(status.message()))));
}

/// The value of `key` in the query string of `target`, if present.
std::optional<std::string> queryValue(std::string_view target, std::string_view key)
{
    const std::size_t q = target.find('?');
    if (q == std::string_view::npos)
        return std::nullopt;
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (pair.substr(0, eq) == key)
            return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (amp == std::string_view::npos)
            break;
        query = query.substr(amp + 1);
    }
    return std::nullopt;
}

/// A decimal number of at most `maxDigits` digits, or nullopt.
std::optional<std::uint64_t> parseNumber(std::string_view text, std::size_t maxDigits = 18)
{
    if (text.empty() || text.size() > maxDigits
        || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::stoull(std::string(text));
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
        , m_guard(new QObject)
    {
        // Qt stops reading from the kernel once this much is buffered: a client that
        // pipelines while its request waits cannot make the server buffer without end.
        socket->setReadBufferSize(kMaxHeadBytes + kMaxBodyBytes + 4096);
        m_timer->setSingleShot(true);
        QObject::connect(m_timer, &QTimer::timeout, m_timer, [this] { onTimeout(); });
        QObject::connect(socket, &QTcpSocket::readyRead, m_timer, [this] { process(); });
        QObject::connect(socket, &QTcpSocket::bytesWritten, m_timer, [this] { onBytesWritten(); });
        m_timer->start(kHeadTimeoutMs);
    }

    ~Connection()
    {
        // A client gone mid-poll: the session no longer has this poll held.
        if (m_poll) {
            m_door.m_polls.erase(this);
            --m_poll->session->heldPolls;
        }
        // Cuts callbacks of a password check still running for this connection.
        delete m_guard;
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
            if (m_phase == Phase::Waiting)
                return;
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
    /// Waiting: the request was read and its answer comes later (a password check or
    /// a held long-poll); nothing more is read meanwhile.
    enum class Phase { Head, Body, Waiting, Idle, Closing };
    struct Poll
    {
        SessionManager::SessionPtr session;
        std::uint64_t after = 0;
    };

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
            if (!m_door.m_webSocket.acceptsHandshake()) {
                Response busy = errorResponse(
                    http::status::service_unavailable, "server_busy",
                    tr("Too many WebSocket handshakes are in progress: try again in %1 seconds.")
                        .arg(kRetryAfterSeconds));
                busy.extraField = http::field::retry_after;
                busy.extraValue = std::to_string(kRetryAfterSeconds);
                refuse(busy, "handshakes busy");
                return false;
            }
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
        m_method = describeMethod(request);
        m_path = QString::fromStdString(path(request));
        m_keepAlive = request.keep_alive() && m_served < kMaxRequestsPerConnection;
        std::optional<Response> response = route(request);
        if (!response) {
            // Answered later by complete(): a password check or a held long-poll.
            m_phase = Phase::Waiting;
            if (!m_poll)
                m_timer->start(kHeadTimeoutMs * 6);
            return;
        }
        complete(std::move(*response));
    }

    /// Sends the response to the current request and gets ready for the next one.
    void complete(Response response)
    {
        if (m_poll) {
            m_door.m_polls.erase(this);
            --m_poll->session->heldPolls;
            m_poll.reset();
        }
        if (!m_keepAlive)
            response.close = true;
        const int status = int(response.status);
        if (status >= 400) {
            qCInfo(lcNet).nospace().noquote()
                << "tick " << tick() << ": http " << status << " " << m_method << " " << m_path
                << " from " << m_socket->peerAddress().toString();
        } else {
            qCDebug(lcNet).nospace().noquote()
                << "tick " << tick() << ": http " << status << " " << m_method << " " << m_path;
        }
        send(response);
        m_parser.reset();
        if (response.close) {
            closeGracefully();
            return;
        }
        m_phase = Phase::Idle;
        m_timer->start(kIdleTimeoutMs);
        // Requests that arrived while this one waited.
        if (m_socket->bytesAvailable() > 0)
            QTimer::singleShot(0, m_guard, [this] { process(); });
    }

public:
    /// Answers a held long-poll if its session has something new (or ended). False
    /// when it keeps waiting.
    bool wakePoll()
    {
        if (!m_poll)
            return false;
        Session &session = *m_poll->session;
        if (session.ended) {
            Refusal ended;
            ended.code = protocol::Error::UNAUTHORIZED;
            ended.httpStatus = 401;
            ended.httpCode = "unauthorized";
            ended.message = tr("The session ended while this poll waited.");
            complete(refusalResponse(ended));
            return true;
        }
        if (session.lastSeq <= m_poll->after)
            return false;
        complete(batch(session, m_poll->after, false));
        return true;
    }

private:
    std::uint64_t tick() const { return m_door.m_sessions.world().state().tick; }

    std::optional<Response> route(const Request &request)
    {
        const std::string target(request.target().data(), request.target().size());
        const std::string route = path(request);
        const QString shown = QString::fromStdString(route);
        const http::verb verb = request.method();
        auto wrongMethod = [&](const char *allowed) {
            Response r = errorResponse(http::status::method_not_allowed, "method_not_allowed",
                                       tr("%1 is not allowed on %2: use %3.")
                                           .arg(describeMethod(request), shown,
                                                QString::fromLatin1(allowed)));
            r.extraField = http::field::allow;
            r.extraValue = allowed;
            return r;
        };
        static const std::string chunksPrefix = "/api/v1/chunks/";
        static const std::string mailboxPrefix = "/mailbox/";
        if (route == "/api/v1/world")
            return verb == http::verb::get ? world() : wrongMethod("GET");
        if (route == "/api/v1/status")
            return verb == http::verb::get ? status() : wrongMethod("GET");
        if (route.starts_with(chunksPrefix)) {
            return verb == http::verb::get ? chunk(route.substr(chunksPrefix.size()))
                                           : wrongMethod("GET");
        }
        if (route == "/api/v1/session") {
            if (verb == http::verb::post)
                return openSession(request, false);
            if (verb == http::verb::delete_)
                return endSession(request);
            return wrongMethod("POST, DELETE");
        }
        if (route == "/api/v1/accounts")
            return verb == http::verb::post ? openSession(request, true) : wrongMethod("POST");
        if (route == "/api/v1/actions")
            return verb == http::verb::post ? actions(request, nullptr) : wrongMethod("POST");
        if (route == "/api/v1/view")
            return verb == http::verb::post ? view(request) : wrongMethod("POST");
        if (route == "/api/v1/chat")
            return verb == http::verb::post ? chat(request) : wrongMethod("POST");
        if (route == "/api/v1/poll")
            return verb == http::verb::get ? poll(request, target) : wrongMethod("GET");
        if (route.starts_with(mailboxPrefix)) {
            const std::string rest = route.substr(mailboxPrefix.size());
            const std::size_t slash = rest.find('/');
            const std::string id = rest.substr(0, slash);
            const std::string what = slash == std::string::npos ? "" : rest.substr(slash + 1);
            if (what == "actions")
                return verb == http::verb::post ? actions(request, &id) : wrongMethod("POST");
            if (what == "messages")
                return verb == http::verb::get ? mailbox(request, id) : wrongMethod("GET");
        }
        if (route == "/ws") {
            if (verb != http::verb::get)
                return wrongMethod("GET");
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

    /// The session named by the request's `Authorization: Bearer TOKEN`.
    SessionManager::Result authenticate(const Request &request)
    {
        const auto field = request.find(http::field::authorization);
        if (field == request.end()) {
            return m_door.m_sessions.authenticate(QString());
        }
        const std::string_view value(field->value().data(), field->value().size());
        static constexpr std::string_view scheme = "Bearer ";
        if (value.size() <= scheme.size()
            || !std::equal(scheme.begin(), scheme.end(), value.begin(),
                           [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
            Refusal refusal;
            refusal.code = protocol::Error::UNAUTHORIZED;
            refusal.httpStatus = 401;
            refusal.httpCode = "unauthorized";
            refusal.message = tr("The Authorization header must be \"Bearer TOKEN\".");
            return tl::unexpected(refusal);
        }
        auto session = m_door.m_sessions.authenticate(QString::fromLatin1(
            value.substr(scheme.size()).data(), qsizetype(value.size() - scheme.size())));
        if (session)
            m_door.m_sessions.noteHttpRequest(**session);
        return session;
    }

    /// The server's figures for operators: tick, rate, sessions, persistence.
    Response status() const
    {
        Response response;
        response.json = QJsonDocument(m_door.m_sessions.status())
                            .toJson(QJsonDocument::Compact)
                            .toStdString();
        return response;
    }

    Response world() const
    {
        protocol::WorldInfo info;
        m_door.m_sessions.fillWorldInfo(&info, nullptr);
        return jsonResponse(info);
    }

    Response chunk(const std::string &id) const
    {
        const sim::WorldState &state = m_door.m_sessions.world().state();
        const std::uint32_t count = state.sphere->chunkCount();
        const QString shown = QString::fromStdString(id);
        const auto chunk = parseNumber(id);
        if (!chunk) {
            return errorResponse(http::status::bad_request, "bad_request",
                                 tr("The chunk id \"%1\" is not a number: chunk ids are 0..%2.")
                                     .arg(shown)
                                     .arg(count - 1));
        }
        if (*chunk >= count) {
            return errorResponse(
                http::status::not_found, "not_found",
                tr("There is no chunk %1: chunk ids are 0..%2.").arg(*chunk).arg(count - 1));
        }
        protocol::ChunkSnapshot snapshot;
        protocol::encodeChunkSnapshot(state, geometry::ChunkId(*chunk), &snapshot);
        return jsonResponse(snapshot);
    }

    /// POST /api/v1/session (guest or login) and POST /api/v1/accounts (register).
    std::optional<Response> openSession(const Request &request, bool registering)
    {
        protocol::SessionRequest body;
        if (!request.body().empty()) {
            if (auto bad = parseJson(request.body(), &body))
                return bad;
        }
        const QString name = QString::fromStdString(body.player_name());
        const QString password = QString::fromStdString(body.password());
        const std::optional<protocol::View> view
            = body.has_view() ? std::optional(body.view()) : std::nullopt;
        SessionManager &sessions = m_door.m_sessions;
        if (const auto admitted
            = sessions.checkJoinPassword(QString::fromStdString(body.server_password()));
            !admitted)
            return refusalResponse(admitted.error());
        if (!registering && password.isEmpty()) {
            auto session = sessions.openGuest(name, view);
            if (!session)
                return refusalResponse(session.error());
            sessions.noteHttpRequest(**session);
            return sessionResponse(**session, http::status::ok);
        }
        if (registering && password.isEmpty()) {
            return errorResponse(http::status::bad_request, "weak_password",
                                 tr("An account needs a password."));
        }
        auto done = [this, registering](SessionManager::Result result) {
            if (!result) {
                complete(refusalResponse(result.error()));
                return;
            }
            m_door.m_sessions.noteHttpRequest(**result);
            complete(sessionResponse(**result,
                                     registering ? http::status::created : http::status::ok));
        };
        if (registering)
            sessions.registerAccount(name, password, view, m_guard, done);
        else
            sessions.login(name, password, view, m_guard, done);
        return std::nullopt;
    }

    Response sessionResponse(const Session &session, http::status status) const
    {
        protocol::SessionInfo info;
        m_door.m_sessions.fillSessionInfo(&info, session);
        return jsonResponse(info, status);
    }

    Response endSession(const Request &request)
    {
        const auto session = authenticate(request);
        if (!session)
            return refusalResponse(session.error());
        const protocol::SessionInfo gone;
        m_door.m_sessions.end(*session, tr("The client ended the session."));
        return jsonResponse(gone);
    }

    /// POST /api/v1/actions and POST /mailbox/{id}/actions.
    Response actions(const Request &request, const std::string *mailboxId)
    {
        const auto session = authenticate(request);
        if (!session)
            return refusalResponse(session.error());
        if (mailboxId) {
            if (auto wrong = checkMailbox(**session, *mailboxId))
                return *wrong;
        }
        protocol::ActionBatch batch;
        if (auto bad = parseJson(request.body(), &batch))
            return *bad;
        if (batch.actions_size() > kMaxActionsPerRequest) {
            return errorResponse(http::status::bad_request, "bad_action",
                                 tr("%1 actions in one request is more than %2.")
                                     .arg(batch.actions_size())
                                     .arg(kMaxActionsPerRequest));
        }
        std::vector<const protocol::ClientAction *> list;
        for (const protocol::ClientAction &action : batch.actions())
            list.push_back(&action);
        const auto queued = m_door.m_sessions.queueActions(**session, list);
        if (!queued)
            return refusalResponse(queued.error());
        protocol::ActionBatchReply reply;
        reply.set_queued(std::uint32_t(list.size()));
        reply.set_tick(*queued);
        return jsonResponse(reply, http::status::accepted);
    }

    Response view(const Request &request)
    {
        const auto session = authenticate(request);
        if (!session)
            return refusalResponse(session.error());
        protocol::View view;
        if (auto bad = parseJson(request.body(), &view))
            return *bad;
        if (const auto set = m_door.m_sessions.setView(**session, view); !set)
            return refusalResponse(set.error());
        return jsonResponse(view);
    }

    Response chat(const Request &request)
    {
        const auto session = authenticate(request);
        if (!session)
            return refusalResponse(session.error());
        protocol::ChatSend line;
        if (auto bad = parseJson(request.body(), &line))
            return *bad;
        if (const auto said = m_door.m_sessions.say(**session, QString::fromStdString(line.text()));
            !said)
            return refusalResponse(said.error());
        return jsonResponse(line, http::status::accepted);
    }

    /// GET /api/v1/poll?after=SEQ[&timeout=SECONDS]: acknowledges every message up to
    /// SEQ and answers with the later ones, waiting for one if there are none yet.
    std::optional<Response> poll(const Request &request, const std::string &target)
    {
        const auto session = authenticate(request);
        if (!session)
            return refusalResponse(session.error());
        std::uint64_t after = 0;
        if (const auto text = queryValue(target, "after")) {
            const auto number = parseNumber(*text);
            if (!number) {
                return errorResponse(http::status::bad_request, "bad_request",
                                     tr("after=%1 is not a message seq: give the last seq you "
                                        "received, or 0.")
                                         .arg(QString::fromStdString(text->substr(0, 40))));
            }
            after = *number;
        }
        int timeoutSeconds = kMaxPollSeconds;
        if (const auto text = queryValue(target, "timeout")) {
            const auto number = parseNumber(*text, 4);
            if (!number || *number > std::uint64_t(kMaxPollSeconds)) {
                return errorResponse(http::status::bad_request, "bad_request",
                                     tr("timeout=%1 is not a number of seconds from 0 to %2.")
                                         .arg(QString::fromStdString(text->substr(0, 40)))
                                         .arg(kMaxPollSeconds));
            }
            timeoutSeconds = int(*number);
        }
        Session &s = **session;
        if (after > s.lastSeq) {
            return errorResponse(http::status::bad_request, "bad_request",
                                 tr("after=%1 is beyond the last message, %2.")
                                     .arg(after)
                                     .arg(s.lastSeq));
        }
        m_door.m_sessions.acknowledge(s, after);
        if (s.lastSeq > after || timeoutSeconds == 0)
            return batch(s, after, false);
        m_poll = Poll{*session, after};
        ++s.heldPolls;
        m_door.m_polls.insert(this);
        m_timer->start(timeoutSeconds * 1000);
        return std::nullopt;
    }

    /// GET /mailbox/{id}/messages: every message waiting, which then leave the mailbox.
    Response mailbox(const Request &request, const std::string &id)
    {
        const auto session = authenticate(request);
        if (!session)
            return refusalResponse(session.error());
        if (auto wrong = checkMailbox(**session, id))
            return *wrong;
        Session &s = **session;
        return batch(s, m_door.m_sessions.firstHeldSeq(s) - 1, true);
    }

    std::optional<Response> checkMailbox(const Session &session, const std::string &id) const
    {
        const QString shown = QString::fromStdString(id.substr(0, 64));
        if (shown == session.id)
            return std::nullopt;
        const bool wellFormed = id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
                                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                                });
        if (!wellFormed) {
            return errorResponse(http::status::not_found, "not_found",
                                 tr("There is no mailbox \"%1\": mailbox ids are the 32 hex "
                                    "characters of session_id.")
                                     .arg(shown));
        }
        return errorResponse(http::status::forbidden, "forbidden",
                             tr("Mailbox %1 is not your session's: yours is %2.")
                                 .arg(shown, session.id));
    }

    /// The messages after `after` as a MessageBatch; `drain` acknowledges them.
    Response batch(Session &session, std::uint64_t after, bool drain)
    {
        SessionManager &sessions = m_door.m_sessions;
        protocol::MessageBatch out;
        out.set_last_seq(after);
        for (const OutgoingMessage *message :
             sessions.messagesAfter(session, after, kMaxMessagesPerResponse)) {
            const QByteArray bytes = message->bytes();
            if (!out.add_messages()->ParseFromArray(bytes.constData(), int(bytes.size()))) {
                out.mutable_messages()->RemoveLast();
                continue;
            }
            out.set_last_seq(message->seq);
        }
        if (drain)
            sessions.acknowledge(session, out.last_seq());
        return jsonResponse(out);
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
            << "tick " << tick() << ": http " << int(response.status) << " ("
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
        case Phase::Waiting:
            if (m_poll) {
                // Nothing arrived in time: an empty batch, and the client polls again.
                complete(batch(*m_poll->session, m_poll->after, false));
            } else {
                complete(errorResponse(http::status::service_unavailable, "server_busy",
                                       tr("The server took too long to answer: try again.")));
            }
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
            << "tick " << tick() << ": WebSocket upgrade from "
            << socket->peerAddress().toString();
        socket->disconnect();
        door.forget(socket); // deletes this Connection: touch no member below
        socket->setParent(nullptr);
        door.m_webSocket.handleConnection(socket);
    }

    HttpFrontDoor &m_door;
    QTcpSocket *m_socket;
    QTimer *m_timer;
    /// The context of deferred answers; deleted with this object.
    QObject *m_guard;
    std::optional<RequestParser> m_parser;
    /// The long-poll held, while Waiting for one.
    std::optional<Poll> m_poll;
    /// The current request, for the log and the response.
    QString m_method;
    QString m_path;
    bool m_keepAlive = true;
    Phase m_phase = Phase::Head;
    int m_served = 0;
    bool m_halfClosed = false;
};

HttpFrontDoor::HttpFrontDoor(SessionManager &sessions, WebSocketTransport &webSocket,
                             int maxConnections, QObject *parent)
    : QObject(parent)
    , m_sessions(sessions)
    , m_webSocket(webSocket)
    , m_maxConnections(maxConnections)
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
    // Qt's default backlog of 50 overflows when hundreds of clients connect at once;
    // the kernel caps this at net.core.somaxconn.
    m_server->setListenBacklogSize(4096);
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
        if (m_connections.size() >= std::size_t(m_maxConnections)) {
            qCWarning(lcNet).nospace().noquote()
                << "tick " << m_sessions.world().state().tick << ": refusing "
                << socket->peerAddress().toString() << ": HTTP connection limit "
                << m_maxConnections << " reached";
            Response busy = errorResponse(
                http::status::service_unavailable, "server_busy",
                tr("The server is busy (%1 open connections): try again in %2 seconds.")
                    .arg(m_maxConnections)
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

void HttpFrontDoor::wakePolls()
{
    // Collected first: answering removes a poll from m_polls.
    const std::vector<Connection *> polls(m_polls.begin(), m_polls.end());
    for (Connection *poll : polls) {
        if (m_polls.contains(poll))
            poll->wakePoll();
    }
}

} // namespace hex::server
