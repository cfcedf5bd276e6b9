// tests/bench/bots/botdriver.cpp
#include "botdriver.h"

#include "hexsphere.pb.h"
#include "protocol/protocolversion.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <iostream>
#include <numbers>
#include <random>

namespace hex::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

/// Reads protobuf wire format without building messages: enough to find the few fields
/// the bots look at in every frame, cheaply. Any malformed input sets ok to false.
class WireReader
{
public:
    WireReader(const std::uint8_t *data, std::size_t size)
        : m_p(data)
        , m_end(data + size)
    {}

    struct Field
    {
        std::uint32_t number = 0;
        std::uint32_t wireType = 0;
        std::uint64_t value = 0;             ///< varint and fixed values
        const std::uint8_t *bytes = nullptr; ///< length-delimited payload
        std::size_t length = 0;
    };

    /// The next field; false at the end or on malformed input (then ok() is false).
    bool next(Field &field)
    {
        if (m_p == m_end)
            return false;
        std::uint64_t key = 0;
        if (!varint(key))
            return false;
        field.number = std::uint32_t(key >> 3);
        field.wireType = std::uint32_t(key & 7);
        switch (field.wireType) {
        case 0:
            return varint(field.value);
        case 1:
            return fixed(field.value, 8);
        case 5:
            return fixed(field.value, 4);
        case 2: {
            std::uint64_t length = 0;
            if (!varint(length) || length > std::uint64_t(m_end - m_p))
                return bad();
            field.bytes = m_p;
            field.length = std::size_t(length);
            m_p += length;
            return true;
        }
        default:
            return bad(); // groups (3, 4) are not used by proto3
        }
    }
    bool ok() const { return m_ok; }

private:
    bool bad()
    {
        m_ok = false;
        return false;
    }
    bool varint(std::uint64_t &value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && m_p < m_end; shift += 7) {
            const std::uint8_t byte = *m_p++;
            value |= std::uint64_t(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                return true;
        }
        return bad();
    }
    bool fixed(std::uint64_t &value, int size)
    {
        if (m_end - m_p < size)
            return bad();
        value = 0;
        for (int i = 0; i < size; ++i)
            value |= std::uint64_t(m_p[i]) << (8 * i);
        m_p += size;
        return true;
    }

    const std::uint8_t *m_p;
    const std::uint8_t *m_end;
    bool m_ok = true;
};

/// What one server frame (one or more concatenated Envelopes) holds for the bots.
struct FrameSummary
{
    bool valid = true;
    bool tick = false;
    bool hasServerTime = false;
    std::int64_t serverTimeMs = 0;
    int actionResults = 0;
    bool worldInfo = false;
    std::uint32_t cellCount = 0;
    bool error = false;
    protocol::Error errorMessage;
    bool resync = false;
};

// Envelope, TickUpdate field numbers (common/protocol/hexsphere.proto).
constexpr std::uint32_t kEnvelopeWorldInfo = 2;
constexpr std::uint32_t kEnvelopeTick = 4;
constexpr std::uint32_t kEnvelopeError = 5;
constexpr std::uint32_t kEnvelopeResync = 9;
constexpr std::uint32_t kTickServerTimeMs = 2;
constexpr std::uint32_t kTickResults = 5;

/// Largest frame a bot accepts: a Snapshot of the largest planet fits.
constexpr std::size_t kMaxMessageBytes = std::size_t(64) << 20;
/// A bot's read buffer shrinks back after a frame larger than this.
constexpr std::size_t kKeptBufferBytes = std::size_t(64) << 10;

FrameSummary summarize(const std::uint8_t *data, std::size_t size)
{
    FrameSummary summary;
    WireReader envelope(data, size);
    WireReader::Field field;
    while (envelope.next(field)) {
        if (field.wireType != 2)
            continue;
        if (field.number == kEnvelopeTick) {
            summary.tick = true;
            WireReader tick(field.bytes, field.length);
            WireReader::Field tickField;
            while (tick.next(tickField)) {
                if (tickField.number == kTickServerTimeMs && tickField.wireType == 0
                    && !summary.hasServerTime) {
                    summary.hasServerTime = true;
                    summary.serverTimeMs = std::int64_t(tickField.value);
                } else if (tickField.number == kTickResults && tickField.wireType == 2) {
                    ++summary.actionResults;
                }
            }
            summary.valid = summary.valid && tick.ok();
        } else if (field.number == kEnvelopeWorldInfo) {
            protocol::WorldInfo info;
            summary.worldInfo = info.ParseFromArray(field.bytes, int(field.length));
            summary.cellCount = info.cell_count();
            summary.valid = summary.valid && summary.worldInfo;
        } else if (field.number == kEnvelopeResync) {
            summary.resync = true;
        } else if (field.number == kEnvelopeError) {
            summary.error = summary.errorMessage.ParseFromArray(field.bytes, int(field.length));
            summary.valid = summary.valid && summary.error;
        }
    }
    summary.valid = summary.valid && envelope.ok();
    return summary;
}

