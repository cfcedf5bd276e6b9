// bench_sim: steps worlds of n = 64, 128, 256 and 512 with an active automaton and a busy
// factory, on 1 and 2 threads, and measures in the same run a memory-bandwidth baseline
// that streams the same bytes per cell the step must read. Prints a table, progress on
// stderr, and as its last stdout line one JSON object.
//
// Usage: bench_sim [--quick] [--size N]...
//   --quick   fewer ticks, for a smoke test
//   --size N  only this n (repeatable); the JSON line needs n=512

#include "busyfactory.h"

#include "geometry/hexsphere.h"
#include "sim/automaton.h"
#include "sim/steppool.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QCoreApplication>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <vector>

using namespace hex;
using namespace hex::sim;
using bench::Factory;
using bench::planFactory;

namespace {

using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

enum class Caches { Warm, Cold };

/// Streams `arrays` (each `cells` bytes) once on `pool`'s threads, each thread reading the
/// same share of cells as in the step; returns milliseconds (median of several). Warm:
/// right after the step read them (as the step finds them, at this size largely in the
/// last-level cache); cold: after 128 MiB of other data has gone through the caches,
/// so from main memory.
double bandwidthBaseline(StepPool &pool, const std::vector<const std::uint8_t *> &arrays,
                         std::uint32_t cells, int repeats, Caches caches)
{
    std::vector<double> times;
    std::vector<std::uint64_t> sinks(std::size_t(pool.threadCount()) * 8, 0);
    std::vector<std::uint8_t> flush(caches == Caches::Cold ? std::size_t(128) << 20 : 0, 1);
    for (int r = 0; r < repeats; ++r) {
        if (caches == Caches::Cold) {
            for (std::size_t i = 0; i < flush.size(); i += 64)
                flush[i] = std::uint8_t(flush[i] + 1);
        }
        const Clock::time_point start = Clock::now();
        pool.run([&](int part) {
            const int parts = pool.threadCount();
            const std::size_t begin
                = std::size_t(cells) * std::size_t(part) / std::size_t(parts) / 64 * 64;
            const std::size_t end = part + 1 == parts ? cells
                                                      : std::size_t(cells) * std::size_t(part + 1)
                                                            / std::size_t(parts) / 64 * 64;
            std::uint64_t any = 0;
            for (const std::uint8_t *array : arrays) {
                std::uint64_t acc[8] = {};
                std::size_t i = begin;
                for (; i + 64 <= end; i += 64) {
                    for (int k = 0; k < 8; ++k) {
                        std::uint64_t word;
                        std::memcpy(&word, array + i + 8 * k, 8);
                        acc[k] |= word;
                    }
                }
                for (; i < end; ++i)
                    acc[0] |= array[i];
                for (const std::uint64_t a : acc)
                    any |= a;
            }
            sinks[std::size_t(part) * 8] += any;
        });
        times.push_back(millisecondsSince(start));
    }
    std::uint64_t sink = 0;
    for (const std::uint64_t s : sinks)
        sink ^= s;
    if (sink == 0x123456789ull)
        std::fprintf(stderr, " ");
    return median(times);
}

struct Row
{
    int n = 0;
    std::uint32_t cells = 0;
    int threads = 0;
    int structures = 0;
    double msPerTick = 0;
    double baselineMs = 0;
    double coldBaselineMs = 0;
    double changedPerTick = 0;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const bool quick = app.arguments().contains(QStringLiteral("--quick"));

    auto loaded = loadDefaultContent();
    if (!loaded) {
        std::fprintf(stderr, "bench_sim: %s\n", qPrintable(loaded.error()));
        return 1;
    }
    const auto content = std::make_shared<const Content>(std::move(*loaded));
    // The dense bytes per cell a step must read: terrain, flora, water, pollution and
    // elevation in the automaton, and the change marks when deltas are gathered.
    const int bytesPerCell = Automaton::bytesTouchedPerCell() + 1;

