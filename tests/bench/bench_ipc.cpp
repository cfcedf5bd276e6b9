// bench_ipc: issue 7's benchmark, in one run: round-trip wake-up latency between this
// process and a real child process for every wake-up method of server/compute with a
// Unix-domain-socket baseline, and tick throughput with 0, 1 and 2 compute workers.
//
//   build/bin/bench_ipc [--rounds N] [--worker PATH] [--ticks N] [--batches N]
//                       [--wakeup futex|eventfd|signal] [--size N]... [--parts-per-worker N]
//                       [--own-sphere] [--parts-in-order]
//
// Latency, per method: start hexsphere-worker --ping on a fresh segment, warm up, then time
// --rounds round trips (wake the worker, wait for its wake-up back). The baseline: a forked
// child echoing one byte over a socketpair.
//
// Throughput, per n (256 and 512 unless --size says otherwise): generate the world bench_sim
// steps (busyfactory.h: one extractor -> conveyor -> conveyor -> furnace -> chest line per
// 2,560 cells), build the factory, run 200 ticks, and keep that state. Every configuration
// starts a World from a copy of it: in-process on 1 thread, in-process on 2 threads (a
// reference row), and 1 and 2 workers (ComputeGroup::start; the World keeps 1 thread, so
// only the workers run in parallel; the world is cut into --parts-per-worker parts per worker,
// the server's 4 by default, which the workers take as they become free: the table's
// "parts %" says which share each took). All four live at once and step World::step(), the
// server's whole tick: the same warm-up each, then --batches timed batches (15), taking turns batch
// by batch (in a rotating order) so that the noisy machine's background load falls on all
// alike; ticks/s is the median batch. The first configuration's warm-up calibrates the tick
// counts (about 0.35 s a batch on it) unless --ticks sets the measured ticks.
// The state hash of every stepped tick must agree across configurations, and the
// incrementally kept hash must equal a full recomputation at the end: otherwise the run
// says where they part and exits non-zero. Bytes copied per tick is the growth of
// ComputeStats::bytesCopied over the measured ticks divided by the ticks. For the worker
// rows a thin StepRunner in front of the ComputeGroup times the automaton's phases, so the
// table splits their tick into the workers' part and the rest (the server's thread alone),
// and the summary gives the most that halving the workers' part could yield (Amdahl)
// and each phase's time with 1 and with 2 workers (which phase does not halve).
//
// Worker memory, per n: one worker started on a copy of the same state reading the
// planet's geometry (HexSphere's tables) from the segment, as the server starts them, and
// one building its own (ComputeOptions::shareSphere off, the baseline), each stepping 20
// ticks; then each worker's private memory (Pss_Anon of /proc/PID/smaps_rollup:
// the pages only it has) and the bytes of geometry in the segment.
//
// Progress goes to stderr; stdout gets the tables, then as its last line a JSON object with
// the figures (null for one not measured).
#include "busyfactory.h"

#include "compute/computegroup.h"
#include "compute/segment.h"
#include "compute/wakeup.h"
#include "compute/workerprocess.h"

#include "geometry/hexsphere.h"
#include "sim/content.h"
#include "sim/world.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QRegularExpression>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace hex::server::compute;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats
{
    double p50Us = 0;
    double p99Us = 0;
    double meanUs = 0;
};

Stats summarise(std::vector<double> samplesUs)
{
    Stats stats;
    if (samplesUs.empty())
        return stats;
    std::sort(samplesUs.begin(), samplesUs.end());
    const auto at = [&](double q) {
        const auto index = static_cast<std::size_t>(q * static_cast<double>(samplesUs.size() - 1));
        return samplesUs[index];
    };
    stats.p50Us = at(0.50);
    stats.p99Us = at(0.99);
    double sum = 0;
    for (double s : samplesUs)
        sum += s;
    stats.meanUs = sum / static_cast<double>(samplesUs.size());
    return stats;
}

constexpr int kWarmUp = 2000;

std::optional<Stats> measureWaker(const QString &worker, WakeMethod method, int spinUs, int rounds)
{
    auto segment = Segment::create();
    if (!segment) {
        std::fprintf(stderr, "bench_ipc: %s\n", qPrintable(segment.error()));
        return std::nullopt;
    }
    WorkerProcess process(*segment, 0);
    WakerOptions options;
    options.spin = std::chrono::microseconds(spinUs);
    if (!process.start(worker, method, options, std::chrono::seconds(30))) {
        std::fprintf(stderr, "bench_ipc: %s\n", qPrintable(process.errorString()));
        return std::nullopt;
    }
    Waker &waker = process.waker();
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(rounds));
    for (int i = 0; i < kWarmUp + rounds; ++i) {
        const auto start = Clock::now();
        if (!waker.notify() || waker.wait(std::chrono::seconds(10)) != WaitResult::Woken) {
            std::fprintf(stderr, "bench_ipc: %s round trip %d failed or timed out %s\n",
                         qPrintable(wakeMethodName(method)), i, qPrintable(waker.errorString()));
            return std::nullopt;
        }
        const auto end = Clock::now();
        if (i >= kWarmUp)
            samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    if (!process.stop(std::chrono::seconds(10)) || process.exitCode() != 0) {
        std::fprintf(stderr, "bench_ipc: the %s worker did not stop cleanly: %s\n",
                     qPrintable(wakeMethodName(method)), qPrintable(process.errorString()));
        return std::nullopt;
    }
    return summarise(std::move(samples));
}

