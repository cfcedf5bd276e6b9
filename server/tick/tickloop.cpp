#include "tickloop.h"

#include <QLoggingCategory>

#include <algorithm>

Q_LOGGING_CATEGORY(lcTick, "hex.tick")

namespace hex::server {

TickLoop::TickLoop(int ups, QObject *parent)
    : QObject(parent)
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &TickLoop::onTimer);
    setUps(ups);
}

void TickLoop::setUps(int ups)
{
    Q_ASSERT(ups > 0);
    m_ups = ups;
    m_periodNs = 1'000'000'000 / ups;
}

void TickLoop::start(std::uint64_t firstTick)
{
    m_tick = firstTick;
    m_running = true;
    m_clock.start();
    m_nextDeadlineNs = m_periodNs;
    scheduleNext();
}

void TickLoop::stop()
{
    m_running = false;
    m_timer.stop();
}

void TickLoop::onTimer()
{
    int ran = 0;
    while (m_clock.nsecsElapsed() >= m_nextDeadlineNs && ran < kMaxCatchUp) {
        const std::int64_t begin = m_clock.nsecsElapsed();
        ++m_tick;
        emit ticked(m_tick);
        if (!m_running)
            return; // a handler stopped the loop
        m_longestTickUs
            = std::max<std::int64_t>(m_longestTickUs, (m_clock.nsecsElapsed() - begin) / 1000);
        m_nextDeadlineNs += m_periodNs;
        ++ran;
    }
    const std::int64_t now = m_clock.nsecsElapsed();
    if (now >= m_nextDeadlineNs) {
        const std::int64_t behind = (now - m_nextDeadlineNs) / m_periodNs + 1;
        m_droppedTicks += std::uint64_t(behind);
        m_nextDeadlineNs += behind * m_periodNs;
        qCWarning(lcTick).nospace() << "tick " << m_tick << ": fell " << behind
                                    << " ticks behind; dropped them to keep the rate";
    }
    scheduleNext();
}

void TickLoop::scheduleNext()
{
    const std::int64_t waitNs = m_nextDeadlineNs - m_clock.nsecsElapsed();
    // Round up so the timer never fires before the deadline and spins.
    m_timer.start(int(std::max<std::int64_t>(0, (waitNs + 999'999) / 1'000'000)));
}

} // namespace hex::server
