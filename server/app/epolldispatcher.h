#pragma once

#include <QAbstractEventDispatcher>

#include <atomic>
#include <chrono>
#include <map>
#include <unordered_map>

namespace hex::server {

/// A Qt event dispatcher on Linux epoll, for the dedicated server's main thread.
///
/// Qt's own dispatcher (and glib's) polls every registered socket on every turn of the
/// event loop: with 10,000 clients, each turn costs a ppoll() over 10,000 descriptors
/// even when one of them is ready. epoll reports only the ready ones. Socket notifiers
/// map to level-triggered epoll interest (read, write, exception), timers to an ordered
/// map of deadlines, and wakeUp() to an eventfd, so posted events and other threads
/// reach the loop at once.
///
/// Timers of every type are kept to the millisecond (coarse timers are not coalesced).
/// Install it with QCoreApplication::setEventDispatcher() before the application
/// object exists; it serves the thread that creates it.
class EpollEventDispatcher : public QAbstractEventDispatcher
{
    Q_OBJECT
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    /// False when the kernel refused epoll or eventfd (the dispatcher is unusable).
    bool isValid() const { return m_epoll >= 0 && m_wake >= 0; }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                       QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;

private:
    using Clock = std::chrono::steady_clock;

    /// The notifiers watching one descriptor, at most one per kind.
    struct Watch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        bool empty() const { return !read && !write && !exception; }
    };

    struct Timer
    {
        QObject *object = nullptr;
        qint64 intervalMs = 0;
        Qt::TimerType type = Qt::CoarseTimer;
        std::multimap<Clock::time_point, int>::iterator due;
    };

    /// Tells epoll what `fd` is watched for now (adds, changes or removes it).
    void updateInterest(int fd, const Watch &watch, bool known);
    /// Sends QEvent::SockAct to the notifier of `fd` of one kind, if it still exists.
    bool activate(int fd, QSocketNotifier *Watch::*kind);
    /// Fires every timer that is due; true if any fired.
    bool fireTimers();
    /// Milliseconds until the next timer is due (0 if one is), or -1 with none.
    int msUntilNextTimer() const;

    int m_epoll = -1;
    int m_wake = -1;
    std::atomic<bool> m_interrupted{false};
    std::unordered_map<int, Watch> m_watches;
    std::unordered_map<int, Timer> m_timers;
    std::multimap<Clock::time_point, int> m_deadlines;
};

} // namespace hex::server
