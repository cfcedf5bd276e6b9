// Builds HexSphere at several sizes and times construction and cellAt.
// Prints a table, then one JSON object as the last line of stdout.

#include "geometry/hexsphere.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <vector>

using namespace hex::geometry;

namespace {

using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::vector<Vec3> randomDirections(std::size_t count, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> zDist(-1.0, 1.0);
    std::uniform_real_distribution<double> phiDist(0.0, 2.0 * std::numbers::pi);
    std::vector<Vec3> result;
    result.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const double z = zDist(rng);
        const double phi = phiDist(rng);
        const double r = std::sqrt(std::max(0.0, 1.0 - z * z));
        result.push_back({float(r * std::cos(phi)), float(r * std::sin(phi)), float(z)});
    }
    return result;
}

struct Result
{
    int n = 0;
    std::uint32_t cells = 0;
    double buildMs = 0.0;
    std::size_t bytes = 0;
    double cellAtNs = 0.0;
};

} // namespace

int main()
{
    const int sizes[] = {64, 128, 256, 512};
    const std::size_t lookups = 1'000'000;
    const std::vector<Vec3> directions = randomDirections(lookups, 20240601);
    std::vector<Result> results;
    std::uint64_t checksum = 0;

    for (const int n : sizes) {
        const int runs = n >= 512 ? 2 : 5;
        Result r;
        r.n = n;
        r.buildMs = 1e300;
        std::unique_ptr<HexSphere> sphere;
        for (int run = 0; run < runs; ++run) {
            std::fprintf(stderr, "n=%d: build %d of %d\n", n, run + 1, runs);
            sphere.reset();
            const auto start = Clock::now();
            sphere = std::make_unique<HexSphere>(n);
            r.buildMs = std::min(r.buildMs, millisecondsSince(start));
        }
        r.cells = sphere->cellCount();
        r.bytes = sphere->memoryBytes();

        std::fprintf(stderr, "n=%d: %zu cellAt lookups\n", n, lookups);
        const auto start = Clock::now();
        for (const Vec3 &d : directions)
            checksum += sphere->cellAt(d);
        r.cellAtNs = millisecondsSince(start) * 1e6 / double(lookups);
        results.push_back(r);
    }

    // Baseline in the same run: the plain scan over every centre that cellAt replaces,
    // at n=64 (40,962 cells), on the first few thousand directions.
    const std::size_t scanLookups = 2000;
    std::fprintf(stderr, "baseline: %zu linear-scan lookups at n=64\n", scanLookups);
    const HexSphere small(64);
    const auto scanStart = Clock::now();
    for (std::size_t i = 0; i < scanLookups; ++i) {
        CellId best = 0;
        float bestDot = -2.0f;
        for (CellId c = 0; c < small.cellCount(); ++c) {
            const float d = dot(small.centre(c), directions[i]);
            if (d > bestDot) {
                bestDot = d;
                best = c;
            }
        }
        checksum += best;
    }
    const double scanNs = millisecondsSince(scanStart) * 1e6 / double(scanLookups);
    const double speedup = scanNs / results.front().cellAtNs;

    std::printf("%6s %10s %10s %12s %10s %12s\n", "n", "cells", "build ms", "memory MiB",
                "bytes/cell", "cellAt ns");
    for (const Result &r : results) {
        std::printf("%6d %10u %10.1f %12.1f %10.1f %12.1f\n", r.n, r.cells, r.buildMs,
                    double(r.bytes) / (1024.0 * 1024.0), double(r.bytes) / r.cells, r.cellAtNs);
    }
    std::printf("(cellAt over %zu uniform random directions; checksum %llu)\n", lookups,
                static_cast<unsigned long long>(checksum));
    std::printf("baseline at n=64: linear scan %.0f ns per lookup, cellAt %.1f ns: %.0fx faster\n",
                scanNs, results.front().cellAtNs, speedup);

    // One JSON object, the last line: the n=512 headline figures, then every size.
    const Result &last = results.back();
    std::string json;
    char buffer[160];
    std::snprintf(buffer, sizeof buffer,
                  "{\"bytes_per_cell_n512\": %.1f, \"cellat_ns\": %.1f, \"lookups\": %zu",
                  double(last.bytes) / last.cells, last.cellAtNs, lookups);
    json += buffer;
    for (const Result &r : results) {
        std::snprintf(buffer, sizeof buffer,
                      ", \"build_ms_n%d\": %.1f, \"memory_bytes_n%d\": %zu"
                      ", \"cellat_ns_n%d\": %.1f",
                      r.n, r.buildMs, r.n, r.bytes, r.n, r.cellAtNs);
        json += buffer;
    }
    std::snprintf(buffer, sizeof buffer,
                  ", \"scan_ns_n64\": %.1f, \"cellat_speedup_vs_scan_n64\": %.1f}", scanNs,
                  speedup);
    json += buffer;
    std::printf("%s\n", json.c_str());
    return 0;
}