std::optional<Stats> measureUnixSocket(int rounds)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        std::perror("bench_ipc: socketpair");
        return std::nullopt;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        std::perror("bench_ipc: fork");
        return std::nullopt;
    }
    if (child == 0) {
        ::close(fds[0]);
        char byte = 0;
        while (::read(fds[1], &byte, 1) == 1 && byte != 'q') {
            if (::write(fds[1], &byte, 1) != 1)
                ::_exit(1);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(rounds));
    bool ok = true;
    for (int i = 0; i < kWarmUp + rounds && ok; ++i) {
        char byte = 'p';
        const auto start = Clock::now();
        ok = ::write(fds[0], &byte, 1) == 1 && ::read(fds[0], &byte, 1) == 1 && byte == 'p';
        const auto end = Clock::now();
        if (i >= kWarmUp)
            samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    const char quit = 'q';
    (void)!::write(fds[0], &quit, 1);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_ipc: the Unix-socket echo child failed\n");
        return std::nullopt;
    }
    return summarise(std::move(samples));
}

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double medianOf(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

/// One way of stepping the world. workers == 0: in-process, on `threads` World threads.
struct Config
{
    const char *label;
    const char *key; ///< the JSON keys' suffix
    int workers;
    int threads;
};

constexpr std::array<Config, 4> kConfigs = {{
    {"in-process, 1 thread", "0w", 0, 1},
    {"in-process, 2 threads (ref)", "0w_2t", 0, 2},
    {"1 worker", "1w", 1, 1},
    {"2 workers", "2w", 2, 1},
}};
constexpr std::size_t kReference = 0;
constexpr std::size_t kTwoThreads = 1;
constexpr std::size_t kOneWorker = 2;
constexpr std::size_t kTwoWorkers = 3;

/// Calibration targets on the first configuration (in-process, 1 thread), in seconds.
constexpr double kWarmUpSeconds = 0.5;
constexpr double kBatchSeconds = 0.35;

/// Tick counts shared by every configuration of one n, so that their hashes line up.
struct Plan
{
    int warmUpTicks = 0; ///< 0: the first configuration calibrates
    /// 15: with 9, a few seconds of the host's noise could move the median batch, and 2
    /// workers / 1 at n=512 spread over 1.61–2.04 between runs of one build.
    int batches = 15;
    int batchTicks = 0; ///< 0: the first configuration calibrates
};

/// What one configuration measured.
struct Throughput
{
    bool ok = false;
    QString error;
    double ticksPerSecond = 0; ///< median batch
    double minTicksPerSecond = 0;
    double maxTicksPerSecond = 0;
    int measuredTicks = 0;
    std::uint64_t firstTick = 0; ///< StepResult::tick of the first step
    /// stateHash of every step, warm-up included.
    std::vector<std::uint64_t> hashes;
    bool fullHashAgrees = true;
    // Workers only.
    std::uint64_t bytesAtStart = 0;  ///< ComputeStats::bytesCopied right after start()
    std::uint64_t bytesMeasured = 0; ///< its growth over the measured ticks
    double bytesPerTick = 0;
    std::uint64_t takenOverMeasured = 0; ///< parts' phases the server ran itself meanwhile
    /// Per worker slot: the share of the measured ticks' parts it ran, in percent.
    std::vector<double> partShares;
    /// Mean milliseconds per measured tick inside the automaton's phases (handed to the
    /// workers, waited for) and in the rest of the tick (this thread alone).
    double phaseMs = 0;
    double restMs = 0;
    /// phaseMs by phase (AutomatonPhase order: survey, read, write, collect).
    std::array<double, hex::sim::kAutomatonPhaseCount> phaseMsBy{};
    ComputeStats stats; ///< at the end
};

/// Forwards to a ComputeGroup and times its automaton phases: the part of the tick the
/// workers do, from handing out to the last answer.
class PhaseTimer final : public hex::sim::StepRunner
{
public:
    explicit PhaseTimer(hex::sim::StepRunner &inner)
        : m_inner(inner)
    {}
    /// Seconds spent in runPhase() so far, and by phase.
    double seconds() const { return m_seconds; }
    double seconds(hex::sim::AutomatonPhase phase) const
    {
        return m_phaseSeconds[std::size_t(phase)];
    }

    int partCount() const override { return m_inner.partCount(); }
    std::byte *exchange() override { return m_inner.exchange(); }
    std::uint64_t newStamp() override { return m_inner.newStamp(); }
    void runPhase(hex::sim::AutomatonPhase phase, const hex::sim::AutomatonMemory &memory,
                  hex::sim::Automaton &automaton) override
    {
        const Clock::time_point start = Clock::now();
        m_inner.runPhase(phase, memory, automaton);
        const double seconds = secondsSince(start);
        m_seconds += seconds;
        m_phaseSeconds[std::size_t(phase)] += seconds;
    }

private:
    hex::sim::StepRunner &m_inner;
    double m_seconds = 0;
    std::array<double, hex::sim::kAutomatonPhaseCount> m_phaseSeconds{};
};

/// One configuration's World (and workers) for one n, alive for the whole measurement so
/// that the configurations' batches can take turns.
struct Run
{
    Run() = default;
    Run(const Run &) = delete;
    Run &operator=(const Run &) = delete;
    ~Run() { stop(); }

    const Config *config = nullptr;
    std::unique_ptr<hex::sim::World> world;
    std::unique_ptr<ComputeGroup> group;
    /// Installed in front of `group` once it runs.
    std::unique_ptr<PhaseTimer> timer;
    ComputeStats before; ///< at the start of the measured ticks
    std::vector<double> rates;
    double measuredSeconds = 0;      ///< in the timed batches
    double measuredPhaseSeconds = 0; ///< of which in the automaton's phases (workers only)
    /// measuredPhaseSeconds by phase
    std::array<double, hex::sim::kAutomatonPhaseCount> measuredSecondsBy{};
    Throughput result;

    /// Stops the workers (the group back in place first, so that it uninstalls itself and
    /// gives the arrays back to the World), then frees the World.
    void stop()
    {
        if (world && group)
            world->setStepRunner(group.get());
        timer.reset();
        group.reset();
        world.reset();
    }

    /// Steps `ticks` ticks, keeping every state hash.
    void step(int ticks)
    {
        for (int t = 0; t < ticks; ++t) {
            const hex::sim::StepResult r = world->step();
            if (result.hashes.empty())
                result.firstTick = r.tick;
            result.hashes.push_back(r.stateHash);
        }
    }
};

/// Makes `config`'s World from a copy of `snapshot` and starts its workers. On failure
/// result.error says why and `world` is null.
void startRun(Run &run, const Config &config, const hex::sim::WorldState &snapshot,
              const std::shared_ptr<const hex::sim::Content> &content,
              const ComputeOptions &baseOptions, int n)
{
    run.config = &config;
    run.world = std::make_unique<hex::sim::World>(hex::sim::WorldState(snapshot), content,
                                                  config.threads);
    if (config.workers == 0)
        return;
    ComputeOptions options = baseOptions;
    options.workers = config.workers;
    auto started = ComputeGroup::start(*run.world, options);
    if (!started) {
        run.result.error = QStringLiteral("ComputeGroup::start failed: ") + started.error();
        run.world.reset();
        return;
    }
    run.group = std::move(*started);
    if (run.world->stepRunner() != run.group.get()) {
        std::fprintf(stderr, "bench_ipc: note: ComputeGroup::start did not install itself as the "
                             "World's StepRunner; installing it here\n");
    }
    run.timer = std::make_unique<PhaseTimer>(*run.group);
    run.world->setStepRunner(run.timer.get());
    const ComputeStats stats = run.group->stats();
    run.result.bytesAtStart = stats.bytesCopied;
    std::fprintf(stderr, "n=%d %s: started, %d of %d running, %llu bytes copied at start\n", n,
                 config.label, stats.running, stats.workers,
                 static_cast<unsigned long long>(stats.bytesCopied));
}

/// Everything measured at one n.
struct SizeResult
{
    int n = 0;
    std::uint32_t cells = 0;
    std::size_t structures = 0;
    Plan plan;
    std::array<Throughput, kConfigs.size()> rows;
    /// No configuration's hashes disagree (a configuration that failed to run counts as
    /// agreeing; see problems).
    bool consistent = true;
    /// One line per failed configuration and per disagreement.
    QStringList problems;
    /// A worker's private memory reading the shared sphere / building its own, and the
    /// sphere's bytes in the segment (measureWorkerMemory()).
    std::optional<std::uint64_t> workerPrivateShared;
    std::optional<std::uint64_t> workerPrivateOwnSphere;
    std::uint64_t sphereBytes = 0;
};

/// The anonymous pages of process `pid` only it has (Pss_Anon in smaps_rollup), in bytes.
std::optional<std::uint64_t> privateBytes(qint64 pid)
{
    QFile file(QStringLiteral("/proc/%1/smaps_rollup").arg(pid));
    if (pid <= 0 || !file.open(QIODevice::ReadOnly))
        return std::nullopt;
    static const QRegularExpression line(QStringLiteral("^Pss_Anon:\\s+(\\d+) kB$"),
                                         QRegularExpression::MultilineOption);
    const QRegularExpressionMatch match = line.match(QString::fromLatin1(file.readAll()));
    if (!match.hasMatch())
        return std::nullopt;
    return match.captured(1).toULongLong() * 1024;
}

/// Starts one worker on a copy of `snapshot`, sharing the sphere's tables or not, steps
/// `ticks` ticks and returns its private memory (and the sphere's bytes in the segment).
std::optional<std::uint64_t>
measureWorkerMemory(const hex::sim::WorldState &snapshot,
                    const std::shared_ptr<const hex::sim::Content> &content, ComputeOptions options,
                    bool shareSphere, int ticks, std::uint64_t *sphereBytes)
{
    hex::sim::World world{hex::sim::WorldState(snapshot), content, 1};
    options.workers = 1;
    options.shareSphere = shareSphere;
    auto started = ComputeGroup::start(world, options);
    if (!started)
        return std::nullopt;
    for (int t = 0; t < ticks; ++t)
        world.step();
    const ComputeStats stats = (*started)->stats();
    if (sphereBytes)
        *sphereBytes = stats.sphereBytes;
    if (stats.running != 1 || stats.crashes != 0)
        return std::nullopt;
    return privateBytes((*started)->workerPid(0));
}

/// Generates the world of `n`, then measures every configuration on copies of it. All
/// configurations live at once and their batches take turns (in a rotating order), so
/// that a change in the machine's background load falls on all of them alike.
SizeResult measureSize(int n, const std::shared_ptr<const hex::sim::Content> &content,
                       const ComputeOptions &options, Plan plan)
{
    SizeResult size;
    size.n = n;
    std::fprintf(stderr, "n=%d: generating the world...\n", n);
    const Clock::time_point genStart = Clock::now();
    auto sphere = std::make_shared<const hex::geometry::HexSphere>(n);
    hex::sim::WorldState state = hex::sim::generateWorld(sphere, *content, 1234);
    const int chains = std::max(20, int(std::int64_t(n) * n / 256)); // as bench_sim
    const hex::bench::Factory factory = hex::bench::planFactory(state, *content, chains);
    std::optional<hex::sim::WorldState> snapshot;
    {
        hex::sim::World world(std::move(state), content, 2);
        for (const hex::sim::Action &a : factory.builds)
            world.queueAction(a);
        world.step();
        for (const hex::sim::Action &a : factory.recipes)
            world.queueAction(a);
        world.step();
        std::fprintf(stderr, "n=%d: %u cells, %zu structures, built in %.1f s; 200 ticks...\n", n,
                     world.state().cellCount(), world.state().machines.size(),
                     secondsSince(genStart));
        world.simulate(200);
        snapshot.emplace(world.state());
    }
    size.cells = snapshot->cellCount();
    size.structures = snapshot->machines.size();

    std::fprintf(stderr, "n=%d: a worker's memory, sharing the sphere and building its own...\n",
                 n);
    size.workerPrivateShared
        = measureWorkerMemory(*snapshot, content, options, true, 20, &size.sphereBytes);
    size.workerPrivateOwnSphere
        = measureWorkerMemory(*snapshot, content, options, false, 20, nullptr);

    std::array<Run, kConfigs.size()> runs;
    for (std::size_t i = 0; i < kConfigs.size(); ++i)
        startRun(runs[i], kConfigs[i], *snapshot, content, options, n);
    snapshot.reset();

    // Warm-up, the same ticks for all; the first configuration also times its warm-up to
    // size the batches (kBatchSeconds each on it).
    for (Run &run : runs) {
        if (!run.world)
            continue;
        if (plan.warmUpTicks == 0) {
            std::vector<double> ticks;
            const Clock::time_point warmStart = Clock::now();
            while (ticks.size() < 10 || secondsSince(warmStart) < kWarmUpSeconds) {
                const Clock::time_point start = Clock::now();
                run.step(1);
                ticks.push_back(secondsSince(start));
            }
            plan.warmUpTicks = int(ticks.size());
            if (plan.batchTicks == 0) {
                const double tick = std::max(medianOf(ticks), 1e-6);
                plan.batchTicks = std::clamp(int(std::lround(kBatchSeconds / tick)), 5, 20000);
            }
        } else {
            run.step(plan.warmUpTicks);
        }
        if (run.group)
            run.before = run.group->stats();
        std::fprintf(stderr, "n=%d %s: %d warm-up ticks done\n", n, run.config->label,
                     plan.warmUpTicks);
    }
    size.plan = plan;

    std::fprintf(stderr, "n=%d: measuring %d batches of %d ticks per configuration, in turns\n", n,
                 plan.batches, plan.batchTicks);
    for (int b = 0; b < plan.batches; ++b) {
        for (std::size_t k = 0; k < runs.size(); ++k) {
            Run &run = runs[(std::size_t(b) + k) % runs.size()];
            if (!run.world)
                continue;
            const double phaseSeconds = run.timer ? run.timer->seconds() : 0.0;
            std::array<double, hex::sim::kAutomatonPhaseCount> bySeconds{};
            for (int p = 0; run.timer && p < hex::sim::kAutomatonPhaseCount; ++p)
                bySeconds[std::size_t(p)] = run.timer->seconds(hex::sim::AutomatonPhase(p));
            const Clock::time_point start = Clock::now();
            run.step(plan.batchTicks);
            const double seconds = std::max(secondsSince(start), 1e-9);
            run.rates.push_back(plan.batchTicks / seconds);
            run.measuredSeconds += seconds;
            if (run.timer) {
                run.measuredPhaseSeconds += run.timer->seconds() - phaseSeconds;
                for (int p = 0; p < hex::sim::kAutomatonPhaseCount; ++p) {
                    run.measuredSecondsBy[std::size_t(p)]
                        += run.timer->seconds(hex::sim::AutomatonPhase(p))
                           - bySeconds[std::size_t(p)];
                }
            }
        }
        std::fprintf(stderr, "n=%d: batch %d of %d done\n", n, b + 1, plan.batches);
    }

    for (std::size_t i = 0; i < runs.size(); ++i) {
        Run &run = runs[i];
        Throughput &result = run.result;
        if (run.world) {
            result.measuredTicks = plan.batches * plan.batchTicks;
            result.ticksPerSecond = medianOf(run.rates);
            result.minTicksPerSecond = *std::min_element(run.rates.begin(), run.rates.end());
            result.maxTicksPerSecond = *std::max_element(run.rates.begin(), run.rates.end());
            if (run.group) {
                result.stats = run.group->stats();
                result.bytesMeasured = result.stats.bytesCopied - run.before.bytesCopied;
                result.bytesPerTick = double(result.bytesMeasured) / result.measuredTicks;
                result.takenOverMeasured = result.stats.takenOver - run.before.takenOver;
                std::uint64_t partsMeasured = result.takenOverMeasured;
                for (std::size_t w = 0; w < result.stats.partsRun.size(); ++w)
                    partsMeasured += result.stats.partsRun[w] - run.before.partsRun[w];
                for (std::size_t w = 0; w < result.stats.partsRun.size(); ++w)
                    result.partShares.push_back(
                        100.0 * double(result.stats.partsRun[w] - run.before.partsRun[w])
                        / double(std::max<std::uint64_t>(1, partsMeasured)));
                result.phaseMs = 1000.0 * run.measuredPhaseSeconds / result.measuredTicks;
                for (std::size_t p = 0; p < result.phaseMsBy.size(); ++p)
                    result.phaseMsBy[p] = 1000.0 * run.measuredSecondsBy[p] / result.measuredTicks;
                result.restMs = 1000.0 * (run.measuredSeconds - run.measuredPhaseSeconds)
                                / result.measuredTicks;
            }
            result.fullHashAgrees = run.world->fullStateHash() == run.world->stateHash();
            result.ok = true;
            std::fprintf(stderr, "n=%d %s: %.1f ticks/s (batches %.1f..%.1f)", n, kConfigs[i].label,
                         result.ticksPerSecond, result.minTicksPerSecond, result.maxTicksPerSecond);
            if (run.group) {
                std::fprintf(stderr,
                             "; %d of %d running, jobs %llu, crashes %llu, missed deadlines "
                             "%llu, taken over %llu, restarts %llu%s%s",
                             result.stats.running, result.stats.workers,
                             static_cast<unsigned long long>(result.stats.jobs),
                             static_cast<unsigned long long>(result.stats.crashes),
                             static_cast<unsigned long long>(result.stats.missedDeadlines),
                             static_cast<unsigned long long>(result.stats.takenOver),
                             static_cast<unsigned long long>(result.stats.restarts),
                             result.stats.lastError.isEmpty() ? "" : "; last error: ",
                             qPrintable(result.stats.lastError));
            }
            std::fprintf(stderr, "%s\n", result.fullHashAgrees ? "" : "; FULL HASH DIFFERS");
        } else {
            std::fprintf(stderr, "n=%d %s: %s\n", n, kConfigs[i].label, qPrintable(result.error));
            size.problems << QStringLiteral("n=%1 %2: %3")
                                 .arg(n)
                                 .arg(QLatin1String(kConfigs[i].label), result.error);
        }
        size.rows[i] = std::move(result);
    }
    // Stop the workers and free the worlds before the next n.
    for (Run &run : runs) {
        run.stop();
    }

    // Every configuration stepped the same ticks from the same state: the hashes must agree.
    const Throughput &reference = size.rows[kReference];
    for (std::size_t i = 0; i < kConfigs.size(); ++i) {
        const Throughput &row = size.rows[i];
        if (!row.ok)
            continue;
        if (!row.fullHashAgrees) {
            size.consistent = false;
            size.problems << QStringLiteral("n=%1 %2: the state hash kept step by step differs "
                                            "from the one recomputed from the arrays")
                                 .arg(n)
                                 .arg(QLatin1String(kConfigs[i].label));
        }
        if (i == kReference || !reference.ok)
            continue;
        if (row.firstTick != reference.firstTick || row.hashes.size() != reference.hashes.size()) {
            size.consistent = false;
            size.problems << QStringLiteral("n=%1 %2: stepped ticks %3..+%4, the reference %5..+%6")
                                 .arg(n)
                                 .arg(QLatin1String(kConfigs[i].label))
                                 .arg(row.firstTick)
                                 .arg(row.hashes.size())
                                 .arg(reference.firstTick)
                                 .arg(reference.hashes.size());
            continue;
        }
        const auto mismatch
            = std::mismatch(row.hashes.begin(), row.hashes.end(), reference.hashes.begin());
        if (mismatch.first != row.hashes.end()) {
            const auto index = std::size_t(mismatch.first - row.hashes.begin());
            size.consistent = false;
            size.problems << QStringLiteral("n=%1 %2: state hash differs from %3's at tick %4 "
                                            "(%5 vs %6; step %7 of %8)")
                                 .arg(n)
                                 .arg(QLatin1String(kConfigs[i].label),
                                      QLatin1String(kConfigs[kReference].label))
                                 .arg(row.firstTick + index)
                                 .arg(qulonglong(*mismatch.first), 16, 16, QLatin1Char('0'))
                                 .arg(qulonglong(*mismatch.second), 16, 16, QLatin1Char('0'))
                                 .arg(index + 1)
                                 .arg(row.hashes.size());
        }
    }
    return size;
}

QString formatBytes(double bytes)
{
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes, 0, 'f', bytes == std::floor(bytes) ? 0 : 1);
    if (bytes < 1024 * 1024)
        return QStringLiteral("%1 KiB").arg(bytes / 1024, 0, 'f', 1);
    return QStringLiteral("%1 MiB").arg(bytes / (1024 * 1024), 0, 'f', 1);
}

