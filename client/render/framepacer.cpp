#include "render/framepacer.h"

#include <QCoreApplication>
#include <QEvent>

#ifdef __linux__
#include <pthread.h>
#include <sys/prctl.h>
#endif

namespace hex::client {

namespace {

const QEvent::Type kTickEvent = static_cast<QEvent::Type>(QEvent::registerEventType());

} // namespace

FramePacer::FramePacer(std::chrono::nanoseconds period, QObject *parent)
    : QAnimationDriver(parent)
    , m_period(period)
{
    Q_ASSERT(period.count() > 0);
    m_thread = std::thread([this] { sleepToDeadlines(); });
}

FramePacer::~FramePacer()
{
    {
        std::lock_guard lock(m_mutex);
        m_quitting = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

std::unique_ptr<FramePacer> FramePacer::installForThisThread()
{
    auto pacer = std::make_unique<FramePacer>();
    pacer->install();
    return pacer;
}

void FramePacer::start()
{
    QAnimationDriver::start();
    {
        std::lock_guard lock(m_mutex);
        m_running = true;
    }
    m_wake.notify_all();
}

void FramePacer::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_running = false;
    }
    m_wake.notify_all();
    QAnimationDriver::stop();
}

bool FramePacer::event(QEvent *event)
{
    if (event->type() != kTickEvent)
        return QAnimationDriver::event(event);
    m_tickQueued = false;
    ++m_ticksHandled;
    if (isRunning())
        advance();
    return true;
}

void FramePacer::sleepToDeadlines()
{
#ifdef __linux__
    pthread_setname_np(pthread_self(), "framepacer");
    // The default slack lets the kernel wake a sleeper up to 50 µs late.
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
    using Clock = std::chrono::steady_clock;
    Clock::time_point deadline;
    std::unique_lock lock(m_mutex);
    while (!m_quitting) {
        if (!m_running) {
            m_wake.wait(lock, [this] { return m_running || m_quitting; });
            deadline = Clock::now();
            continue;
        }
        deadline += m_period;
        const Clock::time_point now = Clock::now();
        if (deadline < now)
            deadline = now; // more than a period behind (the thread was not scheduled)
        if (m_wake.wait_until(lock, deadline, [this] { return !m_running || m_quitting; }))
            continue;
        lock.unlock();
        if (!m_tickQueued.exchange(true))
            QCoreApplication::postEvent(this, new QEvent(kTickEvent), Qt::LowEventPriority);
        lock.lock();
    }
}

} // namespace hex::client
