// tests/bench/bots/botdriver.h
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hex::bench {

/// Which kind of server the bots talk to; it decides what they send first and how they
/// read the send time out of a frame.
enum class ServerKind {
    /// hexsphere-server: Hello first, then Envelope frames; latency from
    /// TickUpdate.server_time_ms.
    Hexsphere,
    /// tests/bench/baselines/ws-broadcast.js: "viewer" or "idle" first, then frames whose
    /// first 8 bytes are the send time (float64 ms since the epoch, little-endian).
    NodeBaseline,
};

/// What the bots do.
struct BotConfig
{
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/ws";
    ServerKind kind = ServerKind::Hexsphere;
    int clients = 10'000;
    /// The first `viewers` clients look at the planet (radius > 0); the rest are idle.
    int viewers = 2'500;
    double radiusDegrees = 20.0;
    /// CLAIM actions per second across all joined viewers; 0 sends none.
    double actionRate = 1.0;
    /// Handshakes in flight at once while connecting.
    int connectWindow = 500;
    /// Prefix of the player names, which must be unique on the server.
    std::string namePrefix = "bot";
};

/// Latencies from send to receipt, 0.1 ms buckets up to 10 s (later ones in the last).
class LatencyHistogram
{
public:
    void add(double ms);
    void clear();
    /// The latency below which `fraction` (0..1) of the samples lie, in ms; 0 when empty.
    double quantile(double fraction) const;
    std::uint64_t count() const { return m_count; }

private:
    static constexpr int kBuckets = 100'000;
    std::vector<std::uint32_t> m_buckets = std::vector<std::uint32_t>(kBuckets);
    std::uint64_t m_count = 0;
};

/// Counters of everything the bots received, since the start or the last resetWindow().
struct BotCounters
{
    std::uint64_t viewerFrames = 0; ///< per-tick frames received by viewers
    std::uint64_t viewerBytes = 0;
    std::uint64_t idleFrames = 0; ///< per-tick frames received by idle clients
    std::uint64_t idleBytes = 0;
    std::uint64_t otherFrames = 0; ///< WorldInfo, SessionInfo, Snapshot, Error, ...
    std::uint64_t actionsSent = 0;
    std::uint64_t actionResults = 0; ///< ActionResults in TickUpdates
    std::uint64_t rateLimited = 0;   ///< Error RATE_LIMITED answers
    std::uint64_t errors = 0;        ///< other Error envelopes
    std::uint64_t resyncs = 0;       ///< Resync envelopes (the server dropped messages)
    std::uint64_t undecodable = 0;   ///< frames that are not a valid Envelope
};

/// N WebSocket clients on one Boost.Asio io_context, driven from the calling thread:
/// every method must be called from the thread that constructed the driver.
class BotDriver
{
public:
    explicit BotDriver(BotConfig config);
    ~BotDriver();
    BotDriver(const BotDriver &) = delete;
    BotDriver &operator=(const BotDriver &) = delete;

    /// Opens all connections, `connectWindow` handshakes at a time, and returns when each
    /// has joined or failed, or `timeout` passed (the rest then count as failed). A client
    /// has joined hexsphere-server when its WorldInfo arrives, the baseline when its first
    /// message is sent. Prints progress to stderr.
    void connectAll(std::chrono::seconds timeout);
    /// Runs the bots (reading, sending actions) for `duration`.
    void run(std::chrono::milliseconds duration);
    /// Zeroes the counters and the latency histogram: a measurement window starts.
    void resetWindow();
    /// Closes every connection (TCP close, no WebSocket closing handshake) and lets the
    /// pending handlers finish.
    void closeAll();

    /// Clients that joined and are still connected.
    int connected() const;
    int connectedViewers() const;
    /// Connections that failed or dropped, by reason ("handshake: Connection refused").
    const std::map<std::string, int> &failures() const { return m_failures; }
    const BotCounters &counters() const { return m_counters; }
    const LatencyHistogram &latency() const { return m_latency; }
    /// Errors the server sent, by code name and message (first 100 characters).
    const std::map<std::string, int> &serverErrors() const { return m_serverErrors; }

private:
    struct Bot;
    void startConnect(int index);
    void joined(Bot &bot);
    void readNext(Bot &bot);
    void writeNext(Bot &bot);
    void onFrame(Bot &bot, const std::uint8_t *data, std::size_t size);
    void fail(Bot &bot, const std::string &stage, const std::string &reason);
    void send(Bot &bot, std::string frame, bool binary);
    void scheduleAction();
    void sendAction();

    struct Impl;
    std::unique_ptr<Impl> m_impl;
    BotConfig m_config;
    std::vector<std::unique_ptr<Bot>> m_bots;
    int m_nextToConnect = 0;
    int m_inFlight = 0;
    int m_joined = 0;
    int m_joinedViewers = 0;
    int m_failed = 0;
    std::uint32_t m_cellCount = 0;
    std::uint32_t m_nextSeq = 1;
    std::size_t m_nextActor = 0;
    BotCounters m_counters;
    LatencyHistogram m_latency;
    std::map<std::string, int> m_failures;
    std::map<std::string, int> m_serverErrors;
};

} // namespace hex::bench