/// A JSON object printed in insertion order, values already formatted.
class JsonLine
{
public:
    void add(const QString &key, const QString &value) { m_fields.emplace_back(key, value); }
    void add(const QString &key, std::optional<double> value, int decimals = 3)
    {
        add(key, value ? QString::number(*value, 'f', decimals) : QStringLiteral("null"));
    }
    QString text() const
    {
        QStringList parts;
        for (const auto &[key, value] : m_fields)
            parts << QStringLiteral("\"%1\": %2").arg(key, value);
        return QLatin1Char('{') + parts.join(QStringLiteral(", ")) + QLatin1Char('}');
    }

private:
    std::vector<std::pair<QString, QString>> m_fields;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Round-trip wake-up latency and tick throughput with compute workers."));
    parser.addHelpOption();
    const QCommandLineOption roundsOption(QStringLiteral("rounds"),
                                          QStringLiteral("Timed round trips per method."),
                                          QStringLiteral("n"), QStringLiteral("20000"));
    const QCommandLineOption workerOption(
        QStringLiteral("worker"), QStringLiteral("The hexsphere-worker binary."),
        QStringLiteral("path"),
        QCoreApplication::applicationDirPath() + QStringLiteral("/hexsphere-worker"));
    const QCommandLineOption ticksOption(
        QStringLiteral("ticks"),
        QStringLiteral("Measured ticks per configuration (default: about 0.35 s a batch on "
                       "1 thread)."),
        QStringLiteral("n"));
    const QCommandLineOption batchesOption(
        QStringLiteral("batches"),
        QStringLiteral("Timed batches per configuration (default: %1).").arg(Plan{}.batches),
        QStringLiteral("n"), QString::number(Plan{}.batches));
    const QCommandLineOption wakeupOption(
        QStringLiteral("wakeup"),
        QStringLiteral("Wake-up method of the throughput runs (default: the best here)."),
        QStringLiteral("futex|eventfd|signal"));
    const QCommandLineOption sizeOption(
        QStringLiteral("size"),
        QStringLiteral("Throughput at this n only (repeatable; default 256 and 512)."),
        QStringLiteral("n"));
    const QCommandLineOption partsOption(
        QStringLiteral("parts-per-worker"),
        QStringLiteral("Automaton parts per worker in the throughput runs (default: the "
                       "server's)."),
        QStringLiteral("n"));
    const QCommandLineOption ownSphereOption(
        QStringLiteral("own-sphere"),
        QStringLiteral("The throughput runs' workers build their own copy of the planet's "
                       "geometry instead of reading the one in the segment."));
    const QCommandLineOption inOrderOption(
        QStringLiteral("parts-in-order"),
        QStringLiteral("The throughput runs hand out each phase's parts in part order instead "
                       "of longest first."));
    parser.addOptions({roundsOption, workerOption, ticksOption, batchesOption, wakeupOption,
                       sizeOption, partsOption, ownSphereOption, inOrderOption});
    parser.process(app);
    bool ok = false;
    const int rounds = parser.value(roundsOption).toInt(&ok);
    if (!ok || rounds < 100) {
        std::fprintf(stderr, "bench_ipc: --rounds must be a number of at least 100\n");
        return 1;
    }
    const QString worker = parser.value(workerOption);
    Plan plan;
    plan.batches = parser.value(batchesOption).toInt(&ok);
    if (!ok || plan.batches < 1 || plan.batches > 1000) {
        std::fprintf(stderr, "bench_ipc: --batches must be a number from 1 to 1000\n");
        return 1;
    }
    if (parser.isSet(ticksOption)) {
        const int ticks = parser.value(ticksOption).toInt(&ok);
        if (!ok || ticks < plan.batches) {
            std::fprintf(stderr, "bench_ipc: --ticks must be a number of at least --batches\n");
            return 1;
        }
        plan.batchTicks = ticks / plan.batches;
    }
    WakeMethod throughputMethod = Waker::best();
    if (parser.isSet(wakeupOption)) {
        const auto method = parseWakeMethod(parser.value(wakeupOption));
        if (!method) {
            std::fprintf(stderr, "bench_ipc: --wakeup takes futex, eventfd or signal\n");
            return 1;
        }
        throughputMethod = *method;
    }
    int partsPerWorker = ComputeOptions{}.partsPerWorker;
    if (parser.isSet(partsOption)) {
        partsPerWorker = parser.value(partsOption).toInt(&ok);
        if (!ok || partsPerWorker < 1 || 2 * partsPerWorker > kMaxParts) {
            std::fprintf(stderr, "bench_ipc: --parts-per-worker must be a number from 1 to %d\n",
                         kMaxParts / 2);
            return 1;
        }
    }
    std::vector<int> sizes;
    for (const QString &value : parser.values(sizeOption)) {
        const int n = value.toInt(&ok);
        if (!ok || n < 1 || n > 1024) {
            std::fprintf(stderr, "bench_ipc: --size must be a number from 1 to 1024\n");
            return 1;
        }
        sizes.push_back(n);
    }
    if (sizes.empty())
        sizes = {256, 512};

