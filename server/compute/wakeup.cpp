// server/compute/wakeup.cpp
#include "wakeup.h"

#include "segment.h"

#include <QCoreApplication>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sched.h>
#include <unistd.h>

namespace hex::server::compute {

namespace {

using Clock = std::chrono::steady_clock;

/// This file's texts, in one translation context (a free tr() would take lupdate's
/// guess at the enclosing class).
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(hex::server::compute::Waker)
};

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

timespec toTimespec(std::chrono::nanoseconds duration)
{
    if (duration.count() < 0)
        duration = std::chrono::nanoseconds(0);
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(duration.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(duration.count() % 1'000'000'000);
    return ts;
}

inline void cpuRelax()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

long futexCall(std::atomic<std::uint32_t> &word, int op, std::uint32_t value, const timespec *ts)
{
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&word), op, value, ts, nullptr,
                     0);
}

pid_t currentTid()
{
    return static_cast<pid_t>(::syscall(SYS_gettid));
}

/// The slot's words as one side sees them.
struct Ends
{
    std::atomic<std::uint32_t> *in;
    std::atomic<std::uint32_t> *out;
    std::atomic<std::uint32_t> *mySleeping;
    std::atomic<std::uint32_t> *peerSleeping;
};

Ends endsFor(WorkerSlot &slot, WakeSide side)
{
    if (side == WakeSide::Server)
        return {&slot.toServer, &slot.toWorker, &slot.serverSleeping, &slot.workerSleeping};
    return {&slot.toWorker, &slot.toServer, &slot.workerSleeping, &slot.serverSleeping};
}

// ---------------------------------------------------------------------------------------

class FutexWaker final : public Waker
{
public:
    FutexWaker(WorkerSlot &slot, WakeSide side, std::chrono::nanoseconds spin)
        : Waker(WakeMethod::Futex, side, slot)
        , m_ends(endsFor(slot, side))
        , m_spin(spin)
    {}

    bool notify() override
    {
        m_ends.out->fetch_add(1, std::memory_order_seq_cst);
        // The peer announces that it sleeps before it re-reads the counter (seq_cst on
        // both sides): either it sees the new count or we see its flag and wake it.
        if (m_ends.peerSleeping->load(std::memory_order_seq_cst) == 0)
            return true;
        if (futexCall(*m_ends.out, FUTEX_WAKE, 1, nullptr) < 0) {
            m_error = Text::tr("FUTEX_WAKE failed: %1").arg(errnoText(errno));
            return false;
        }
        return true;
    }

    void setSpin(std::chrono::nanoseconds spin) override { m_spin = spin; }

    WaitResult wait(std::chrono::nanoseconds timeout) override
    {
        const auto start = Clock::now();
        const auto deadline = start + timeout;
        if (m_spin.count() > 0) {
            const auto spinUntil = start + std::min(m_spin, timeout);
            for (;;) {
                for (int i = 0; i < 64; ++i) {
                    if (tryConsume())
                        return WaitResult::Woken;
                    cpuRelax();
                }
                if (Clock::now() >= spinUntil)
                    break;
                // When the peer waits for this core (a busy machine), let it run now
                // rather than at the end of the spin; on an idle core this returns at once.
                ::sched_yield();
            }
        }
        for (;;) {
            const std::uint32_t seen = m_seen;
            m_ends.mySleeping->store(1, std::memory_order_seq_cst);
            if (m_ends.in->load(std::memory_order_seq_cst) != seen) {
                m_ends.mySleeping->store(0, std::memory_order_relaxed);
                ++m_seen;
                return WaitResult::Woken;
            }
            const auto remaining = deadline - Clock::now();
            if (remaining <= Clock::duration::zero()) {
                m_ends.mySleeping->store(0, std::memory_order_relaxed);
                return WaitResult::TimedOut;
            }
            const timespec ts = toTimespec(remaining);
            const long rc = futexCall(*m_ends.in, FUTEX_WAIT, seen, &ts);
            const int error = errno;
            m_ends.mySleeping->store(0, std::memory_order_relaxed);
            if (rc < 0 && error != EAGAIN && error != EINTR && error != ETIMEDOUT) {
                m_error = Text::tr("FUTEX_WAIT failed: %1").arg(errnoText(error));
                return WaitResult::Failed;
            }
            if (tryConsume())
                return WaitResult::Woken;
        }
    }

private:
    Ends m_ends;
    std::chrono::nanoseconds m_spin;
};

// ---------------------------------------------------------------------------------------

class EventFdWaker final : public Waker
{
public:
    EventFdWaker(WorkerSlot &slot, WakeSide side, int in, int out, std::pair<int, int> peer)
        : Waker(WakeMethod::EventFd, side, slot)
        , m_ends(endsFor(slot, side))
        , m_in(in)
        , m_out(out)
        , m_peer(peer)
    {}

