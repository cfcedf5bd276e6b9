// tests/bench/bots/main.cpp
//
// hexsphere-bots: the WebSocket load benchmark. Drives N clients (some viewing parts
// of the planet, the rest idle) against hexsphere-server, then against a minimal
// Node.js `ws` broadcast server sending frames of the same sizes, and reports what the
// clients received and what it cost each server. The last stdout line is one JSON
// object of the figures. See tests/bench/baselines/README.md.

#include "botdriver.h"
#include "childprocess.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace hex::bench {
namespace {

/// What the target configuration asks of the server (the figures).
constexpr int kTargetClients = 10'000;
constexpr double kTargetP99Ms = 50.0;
constexpr double kTargetRssKibPerClient = 32.0;
constexpr double kTargetCpuRatio = 0.5;

struct Options
{
    BotConfig bots;
    int size = 64;
    int ups = 20;
    int seconds = 20;
    int warmupSeconds = 3;
    int connectTimeoutSeconds = 180;
    std::string url;
    std::string serverPath;
    std::vector<std::string> serverArgs;
    bool baseline = true;
    std::string node = "node";
    std::string baselineScript;
};

/// The figures of one run against one server.
struct Measurement
{
    bool ok = false;
    std::string error;
    int clients = 0;
    int viewers = 0;
    int idle = 0;
    std::map<std::string, int> failures;
    std::map<std::string, int> serverErrors;
    double seconds = 0.0;
    BotCounters counters;
    double p50Ms = 0.0;
    double p99Ms = 0.0;
    std::uint64_t latencySamples = 0;
    std::optional<double> cpuSeconds;
    /// The kernel's share of cpuSeconds: mostly sending, the floor per frame that no
    /// user-space code avoids.
    std::optional<double> systemCpuSeconds;
    std::optional<long> rssIdleKib;
    std::optional<long> rssConnectedKib;
    double botsCpuSeconds = 0.0;

    std::uint64_t frames() const { return counters.viewerFrames + counters.idleFrames; }
    double framesPerSecond() const { return seconds > 0 ? double(frames()) / seconds : 0.0; }
    std::optional<double> cpuUsPerFrame() const
    {
        if (!cpuSeconds || frames() == 0)
            return std::nullopt;
        return *cpuSeconds * 1e6 / double(frames());
    }
    std::optional<double> systemUsPerFrame() const
    {
        if (!systemCpuSeconds || frames() == 0)
            return std::nullopt;
        return *systemCpuSeconds * 1e6 / double(frames());
    }
    std::optional<double> userUsPerFrame() const
    {
        if (!cpuSeconds || !systemCpuSeconds || frames() == 0)
            return std::nullopt;
        return (*cpuSeconds - *systemCpuSeconds) * 1e6 / double(frames());
    }
    std::optional<double> rssKibPerClient() const
    {
        if (!rssIdleKib || !rssConnectedKib || clients == 0)
            return std::nullopt;
        return double(*rssConnectedKib - *rssIdleKib) / clients;
    }
    double viewerFrameBytes() const
    {
        return counters.viewerFrames ? double(counters.viewerBytes) / counters.viewerFrames : 0.0;
    }
    double idleFrameBytes() const
    {
        return counters.idleFrames ? double(counters.idleBytes) / counters.idleFrames : 0.0;
    }
};

double selfCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
           + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/// Raises this process's open-file limit to its hard limit: every client is one fd.
/// Children (the servers we start) inherit it.
void raiseFileLimit(int clients)
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < rlim_t(clients) + 100)
        std::cerr << "warning: the open-file limit is " << limit.rlim_cur << ", too low for "
                  << clients << " clients; raise the hard limit (ulimit -Hn)\n";
}

