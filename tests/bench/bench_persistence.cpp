// bench_persistence: what keeping a world costs, for both store backends. For worlds of
// n = 256 and 512 with a busy factory and an active automaton it measures
//   - a full save (encodeFullSave + writeChunks in batches + commitSnapshot) and a full
//     load (WorldStore::load + decodeSnapshotState + a replay of the events after it);
//   - flush throughput: the world stepping at 20 UPS with a WriteBehind snapshotting at
//     the server's default interval (and every second, in the stall phases); changed
//     cells per second = the distinct cells that changed between two snapshots (from the
//     steps' deltas) / the milliseconds the write-behind spent writing
//     (PersistenceStats::flushMs); and, as the store sees it, the cells of the chunk
//     records written per second (cellsWritten / flushMs);
//   - the tick stall: the same world stepped at 20 UPS with persistence off and on
//     (beforeStep + step + afterStep, a WriteBehind snapshotting every second), in
//     phases of `--ticks` ticks interleaved off / on, `--stall-pairs` pairs of them.
//     tick_stall_ratio = the median of the on phases' longest ticks / the median of the
//     off phases' longest ticks. The longest tick of one phase is a maximum, which this
//     VM's noise alone moves by a third either way (an off phase's longest tick ranged
//     13-20 ms of the tick thread's own CPU time in one run, with no store at all); the
//     median over phases keeps what each phase shows and drops the odd phase that the
//     machine, not persistence, made slow. Also reported, as tick_stall_ratio_max_*: the
//     longest tick of all the on phases / of all the off phases.
// PostgreSQL is a private server this program starts (fsync on: an honest database);
// SQLite is a temporary directory. Prints tables and histograms, progress on stderr,
// and as its last stdout line one JSON object.
//
// Usage: bench_persistence [--sizes N[,N...]] [--ticks T] [--stall-pairs P]
//                          [--backends pg,sqlite] [--gaps on|off]
//   --sizes     world sizes n (default 256,512); the n512 keys need 512
//   --ticks     ticks per off/on phase of the stall run (default 120)
//   --stall-pairs  off/on pairs of phases in the stall run (default 4)
//   --backends  which stores (default pg,sqlite)
//   --gaps      off: the write-behind writes its snapshots as soon as it can instead of
//               in the gaps between steps (WriteBehindOptions::writeInGaps), to compare

#include "busyfactory.h"

#include "persistence/statecodec.h"
#include "persistence/worldstore.h"
#include "persistence/writebehind.h"
#include "support/postgresserver.h"

#include "geometry/hexsphere.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <time.h>
#include <vector>

using namespace hex;
using namespace hex::sim;
namespace persistence = hex::server::persistence;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kSeed = 1234;
constexpr int kUps = 20;
constexpr int kChunksPerBatch = 64;
constexpr int kRepeats = 3;

double millisecondsSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// CPU time of the calling thread, in milliseconds: a tick whose wall time is long but
/// whose CPU time is not waited (on a lock, or for a core) rather than worked.
double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const std::size_t half = values.size() / 2;
    return values.size() % 2 == 1 ? values[half] : (values[half - 1] + values[half]) / 2;
}

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = std::size_t(std::ceil(p * double(values.size()))) - 1;
    return values[std::min(index, values.size() - 1)];
}

[[noreturn]] void die(const QString &what)
{
    std::fprintf(stderr, "bench_persistence: %s\n", qPrintable(what));
    std::exit(1);
}

/// The busy factory of bench_sim (bench::planFactory), built through ordinary actions
/// in two ticks. Returns the structures built.
int buildFactory(WorldState state, std::shared_ptr<const Content> content, int chains,
                 std::unique_ptr<World> *out)
{
    const bench::Factory factory = bench::planFactory(state, *content, chains);
    *out = std::make_unique<World>(std::move(state), content, 1);
    for (const Action &a : factory.builds)
        (*out)->queueAction(a);
    const StepResult built = (*out)->step();
    for (const Action &a : factory.recipes)
        (*out)->queueAction(a);
    (*out)->step();
    return int(std::count_if(built.actions.begin(), built.actions.end(),
                             [](const ActionResult &r) { return r.accepted(); }));
}

struct Backend
{
    QString key; ///< "pg" or "sqlite": the JSON suffix
    QString label;
    persistence::StoreLocation location;
};

std::unique_ptr<persistence::WorldStore> openStore(const Backend &backend, const QString &world)
{
    static int connections = 0;
    QString error;
    auto store = persistence::WorldStore::open(
        backend.location, world, QStringLiteral("bench-%1").arg(++connections), &error);
    if (!store)
        die(QStringLiteral("cannot open %1 (%2): %3")
                .arg(world, backend.location.describe(), error));
    return store;
}

/// Commits the world's current tick (no events) so the store's tick reaches it, as the
/// write-behind's group commit would have.
void commitTick(persistence::WorldStore &store, const World &world)
{
    persistence::TickRecord record;
    record.tick = world.state().tick;
    record.stateHash = world.stateHash();
    if (!store.appendTicks(std::span(&record, 1)))
        die(QStringLiteral("appendTicks: %1").arg(store.errorString()));
}

