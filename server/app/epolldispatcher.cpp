#include "epolldispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimerEvent>

#include <algorithm>
#include <array>
#include <cerrno>
#include <vector>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace hex::server {

namespace {

/// Ready descriptors taken from the kernel per epoll_wait().
constexpr int kMaxEvents = 512;

/// The epoll events a watch asks for.
std::uint32_t interestOf(bool read, bool write, bool exception)
{
    std::uint32_t events = 0;
    if (read)
        events |= EPOLLIN;
    if (write)
        events |= EPOLLOUT;
    if (exception)
        events |= EPOLLPRI;
    return events;
}

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , m_epoll(epoll_create1(EPOLL_CLOEXEC))
    , m_wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (m_epoll >= 0 && m_wake >= 0) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = m_wake;
        if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &event) != 0) {
            ::close(m_wake);
            m_wake = -1;
        }
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    if (m_wake >= 0)
        ::close(m_wake);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void EpollEventDispatcher::updateInterest(int fd, const Watch &watch, bool known)
{
    if (watch.empty()) {
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
        return;
    }
    epoll_event event{};
    event.events = interestOf(watch.read, watch.write, watch.exception);
    event.data.fd = fd;
    if (epoll_ctl(m_epoll, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) == 0)
        return;
    // The descriptor was closed and reused behind our back: start over.
    if (errno == ENOENT && epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) == 0)
        return;
    qWarning("hex::server::EpollEventDispatcher: cannot watch descriptor %d (errno %d); "
             "its notifier will not fire",
             fd, errno);
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    const auto found = m_watches.find(fd);
    const bool known = found != m_watches.end();
    Watch &watch = m_watches[fd];
    switch (notifier->type()) {
    case QSocketNotifier::Read:
        watch.read = notifier;
        break;
    case QSocketNotifier::Write:
        watch.write = notifier;
        break;
    case QSocketNotifier::Exception:
        watch.exception = notifier;
        break;
    }
    updateInterest(fd, watch, known);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    const auto found = m_watches.find(fd);
    if (found == m_watches.end())
        return;
    Watch &watch = found->second;
    if (watch.read == notifier)
        watch.read = nullptr;
    if (watch.write == notifier)
        watch.write = nullptr;
    if (watch.exception == notifier)
        watch.exception = nullptr;
    updateInterest(fd, watch, true);
    if (watch.empty())
        m_watches.erase(found);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                         QObject *object)
{
    unregisterTimer(timerId);
    Timer timer;
    timer.object = object;
    timer.intervalMs = std::max<qint64>(interval, 0);
    timer.type = timerType;
    timer.due = m_deadlines.emplace(Clock::now() + std::chrono::milliseconds(timer.intervalMs),
                                    timerId);
    m_timers.emplace(timerId, timer);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto found = m_timers.find(timerId);
    if (found == m_timers.end())
        return false;
    m_deadlines.erase(found->second.due);
    m_timers.erase(found);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    bool any = false;
    for (auto it = m_timers.begin(); it != m_timers.end();) {
        if (it->second.object == object) {
            m_deadlines.erase(it->second.due);
            it = m_timers.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    return any;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(
    QObject *object) const
{
    QList<TimerInfo> timers;
    for (const auto &[id, timer] : m_timers) {
        if (timer.object == object)
            timers.append(TimerInfo(id, int(timer.intervalMs), timer.type));
    }
    return timers;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto found = m_timers.find(timerId);
    if (found == m_timers.end())
        return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        found->second.due->first - Clock::now());
    return int(std::max<qint64>(left.count(), 0));
}

void EpollEventDispatcher::wakeUp()
{
    const std::uint64_t one = 1;
    // A full counter (never, in practice) still leaves the descriptor readable.
    [[maybe_unused]] const auto written = ::write(m_wake, &one, sizeof one);
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true);
    wakeUp();
}

int EpollEventDispatcher::msUntilNextTimer() const
{
    if (m_deadlines.empty())
        return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        m_deadlines.begin()->first - Clock::now());
    // Round up, so that a wait never ends just before the deadline.
    return int(std::clamp<qint64>(left.count() + 1, 0, 24 * 3600 * 1000));
}