/// Connects the bots to a listening server, warms up, measures for a window, and
/// closes them. `pid` is the server's process, when known: then CPU and RSS are measured.
Measurement measure(const Options &options, BotConfig config, std::optional<pid_t> pid,
                    const std::string &label)
{
    Measurement m;
    if (pid)
        m.rssIdleKib = processRssKib(*pid);
    BotDriver driver(std::move(config));
    std::cerr << label << ": connecting " << options.bots.clients << " clients ("
              << options.bots.viewers << " viewers)\n";
    driver.connectAll(std::chrono::seconds(options.connectTimeoutSeconds));
    std::cerr << label << ": warming up " << options.warmupSeconds << " s\n";
    driver.run(std::chrono::seconds(options.warmupSeconds));

    driver.resetWindow();
    const auto cpuStart = pid ? processCpuTimes(*pid) : std::nullopt;
    const double botsStart = selfCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    for (int second = 1; second <= options.seconds; ++second) {
        const auto remaining
            = start + std::chrono::seconds(second) - std::chrono::steady_clock::now();
        driver.run(std::max(std::chrono::milliseconds(0),
                            std::chrono::duration_cast<std::chrono::milliseconds>(remaining)));
        if (second % 5 == 0 || second == options.seconds) {
            const BotCounters &c = driver.counters();
            std::cerr << label << ": measuring " << second << "/" << options.seconds << " s, "
                      << (c.viewerFrames + c.idleFrames) / second << " frames/s, "
                      << driver.connected() << " connected\n";
        }
    }
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto cpuEnd = pid ? processCpuTimes(*pid) : std::nullopt;
    m.botsCpuSeconds = selfCpuSeconds() - botsStart;
    if (pid)
        m.rssConnectedKib = processRssKib(*pid);
    if (cpuStart && cpuEnd) {
        m.cpuSeconds = cpuEnd->total() - cpuStart->total();
        m.systemCpuSeconds = cpuEnd->system - cpuStart->system;
    }

    m.clients = driver.connected();
    m.viewers = driver.connectedViewers();
    m.idle = m.clients - m.viewers;
    m.counters = driver.counters();
    m.p50Ms = driver.latency().quantile(0.50);
    m.p99Ms = driver.latency().quantile(0.99);
    m.latencySamples = driver.latency().count();
    m.failures = driver.failures();
    m.serverErrors = driver.serverErrors();
    driver.closeAll();

    m.ok = m.clients > 0 && m.frames() > 0;
    if (!m.ok)
        m.error = m.clients == 0 ? "no client connected" : "no frame was delivered";
    return m;
}

/// Parses ws://HOST:PORT/PATH; HOST must be an IP address or "localhost".
bool parseUrl(const std::string &url, BotConfig *config)
{
    const std::string scheme = "ws://";
    if (url.rfind(scheme, 0) != 0)
        return false;
    const std::string rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    config->path = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = authority.rfind(':');
    if (colon == std::string::npos)
        return false;
    config->host = authority.substr(0, colon);
    if (config->host == "localhost")
        config->host = "127.0.0.1";
    try {
        config->port = std::stoi(authority.substr(colon + 1));
    } catch (...) {
        return false;
    }
    return config->port > 0 && config->port < 65536;
}

std::string tempLog(const std::string &what)
{
    return (std::filesystem::temp_directory_path()
            / ("hexsphere-bots-" + std::to_string(getpid()) + "-" + what + ".log"))
        .string();
}

/// Starts hexsphere-server on a free loopback port and measures it.
Measurement measureOurs(const Options &options)
{
    Measurement failed;
    const int port = freeLoopbackPort();
    std::vector<std::string> args{
        "--port", std::to_string(port),        "--size", std::to_string(options.size),
        "--ups",  std::to_string(options.ups), "--bind", "127.0.0.1"};
    // The transports are measured, not the disk: the world is not kept unless the
    // server arguments say otherwise (QCommandLineParser takes the last --database).
    args.insert(args.end(), {"--database", "none"});
    args.insert(args.end(), options.serverArgs.begin(), options.serverArgs.end());
    ChildProcess server;
    const std::string log = tempLog("server");
    std::cerr << "hexsphere-server: starting " << options.serverPath;
    for (const std::string &a : args)
        std::cerr << " " << a;
    std::cerr << " (log " << log << ")\n";
    if (!server.start(options.serverPath, args, log)
        || !server.waitForPort(port, std::chrono::seconds(300))) {
        failed.error = "hexsphere-server: " + server.errorString();
        return failed;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1)); // a few ticks before idle RSS
    BotConfig config = options.bots;
    config.port = port;
    config.kind = ServerKind::Hexsphere;
    Measurement m = measure(options, config, server.pid(), "hexsphere-server");
    if (!server.running())
        m.error = "hexsphere-server exited during the run; its log ends:\n" + server.logTail();
    server.stop();
    return m;
}