    auto loaded = hex::sim::loadDefaultContent();
    if (!loaded) {
        std::fprintf(stderr, "bench_ipc: %s\n", qPrintable(loaded.error()));
        return 1;
    }
    const auto content = std::make_shared<const hex::sim::Content>(std::move(*loaded));

    Segment::removeStale();

    // Round-trip latency.
    std::fprintf(stderr, "latency: %d round trips per method...\n", rounds);
    std::printf("bench_ipc: %d round trips per method after %d warm-up, against a child "
                "process (best wake-up method here: %s)\n",
                rounds, kWarmUp, qPrintable(wakeMethodName(Waker::best())));

    struct Row
    {
        const char *label;
        std::optional<Stats> stats;
    };
    const auto futex = measureWaker(worker, WakeMethod::Futex, 20, rounds);
    const auto futexNoSpin = measureWaker(worker, WakeMethod::Futex, 0, rounds);
    const auto eventfd = measureWaker(worker, WakeMethod::EventFd, 0, rounds);
    const auto signal = measureWaker(worker, WakeMethod::Signal, 0, rounds);
    const auto uds = measureUnixSocket(rounds);
    const Row rows[] = {{"spin-then-futex (20 us spin)", futex},
                        {"plain futex (no spin)", futexNoSpin},
                        {"eventfd", eventfd},
                        {"signals (SIGUSR1/SIGUSR2)", signal},
                        {"Unix socket (socketpair)", uds}};