bool EpollEventDispatcher::fireTimers()
{
    const Clock::time_point now = Clock::now();
    // The timers due now, taken first: those registered or rescheduled while these
    // fire wait for the next turn.
    std::vector<int> due;
    for (auto it = m_deadlines.begin(); it != m_deadlines.end() && it->first <= now; ++it)
        due.push_back(it->second);
    bool fired = false;
    for (const int id : due) {
        const auto found = m_timers.find(id);
        if (found == m_timers.end())
            continue; // Unregistered by an earlier timer's handler.
        Timer &timer = found->second;
        if (timer.due->first > now)
            continue; // Re-registered by an earlier handler.
        // Reschedule before sending: the handler may kill or restart the timer. A timer
        // that fell behind skips the missed shots rather than firing them in a burst.
        Clock::time_point next = timer.due->first + std::chrono::milliseconds(timer.intervalMs);
        if (next <= now)
            next = now + std::chrono::milliseconds(timer.intervalMs);
        m_deadlines.erase(timer.due);
        timer.due = m_deadlines.emplace(next, id);
        QObject *object = timer.object;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);
        fired = true;
    }
    return fired;
}

bool EpollEventDispatcher::activate(int fd, QSocketNotifier *Watch::*kind)
{
    // Looked up afresh: an earlier handler may have removed or replaced the notifier.
    const auto found = m_watches.find(fd);
    if (found == m_watches.end())
        return false;
    QSocketNotifier *notifier = found->second.*kind;
    if (!notifier)
        return false;
    QEvent event(QEvent::SockAct);
    QCoreApplication::sendEvent(notifier, &event);
    return true;
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false);
    emit awake();
    // Posted events first, as Qt's dispatchers do; posting also calls wakeUp(), so one
    // posted while we wait ends the wait.
    QCoreApplication::sendPostedEvents();
    if (m_interrupted.load())
        return false;

    const bool wait = flags.testFlag(QEventLoop::WaitForMoreEvents);
    const bool timers = !flags.testFlag(QEventLoop::X11ExcludeTimers);
    int timeout = wait ? -1 : 0;
    if (timers) {
        const int next = msUntilNextTimer();
        if (next >= 0 && (timeout < 0 || next < timeout))
            timeout = next;
    }

    std::array<epoll_event, kMaxEvents> events;
    if (wait)
        emit aboutToBlock();
    int ready = epoll_wait(m_epoll, events.data(), kMaxEvents, timeout);
    if (wait)
        emit awake();
    if (ready < 0)
        ready = 0; // EINTR: a signal; the loop comes round again.

    bool handled = false;
    // The descriptors first, all of them, then the timers: a handler may close a
    // descriptor another event names, which activate() then finds gone.
    std::vector<std::pair<int, std::uint32_t>> sockets;
    sockets.reserve(std::size_t(ready));
    for (int i = 0; i < ready; ++i) {
        const int fd = events[std::size_t(i)].data.fd;
        if (fd == m_wake) {
            std::uint64_t count = 0;
            [[maybe_unused]] const auto read = ::read(m_wake, &count, sizeof count);
            continue;
        }
        const std::uint32_t what = events[std::size_t(i)].events;
        sockets.emplace_back(fd, what);
    }
    if (!flags.testFlag(QEventLoop::ExcludeSocketNotifiers)) {
        for (const auto &[fd, what] : sockets) {
            if (m_interrupted.load())
                return handled;
            // Errors and hang-ups go to whoever listens: reading or writing is how Qt
            // finds out what happened.
            const bool trouble = what & (EPOLLERR | EPOLLHUP);
            if (what & (EPOLLIN | EPOLLRDHUP) || trouble)
                handled |= activate(fd, &Watch::read);
            if (what & EPOLLOUT || trouble)
                handled |= activate(fd, &Watch::write);
            if (what & EPOLLPRI || trouble)
                handled |= activate(fd, &Watch::exception);
        }
    }
    if (timers && !m_interrupted.load())
        handled |= fireTimers();
    return handled;
}

} // namespace hex::server