/// How long a full save or load took, in milliseconds, and its parts.
struct Timing
{
    double total = 0;
    double parts[3] = {}; ///< save: encode, write chunks, commit; load: query, decode, rebuild
};

Timing medianTiming(const std::vector<Timing> &timings)
{
    Timing m;
    std::vector<double> values;
    for (const Timing &t : timings)
        values.push_back(t.total);
    m.total = median(values);
    for (int p = 0; p < 3; ++p) {
        values.clear();
        for (const Timing &t : timings)
            values.push_back(t.parts[p]);
        m.parts[p] = median(values);
    }
    return m;
}

/// A full save as the server makes one: encode every chunk, write them in batches of
/// kChunksPerBatch, one transaction each, then commit the snapshot.
Timing fullSave(persistence::WorldStore &store, const World &world, std::size_t *bytes = nullptr)
{
    Timing t;
    const Clock::time_point start = Clock::now();
    persistence::FullSave save = persistence::encodeFullSave(world, 2);
    t.parts[0] = millisecondsSince(start);
    Clock::time_point step = Clock::now();
    for (std::size_t i = 0; i < save.chunks.size(); i += kChunksPerBatch) {
        const std::size_t count = std::min<std::size_t>(kChunksPerBatch, save.chunks.size() - i);
        if (!store.writeChunks(std::span(save.chunks).subspan(i, count)))
            die(QStringLiteral("writeChunks: %1").arg(store.errorString()));
    }
    t.parts[1] = millisecondsSince(step);
    step = Clock::now();
    if (!store.commitSnapshot(save.snapshot))
        die(QStringLiteral("commitSnapshot: %1").arg(store.errorString()));
    t.parts[2] = millisecondsSince(step);
    t.total = millisecondsSince(start);
    if (bytes) {
        *bytes = std::size_t(save.snapshot.machines.size() + save.snapshot.players.size());
        for (const persistence::ChunkRecord &c : save.chunks)
            *bytes += std::size_t(c.cells.size());
    }
    return t;
}

/// A full load as the server makes one at start: load, decode, rebuild the world, replay
/// the events after the snapshot (none here). The hash must match.
Timing fullLoad(const Backend &backend, const QString &name,
                std::shared_ptr<const geometry::HexSphere> sphere,
                std::shared_ptr<const Content> content, std::uint64_t expectedHash,
                std::uint64_t expectedTick)
{
    auto store = openStore(backend, name);
    Timing t;
    const Clock::time_point start = Clock::now();
    auto loaded = store->load();
    if (!loaded)
        die(QStringLiteral("load %1: %2").arg(name, loaded.error()));
    t.parts[0] = millisecondsSince(start);
    Clock::time_point step = Clock::now();
    auto state = persistence::decodeSnapshotState(*loaded, sphere, *content, 2);
    if (!state)
        die(QStringLiteral("decodeSnapshotState %1: %2").arg(name, state.error()));
    t.parts[1] = millisecondsSince(step);
    step = Clock::now();
    World world(std::move(*state), content, 1);
    const std::uint64_t untilTick = loaded->summary.tick;
    std::uint64_t hash = world.stateHash();
    if (untilTick > world.state().tick) {
        auto replayed = persistence::replayEvents(world, loaded->events, untilTick);
        if (!replayed)
            die(QStringLiteral("replayEvents %1: %2").arg(name, replayed.error()));
        hash = *replayed;
    }
    t.parts[2] = millisecondsSince(step);
    t.total = millisecondsSince(start);
    if (world.state().tick != expectedTick || hash != expectedHash)
        die(QStringLiteral("%1 loaded at tick %2 with hash %3; saved at tick %4 with hash %5")
                .arg(name)
                .arg(world.state().tick)
                .arg(hash, 16, 16, QLatin1Char('0'))
                .arg(expectedTick)
                .arg(expectedHash, 16, 16, QLatin1Char('0')));
    return t;
}

/// What one run of ticks at 20 UPS measured.
struct Phase
{
    std::vector<double> tickMs;
    std::vector<double> tickCpuMs; ///< the tick thread's CPU time in each tick
    /// On: distinct cells changed in each snapshot's interval, summed, and the
    /// write-behind's own figures after stop().
    double changedCells = 0;
    persistence::PersistenceStats stats;
    double stopMs = 0;
    /// On: whether a snapshot write (a chunk batch or a commit, by the write-behind's
    /// observer) ran during each tick.
    std::vector<bool> tickMetWrite;
    /// The longest tick no snapshot write ran during (on), or 0.
    double longestWithoutWriteMs() const
    {
        double longest = 0;
        for (std::size_t t = 0; t < tickMs.size(); ++t) {
            if (t >= tickMetWrite.size() || !tickMetWrite[t])
                longest = std::max(longest, tickMs[t]);
        }
        return longest;
    }
    /// Whether the longest tick met a write (on).
    bool longestMetWrite() const
    {
        const auto longest = std::max_element(tickMs.begin(), tickMs.end());
        const auto t = std::size_t(longest - tickMs.begin());
        return longest != tickMs.end() && t < tickMetWrite.size() && tickMetWrite[t];
    }
};

