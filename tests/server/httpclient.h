#pragma once

// HTTP helpers for integration tests against a real server process: raw requests over
// loopback sockets, Beast's parser for the answers, protobuf JSON for the bodies.

#include "hexsphere.pb.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QTcpSocket>
#include <QTest>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <google/protobuf/util/json_util.h>

#include <optional>
#include <string>
#include <vector>

namespace hex::tests {

/// One parsed HTTP response.
struct HttpResponse
{
    int status = 0;
    QByteArray body;
    QHash<QByteArray, QByteArray> headers; // lower-case names
};

/// The first complete response in `bytes`, and in `used` the bytes it took.
inline std::optional<HttpResponse> parseResponse(const QByteArray &bytes, qsizetype *used)
{
    namespace http = boost::beast::http;
    if (bytes.isEmpty())
        return std::nullopt;
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 * 1024 * 1024);
    boost::system::error_code ec;
    const std::size_t n
        = parser.put(boost::asio::buffer(bytes.constData(), std::size_t(bytes.size())), ec);
    if (ec || !parser.is_done())
        return std::nullopt;
    HttpResponse r;
    r.status = int(parser.get().result_int());
    r.body = QByteArray::fromStdString(parser.get().body());
    for (const auto &field : parser.get()) {
        r.headers.insert(
            QByteArray(field.name_string().data(), qsizetype(field.name_string().size()))
                .toLower(),
            QByteArray(field.value().data(), qsizetype(field.value().size())));
    }
    *used = qsizetype(n);
    return r;
}

/// Parses every complete response in `bytes` with Beast's response parser.
inline std::vector<HttpResponse> parseResponses(QByteArray bytes)
{
    std::vector<HttpResponse> responses;
    qsizetype used = 0;
    while (auto r = parseResponse(bytes, &used)) {
        responses.push_back(std::move(*r));
        bytes.remove(0, used);
    }
    return responses;
}

/// Sends `request` on a fresh connection and reads until the server closes it (or
/// `timeoutMs` passes).
inline QByteArray exchange(quint16 port, const QByteArray &request, int timeoutMs = 10'000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5'000))
        return {};
    socket.write(request);
    QByteArray received;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs && socket.state() == QAbstractSocket::ConnectedState) {
        socket.waitForReadyRead(100);
        received += socket.readAll();
    }
    received += socket.readAll();
    return received;
}

template<typename Message>
bool fromJson(const QByteArray &json, Message *out)
{
    return google::protobuf::util::JsonStringToMessage(json.toStdString(), out).ok();
}

/// The protobuf JSON mapping of `message`, with the .proto field names.
inline QByteArray toJson(const google::protobuf::Message &message)
{
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    return QByteArray::fromStdString(json);
}

/// A request as bytes: `method target`, an optional bearer token and a JSON body.
inline QByteArray httpRequest(const QByteArray &method, const QByteArray &target,
                              const QByteArray &body = {}, const QString &token = {},
                              bool close = false)
{
    QByteArray r = method + ' ' + target + " HTTP/1.1\r\nHost: t\r\n";
    if (!token.isEmpty())
        r += "Authorization: Bearer " + token.toLatin1() + "\r\n";
    if (!body.isEmpty() || method == "POST")
        r += "Content-Type: application/json\r\nContent-Length: "
             + QByteArray::number(body.size()) + "\r\n";
    if (close)
        r += "Connection: close\r\n";
    return r + "\r\n" + body;
}

/// One kept-alive HTTP/1.1 connection that sends requests and collects their answers
/// in order. Reconnects when the server closed it between requests. Used both
/// synchronously (request()) and for many requests held at once (send() and take()).
class HttpConnection
{
public:
    explicit HttpConnection(quint16 port) : m_port(port) {}

    /// Starts a request; its answer is taken with take() or waitResponse().
    bool send(const QByteArray &method, const QByteArray &target, const QByteArray &body = {},
              const QString &token = {})
    {
        if (m_socket.state() != QAbstractSocket::ConnectedState) {
            m_socket.abort();
            m_buffer.clear();
            m_socket.connectToHost(QHostAddress::LocalHost, m_port);
            if (!m_socket.waitForConnected(5'000))
                return false;
        }
        m_socket.write(httpRequest(method, target, body, token));
        m_socket.flush();
        return true;
    }

    /// The next complete answer, if it arrived. Does not block.
    std::optional<HttpResponse> take()
    {
        m_buffer += m_socket.readAll();
        qsizetype used = 0;
        auto response = parseResponse(m_buffer, &used);
        if (response)
            m_buffer.remove(0, used);
        return response;
    }

    /// Waits up to `timeoutMs` for the next answer, running the event loop.
    std::optional<HttpResponse> waitResponse(int timeoutMs = 10'000)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            if (auto r = take())
                return r;
            if (m_socket.bytesAvailable() == 0)
                QTest::qWait(5);
        }
        return take();
    }

    /// Sends a request and waits for its answer; status 0 when none came.
    HttpResponse request(const QByteArray &method, const QByteArray &target,
                         const QByteArray &body = {}, const QString &token = {},
                         int timeoutMs = 10'000)
    {
        if (!send(method, target, body, token))
            return {};
        return waitResponse(timeoutMs).value_or(HttpResponse{});
    }

    void abort() { m_socket.abort(); }
    QTcpSocket &socket() { return m_socket; }

private:
    quint16 m_port;
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

/// The error.code and error.message of a refusal's body.
inline std::pair<QString, QString> httpError(const HttpResponse &r)
{
    protocol::HttpError error;
    if (!fromJson(r.body, &error))
        return {};
    return {QString::fromStdString(error.error().code()),
            QString::fromStdString(error.error().message())};
}

} // namespace hex::tests
