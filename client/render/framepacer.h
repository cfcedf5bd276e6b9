#pragma once

#include <QAnimationDriver>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace hex::client {

/// Paces the GUI thread's animations, and so Qt3D's frames, to even deadlines.
///
/// Qt3D asks for each frame through an animation, so the animation driver decides when
/// frames start. Qt's own driver is a 16 ms timer, but Qt rounds every timer wait up to
/// a whole millisecond: a frame starts anywhere up to 1 ms after its time, which shows
/// as a frame every 15 to 17 ms even on an idle machine. This driver keeps the same
/// period and its own thread sleeps to each absolute deadline (nanosecond clock, timer
/// slack of one nanosecond), then posts the tick to the GUI thread. A deadline missed
/// by more than a period is not caught up: the next one is a period from then.
///
/// A tick is posted at low priority, behind everything already queued, so work queued
/// by the frame before (Qt3D's request for the next frame among it) is in place when
/// the tick advances the animations. At most one tick waits in the queue at a time.
///
/// Create and install() it in the GUI thread; it drives that thread's animations until
/// it is destroyed.
class FramePacer : public QAnimationDriver
{
    Q_OBJECT
public:
    /// Qt's own animation period, which Qt3D's frames follow.
    static constexpr std::chrono::nanoseconds kDefaultPeriod = std::chrono::milliseconds(16);

    explicit FramePacer(std::chrono::nanoseconds period = kDefaultPeriod,
                        QObject *parent = nullptr);
    ~FramePacer() override;

    /// Creates a pacer and installs it as the calling (GUI) thread's animation driver.
    /// Destroy it while that thread's event loop still exists (before the application
    /// object): it uninstalls itself, and Qt's own timer takes over again.
    static std::unique_ptr<FramePacer> installForThisThread();

    std::chrono::nanoseconds period() const { return m_period; }
    /// The ticks handled in the GUI thread since the pacer was made.
    quint64 ticksHandled() const { return m_ticksHandled; }

protected:
    void start() override;
    void stop() override;
    bool event(QEvent *event) override;

private:
    void sleepToDeadlines();

    const std::chrono::nanoseconds m_period;
    quint64 m_ticksHandled = 0;

    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_running = false;    // guarded by m_mutex
    bool m_quitting = false;   // guarded by m_mutex
    std::atomic<bool> m_tickQueued = false;
    std::thread m_thread;
};

} // namespace hex::client