/// Steps `world` `ticks` times at 20 UPS. With a flush interval (persistence on), a
/// WriteBehind keeps it in `backend` (after an untimed full save so the store holds the
/// world as it is now), snapshotting every `flushIntervalMs`; the tick then is
/// beforeStep + step + afterStep. 0: persistence off.
Phase runPhase(World &world, const Backend &backend, const QString &name, int ticks,
               int flushIntervalMs, bool writeInGaps)
{
    Phase phase;
    std::unique_ptr<persistence::WriteBehind> writer;
    // The snapshot writes' times, from the write-behind's thread.
    std::mutex writesMutex;
    std::vector<std::pair<Clock::time_point, Clock::time_point>> writes;
    std::vector<std::pair<Clock::time_point, Clock::time_point>> tickTimes;
    std::uint64_t snapshotTick = world.state().tick;
    if (flushIntervalMs > 0) {
        {
            auto store = openStore(backend, name);
            commitTick(*store, world);
            fullSave(*store, world);
        }
        persistence::WriteBehindOptions options;
        options.flushIntervalMs = flushIntervalMs;
        options.chunksPerBatch = kChunksPerBatch;
        // As the server sets it.
        options.tickPeriodMs = 1000 / kUps;
        options.writeInGaps = writeInGaps;
        options.snapshotWriteObserver = [&](Clock::time_point start, Clock::time_point end) {
            std::lock_guard lock(writesMutex);
            writes.emplace_back(start, end);
        };
        writer = std::make_unique<persistence::WriteBehind>(world, backend.location, name, options);
        if (!writer->start(world.state().tick, world.state().tick))
            die(QStringLiteral("WriteBehind::start: %1").arg(writer->errorString()));
    }
    // The cells each tick changed, until a snapshot covers them.
    std::deque<std::pair<std::uint64_t, std::vector<CellId>>> pending;
    std::vector<std::uint8_t> seen(world.state().cellCount(), 0);
    const auto countUpTo = [&](std::uint64_t tick) {
        std::vector<CellId> marked;
        while (!pending.empty() && pending.front().first <= tick) {
            for (const CellId c : pending.front().second) {
                if (!seen[c]) {
                    seen[c] = 1;
                    marked.push_back(c);
                }
            }
            pending.pop_front();
        }
        phase.changedCells += double(marked.size());
        for (const CellId c : marked)
            seen[c] = 0;
    };

    const auto period = std::chrono::microseconds(1'000'000 / kUps);
    Clock::time_point next = Clock::now();
    for (int t = 0; t < ticks; ++t) {
        std::this_thread::sleep_until(next);
        next += period;
        const Clock::time_point start = Clock::now();
        const double cpuStart = threadCpuMs();
        if (writer)
            writer->beforeStep();
        const StepResult step = world.step();
        if (writer)
            writer->afterStep(step);
        phase.tickMs.push_back(millisecondsSince(start));
        phase.tickCpuMs.push_back(threadCpuMs() - cpuStart);
        tickTimes.emplace_back(start, Clock::now());
        if (!writer)
            continue;
        std::vector<CellId> changed;
        for (const ChunkDelta &d : step.deltas)
            changed.insert(changed.end(), d.cells.begin(), d.cells.end());
        pending.emplace_back(step.tick, std::move(changed));
        const persistence::PersistenceStats stats = writer->stats();
        if (stats.snapshotTick > snapshotTick) {
            countUpTo(stats.snapshotTick);
            snapshotTick = stats.snapshotTick;
        }
        // Queued signals (durableTickChanged) have no one to go to here; drop them.
        QCoreApplication::processEvents();
    }
    if (writer) {
        const Clock::time_point stopStart = Clock::now();
        if (!writer->stop())
            die(QStringLiteral("WriteBehind::stop: %1").arg(writer->errorString()));
        phase.stopMs = millisecondsSince(stopStart);
        phase.stats = writer->stats();
        writer.reset(); // no more observer calls
        phase.tickMetWrite.assign(tickTimes.size(), false);
        for (std::size_t t = 0; t < tickTimes.size(); ++t) {
            for (const auto &[writeStart, writeEnd] : writes) {
                if (writeStart < tickTimes[t].second && writeEnd > tickTimes[t].first) {
                    phase.tickMetWrite[t] = true;
                    break;
                }
            }
        }
        // stop() wrote a final snapshot at the world's tick: it covers the rest.
        countUpTo(phase.stats.snapshotTick);
        if (phase.stats.snapshotTick != world.state().tick)
            std::fprintf(stderr,
                         "  warning: the final snapshot is at tick %llu, the world at %llu\n",
                         static_cast<unsigned long long>(phase.stats.snapshotTick),
                         static_cast<unsigned long long>(world.state().tick));
        QCoreApplication::processEvents();
    }
    return phase;
}