    std::printf("\n%-30s %10s %10s %10s %12s\n", "method", "p50 us", "p99 us", "mean us",
                "p50 vs UDS");
    for (const Row &row : rows) {
        if (!row.stats) {
            std::printf("%-30s %10s\n", row.label, "FAILED");
            continue;
        }
        const double ratio = uds ? row.stats->p50Us / uds->p50Us : 0.0;
        std::printf("%-30s %10.2f %10.2f %10.2f %11.2fx\n", row.label, row.stats->p50Us,
                    row.stats->p99Us, row.stats->meanUs, ratio);
    }
    bool complete = futex && futexNoSpin && eventfd && signal && uds;
    const double ratio = (futex && uds) ? futex->p50Us / uds->p50Us : -1.0;
    std::fflush(stdout);

    // Tick throughput.
    ComputeOptions options;
    options.method = throughputMethod;
    options.program = worker;
    options.partsPerWorker = partsPerWorker;
    options.shareSphere = !parser.isSet(ownSphereOption);
    options.longestFirst = !parser.isSet(inOrderOption);
    std::vector<SizeResult> results;
    for (const int n : sizes)
        results.push_back(measureSize(n, content, options, plan));

    std::printf("\ntick throughput: World::step() (actions, automaton, machines, deltas, state "
                "hash) on bench_sim's busy factory; workers wake by %s; ticks/s is the median "
                "batch (slowest..fastest in brackets)\n",
                qPrintable(wakeMethodName(throughputMethod)));
    std::printf("\n%4s %-28s %9s %19s %8s %8s %8s %8s %10s %10s %6s %9s\n", "n", "configuration",
                "ticks/s", "(batches)", "ms/tick", "vs 1 thr", "phase ms", "rest ms", "copy/tick",
                "copy@start", "by srv", "parts %");
    for (const SizeResult &size : results) {
        std::printf("%4d %u cells, %zu structures; %d warm-up ticks, then %d batches of %d ticks\n",
                    size.n, size.cells, size.structures, size.plan.warmUpTicks, size.plan.batches,
                    size.plan.batchTicks);
        const Throughput &reference = size.rows[kReference];
        for (std::size_t i = 0; i < kConfigs.size(); ++i) {
            const Throughput &row = size.rows[i];
            if (!row.ok) {
                std::printf("%4d %-28s %9s\n", size.n, kConfigs[i].label, "FAILED");
                continue;
            }
            const QString range = QStringLiteral("(%1..%2)")
                                      .arg(row.minTicksPerSecond, 0, 'f', 1)
                                      .arg(row.maxTicksPerSecond, 0, 'f', 1);
            const QString versus = reference.ok ? QStringLiteral("%1x").arg(
                                       row.ticksPerSecond / reference.ticksPerSecond, 0, 'f', 2)
                                                : QStringLiteral("-");
            const bool workers = kConfigs[i].workers > 0;
            QStringList shares;
            for (const double share : row.partShares)
                shares << QString::number(share, 'f', 0);
            std::printf("%4d %-28s %9.1f %19s %8.3f %8s %8s %8s %10s %10s %6s %9s\n", size.n,
                        kConfigs[i].label, row.ticksPerSecond, qPrintable(range),
                        1000.0 / row.ticksPerSecond, qPrintable(versus),
                        workers ? qPrintable(QString::number(row.phaseMs, 'f', 3)) : "-",
                        workers ? qPrintable(QString::number(row.restMs, 'f', 3)) : "-",
                        workers ? qPrintable(formatBytes(row.bytesPerTick)) : "-",
                        workers ? qPrintable(formatBytes(double(row.bytesAtStart))) : "-",
                        workers ? qPrintable(QString::number(row.takenOverMeasured)) : "-",
                        workers ? qPrintable(shares.join(QLatin1Char('/'))) : "-");
        }
    }
    for (const SizeResult &size : results) {
        for (std::size_t i = 0; i < kConfigs.size(); ++i) {
            const Throughput &row = size.rows[i];
            if (row.ok && row.takenOverMeasured > 0) {
                std::printf("note: n=%d %s: the server ran %llu parts' phases itself during the "
                            "measured ticks (%llu crashes, %llu missed deadlines so far): the row "
                            "is not the workers' throughput alone\n",
                            size.n, kConfigs[i].label,
                            static_cast<unsigned long long>(row.takenOverMeasured),
                            static_cast<unsigned long long>(row.stats.crashes),
                            static_cast<unsigned long long>(row.stats.missedDeadlines));
            }
        }
    }
    std::printf("\n(vs 1 thr: ticks/s over in-process on 1 thread; phase ms / rest ms: mean time "
                "per measured tick in the automaton's phases (handed to the workers, until the "
                "last answers) / in the rest of the tick (actions, machines, deltas, hash: the "
                "server's thread alone); copy/tick: growth of ComputeStats::bytesCopied over the "
                "measured ticks / ticks; copy@start: bytesCopied right after "
                "ComputeGroup::start; by srv: parts' phases the server ran itself during the "
                "measured ticks; parts %%: the share of the measured ticks' parts each worker "
                "took, %d per worker, taken by whichever worker is free, %s)\n",
                options.partsPerWorker,
                options.longestFirst ? "longest first by their recent times" : "in part order");

