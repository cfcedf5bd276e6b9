// server/compute/wakeup.h
#pragma once
#include <QString>

#include <tl/expected.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace hex::server::compute {

struct WorkerSlot;

/// How one side of a worker slot sleeps until the other side wakes it.
enum class WakeMethod {
    Futex,   ///< Spin briefly on the slot's counter word, then FUTEX_WAIT on it.
    EventFd, ///< One eventfd per direction; the worker inherits both descriptors.
    Signal,  ///< SIGUSR1 to the worker, SIGUSR2 to the server, taken with sigtimedwait.
};

/// "futex", "eventfd" or "signal": the names the --wakeup flags take.
QString wakeMethodName(WakeMethod method);
/// The inverse of wakeMethodName(); std::nullopt for an unknown name.
std::optional<WakeMethod> parseWakeMethod(const QString &name);

/// Which end of a slot a Waker serves.
enum class WakeSide {
    Server, ///< Wakes the worker (toWorker) and waits for its answer (toServer).
    Worker, ///< Waits on toWorker and answers on toServer.
};

enum class WaitResult {
    Woken,    ///< The peer sent one wake-up; it is consumed.
    TimedOut, ///< The timeout passed with no wake-up.
    Failed,   ///< A system call failed; errorString() says which.
};

struct WakerOptions
{
    /// How long wait() spins on the counter word before it sleeps. Futex only; zero sleeps
    /// at once ("plain futex").
    std::chrono::nanoseconds spin = std::chrono::microseconds(20);
    /// Worker side of EventFd only: the descriptors the server passed on the command line.
    int eventFdIn = -1;
    int eventFdOut = -1;
};

/// One end of a worker slot's wake-up channel. Every wake-up increments a counter in the
/// slot (toWorker or toServer), so the counter is the truth and the method only decides
/// how the other side sleeps: a wake-up sent while nobody waits is never lost, and each
/// wait() consumes exactly one. Ping-pong use only: at most one wake-up in flight per
/// direction. Not thread-safe; for Signal, create, wait and destroy on the same thread
/// (the thread's mask keeps the signal blocked).
class Waker
{
public:
    /// The best method this kernel offers: Futex if a FUTEX_WAKE succeeds, else EventFd if
    /// eventfd() works, else Signal.
    static WakeMethod best();
    /// A Waker for `side` of `slot`. On the server side EventFd creates the two descriptors
    /// (close-on-exec; see peerEventFds() for handing them to the worker) and Signal records the
    /// calling thread as the one the worker signals; on the worker side it records the worker's
    /// thread likewise.
    static tl::expected<std::unique_ptr<Waker>, QString>
    create(WakeMethod method, WakeSide side, WorkerSlot &slot, const WakerOptions &options = {});

    virtual ~Waker() = default;

    WakeMethod method() const { return m_method; }
    /// Wakes the peer. False (see errorString()) when the system call fails or, for Signal,
    /// when the peer's thread is not known yet.
    [[nodiscard]] virtual bool notify() = 0;
    /// Waits up to `timeout` for one wake-up from the peer.
    [[nodiscard]] virtual WaitResult wait(std::chrono::nanoseconds timeout) = 0;
    /// Server side of EventFd: {in, out} as the worker sees them (--eventfd-in,
    /// --eventfd-out); {-1, -1} otherwise.
    virtual std::pair<int, int> peerEventFds() const { return {-1, -1}; }
    /// Futex only: how long the next wait()s spin before they sleep (see WakerOptions).
    virtual void setSpin(std::chrono::nanoseconds) {}
    QString errorString() const { return m_error; }

protected:
    Waker(WakeMethod method, WakeSide side, WorkerSlot &slot);
    /// Consumes one wake-up if the incoming counter moved past what was seen.
    bool tryConsume();

    WakeMethod m_method;
    WakeSide m_side;
    WorkerSlot &m_slot;
    std::uint32_t m_seen = 0;
    QString m_error;
};

} // namespace hex::server::compute
