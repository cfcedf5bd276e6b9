#pragma once

#include <QtGlobal>

#include <array>
#include <deque>
#include <vector>

namespace hex::client {

/// The figures the net graph plots: one sample per second of frames drawn, server
/// ticks received, ping and bytes received, over the last kWindowSeconds seconds.
/// Plain data, no Qt objects: any one thread may use it.
class NetStats
{
public:
    /// How many seconds the window covers; samples older than that are dropped.
    static constexpr int kWindowSeconds = 60;

    /// The four plotted series.
    enum class Series {
        /// Frames the planet view drew per second.
        Fps,
        /// Server ticks received per second.
        Ups,
        /// WebSocket ping round trip in ms; negative while none was measured.
        Ping,
        /// Bytes received per second.
        BytesPerSecond,
    };
    static constexpr std::array<Series, 4> kAllSeries{Series::Fps, Series::Ups, Series::Ping,
                                                      Series::BytesPerSecond};

    /// Adds the sample for `second` (any monotonic count of seconds, e.g. since the
    /// client started): `fps` and `ups` as measured over that second, `pingMs` (-1 when
    /// unknown) and `bytesReceived`, the connection's running total. Bytes per second
    /// are the total's growth since the previous sample, divided by the seconds between
    /// them; 0 for the first sample or when the total went down (a new connection).
    /// A `second` not after the newest sample's is ignored.
    void push(qint64 second, double fps, double ups, int pingMs, quint64 bytesReceived);

    /// Samples held: 0..kWindowSeconds.
    int size() const { return int(m_samples.size()); }
    /// The second of the newest sample; 0 when there is none.
    qint64 newestSecond() const { return m_samples.empty() ? 0 : m_samples.back().second; }
    /// The values of `series`, oldest first, one per sample held.
    std::vector<double> values(Series series) const;
    /// The seconds of the samples held, oldest first, aligned with values().
    std::vector<qint64> seconds() const;
    /// The newest value of `series`; 0 when there is no sample.
    double latest(Series series) const;
    /// The largest value of `series` in the window; 0 when there is none (negative
    /// values, unknown pings, do not count).
    double maximum(Series series) const;
    /// The top of the chart's axis for `series`: maximum() rounded up to 1, 2 or 5
    /// times a power of ten, and at least 1.
    double axisMaximum(Series series) const { return niceCeiling(maximum(series)); }
    /// `value` rounded up to 1, 2 or 5 times a power of ten; 1 for values up to 1.
    static double niceCeiling(double value);

private:
    struct Sample
    {
        qint64 second = 0;
        std::array<double, 4> values{};
    };
    std::deque<Sample> m_samples;
    quint64 m_lastBytes = 0;
};

} // namespace hex::client