    const auto findSize = [&](int n) -> const SizeResult * {
        for (const SizeResult &size : results) {
            if (size.n == n)
                return &size;
        }
        return nullptr;
    };
    const auto rate = [&](int n, std::size_t config) -> std::optional<double> {
        const SizeResult *size = findSize(n);
        if (!size || !size->rows[config].ok)
            return std::nullopt;
        return size->rows[config].ticksPerSecond;
    };
    // What halving the phases of the 1-worker tick would give at most (Amdahl).
    const auto amdahlBound = [](const Throughput &one) -> std::optional<double> {
        if (!one.ok || one.phaseMs / 2 + one.restMs <= 0)
            return std::nullopt;
        return (one.phaseMs + one.restMs) / (one.phaseMs / 2 + one.restMs);
    };
    const auto quotient
        = [](std::optional<double> a, std::optional<double> b) -> std::optional<double> {
        if (!a || !b || *b <= 0)
            return std::nullopt;
        return *a / *b;
    };

    std::printf("\n");
    for (const SizeResult &size : results) {
        const auto twoToOne = quotient(rate(size.n, kTwoWorkers), rate(size.n, kOneWorker));
        const auto oneToLocal = quotient(rate(size.n, kOneWorker), rate(size.n, kReference));
        const auto twoThreads = quotient(rate(size.n, kTwoThreads), rate(size.n, kReference));
        const auto times = [](std::optional<double> value) {
            return value ? QStringLiteral("%1x").arg(*value, 0, 'f', 2)
                         : QStringLiteral("not measured");
        };
        std::printf("n=%d: 2 workers / 1 worker = %s; 1 worker / in-process 1 thread = %s; "
                    "control: in-process 2 threads / 1 thread = %s (what a second core gives "
                    "the step on this machine now)\n",
                    size.n, qPrintable(times(twoToOne)), qPrintable(times(oneToLocal)),
                    qPrintable(times(twoThreads)));
        const Throughput &one = size.rows[kOneWorker];
        const Throughput &two = size.rows[kTwoWorkers];
        if (one.ok && two.ok && two.phaseMs > 0) {
            std::printf(
                "n=%d: with 1 worker the automaton's phases take %.3f ms of a %.3f ms "
                "tick (mean): two workers halving them would give at most %.2fx; with "
                "2 the phases took %.3f ms (1 worker's / 2 workers' = %.2fx), the rest %.3f ms\n",
                size.n, one.phaseMs, one.phaseMs + one.restMs, amdahlBound(one).value_or(0.0),
                two.phaseMs, one.phaseMs / two.phaseMs, two.restMs);
            static constexpr const char *kPhaseNames[] = {"survey", "read", "write", "collect"};
            std::printf("n=%d: by phase, ms a tick, 1 worker / 2 workers (ratio):", size.n);
            for (std::size_t p = 0; p < one.phaseMsBy.size(); ++p) {
                std::printf("%s %s %.3f / %.3f (%.2fx)", p ? ";" : "", kPhaseNames[p],
                            one.phaseMsBy[p], two.phaseMsBy[p],
                            two.phaseMsBy[p] > 0 ? one.phaseMsBy[p] / two.phaseMsBy[p] : 0.0);
            }
            std::printf("\n");
        }
    }