/// What the write-behind's snapshots did over some phases.
struct Flush
{
    double changedCells = 0; ///< distinct cells changed in each snapshot's interval, summed
    double chunkCells = 0;   ///< cells of the chunk records written
    double flushMs = 0;      ///< PersistenceStats::flushMs
    std::uint64_t snapshots = 0;
    double phaseMs = 0; ///< the wall time of the phases
    void add(const Phase &phase)
    {
        changedCells += phase.changedCells;
        chunkCells += double(phase.stats.cellsWritten);
        flushMs += phase.stats.flushMs;
        snapshots += phase.stats.snapshotsWritten;
        phaseMs += double(phase.tickMs.size()) * 1000.0 / kUps;
    }
    double changedPerSecond() const { return flushMs > 0 ? changedCells / flushMs * 1e3 : 0; }
    double chunkCellsPerSecond() const { return flushMs > 0 ? chunkCells / flushMs * 1e3 : 0; }
    /// Distinct changed cells per second of game time: what the flush must keep up with.
    double changeRate() const { return phaseMs > 0 ? changedCells / phaseMs * 1e3 : 0; }
};

struct Result
{
    QString backend;
    QString key;
    int n = 0;
    std::uint32_t cells = 0;
    std::uint32_t chunks = 0;
    int structures = 0;
    Timing save;            ///< median of kRepeats
    double firstSaveMs = 0; ///< into an empty store
    Timing load;            ///< median of kRepeats
    double savedMiB = 0;
    std::vector<double> offMs;    ///< every tick with persistence off
    std::vector<double> onMs;     ///< every tick with persistence on (1 s snapshots)
    std::vector<double> offCpuMs; ///< the tick thread's CPU time per tick, off
    std::vector<double> onCpuMs;  ///< and on
    double longestOff = 0; ///< of every off phase
    double longestOn = 0;  ///< of every on phase
    std::vector<double> phaseLongestOff; ///< each off phase's longest tick, in order
    std::vector<double> phaseLongestOn;  ///< each on phase's
    std::vector<bool> phaseLongestOnMetWrite; ///< a snapshot write ran during it
    std::vector<double> phaseLongestOnWithoutWrite; ///< the longest no write ran during
    double medianLongestOff() const { return median(phaseLongestOff); }
    double medianLongestOn() const { return median(phaseLongestOn); }
    double longestStepWaitMs = 0;
    Flush flushFast;    ///< snapshots every second (the stall phases)
    Flush flushDefault; ///< snapshots at the server's default interval
    /// The headline: median longest tick of the on phases / of the off phases.
    double stallRatio() const { return medianLongestOn() / medianLongestOff(); }
    /// The longest tick of them all, on / off.
    double maxStallRatio() const { return longestOn / longestOff; }
    double longestCpu(const std::vector<double> &ms) const
    {
        return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
    }
    double cpuStallRatio() const { return longestCpu(onCpuMs) / longestCpu(offCpuMs); }
};

/// A histogram of two tick-time distributions as bars of '#' (off) and '*' (on).
void printHistogram(const Result &r)
{
    const double top = std::max(r.longestOff, r.longestOn);
    if (top <= 0)
        return;
    constexpr int kBins = 12;
    constexpr int kWidth = 50;
    const double width = top / kBins;
    std::vector<int> off(kBins, 0), on(kBins, 0);
    for (const double ms : r.offMs)
        ++off[std::min(kBins - 1, int(ms / width))];
    for (const double ms : r.onMs)
        ++on[std::min(kBins - 1, int(ms / width))];
    const int most = std::max(*std::max_element(off.begin(), off.end()),
                              *std::max_element(on.begin(), on.end()));
    std::printf("\n%s n=%d: tick time distribution (# persistence off, * on; %zu ticks each)\n",
                qPrintable(r.backend), r.n, r.offMs.size());
    const auto bar = [&](int count, char c) {
        // A bin with any tick gets at least one mark: the tail is what matters here.
        const int len = count == 0 ? 0 : std::max(1, count * kWidth / most);
        return std::string(std::size_t(len), c);
    };
    for (int b = 0; b < kBins; ++b) {
        std::printf("  %6.2f-%6.2f ms |%-*s %d\n", b * width, (b + 1) * width, kWidth,
                    bar(off[std::size_t(b)], '#').c_str(), off[std::size_t(b)]);
        std::printf("  %15s |%-*s %d\n", "", kWidth, bar(on[std::size_t(b)], '*').c_str(),
                    on[std::size_t(b)]);
    }
}