    std::vector<int> sizes;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); ++i) {
        if (args[i] == QLatin1String("--size"))
            sizes.push_back(args[i + 1].toInt());
    }
    if (sizes.empty())
        sizes = {64, 128, 256, 512};

    std::vector<Row> rows;
    for (const int n : sizes) {
        std::fprintf(stderr, "n=%d: generating...\n", n);
        const Clock::time_point genStart = Clock::now();
        auto sphere = std::make_shared<const geometry::HexSphere>(n);
        WorldState state = generateWorld(sphere, *content, 1234);
        const int chains = std::max(20, int(std::int64_t(n) * n / 256)); // 1024 at n=512
        const Factory factory = planFactory(state, *content, chains);
        World world(std::move(state), content, 2);
        for (const Action &a : factory.builds)
            world.queueAction(a);
        const StepResult built = world.step();
        for (const Action &a : factory.recipes)
            world.queueAction(a);
        world.step();
        const int structures
            = int(std::count_if(built.actions.begin(), built.actions.end(),
                                [](const ActionResult &r) { return r.accepted(); }));
        std::fprintf(stderr,
                     "n=%d: %u cells, %d structures built (%zu asked) in %.0f ms; warming up\n", n,
                     world.state().cellCount(), structures, factory.builds.size(),
                     millisecondsSince(genStart));
        world.simulate(quick ? 20 : 200);

        const int ticks = quick ? 10 : std::max(60, int(4000000000ull / (10ull * n * n) / 40));
        for (const int threads : {1, 2}) {
            world.setThreadCount(threads);
            world.simulate(5);
            std::vector<double> times;
            double changed = 0;
            for (int t = 0; t < ticks; ++t) {
                const Clock::time_point start = Clock::now();
                const StepResult r = world.step();
                times.push_back(millisecondsSince(start));
                for (const ChunkDelta &d : r.deltas)
                    changed += double(d.cells.size());
            }
            StepPool pool(threads);
            const WorldState &s = world.state();
            std::vector<const std::uint8_t *> arrays
                = {s.terrain.data(),   s.flora.data(),     s.water.data(),
                   s.pollution.data(), s.elevation.data(), s.orientation.data()};
            arrays.resize(std::size_t(bytesPerCell));
            Row row;
            row.n = n;
            row.cells = s.cellCount();
            row.threads = threads;
            row.structures = int(s.machines.size());
            // The median tick: robust against the machine doing something else now and then.
            row.msPerTick = median(times);
            row.baselineMs
                = bandwidthBaseline(pool, arrays, s.cellCount(), quick ? 5 : 41, Caches::Warm);
            row.coldBaselineMs
                = bandwidthBaseline(pool, arrays, s.cellCount(), quick ? 3 : 9, Caches::Cold);
            row.changedPerTick = changed / ticks;
            rows.push_back(row);
            std::fprintf(stderr,
                         "n=%d threads=%d: %.3f ms/tick over %d ticks (baseline %.3f ms warm, "
                         "%.3f ms cold)\n",
                         n, threads, row.msPerTick, ticks, row.baselineMs, row.coldBaselineMs);
        }
    }

    std::printf("bench_sim: World::step() with deltas (actions, automaton, machines, deltas,\n"
                "state hash), median of many ticks. Baseline: the same threads streaming %d\n"
                "bytes per cell (as many arrays as the step reads densely), warm (as the step\n"
                "finds them) and cold (from main memory); ratio = step / warm baseline.\n\n",
                bytesPerCell);
    std::printf("%5s %9s %7s %10s %9s %10s %8s %6s %9s %9s %7s %7s\n", "n", "cells", "threads",
                "structures", "ms/tick", "Mcells/s", "changed", "B/cell", "warm ms", "cold ms",
                "ratio", "cold r.");
    for (const Row &r : rows) {
        std::printf("%5d %9u %7d %10d %9.3f %10.1f %8.0f %6d %9.3f %9.3f %7.1f %7.1f\n", r.n,
                    r.cells, r.threads, r.structures, r.msPerTick, r.cells / r.msPerTick / 1e3,
                    r.changedPerTick, bytesPerCell, r.baselineMs, r.coldBaselineMs,
                    r.msPerTick / r.baselineMs, r.msPerTick / r.coldBaselineMs);
    }
    const auto find = [&](int n, int threads) {
        return *std::find_if(rows.begin(), rows.end(),
                             [&](const Row &r) { return r.n == n && r.threads == threads; });
    };
    if (std::none_of(rows.begin(), rows.end(), [](const Row &r) { return r.n == 512; }))
        return 0;
    const Row big = find(512, 2);
    std::printf("\ntarget: n=512 on 2 threads at 60 UPS = 157.3 Mcells/s; step within 2x of the "
                "baseline\n");
    std::printf("{\"cups_n512_t2\": %.0f, \"ms_per_tick_n512_t2\": %.3f, \"bytes_per_cell\": %d, "
                "\"ratio_to_bandwidth_n512\": %.2f, \"cups_n512_t1\": %.0f, "
                "\"ms_per_tick_n512_t1\": %.3f, \"baseline_ms_n512_t2\": %.3f, "
                "\"structures_n512\": %d, \"ups_n512_t2\": %.1f, "
                "\"cold_baseline_ms_n512_t2\": %.3f, \"ratio_to_dram_bandwidth_n512\": %.2f}\n",
                big.cells / big.msPerTick * 1e3, big.msPerTick, bytesPerCell,
                big.msPerTick / big.baselineMs, find(512, 1).cells / find(512, 1).msPerTick * 1e3,
                find(512, 1).msPerTick, big.baselineMs, big.structures, 1000.0 / big.msPerTick,
                big.coldBaselineMs, big.msPerTick / big.coldBaselineMs);
    return 0;
}