    const auto mib = [](std::optional<std::uint64_t> bytes) -> std::optional<double> {
        return bytes ? std::optional<double>(double(*bytes) / (1024.0 * 1024.0)) : std::nullopt;
    };
    std::printf("\nworker memory: private (Pss_Anon) of 1 worker after 20 ticks, reading the "
                "planet's geometry in the segment / building its own (the baseline)\n");
    std::printf("%4s %16s %16s %10s %18s\n", "n", "shared sphere", "own sphere", "saved",
                "sphere in segment");
    for (const SizeResult &size : results) {
        const auto shown = [&](std::optional<std::uint64_t> bytes) {
            return bytes ? formatBytes(double(*bytes)) : QStringLiteral("not measured");
        };
        const QString saved = size.workerPrivateShared && size.workerPrivateOwnSphere
                                  ? formatBytes(double(*size.workerPrivateOwnSphere)
                                                - double(*size.workerPrivateShared))
                                  : QStringLiteral("-");
        std::printf("%4d %16s %16s %10s %18s\n", size.n,
                    qPrintable(shown(size.workerPrivateShared)),
                    qPrintable(shown(size.workerPrivateOwnSphere)), qPrintable(saved),
                    qPrintable(formatBytes(double(size.sphereBytes))));
    }

    std::optional<double> bytesPerTick;
    bool consistent = true;
    for (const SizeResult &size : results) {
        consistent = consistent && size.consistent;
        for (std::size_t i = 0; i < kConfigs.size(); ++i) {
            if (kConfigs[i].workers > 0 && size.rows[i].ok)
                bytesPerTick = std::max(bytesPerTick.value_or(0.0), size.rows[i].bytesPerTick);
        }
    }
    const auto speedup512 = quotient(rate(512, kTwoWorkers), rate(512, kOneWorker));