double nowMs()
{
    using namespace std::chrono;
    return double(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count())
           / 1000.0;
}

} // namespace

void LatencyHistogram::add(double ms)
{
    const int bucket = std::clamp(int(ms * 10.0), 0, kBuckets - 1);
    ++m_buckets[std::size_t(bucket)];
    ++m_count;
}

void LatencyHistogram::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), 0);
    m_count = 0;
}

double LatencyHistogram::quantile(double fraction) const
{
    if (m_count == 0)
        return 0.0;
    const auto rank = std::uint64_t(std::ceil(fraction * double(m_count)));
    std::uint64_t seen = 0;
    for (int bucket = 0; bucket < kBuckets; ++bucket) {
        seen += m_buckets[std::size_t(bucket)];
        if (seen >= std::max<std::uint64_t>(rank, 1))
            return (bucket + 1) / 10.0; // the bucket's upper edge
    }
    return kBuckets / 10.0;
}

struct BotDriver::Impl
{
    asio::io_context io{1};
    tcp::endpoint endpoint;
    asio::steady_timer actionTimer{io};
    std::chrono::steady_clock::time_point nextAction;
    bool actionsStarted = false;
    std::mt19937 rng{12345};
};

struct BotDriver::Bot
{
    enum class State { Waiting, Connecting, Joined, Closed };

    explicit Bot(asio::io_context &io)
        : ws(io)
    {}

    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
    std::deque<std::pair<std::string, bool>> outbox; ///< frames to send; bool: binary
    bool writing = false;
    State state = State::Waiting;
    bool viewer = false;
    int index = 0;
    float direction[3] = {0.0f, 0.0f, 1.0f};
};

BotDriver::BotDriver(BotConfig config)
    : m_impl(std::make_unique<Impl>())
    , m_config(std::move(config))
{
    m_impl->endpoint
        = tcp::endpoint(asio::ip::make_address(m_config.host), std::uint16_t(m_config.port));
    const int viewers = std::clamp(m_config.viewers, 0, m_config.clients);
    // Viewers look from directions spread evenly over the sphere: a Fibonacci spiral.
    const double goldenAngle = std::numbers::pi * (3.0 - std::sqrt(5.0));
    m_bots.reserve(std::size_t(m_config.clients));
    for (int i = 0; i < m_config.clients; ++i) {
        auto bot = std::make_unique<Bot>(m_impl->io);
        bot->index = i;
        bot->viewer = i < viewers;
        if (bot->viewer) {
            const double y = 1.0 - 2.0 * (i + 0.5) / viewers;
            const double r = std::sqrt(std::max(0.0, 1.0 - y * y));
            const double phi = goldenAngle * i;
            bot->direction[0] = float(std::cos(phi) * r);
            bot->direction[1] = float(y);
            bot->direction[2] = float(std::sin(phi) * r);
        }
        m_bots.push_back(std::move(bot));
    }
}

BotDriver::~BotDriver()
{
    try {
        closeAll();
    } catch (...) {
        // A destructor must not throw; the sockets close with the io_context anyway.
    }
}

int BotDriver::connected() const
{
    return m_joined;
}

int BotDriver::connectedViewers() const
{
    return m_joinedViewers;
}

void BotDriver::connectAll(std::chrono::seconds timeout)
{
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout;
    while (m_nextToConnect < m_config.clients && m_inFlight < std::max(1, m_config.connectWindow))
        startConnect(m_nextToConnect++);

    int reported = -1;
    auto lastReport = start;
    while (m_joined + m_failed < m_config.clients && std::chrono::steady_clock::now() < deadline) {
        run(std::chrono::milliseconds(100));
        const int done = m_joined + m_failed;
        const auto now = std::chrono::steady_clock::now();
        if (done / 500 != reported / 500 || now - lastReport > std::chrono::seconds(2)) {
            std::cerr << "  connected " << m_joined << "/" << m_config.clients;
            if (m_failed)
                std::cerr << " (" << m_failed << " failed)";
            std::cerr << "\n";
            reported = done;
            lastReport = now;
        }
    }
    m_nextToConnect = m_config.clients; // whoever is not in by now gives up; start no more
    for (auto &bot : m_bots) {
        if (bot->state == Bot::State::Connecting || bot->state == Bot::State::Waiting)
            fail(*bot, "timeout", "not joined within " + std::to_string(timeout.count()) + " s");
    }
    if (reported != m_joined + m_failed)
        std::cerr << "  connected " << m_joined << "/" << m_config.clients << "\n";
}

