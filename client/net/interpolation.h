#pragma once

#include "geometry/vec3.h"
#include "sim/worldstate.h"

#include <QtGlobal>

#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace hex::client {

/// When to draw continuous things: the server time of the state being shown, a render
/// delay behind the newest one, so that there are two server states around it to draw
/// between. The delay is 100 ms by default and grows with the jitter of arrivals (three
/// times the mean deviation, at most 500 ms), so late frames do not make things stop
/// and jump. GUI thread only.
class RenderClock
{
public:
    static constexpr qint64 kDefaultDelayMs = 100;
    static constexpr qint64 kMaxDelayMs = 500;

    /// A server state stamped `serverTimeMs` arrived at local time `localMs` (any
    /// monotonic millisecond clock).
    void onState(qint64 serverTimeMs, qint64 localMs);
    /// The server time to draw at local time `localMs`; nullopt before any state.
    std::optional<double> renderTime(qint64 localMs) const;
    /// The render delay now.
    qint64 delayMs() const;
    /// The mean deviation of arrival intervals from the server's intervals, in ms.
    double jitterMs() const { return m_jitterMs; }

private:
    /// Server time minus local time, for the recent arrivals: the largest is the one
    /// that waited least on the way, the best estimate of the clocks' offset.
    std::deque<qint64> m_offsets;
    std::optional<qint64> m_lastServer;
    std::optional<qint64> m_lastLocal;
    double m_jitterMs = 0.0;
};

/// Other players' cursors over time: positions on the unit sphere received with server
/// times, drawn in between (along the great circle) at a RenderClock's time.
class CursorTracks
{
public:
    /// Where `player` pointed at `serverTimeMs`: `position` (a cell centre), or nowhere.
    void add(sim::PlayerId player, qint64 serverTimeMs, std::optional<geometry::Vec3> position);
    /// Every cursor to draw at server time `time`: each player's position between the
    /// samples around `time` (the newest one when `time` is past it). Players whose
    /// sample at `time` says nowhere are left out.
    std::vector<std::pair<sim::PlayerId, geometry::Vec3>> at(double time) const;
    /// Forgets every cursor (a new world).
    void clear() { m_samples.clear(); }

private:
    struct Sample
    {
        qint64 serverTimeMs = 0;
        std::optional<geometry::Vec3> position;
    };
    /// Per player, ascending server time, a few seconds' worth.
    std::map<sim::PlayerId, std::deque<Sample>> m_samples;
};

} // namespace hex::client