/// Starts the Node baseline with the frame sizes and rates `ours` received, and
/// measures it with the same bots.
Measurement measureBaseline(const Options &options, const Measurement &ours)
{
    Measurement failed;
    const int port = freeLoopbackPort();
    const auto viewerBytes = long(std::lround(ours.viewerFrameBytes()));
    const auto idleBytes = long(std::lround(ours.idleFrameBytes()));
    // How often an idle client got a frame from us, in ticks (0: never).
    const double idlePerClientPerSecond
        = ours.idle > 0 ? double(ours.counters.idleFrames) / ours.idle / ours.seconds : 0.0;
    const long idleEvery = idlePerClientPerSecond > 0.0
                               ? std::max(1L, std::lround(options.ups / idlePerClientPerSecond))
                               : 0L;
    const std::vector<std::string> args{options.baselineScript,      std::to_string(port),
                                        std::to_string(options.ups), std::to_string(viewerBytes),
                                        std::to_string(idleBytes),   std::to_string(idleEvery)};
    std::string nodePath = "NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs";
    if (const char *existing = std::getenv("NODE_PATH"); existing && *existing)
        nodePath += std::string(":") + existing;
    ChildProcess node;
    const std::string log = tempLog("baseline");
    std::cerr << "baseline: starting " << options.node;
    for (const std::string &a : args)
        std::cerr << " " << a;
    std::cerr << " (log " << log << ")\n";
    if (!node.start(options.node, args, log, {nodePath})
        || !node.waitForPort(port, std::chrono::seconds(30))) {
        failed.error = "Node baseline: " + node.errorString();
        return failed;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    BotConfig config = options.bots;
    config.port = port;
    config.path = "/";
    config.kind = ServerKind::NodeBaseline;
    Measurement m = measure(options, config, node.pid(), "baseline");
    if (!node.running())
        m.error = "the Node baseline exited during the run; its log ends:\n" + node.logTail();
    node.stop();
    return m;
}

std::string fixed(std::optional<double> value, int decimals)
{
    if (!value || !std::isfinite(*value))
        return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, *value);
    return text;
}

std::string json(std::optional<double> value, int decimals)
{
    const std::string text = fixed(value, decimals);
    return text == "n/a" ? "null" : text;
}

std::string jsonString(const std::string &text)
{
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\')
            out += std::string("\\") + c;
        else if (c == '\n')
            out += "\\n";
        else if (std::uint8_t(c) < 0x20)
            out += ' ';
        else
            out += c;
    }
    return out + "\"";
}

void printRow(const std::string &name, const std::string &ours, const std::string &baseline,
              const std::string &target)
{
    std::printf("%-34s %14s %14s   %s\n", name.c_str(), ours.c_str(), baseline.c_str(),
                target.c_str());
}

void printFailures(const char *who, const Measurement &m)
{
    for (const auto &[reason, count] : m.failures)
        std::printf("  %s: %d x %s\n", who, count, reason.c_str());
    for (const auto &[message, count] : m.serverErrors)
        std::printf("  %s: server sent Error %d x %s\n", who, count, message.c_str());
    if (m.counters.undecodable)
        std::printf("  %s: %llu frames could not be decoded\n", who,
                    static_cast<unsigned long long>(m.counters.undecodable));
}