    std::printf("\ntarget: spin-then-futex round trip <= 0.5x the Unix socket's (p50): ");
    if (ratio < 0)
        std::printf("not measured (a method failed)\n");
    else
        std::printf("%.2fx -> %s\n", ratio, ratio <= 0.5 ? "MET" : "NOT MET");
    std::printf("target: 2 workers >= 1.7x the throughput of 1 at n=512: ");
    if (!speedup512)
        std::printf("not measured\n");
    else
        std::printf("%.2fx -> %s\n", *speedup512, *speedup512 >= 1.7 ? "MET" : "NOT MET");
    std::printf("target: 0 bytes of world state copied per tick: ");
    if (!bytesPerTick)
        std::printf("not measured (no worker configuration ran)\n");
    else
        std::printf("%s per tick (the most of any worker run) -> %s\n",
                    qPrintable(formatBytes(*bytesPerTick)), *bytesPerTick == 0 ? "MET" : "NOT MET");
    if (consistent) {
        std::printf(
            "check: the state hash of every configuration that ran agrees tick by tick "
            "with in-process on 1 thread, and with a full recomputation at the end -> OK\n");
    } else {
        std::printf("check: state hashes disagree -> FAILED\n");
    }
    for (const SizeResult &size : results) {
        for (const QString &problem : size.problems)
            std::printf("  %s\n", qPrintable(problem));
    }
    std::fflush(stdout);

    JsonLine json;
    const auto num = [](const std::optional<Stats> &s, double Stats::*field) {
        return s ? std::optional<double>(s.value().*field) : std::nullopt;
    };
    json.add(QStringLiteral("futex_rtt_us_p50"), num(futex, &Stats::p50Us));
    json.add(QStringLiteral("futex_rtt_us_p99"), num(futex, &Stats::p99Us));
    json.add(QStringLiteral("futex_nospin_rtt_us_p50"), num(futexNoSpin, &Stats::p50Us));
    json.add(QStringLiteral("eventfd_rtt_us_p50"), num(eventfd, &Stats::p50Us));
    json.add(QStringLiteral("signal_rtt_us_p50"), num(signal, &Stats::p50Us));
    json.add(QStringLiteral("uds_rtt_us_p50"), num(uds, &Stats::p50Us));
    json.add(QStringLiteral("uds_rtt_us_p99"), num(uds, &Stats::p99Us));
    json.add(QStringLiteral("ratio_futex_to_uds"),
             ratio < 0 ? std::nullopt : std::optional<double>(ratio));
    json.add(QStringLiteral("speedup_2_workers_n512"), speedup512);
    json.add(QStringLiteral("bytes_copied_per_tick"), bytesPerTick, 1);
    json.add(QStringLiteral("speedup_2_workers_n256"),
             quotient(rate(256, kTwoWorkers), rate(256, kOneWorker)));
    for (const int n : {256, 512}) {
        json.add(QStringLiteral("ratio_1_worker_to_inprocess_n%1").arg(n),
                 quotient(rate(n, kOneWorker), rate(n, kReference)));
        json.add(QStringLiteral("ratio_2_threads_to_1_n%1").arg(n),
                 quotient(rate(n, kTwoThreads), rate(n, kReference)));
        const SizeResult *size = findSize(n);
        const Throughput *one
            = size && size->rows[kOneWorker].ok ? &size->rows[kOneWorker] : nullptr;
        const Throughput *two
            = size && size->rows[kTwoWorkers].ok ? &size->rows[kTwoWorkers] : nullptr;
        json.add(QStringLiteral("phase_speedup_2_workers_n%1").arg(n),
                 one && two ? quotient(one->phaseMs, two->phaseMs) : std::nullopt);
        json.add(QStringLiteral("amdahl_bound_2_workers_n%1").arg(n),
                 one && two ? amdahlBound(*one) : std::nullopt);
        for (std::size_t i = 0; i < kConfigs.size(); ++i) {
            json.add(
                QStringLiteral("ticks_per_s_n%1_%2").arg(n).arg(QLatin1String(kConfigs[i].key)),
                rate(n, i), 1);
        }
        json.add(QStringLiteral("bytes_copied_at_start_n%1").arg(n),
                 two ? std::optional<double>(double(two->bytesAtStart)) : std::nullopt, 0);
        json.add(QStringLiteral("worker_private_mib_n%1").arg(n),
                 size ? mib(size->workerPrivateShared) : std::nullopt, 1);
        json.add(QStringLiteral("worker_private_mib_own_sphere_n%1").arg(n),
                 size ? mib(size->workerPrivateOwnSphere) : std::nullopt, 1);
        json.add(QStringLiteral("sphere_in_segment_mib_n%1").arg(n),
                 size ? std::optional<double>(double(size->sphereBytes) / (1024.0 * 1024.0))
                      : std::nullopt,
                 1);
    }
    json.add(QStringLiteral("wakeup_method"),
             QLatin1Char('"') + wakeMethodName(throughputMethod) + QLatin1Char('"'));
    json.add(QStringLiteral("hashes_agree"),
             consistent ? QStringLiteral("true") : QStringLiteral("false"));
    std::printf("%s\n", qPrintable(json.text()));

    complete = complete && consistent
               && std::all_of(results.begin(), results.end(), [](const SizeResult &size) {
                      return std::all_of(size.rows.begin(), size.rows.end(),
                                         [](const Throughput &row) { return row.ok; });
                  });
    return complete ? 0 : 1;
}
