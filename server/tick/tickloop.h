#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <cstdint>

namespace hex::server {

/// A fixed-timestep loop: emits ticked() `ups` times per second on average, in the
/// thread it lives in. A tick that overruns delays the next ones, which then run
/// back to back to catch up, but never more than kMaxCatchUp in a row: beyond that
/// the backlog is dropped and counted, so the loop never spirals.
class TickLoop : public QObject
{
    Q_OBJECT
public:
    /// Ticks run at most this many in a row to catch up before the backlog is dropped.
    static constexpr int kMaxCatchUp = 5;

    explicit TickLoop(int ups, QObject *parent = nullptr);

    /// Starts ticking from tick `firstTick` + 1.
    void start(std::uint64_t firstTick = 0);
    void stop();
    bool isRunning() const { return m_running; }

    /// Updates per second; takes effect from the next tick.
    int ups() const { return m_ups; }
    void setUps(int ups);

    /// The last tick emitted.
    std::uint64_t tick() const { return m_tick; }
    /// Longest time a tick's handlers took, in microseconds.
    std::int64_t longestTickUs() const { return m_longestTickUs; }
    /// Ticks dropped because the loop fell more than kMaxCatchUp ticks behind.
    std::uint64_t droppedTicks() const { return m_droppedTicks; }

signals:
    /// The handlers of tick `tick` run now; they must not block on network or disk.
    void ticked(std::uint64_t tick);

private:
    void onTimer();
    void scheduleNext();

    QTimer m_timer;
    QElapsedTimer m_clock;
    bool m_running = false;
    int m_ups = 20;
    std::int64_t m_periodNs = 50'000'000;
    std::int64_t m_nextDeadlineNs = 0;
    std::uint64_t m_tick = 0;
    std::int64_t m_longestTickUs = 0;
    std::uint64_t m_droppedTicks = 0;
};

} // namespace hex::server