void BotDriver::run(std::chrono::milliseconds duration)
{
    if (!m_impl->actionsStarted && m_config.actionRate > 0.0
        && m_config.kind == ServerKind::Hexsphere) {
        m_impl->actionsStarted = true;
        m_impl->nextAction = std::chrono::steady_clock::now();
        scheduleAction();
    }
    if (m_impl->io.stopped())
        m_impl->io.restart();
    m_impl->io.run_for(duration);
}

void BotDriver::resetWindow()
{
    m_counters = {};
    m_latency.clear();
}

void BotDriver::closeAll()
{
    m_impl->actionTimer.cancel();
    m_impl->actionsStarted = true; // no more actions
    for (auto &bot : m_bots) {
        if (bot->state == Bot::State::Closed)
            continue;
        bot->state = Bot::State::Closed;
        error_code ignored;
        bot->ws.next_layer().close(ignored);
    }
    // Let every handler see its operation aborted; the bots must outlive them.
    if (m_impl->io.stopped())
        m_impl->io.restart();
    m_impl->io.run_for(std::chrono::seconds(5));
}

void BotDriver::startConnect(int index)
{
    Bot &bot = *m_bots[std::size_t(index)];
    bot.state = Bot::State::Connecting;
    ++m_inFlight;
    bot.ws.next_layer().async_connect(m_impl->endpoint, [this, &bot](error_code ec) {
        if (bot.state == Bot::State::Closed)
            return;
        if (ec)
            return fail(bot, "connect", ec.message());
        bot.ws.next_layer().set_option(tcp::no_delay(true));
        bot.ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                          websocket::stream_base::none(), false});
        bot.ws.read_message_max(kMaxMessageBytes);
        const std::string host = m_config.host + ":" + std::to_string(m_config.port);
        bot.ws.async_handshake(host, m_config.path, [this, &bot](error_code ec) {
            if (bot.state == Bot::State::Closed)
                return;
            if (ec)
                return fail(bot, "handshake", ec.message());
            if (m_config.kind == ServerKind::NodeBaseline) {
                send(bot, bot.viewer ? "viewer" : "idle", false);
            } else {
                protocol::Envelope envelope;
                protocol::Hello *hello = envelope.mutable_hello();
                hello->set_protocol_version(protocol::kProtocolVersion);
                hello->set_player_name(m_config.namePrefix + "-" + std::to_string(bot.index));
                protocol::View *view = hello->mutable_view();
                view->set_x(bot.direction[0]);
                view->set_y(bot.direction[1]);
                view->set_z(bot.direction[2]);
                view->set_radius_degrees(bot.viewer ? float(m_config.radiusDegrees) : 0.0f);
                send(bot, envelope.SerializeAsString(), true);
            }
            readNext(bot);
        });
    });
}

void BotDriver::joined(Bot &bot)
{
    if (bot.state != Bot::State::Connecting)
        return;
    bot.state = Bot::State::Joined;
    --m_inFlight;
    ++m_joined;
    if (bot.viewer)
        ++m_joinedViewers;
    if (m_nextToConnect < m_config.clients)
        startConnect(m_nextToConnect++);
}

void BotDriver::fail(Bot &bot, const std::string &stage, const std::string &reason)
{
    const Bot::State state = bot.state;
    if (state == Bot::State::Closed)
        return;
    bot.state = Bot::State::Closed;
    error_code ignored;
    bot.ws.next_layer().close(ignored);
    if (state == Bot::State::Joined) {
        --m_joined;
        if (bot.viewer)
            --m_joinedViewers;
        ++m_failures["dropped after joining: " + stage + ": " + reason];
        ++m_failed;
        return;
    }
    ++m_failures[stage + ": " + reason];
    ++m_failed;
    if (state == Bot::State::Connecting) {
        --m_inFlight;
        if (m_nextToConnect < m_config.clients)
            startConnect(m_nextToConnect++);
    }
}

void BotDriver::readNext(Bot &bot)
{
    bot.ws.async_read(bot.buffer, [this, &bot](error_code ec, std::size_t size) {
        if (bot.state == Bot::State::Closed)
            return;
        // A close frame from the server: report its code and reason, even when answering it
        // failed because the server had already gone (broken pipe).
        if (ec == websocket::error::closed || bot.ws.reason().code != 0) {
            const websocket::close_reason &why = bot.ws.reason();
            return fail(bot, "closed by server",
                        std::to_string(why.code) + " " + std::string(why.reason.c_str()));
        }
        if (ec)
            return fail(bot, "read", ec.message());
        const auto data = bot.buffer.data();
        onFrame(bot, static_cast<const std::uint8_t *>(data.data()), size);
        bot.buffer.consume(bot.buffer.size());
        // A Snapshot of the whole planet is large; do not keep its buffer per bot.
        if (bot.buffer.capacity() > kKeptBufferBytes)
            bot.buffer.shrink_to_fit();
        if (bot.state != Bot::State::Closed)
            readNext(bot);
    });
}