    ~EventFdWaker() override
    {
        ::close(m_in);
        ::close(m_out);
    }

    std::pair<int, int> peerEventFds() const override { return m_peer; }

    bool notify() override
    {
        m_ends.out->fetch_add(1, std::memory_order_seq_cst);
        const std::uint64_t one = 1;
        for (;;) {
            if (::write(m_out, &one, sizeof one) == static_cast<ssize_t>(sizeof one))
                return true;
            if (errno == EINTR)
                continue;
            m_error = Text::tr("writing to eventfd %1 failed: %2").arg(m_out).arg(errnoText(errno));
            return false;
        }
    }

    WaitResult wait(std::chrono::nanoseconds timeout) override
    {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (tryConsume())
                return WaitResult::Woken;
            const auto remaining = deadline - Clock::now();
            if (remaining <= Clock::duration::zero())
                return WaitResult::TimedOut;
            pollfd pfd{m_in, POLLIN, 0};
            const timespec ts = toTimespec(remaining);
            const int rc = ::ppoll(&pfd, 1, &ts, nullptr);
            if (rc < 0 && errno != EINTR) {
                m_error
                    = Text::tr("waiting on eventfd %1 failed: %2").arg(m_in).arg(errnoText(errno));
                return WaitResult::Failed;
            }
            if (rc > 0) {
                std::uint64_t count = 0;
                // Non-blocking: drains the counter; the slot's counter says how many came.
                if (::read(m_in, &count, sizeof count) < 0 && errno != EAGAIN && errno != EINTR) {
                    m_error
                        = Text::tr("reading eventfd %1 failed: %2").arg(m_in).arg(errnoText(errno));
                    return WaitResult::Failed;
                }
            }
        }
    }

private:
    Ends m_ends;
    int m_in;
    int m_out;
    std::pair<int, int> m_peer;
};

// ---------------------------------------------------------------------------------------

class SignalWaker final : public Waker
{
public:
    SignalWaker(WorkerSlot &slot, WakeSide side)
        : Waker(WakeMethod::Signal, side, slot)
        , m_ends(endsFor(slot, side))
        , m_mySignal(side == WakeSide::Server ? SIGUSR2 : SIGUSR1)
        , m_peerSignal(side == WakeSide::Server ? SIGUSR1 : SIGUSR2)
    {
        sigemptyset(&m_set);
        sigaddset(&m_set, m_mySignal);
    }

    /// Blocks our signal on the calling thread and publishes the thread in the slot.
    bool setUp()
    {
        const int rc = ::pthread_sigmask(SIG_BLOCK, &m_set, nullptr);
        if (rc != 0) {
            m_error = Text::tr("blocking signal %1 failed: %2").arg(m_mySignal).arg(errnoText(rc));
            return false;
        }
        if (m_side == WakeSide::Server) {
            m_slot.serverPid.store(::getpid(), std::memory_order_seq_cst);
            m_slot.serverTid.store(currentTid(), std::memory_order_seq_cst);
        } else {
            m_slot.workerPid.store(::getpid(), std::memory_order_seq_cst);
            m_slot.workerTid.store(currentTid(), std::memory_order_seq_cst);
        }
        return true;
    }

    ~SignalWaker() override
    {
        // The signal stays blocked on this thread (unblocking a pending SIGUSR would kill
        // the process); only drain what is pending.
        const timespec zero{};
        while (::sigtimedwait(&m_set, nullptr, &zero) > 0) {
        }
    }

    bool notify() override
    {
        const pid_t pid
            = m_side == WakeSide::Server ? m_slot.workerPid.load() : m_slot.serverPid.load();
        const pid_t tid
            = m_side == WakeSide::Server ? m_slot.workerTid.load() : m_slot.serverTid.load();
        if (pid <= 0 || tid <= 0) {
            m_error
                = Text::tr("cannot signal the peer: its process has not registered its thread yet");
            return false;
        }
        m_ends.out->fetch_add(1, std::memory_order_seq_cst);
        if (::syscall(SYS_tgkill, pid, tid, m_peerSignal) < 0) {
            m_error = Text::tr("sending signal %1 to process %2 failed: %3")
                          .arg(m_peerSignal)
                          .arg(pid)
                          .arg(errnoText(errno));
            return false;
        }
        return true;
    }

