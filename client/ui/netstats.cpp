#include "netstats.h"

#include <algorithm>
#include <cmath>

namespace hex::client {

void NetStats::push(qint64 second, double fps, double ups, int pingMs, quint64 bytesReceived)
{
    if (!m_samples.empty() && second <= m_samples.back().second)
        return;
    double bytesPerSecond = 0.0;
    if (!m_samples.empty() && bytesReceived >= m_lastBytes)
        bytesPerSecond
            = double(bytesReceived - m_lastBytes) / double(second - m_samples.back().second);
    m_lastBytes = bytesReceived;

    Sample sample;
    sample.second = second;
    sample.values = {fps, ups, double(pingMs), bytesPerSecond};
    m_samples.push_back(sample);
    while (!m_samples.empty() && m_samples.front().second <= second - kWindowSeconds)
        m_samples.pop_front();
}

std::vector<double> NetStats::values(Series series) const
{
    std::vector<double> result;
    result.reserve(m_samples.size());
    for (const Sample &sample : m_samples)
        result.push_back(sample.values[std::size_t(series)]);
    return result;
}

std::vector<qint64> NetStats::seconds() const
{
    std::vector<qint64> result;
    result.reserve(m_samples.size());
    for (const Sample &sample : m_samples)
        result.push_back(sample.second);
    return result;
}

double NetStats::latest(Series series) const
{
    return m_samples.empty() ? 0.0 : m_samples.back().values[std::size_t(series)];
}

double NetStats::maximum(Series series) const
{
    double result = 0.0;
    for (const Sample &sample : m_samples)
        result = std::max(result, sample.values[std::size_t(series)]);
    return result;
}

double NetStats::niceCeiling(double value)
{
    if (!(value > 1.0))
        return 1.0;
    const double power = std::pow(10.0, std::floor(std::log10(value)));
    for (const double step : {1.0, 2.0, 5.0, 10.0}) {
        // A little slack, so that 200 stays 200 despite rounding in log10 and pow.
        if (value <= step * power * (1.0 + 1e-9))
            return step * power;
    }
    return 10.0 * power;
}

} // namespace hex::client