int report(const Options &options, const Measurement &ours, const std::optional<Measurement> &base,
           const std::string &baselineNote)
{
    const bool haveBase = base && base->ok;
    auto b = [&](auto getter) {
        return haveBase ? getter(*base) : std::string("n/a");
    };
    using M = const Measurement &;
    std::optional<double> ratio;
    if (haveBase && ours.cpuUsPerFrame() && base->cpuUsPerFrame() && *base->cpuUsPerFrame() > 0)
        ratio = *ours.cpuUsPerFrame() / *base->cpuUsPerFrame();

    std::printf("\nhexsphere-bots: %d clients requested (%d viewers, radius %.0f deg), %d UPS, "
                "%.1f s window, %.2f actions/s\n",
                options.bots.clients, options.bots.viewers, options.bots.radiusDegrees, options.ups,
                ours.seconds, options.bots.actionRate);
    printRow("", options.bots.kind == ServerKind::NodeBaseline ? "node ws (--url)" : "hexsphere",
             "node ws", "target");
    printRow("connected clients", std::to_string(ours.clients),
             b([](M m) { return std::to_string(m.clients); }),
             ">= " + std::to_string(kTargetClients));
    printRow("  of them viewers", std::to_string(ours.viewers),
             b([](M m) { return std::to_string(m.viewers); }), "");
    int failedOurs = 0;
    for (const auto &f : ours.failures)
        failedOurs += f.second;
    printRow("failed or dropped connections", std::to_string(failedOurs), b([](M m) {
                 int n = 0;
                 for (const auto &f : m.failures)
                     n += f.second;
                 return std::to_string(n);
             }),
             "0");
    printRow("delivered frames/s", fixed(ours.framesPerSecond(), 0),
             b([](M m) { return fixed(m.framesPerSecond(), 0); }),
             std::to_string(ours.viewers * options.ups) + "+ (viewers x UPS)");
    printRow("  viewer frames/s", fixed(ours.counters.viewerFrames / ours.seconds, 0),
             b([](M m) { return fixed(m.counters.viewerFrames / m.seconds, 0); }), "");
    printRow("  idle-client frames/s", fixed(ours.counters.idleFrames / ours.seconds, 0),
             b([](M m) { return fixed(m.counters.idleFrames / m.seconds, 0); }), "");
    printRow("mean viewer frame (bytes)", fixed(ours.viewerFrameBytes(), 0),
             b([](M m) { return fixed(m.viewerFrameBytes(), 0); }), "");
    printRow("mean idle-client frame (bytes)", fixed(ours.idleFrameBytes(), 0),
             b([](M m) { return fixed(m.idleFrameBytes(), 0); }), "");
    printRow("latency p50 (ms)", fixed(ours.p50Ms, 1), b([](M m) { return fixed(m.p50Ms, 1); }),
             "");
    printRow("latency p99 (ms)", fixed(ours.p99Ms, 1), b([](M m) { return fixed(m.p99Ms, 1); }),
             "<= " + fixed(kTargetP99Ms, 0));
    printRow("server CPU in window (s)", fixed(ours.cpuSeconds, 2),
             b([](M m) { return fixed(m.cpuSeconds, 2); }), "");
    printRow("server CPU per frame (us)", fixed(ours.cpuUsPerFrame(), 2),
             b([](M m) { return fixed(m.cpuUsPerFrame(), 2); }),
             "<= " + fixed(kTargetCpuRatio, 1) + " x node");
    printRow("  in user space (us)", fixed(ours.userUsPerFrame(), 2),
             b([](M m) { return fixed(m.userUsPerFrame(), 2); }), "");
    printRow("  in the kernel (us)", fixed(ours.systemUsPerFrame(), 2),
             b([](M m) { return fixed(m.systemUsPerFrame(), 2); }), "");
    printRow("server RSS idle (MiB)",
             fixed(ours.rssIdleKib ? std::optional(*ours.rssIdleKib / 1024.0) : std::nullopt, 1),
             b([](M m) {
                 return fixed(m.rssIdleKib ? std::optional(*m.rssIdleKib / 1024.0) : std::nullopt,
                              1);
             }),
             "");
    printRow(
        "server RSS connected (MiB)",
        fixed(ours.rssConnectedKib ? std::optional(*ours.rssConnectedKib / 1024.0) : std::nullopt,
              1),
        b([](M m) {
            return fixed(
                m.rssConnectedKib ? std::optional(*m.rssConnectedKib / 1024.0) : std::nullopt, 1);
        }),
        "");
    printRow("server RSS per client (KiB)", fixed(ours.rssKibPerClient(), 1),
             b([](M m) { return fixed(m.rssKibPerClient(), 1); }),
             "<= " + fixed(kTargetRssKibPerClient, 0));
    printRow("bots CPU (% of one core)", fixed(100.0 * ours.botsCpuSeconds / ours.seconds, 0),
             b([](M m) { return fixed(100.0 * m.botsCpuSeconds / m.seconds, 0); }), "");
    printRow("actions sent / results / limited",
             std::to_string(ours.counters.actionsSent) + "/"
                 + std::to_string(ours.counters.actionResults) + "/"
                 + std::to_string(ours.counters.rateLimited),
             "", "");
    printRow("resyncs (messages dropped)", std::to_string(ours.counters.resyncs), "", "0");
    printRow("CPU per frame ratio to node", fixed(ratio, 2), "", "<= " + fixed(kTargetCpuRatio, 1));
    printFailures("hexsphere", ours);
    if (base)
        printFailures("node ws", *base);
    if (!ours.error.empty())
        std::printf("hexsphere: %s\n", ours.error.c_str());
    if (!baselineNote.empty())
        std::printf("baseline: %s\n", baselineNote.c_str());
    if (!ours.cpuSeconds)
        std::printf("note: no server process to measure (--url without --server-pid): CPU and "
                    "RSS are not reported.\n");

    const bool meets = ours.ok && ours.clients >= kTargetClients && ours.p99Ms <= kTargetP99Ms
                       && ours.rssKibPerClient()
                       && *ours.rssKibPerClient() <= kTargetRssKibPerClient && ratio
                       && *ratio <= kTargetCpuRatio;
    std::printf("target met: %s\n", meets ? "yes" : "no");

    std::ostringstream out;
    out << "{\"clients\": " << ours.clients << ", \"viewers\": " << ours.viewers
        << ", \"frames_per_s\": " << json(ours.framesPerSecond(), 1)
        << ", \"p50_ms\": " << json(ours.p50Ms, 2) << ", \"p99_ms\": " << json(ours.p99Ms, 2)
        << ", \"cpu_us_per_frame\": " << json(ours.cpuUsPerFrame(), 3)
        << ", \"user_us_per_frame\": " << json(ours.userUsPerFrame(), 3)
        << ", \"kernel_us_per_frame\": " << json(ours.systemUsPerFrame(), 3)
        << ", \"baseline_user_us_per_frame\": "
        << json(haveBase ? base->userUsPerFrame() : std::nullopt, 3)
        << ", \"baseline_kernel_us_per_frame\": "
        << json(haveBase ? base->systemUsPerFrame() : std::nullopt, 3)
        << ", \"rss_kib_per_client\": " << json(ours.rssKibPerClient(), 2)
        << ", \"cpu_ratio_to_baseline\": " << json(ratio, 3) << ", \"baseline_cpu_us_per_frame\": "
        << json(haveBase ? base->cpuUsPerFrame() : std::nullopt, 3) << ", \"baseline_p99_ms\": "
        << json(haveBase ? std::optional(base->p99Ms) : std::nullopt, 2)
        << ", \"baseline_rss_kib_per_client\": "
        << json(haveBase ? base->rssKibPerClient() : std::nullopt, 2)
        << ", \"viewer_frame_bytes\": " << json(ours.viewerFrameBytes(), 1)
        << ", \"idle_frame_bytes\": " << json(ours.idleFrameBytes(), 1)
        << ", \"failed\": " << failedOurs << ", \"seconds\": " << json(ours.seconds, 2)
        << ", \"baseline_error\": "
        << (baselineNote.empty() ? std::string("null")
                                 : jsonString(baselineNote.substr(0, baselineNote.find('\n'))))
        << ", \"target_met\": " << (meets ? "true" : "false") << "}";
    std::printf("%s\n", out.str().c_str());
    std::fflush(stdout);
    return ours.ok ? 0 : 1;
}

} // namespace
} // namespace hex::bench

