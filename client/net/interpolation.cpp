#include "interpolation.h"

#include <algorithm>
#include <cmath>

namespace hex::client {

namespace {

/// Arrivals the offset estimate looks back over (5 s at 20 UPS).
constexpr std::size_t kOffsetWindow = 100;
/// Samples kept per cursor.
constexpr std::size_t kSamplesKept = 16;

/// The point a fraction `t` of the way from `a` to `b` along the great circle.
geometry::Vec3 slerp(const geometry::Vec3 &a, const geometry::Vec3 &b, float t)
{
    const float cosine = std::clamp(geometry::dot(a, b), -1.0f, 1.0f);
    const float angle = std::acos(cosine);
    if (angle < 1e-5f)
        return geometry::normalized(a + (b - a) * t);
    const float sine = std::sin(angle);
    return a * (std::sin((1.0f - t) * angle) / sine) + b * (std::sin(t * angle) / sine);
}

} // namespace

void RenderClock::onState(qint64 serverTimeMs, qint64 localMs)
{
    if (m_lastServer && m_lastLocal) {
        // RFC 3550's interarrival jitter: the mean deviation, smoothed over ~16 arrivals.
        const double deviation
            = std::abs(double((localMs - *m_lastLocal) - (serverTimeMs - *m_lastServer)));
        m_jitterMs += (deviation - m_jitterMs) / 16.0;
    }
    m_lastServer = serverTimeMs;
    m_lastLocal = localMs;
    m_offsets.push_back(serverTimeMs - localMs);
    if (m_offsets.size() > kOffsetWindow)
        m_offsets.pop_front();
}

qint64 RenderClock::delayMs() const
{
    return std::clamp(qint64(std::ceil(3.0 * m_jitterMs)), kDefaultDelayMs, kMaxDelayMs);
}

std::optional<double> RenderClock::renderTime(qint64 localMs) const
{
    if (m_offsets.empty())
        return std::nullopt;
    const qint64 offset = *std::max_element(m_offsets.begin(), m_offsets.end());
    return double(localMs + offset - delayMs());
}

void CursorTracks::add(sim::PlayerId player, qint64 serverTimeMs,
                       std::optional<geometry::Vec3> position)
{
    std::deque<Sample> &samples = m_samples[player];
    if (!samples.empty() && serverTimeMs < samples.back().serverTimeMs)
        return; // Out of order: the newer sample stands.
    samples.push_back({serverTimeMs, position});
    if (samples.size() > kSamplesKept)
        samples.pop_front();
}

std::vector<std::pair<sim::PlayerId, geometry::Vec3>> CursorTracks::at(double time) const
{
    std::vector<std::pair<sim::PlayerId, geometry::Vec3>> cursors;
    for (const auto &[player, samples] : m_samples) {
        // The last sample at or before `time`, and the one after it.
        auto after = std::upper_bound(samples.begin(), samples.end(), time,
                                      [](double t, const Sample &s) { return t < s.serverTimeMs; });
        if (after == samples.begin())
            continue; // Nothing known yet at that time.
        const Sample &before = *std::prev(after);
        if (!before.position)
            continue;
        if (after == samples.end() || !after->position) {
            cursors.emplace_back(player, *before.position);
            continue;
        }
        const double span = double(after->serverTimeMs - before.serverTimeMs);
        const float t = span > 0 ? float((time - double(before.serverTimeMs)) / span) : 1.0f;
        cursors.emplace_back(player, slerp(*before.position, *after->position, t));
    }
    return cursors;
}

} // namespace hex::client
