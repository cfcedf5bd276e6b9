#pragma once

#include "automaton.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

namespace hex::sim {

/// The most parts an automaton is split into (Automaton::setPartCount()).
inline constexpr int kMaxAutomatonParts = 64;

/// How long each part of each automaton phase has taken lately, and the order that hands
/// the parts out longest first. Parts hold equal numbers of cells but not equal work (land
/// with flora and water costs more than sea): when threads or worker processes take parts
/// as they become free, taking the long ones first leaves short ones for the end, and the
/// takers finish together. The order only changes who runs what when, never the results.
class PartTimes
{
public:
    /// Fills `order` (parts entries) with `phase`'s parts, longest first by their recent
    /// times; unmeasured parts and ties keep part order. A new part count forgets the
    /// times of the old one.
    void order(AutomatonPhase phase, int parts, std::span<std::uint32_t> order)
    {
        forgetIfNot(parts);
        const auto &mean = m_mean[std::size_t(phase)];
        std::iota(order.begin(), order.begin() + parts, std::uint32_t(0));
        std::stable_sort(order.begin(), order.begin() + parts,
                         [&mean](std::uint32_t a, std::uint32_t b) { return mean[a] > mean[b]; });
    }

    /// The time from `begin` until now as record() takes it: nanoseconds, at least 1.
    static std::uint64_t nanosSince(std::chrono::steady_clock::time_point begin)
    {
        const auto elapsed = std::chrono::steady_clock::now() - begin;
        return std::uint64_t(std::max<std::int64_t>(
            1, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
    }

    /// Counts a run of `part` of `phase` that took `nanos` (0: not run, ignored) into its
    /// running mean: a quarter of each new time, so that a part slowed once by other load
    /// does not lead for long.
    void record(AutomatonPhase phase, int parts, int part, std::uint64_t nanos)
    {
        forgetIfNot(parts);
        if (nanos == 0 || part < 0 || part >= parts)
            return;
        double &mean = m_mean[std::size_t(phase)][std::size_t(part)];
        mean = mean == 0 ? double(nanos) : mean + (double(nanos) - mean) / 4;
    }

    /// `phase`'s running mean per part, in nanoseconds (0: not measured yet).
    std::vector<double> times(AutomatonPhase phase, int parts) const
    {
        const auto &mean = m_mean[std::size_t(phase)];
        if (parts != m_parts)
            return std::vector<double>(std::size_t(std::max(parts, 0)), 0.0);
        return {mean.begin(), mean.begin() + parts};
    }

private:
    void forgetIfNot(int parts)
    {
        if (parts == m_parts)
            return;
        m_parts = parts;
        for (auto &phase : m_mean)
            phase.fill(0);
    }

    int m_parts = 0;
    std::array<std::array<double, kMaxAutomatonParts>, kAutomatonPhaseCount> m_mean{};
};

} // namespace hex::sim