int main(int argc, char *argv[])
{
    using namespace hex::bench;
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hexsphere-bots"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "WebSocket load benchmark. With no arguments: starts hexsphere-server on a free "
        "loopback port, connects 10000 clients (2500 viewers) at 20 UPS and measures for 20 s; "
        "then does the same against the Node.js ws baseline (tests/bench/baselines/"
        "ws-broadcast.js) with frames of the sizes ours sent, and prints a table and, as the "
        "last line, one JSON object. Progress goes to stderr."));
    parser.addHelpOption();
    const Options defaults;
    parser.addOptions({
        {"clients", "Clients to connect (default 10000).", "n"},
        {"viewers", "Of them, active viewers with a view radius > 0 (default 2500).", "n"},
        {"size", "World size n of the server we start (default 64).", "n"},
        {"ups", "Updates per second of the servers we start (default 20).", "n"},
        {"seconds", "Length of the measurement window in seconds (default 20).", "s"},
        {"warmup", "Seconds between the last connection and the window (default 3).", "s"},
        {"radius", "View radius of the viewers in degrees (default 20).", "deg"},
        {"action-rate", "CLAIM actions per second across all viewers (default 1; 0: none).", "r"},
        {"connect-window", "Handshakes in flight at once (default 500).", "n"},
        {"connect-timeout", "Seconds allowed for connecting everybody (default 180).", "s"},
        {"url",
         "Drive the running server at ws://HOST:PORT/ws instead (HOST: an IP address or "
         "localhost); no baseline. CPU and RSS only with --server-pid.",
         "url"},
        {"server-pid", "With --url: the server's process id, to measure its CPU and RSS.", "pid"},
        {"url-baseline", "With --url: the server is ws-broadcast.js, not hexsphere-server."},
        {"server", "hexsphere-server binary (default: next to this one).", "path"},
        {"server-arg", "Extra argument for the server we start; repeatable.", "arg"},
        {"no-baseline", "Do not run the Node.js baseline."},
        {"node", "Node.js binary for the baseline (default: node, from PATH).", "path"},
        {"baseline-script", "The baseline server script (default: the source tree's).", "path"},
    });
    parser.process(app);

    Options options;
    auto intOption = [&](const char *name, int min, int max, int fallback) {
        if (!parser.isSet(name))
            return fallback;
        bool ok = false;
        const int value = parser.value(name).toInt(&ok);
        if (!ok || value < min || value > max) {
            std::cerr << "--" << name << " must be a whole number from " << min << " to " << max
                      << "\n";
            std::exit(2);
        }
        return value;
    };
    options.bots.clients = intOption("clients", 1, 60'000, defaults.bots.clients);
    options.bots.viewers = intOption("viewers", 0, options.bots.clients,
                                     std::min(defaults.bots.viewers, options.bots.clients));
    options.size = intOption("size", 1, 1'000, defaults.size);
    options.ups = intOption("ups", 1, 1'000, defaults.ups);
    options.seconds = intOption("seconds", 1, 3'600, defaults.seconds);
    options.warmupSeconds = intOption("warmup", 0, 600, defaults.warmupSeconds);
    options.bots.connectWindow
        = intOption("connect-window", 1, 60'000, defaults.bots.connectWindow);
    options.connectTimeoutSeconds
        = intOption("connect-timeout", 1, 3'600, defaults.connectTimeoutSeconds);
    if (parser.isSet("radius"))
        options.bots.radiusDegrees = parser.value("radius").toDouble();
    if (parser.isSet("action-rate"))
        options.bots.actionRate = std::max(0.0, parser.value("action-rate").toDouble());
    options.bots.namePrefix = "bot" + std::to_string(getpid());
    options.serverArgs.clear();
    for (const QString &arg : parser.values("server-arg"))
        options.serverArgs.push_back(arg.toStdString());
    const std::filesystem::path here
        = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    options.serverPath = parser.isSet("server") ? parser.value("server").toStdString()
                                                : (here / "hexsphere-server").string();
    options.baselineScript
        = parser.isSet("baseline-script")
              ? parser.value("baseline-script").toStdString()
              : std::string(HEX_SOURCE_DIR "/tests/bench/baselines/ws-broadcast.js");
    if (parser.isSet("node"))
        options.node = parser.value("node").toStdString();
    options.baseline = !parser.isSet("no-baseline");

    raiseFileLimit(options.bots.clients);

    if (parser.isSet("url")) {
        options.url = parser.value("url").toStdString();
        if (!parseUrl(options.url, &options.bots)) {
            std::cerr << "--url must look like ws://127.0.0.1:8080/ws, not \"" << options.url
                      << "\"\n";
            return 2;
        }
        std::optional<pid_t> pid;
        if (parser.isSet("server-pid"))
            pid = pid_t(parser.value("server-pid").toInt());
        if (parser.isSet("url-baseline"))
            options.bots.kind = ServerKind::NodeBaseline;
        const Measurement ours = measure(options, options.bots, pid, options.url);
        return report(options, ours, std::nullopt, "not run (--url drives one server)");
    }

    const Measurement ours = measureOurs(options);
    if (!ours.ok) {
        std::cerr << "hexsphere-server measurement failed: " << ours.error << "\n";
        return report(options, ours, std::nullopt, "not run: our own measurement failed");
    }
    if (!options.baseline)
        return report(options, ours, std::nullopt, "not run (--no-baseline)");
    const Measurement base = measureBaseline(options, ours);
    return report(options, ours, base, base.error);
}