void BotDriver::onFrame(Bot &bot, const std::uint8_t *data, std::size_t size)
{
    const double receivedMs = nowMs();
    if (m_config.kind == ServerKind::NodeBaseline) {
        if (size < sizeof(double)) {
            ++m_counters.undecodable;
            return;
        }
        double sentMs = 0.0;
        std::memcpy(&sentMs, data, sizeof sentMs); // little-endian, as on x86 and ARM
        m_latency.add(receivedMs - sentMs);
        (bot.viewer ? m_counters.viewerFrames : m_counters.idleFrames) += 1;
        (bot.viewer ? m_counters.viewerBytes : m_counters.idleBytes) += size;
        return;
    }

    const FrameSummary frame = summarize(data, size);
    if (!frame.valid) {
        ++m_counters.undecodable;
        return;
    }
    if (frame.tick) {
        if (frame.hasServerTime)
            m_latency.add(receivedMs - double(frame.serverTimeMs));
        (bot.viewer ? m_counters.viewerFrames : m_counters.idleFrames) += 1;
        (bot.viewer ? m_counters.viewerBytes : m_counters.idleBytes) += size;
        m_counters.actionResults += std::uint64_t(frame.actionResults);
    } else {
        ++m_counters.otherFrames;
    }
    if (frame.resync)
        ++m_counters.resyncs;
    if (frame.worldInfo) {
        m_cellCount = frame.cellCount;
        joined(bot);
    }
    if (frame.error) {
        const protocol::Error &error = frame.errorMessage;
        if (error.code() == protocol::Error::RATE_LIMITED) {
            ++m_counters.rateLimited;
        } else {
            ++m_counters.errors;
            ++m_serverErrors[protocol::Error::Code_Name(error.code()) + ": "
                             + error.message().substr(0, 100)];
        }
        if (bot.state == Bot::State::Connecting)
            fail(bot, "refused", protocol::Error::Code_Name(error.code()));
    }
}

void BotDriver::send(Bot &bot, std::string frame, bool binary)
{
    bot.outbox.emplace_back(std::move(frame), binary);
    if (!bot.writing)
        writeNext(bot);
}

void BotDriver::writeNext(Bot &bot)
{
    if (bot.outbox.empty() || bot.state == Bot::State::Closed) {
        bot.writing = false;
        return;
    }
    bot.writing = true;
    bot.ws.binary(bot.outbox.front().second);
    bot.ws.async_write(asio::buffer(bot.outbox.front().first),
                       [this, &bot](error_code ec, std::size_t) {
                           if (bot.state == Bot::State::Closed)
                               return;
                           if (ec)
                               return fail(bot, "write", ec.message());
                           bot.outbox.pop_front();
                           // The baseline has no answer to its first message: a client is in once
                           // it is sent.
                           if (m_config.kind == ServerKind::NodeBaseline)
                               joined(bot);
                           writeNext(bot);
                       });
}

void BotDriver::scheduleAction()
{
    using namespace std::chrono;
    m_impl->nextAction
        += duration_cast<steady_clock::duration>(duration<double>(1.0 / m_config.actionRate));
    m_impl->actionTimer.expires_at(m_impl->nextAction);
    m_impl->actionTimer.async_wait([this](error_code ec) {
        if (ec)
            return;
        sendAction();
        scheduleAction();
    });
}

void BotDriver::sendAction()
{
    if (m_cellCount == 0 || m_joinedViewers == 0)
        return;
    // The next joined viewer, round robin.
    const std::size_t viewers = std::size_t(std::clamp(m_config.viewers, 0, m_config.clients));
    for (std::size_t tried = 0; tried < viewers; ++tried) {
        Bot &bot = *m_bots[m_nextActor];
        m_nextActor = (m_nextActor + 1) % viewers;
        if (bot.state != Bot::State::Joined)
            continue;
        protocol::Envelope envelope;
        protocol::ClientAction *action = envelope.mutable_client_action();
        action->set_client_seq(m_nextSeq++);
        action->set_kind(protocol::CLAIM);
        action->set_cell(
            std::uniform_int_distribution<std::uint32_t>(0, m_cellCount - 1)(m_impl->rng));
        send(bot, envelope.SerializeAsString(), true);
        ++m_counters.actionsSent;
        return;
    }
}

} // namespace hex::bench