const char *verdict(bool met)
{
    return met ? "met" : "NOT met";
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    // The store's own progress lines would drown ours; its warnings still show.
    QLoggingCategory::setFilterRules(QStringLiteral("hex.db.debug=false\nhex.db.info=false"));
    std::vector<int> sizes{256, 512};
    int ticks = 120;
    int stallPairs = 4;
    bool writeInGaps = true;
    QStringList backendKeys{QStringLiteral("pg"), QStringLiteral("sqlite")};
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        const bool hasValue = i + 1 < args.size();
        if (args[i] == QLatin1String("--sizes") && hasValue) {
            sizes.clear();
            for (const QString &part : args[++i].split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                bool ok = false;
                const int n = part.toInt(&ok);
                if (!ok || n < 1 || n > 1024)
                    die(QStringLiteral("--sizes: '%1' is not a world size (1..1024)").arg(part));
                sizes.push_back(n);
            }
        } else if (args[i] == QLatin1String("--ticks") && hasValue) {
            bool ok = false;
            ticks = args[++i].toInt(&ok);
            if (!ok || ticks < 10)
                die(QStringLiteral("--ticks: '%1' is not a number of ticks (10 or more)")
                        .arg(args[i]));
        } else if (args[i] == QLatin1String("--stall-pairs") && hasValue) {
            bool ok = false;
            stallPairs = args[++i].toInt(&ok);
            if (!ok || stallPairs < 1 || stallPairs > 50)
                die(QStringLiteral("--stall-pairs: '%1' is not a number of pairs (1..50)")
                        .arg(args[i]));
        } else if (args[i] == QLatin1String("--gaps") && hasValue) {
            const QString value = args[++i];
            if (value != QLatin1String("on") && value != QLatin1String("off"))
                die(QStringLiteral("--gaps: '%1' is neither on nor off").arg(value));
            writeInGaps = value == QLatin1String("on");
        } else if (args[i] == QLatin1String("--backends") && hasValue) {
            backendKeys = args[++i].split(QLatin1Char(','), Qt::SkipEmptyParts);
            for (const QString &key : backendKeys) {
                if (key != QLatin1String("pg") && key != QLatin1String("sqlite"))
                    die(QStringLiteral("--backends: '%1' is neither pg nor sqlite").arg(key));
            }
        } else {
            die(QStringLiteral("unknown argument '%1'. Usage: bench_persistence [--sizes "
                               "N[,N...]] [--ticks T] [--stall-pairs P] [--backends pg,sqlite] "
                               "[--gaps on|off]")
                    .arg(args[i]));
        }
    }
    if (sizes.empty() || backendKeys.isEmpty())
        die(QStringLiteral("nothing to measure"));

    auto loadedContent = loadDefaultContent();
    if (!loadedContent)
        die(loadedContent.error());
    const auto content = std::make_shared<const Content>(std::move(*loadedContent));

    PostgresServer postgres;
    QTemporaryDir sqliteDir;
    std::vector<Backend> backends;
    for (const QString &key : backendKeys) {
        Backend backend;
        backend.key = key;
        tl::expected<persistence::StoreLocation, QString> location;
        if (key == QLatin1String("pg")) {
            std::fprintf(stderr, "starting a private PostgreSQL (fsync on)...\n");
            if (!postgres.start(QStringLiteral("hexbench"), true))
                die(QStringLiteral("PostgreSQL: %1").arg(postgres.errorString()));
            location = persistence::StoreLocation::parse(postgres.url());
            backend.label = QStringLiteral("PostgreSQL");
        } else {
            if (!sqliteDir.isValid())
                die(QStringLiteral("cannot create a temporary directory"));
            location
                = persistence::StoreLocation::parse(QStringLiteral("sqlite:") + sqliteDir.path());
            backend.label = QStringLiteral("SQLite");
        }
        if (!location)
            die(location.error());
        backend.location = *location;
        backends.push_back(backend);
    }

    std::vector<Result> results;
    for (const int n : sizes) {
        std::fprintf(stderr, "n=%d: generating the world and its factory...\n", n);
        const Clock::time_point genStart = Clock::now();
        auto sphere = std::make_shared<const geometry::HexSphere>(n);
        std::unique_ptr<World> world;
        const int chains = std::max(20, int(std::int64_t(n) * n / 256));
        const int structures
            = buildFactory(generateWorld(sphere, *content, kSeed), content, chains, &world);
        world->simulate(100);
        std::fprintf(stderr, "n=%d: %u cells, %u chunks, %d structures, ready in %.0f ms\n", n,
                     world->state().cellCount(), sphere->chunkCount(), structures,
                     millisecondsSince(genStart));

        for (const Backend &backend : backends) {
            Result r;
            r.backend = backend.label;
            r.key = backend.key;
            r.n = n;
            r.cells = world->state().cellCount();
            r.chunks = sphere->chunkCount();
            r.structures = int(world->state().machines.size());
            const QString name = QStringLiteral("bench-n%1").arg(n);

            // Full saves: the first into an empty world, then kRepeats more after a tick.
            std::vector<Timing> saves;
            {
                auto store = openStore(backend, name);
                if (!store->exists()) {
                    persistence::WorldMeta meta;
                    meta.name = name;
                    meta.seed = kSeed;
                    meta.subdivisions = n;
                    meta.contentVersion = content->version;
                    if (!store->create(meta))
                        die(QStringLiteral("create %1: %2").arg(name, store->errorString()));
                }
                for (int i = 0; i <= kRepeats; ++i) {
                    world->step();
                    commitTick(*store, *world);
                    std::size_t bytes = 0;
                    const Timing t = fullSave(*store, *world, &bytes);
                    std::fprintf(stderr,
                                 "%s n=%d: full save %d: %.0f ms (encode %.0f, write %.0f, "
                                 "commit %.0f; %.1f MiB)\n",
                                 qPrintable(backend.label), n, i + 1, t.total, t.parts[0],
                                 t.parts[1], t.parts[2], bytes / 1048576.0);
                    r.savedMiB = bytes / 1048576.0;
                    if (i == 0)
                        r.firstSaveMs = t.total;
                    else
                        saves.push_back(t);
                }
            }
            r.save = medianTiming(saves);

            std::vector<Timing> loads;
            for (int i = 0; i < kRepeats; ++i) {
                const Timing t = fullLoad(backend, name, sphere, content, world->stateHash(),
                                          world->state().tick);
                std::fprintf(stderr,
                             "%s n=%d: full load %d: %.0f ms (query %.0f, decode %.0f, rebuild "
                             "%.0f)\n",
                             qPrintable(backend.label), n, i + 1, t.total, t.parts[0], t.parts[1],
                             t.parts[2]);
                loads.push_back(t);
            }
            r.load = medianTiming(loads);

            // The stall: off, on, off, on..., each `ticks` ticks at 20 UPS, snapshots
            // every second while on. Then the flush at the server's default interval.
            const int defaultInterval = persistence::WriteBehindOptions{}.flushIntervalMs;
            struct Run
            {
                int intervalMs;
                int ticks;
            };
            std::vector<Run> runs;
            for (int pair = 0; pair < stallPairs; ++pair) {
                runs.push_back({0, ticks});
                runs.push_back({1000, ticks});
            }
            runs.push_back({defaultInterval, std::max(ticks, defaultInterval * kUps / 1000 * 3)});
            for (const Run &run : runs) {
                std::fprintf(
                    stderr, "%s n=%d: %d ticks at %d UPS, persistence %s...\n",
                    qPrintable(backend.label), n, run.ticks, kUps,
                    run.intervalMs == 0
                        ? "off"
                        : qPrintable(
                            QStringLiteral("on, snapshots every %1 ms").arg(run.intervalMs)));
                const Phase phase
                    = runPhase(*world, backend, name, run.ticks, run.intervalMs, writeInGaps);
                const double longest = *std::max_element(phase.tickMs.begin(), phase.tickMs.end());
                if (run.intervalMs == 0) {
                    r.offMs.insert(r.offMs.end(), phase.tickMs.begin(), phase.tickMs.end());
                    r.offCpuMs.insert(r.offCpuMs.end(), phase.tickCpuMs.begin(),
                                      phase.tickCpuMs.end());
                    r.longestOff = std::max(r.longestOff, longest);
                    r.phaseLongestOff.push_back(longest);
                    std::fprintf(stderr, "  longest tick %.2f ms, median %.2f ms\n", longest,
                                 median(phase.tickMs));
                    continue;
                }
                if (run.intervalMs == 1000) {
                    r.onMs.insert(r.onMs.end(), phase.tickMs.begin(), phase.tickMs.end());
                    r.onCpuMs.insert(r.onCpuMs.end(), phase.tickCpuMs.begin(),
                                     phase.tickCpuMs.end());
                    r.longestOn = std::max(r.longestOn, longest);
                    r.phaseLongestOn.push_back(longest);
                    r.phaseLongestOnMetWrite.push_back(phase.longestMetWrite());
                    r.phaseLongestOnWithoutWrite.push_back(phase.longestWithoutWriteMs());
                    r.longestStepWaitMs
                        = std::max(r.longestStepWaitMs, phase.stats.longestStepWaitMs);
                    r.flushFast.add(phase);
                } else {
                    r.flushDefault.add(phase);
                }
                std::fprintf(
                    stderr,
                    "  longest tick %.2f ms%s, median %.2f ms; longest that met no snapshot "
                    "write %.2f ms; %llu snapshots, %.0f "
                    "changed cells, %llu chunk cells written in %.0f ms; durable "
                    "tick %llu; stop took %.0f ms; writes: %llu deferred, %llu forced, %llu "
                    "during steps; packing %.0f ms\n",
                    longest, phase.longestMetWrite() ? " (a snapshot write met it)" : "",
                    median(phase.tickMs), phase.longestWithoutWriteMs(),
                    static_cast<unsigned long long>(phase.stats.snapshotsWritten),
                    phase.changedCells, static_cast<unsigned long long>(phase.stats.cellsWritten),
                    phase.stats.flushMs, static_cast<unsigned long long>(phase.stats.durableTick),
                    phase.stopMs, static_cast<unsigned long long>(phase.stats.writesDeferred),
                    static_cast<unsigned long long>(phase.stats.writesForced),
                    static_cast<unsigned long long>(phase.stats.writesDuringSteps),
                    phase.stats.packMs);
            }
            results.push_back(std::move(r));
        }
    }

    const int defaultInterval = persistence::WriteBehindOptions{}.flushIntervalMs;
    std::printf("bench_persistence: PostgreSQL with fsync on; SQLite in a temporary directory.\n"
                "Full save = encodeFullSave (2 threads) + writeChunks (%d chunks per transaction)\n"
                "+ commitSnapshot; full load = load + decodeSnapshotState + World + replay;\n"
                "medians of %d (save1: the first save, into an empty world).\n\n",
                kChunksPerBatch, kRepeats);
    std::printf("%-10s %4s %8s %6s %6s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "backend", "n",
                "cells", "chunks", "MiB", "save1 ms", "save ms", "encode", "write", "commit",
                "load ms", "query", "decode", "rebuild");
    for (const Result &r : results) {
        std::printf("%-10s %4d %8u %6u %6.1f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f "
                    "%8.0f\n",
                    qPrintable(r.backend), r.n, r.cells, r.chunks, r.savedMiB, r.firstSaveMs,
                    r.save.total, r.save.parts[0], r.save.parts[1], r.save.parts[2], r.load.total,
                    r.load.parts[0], r.load.parts[1], r.load.parts[2]);
    }
    std::printf("\nFlush: the world stepping at %d UPS on 1 simulation thread with a WriteBehind.\n"
                "changed/s = distinct cells changed between two snapshots (from the steps'\n"
                "deltas), summed, / the write-behind's flush time (PersistenceStats::flushMs:\n"
                "its writeChunks and commitSnapshot calls; the copy and the compression run\n"
                "outside it). chunk cells/s = cells in the chunk records written (whole dirty\n"
                "chunks) / the same time. change rate = distinct changed cells per second of\n"
                "game time. Snapshots every %d ms (the server's default) and every 1000 ms.\n\n",
                kUps, defaultInterval);
    std::printf("%-10s %4s %9s %6s %11s %12s %11s %6s %11s %12s %11s\n", "backend", "n", "interval",
                "snaps", "changed/s", "chunkcells/s", "change rate", "|", "1 s: chg/s",
                "chunkcells/s", "change rate");
    for (const Result &r : results) {
        std::printf("%-10s %4d %7d ms %6llu %11.0f %12.0f %11.0f %6s %11.0f %12.0f %11.0f\n",
                    qPrintable(r.backend), r.n, defaultInterval,
                    static_cast<unsigned long long>(r.flushDefault.snapshots),
                    r.flushDefault.changedPerSecond(), r.flushDefault.chunkCellsPerSecond(),
                    r.flushDefault.changeRate(), "|", r.flushFast.changedPerSecond(),
                    r.flushFast.chunkCellsPerSecond(), r.flushFast.changeRate());
    }
    std::printf("\nTick stall: %d pairs of phases of %d ticks at %d UPS, off/on interleaved; on =\n"
                "beforeStep + step + afterStep with snapshots every second, written %s.\n"
                "Wall-clock ms; stall = the median of the on phases' longest ticks / the median\n"
                "of the off phases' (the headline; each phase's longest tick is listed below);\n"
                "max st = the longest on tick of them all / the longest off tick;\n"
                "cpu = the longest tick in the tick thread's own CPU time (a tick long in wall\n"
                "time but not in CPU time waited for a lock or a core); step wait = the longest\n"
                "wait in beforeStep() for the snapshot copy (PersistenceStats).\n\n",
                stallPairs, ticks, kUps,
                writeInGaps ? "in the gaps between steps" : "as soon as possible");
    std::printf("%-10s %4s %8s %8s %8s %8s %8s %8s %8s %8s %9s %6s %6s %6s\n", "backend", "n",
                "p50 off", "p99 off", "max off", "p50 on", "p99 on", "max on", "cpu off", "cpu on",
                "step wait", "stall", "max st", "cpu st");
    for (const Result &r : results) {
        std::printf("%-10s %4d %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %9.2f %6.2f %6.2f "
                    "%6.2f\n",
                    qPrintable(r.backend), r.n, median(r.offMs), percentile(r.offMs, 0.99),
                    r.longestOff, median(r.onMs), percentile(r.onMs, 0.99), r.longestOn,
                    r.longestCpu(r.offCpuMs), r.longestCpu(r.onCpuMs), r.longestStepWaitMs,
                    r.stallRatio(), r.maxStallRatio(), r.cpuStallRatio());
    }
    std::printf("\nEach phase's longest tick, ms, in the order run (off / on, ...); w: a snapshot\n"
                "write ran during that tick; (x): the longest tick of the on phase that no write\n"
                "ran during:\n");
    for (const Result &r : results) {
        std::printf("%-10s %4d", qPrintable(r.backend), r.n);
        for (std::size_t i = 0; i < r.phaseLongestOn.size(); ++i) {
            std::printf("  %6.2f / %6.2f%s (%.2f)", r.phaseLongestOff[i], r.phaseLongestOn[i],
                        r.phaseLongestOnMetWrite[i] ? "w" : " ", r.phaseLongestOnWithoutWrite[i]);
        }
        std::printf("   medians %.2f / %.2f\n", r.medianLongestOff(), r.medianLongestOn());
    }
    for (const Result &r : results)
        printHistogram(r);

    const auto find = [&](const QString &label, int n) -> const Result * {
        for (const Result &r : results) {
            if (r.backend == label && r.n == n)
                return &r;
        }
        return nullptr;
    };
    const int largest = *std::max_element(sizes.begin(), sizes.end());
    std::printf("\ntargets (n=%d unless said):\n", largest);
    if (const Result *pg = find(QStringLiteral("PostgreSQL"), 512)) {
        std::printf("  full save n=512 on PostgreSQL <= 1000 ms: %.0f ms, %s\n", pg->save.total,
                    verdict(pg->save.total <= 1000));
        std::printf("  full load n=512 on PostgreSQL <= 2000 ms: %.0f ms, %s\n", pg->load.total,
                    verdict(pg->load.total <= 2000));
    } else {
        std::printf("  full save/load n=512 on PostgreSQL: not measured in this run\n");
    }
    for (const Backend &backend : backends) {
        const Result *r = find(backend.label, largest);
        std::printf("  %s flush >= 400000 changed cells/s: %.0f at %d ms snapshots, %s "
                    "(%.0f at 1 s snapshots; chunk cells written: %.0f/s)\n",
                    qPrintable(backend.label), r->flushDefault.changedPerSecond(), defaultInterval,
                    verdict(r->flushDefault.changedPerSecond() >= 400000),
                    r->flushFast.changedPerSecond(), r->flushDefault.chunkCellsPerSecond());
        std::printf("  %s tick stall ratio <= 1.1: %.2f (median longest tick of a phase %.2f ms "
                    "on / %.2f ms off), %s; longest of all %.2f ms on / %.2f ms off = %.2f\n",
                    qPrintable(backend.label), r->stallRatio(), r->medianLongestOn(),
                    r->medianLongestOff(), verdict(r->stallRatio() <= 1.1), r->longestOn,
                    r->longestOff, r->maxStallRatio());
    }

    // The JSON line: per backend and size, and the headline keys.
    QStringList json;
    const auto add = [&](const QString &key, double value, int decimals) {
        json << QStringLiteral("\"%1\": %2").arg(key, QString::number(value, 'f', decimals));
    };
    double worstStall = 0;
    double worstMaxStall = 0;
    for (const Result &r : results) {
        const QString suffix = QStringLiteral("_n%1_%2").arg(r.n).arg(r.key);
        add(QStringLiteral("save_ms") + suffix, r.save.total, 1);
        add(QStringLiteral("first_save_ms") + suffix, r.firstSaveMs, 1);
        add(QStringLiteral("load_ms") + suffix, r.load.total, 1);
        add(QStringLiteral("flush_cells_per_s") + suffix, r.flushDefault.changedPerSecond(), 0);
        add(QStringLiteral("flush_chunk_cells_per_s") + suffix,
            r.flushDefault.chunkCellsPerSecond(), 0);
        add(QStringLiteral("flush_1s_cells_per_s") + suffix, r.flushFast.changedPerSecond(), 0);
        add(QStringLiteral("change_rate_cells_per_s") + suffix, r.flushDefault.changeRate(), 0);
        add(QStringLiteral("longest_tick_off_ms") + suffix, r.longestOff, 2);
        add(QStringLiteral("longest_tick_on_ms") + suffix, r.longestOn, 2);
        add(QStringLiteral("tick_stall_ratio") + suffix, r.stallRatio(), 3);
        add(QStringLiteral("tick_stall_ratio_max") + suffix, r.maxStallRatio(), 3);
        add(QStringLiteral("tick_stall_cpu_ratio") + suffix, r.cpuStallRatio(), 3);
        if (r.n == largest) {
            worstStall = std::max(worstStall, r.stallRatio());
            worstMaxStall = std::max(worstMaxStall, r.maxStallRatio());
        }
    }
    for (const Backend &backend : backends) {
        const Result *r = find(backend.label, largest);
        add(QStringLiteral("flush_cells_per_s_") + backend.key, r->flushDefault.changedPerSecond(),
            0);
        add(QStringLiteral("flush_chunk_cells_per_s_") + backend.key,
            r->flushDefault.chunkCellsPerSecond(), 0);
    }
    // The worse of the backends at the largest size.
    add(QStringLiteral("tick_stall_ratio"), worstStall, 3);
    add(QStringLiteral("tick_stall_ratio_max"), worstMaxStall, 3);
    add(QStringLiteral("largest_n"), largest, 0);
    std::printf("{%s}\n", qPrintable(json.join(QStringLiteral(", "))));
    return 0;
}