    WaitResult wait(std::chrono::nanoseconds timeout) override
    {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (tryConsume())
                return WaitResult::Woken;
            const auto remaining = deadline - Clock::now();
            if (remaining <= Clock::duration::zero())
                return WaitResult::TimedOut;
            const timespec ts = toTimespec(remaining);
            // A signal sent after the check above stays pending (it is blocked), so
            // sigtimedwait returns at once: no lost wake-up.
            if (::sigtimedwait(&m_set, nullptr, &ts) < 0 && errno != EAGAIN && errno != EINTR) {
                m_error = Text::tr("sigtimedwait failed: %1").arg(errnoText(errno));
                return WaitResult::Failed;
            }
        }
    }

private:
    Ends m_ends;
    int m_mySignal;
    int m_peerSignal;
    sigset_t m_set;
};

bool descriptorValid(int fd)
{
    return fd >= 0 && ::fcntl(fd, F_GETFD) != -1;
}

} // namespace

// ---------------------------------------------------------------------------------------

QString wakeMethodName(WakeMethod method)
{
    switch (method) {
    case WakeMethod::Futex:
        return QStringLiteral("futex");
    case WakeMethod::EventFd:
        return QStringLiteral("eventfd");
    case WakeMethod::Signal:
        return QStringLiteral("signal");
    }
    return {};
}

std::optional<WakeMethod> parseWakeMethod(const QString &name)
{
    for (WakeMethod method : {WakeMethod::Futex, WakeMethod::EventFd, WakeMethod::Signal}) {
        if (name == wakeMethodName(method))
            return method;
    }
    return std::nullopt;
}

Waker::Waker(WakeMethod method, WakeSide side, WorkerSlot &slot)
    : m_method(method)
    , m_side(side)
    , m_slot(slot)
{
    m_seen = (side == WakeSide::Server ? slot.toServer : slot.toWorker)
                 .load(std::memory_order_acquire);
}

bool Waker::tryConsume()
{
    const auto &in = m_side == WakeSide::Server ? m_slot.toServer : m_slot.toWorker;
    if (in.load(std::memory_order_acquire) == m_seen)
        return false;
    ++m_seen;
    return true;
}

WakeMethod Waker::best()
{
    std::atomic<std::uint32_t> word{0};
    if (futexCall(word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, nullptr) >= 0)
        return WakeMethod::Futex;
    const int fd = ::eventfd(0, EFD_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
        return WakeMethod::EventFd;
    }
    return WakeMethod::Signal;
}

tl::expected<std::unique_ptr<Waker>, QString>
Waker::create(WakeMethod method, WakeSide side, WorkerSlot &slot, const WakerOptions &options)
{
    switch (method) {
    case WakeMethod::Futex:
        return std::make_unique<FutexWaker>(slot, side, options.spin);
    case WakeMethod::EventFd: {
        if (side == WakeSide::Worker) {
            if (!descriptorValid(options.eventFdIn) || !descriptorValid(options.eventFdOut))
                return tl::unexpected(Text::tr("eventfd descriptors %1 and %2 are not open in this "
                                               "process")
                                          .arg(options.eventFdIn)
                                          .arg(options.eventFdOut));
            return std::make_unique<EventFdWaker>(slot, side, options.eventFdIn, options.eventFdOut,
                                                  std::pair{-1, -1});
        }
        // Close-on-exec, so that other children never inherit them: WorkerProcess clears
        // the flag in the one child that needs them, which learns their numbers from its
        // command line.
        const int toWorker = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (toWorker < 0)
            return tl::unexpected(Text::tr("eventfd() failed: %1").arg(errnoText(errno)));
        const int toServer = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (toServer < 0) {
            const int error = errno;
            ::close(toWorker);
            return tl::unexpected(Text::tr("eventfd() failed: %1").arg(errnoText(error)));
        }
        return std::make_unique<EventFdWaker>(slot, side, toServer, toWorker,
                                              std::pair{toWorker, toServer});
    }
    case WakeMethod::Signal: {
        auto waker = std::make_unique<SignalWaker>(slot, side);
        if (!waker->setUp())
            return tl::unexpected(waker->errorString());
        return waker;
    }
    }
    return tl::unexpected(Text::tr("unknown wake-up method"));
}

} // namespace hex::server::compute
