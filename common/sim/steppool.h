#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace hex::sim {

/// A small fixed pool of threads for the simulation step: run() calls a function once
/// per partition, on `threadCount()` threads at once, the calling thread taking
/// partition 0, and returns when every partition is done (a barrier). Workers sleep
/// between runs. Plain std::thread, no Qt.
///
/// One thread (the owner, usually the tick thread) calls run() and
/// setThreadCount(); the function given to run() must not call them.
class StepPool
{
public:
    /// Starts `threads - 1` workers; `threads` is clamped to 1..64.
    explicit StepPool(int threads = 1);
    ~StepPool();
    StepPool(const StepPool &) = delete;
    StepPool &operator=(const StepPool &) = delete;

    /// Threads taking part in run(), the caller included.
    int threadCount() const { return m_threads; }
    /// Stops the workers and starts `threads - 1` new ones (clamped to 1..64).
    void setThreadCount(int threads);

    /// Calls `fn(part)` for part = 0 .. threadCount()-1, each on its own thread, and
    /// waits for all of them. `Fn` must be callable as `void(int part)`; exceptions
    /// must not escape it.
    template<typename Fn>
    void run(Fn &&fn)
    {
        if (m_threads == 1) {
            fn(0);
            return;
        }
        auto trampoline = [](void *context, int part) {
            (*static_cast<std::remove_reference_t<Fn> *>(context))(part);
        };
        runErased(trampoline, &fn);
    }

private:
    using Job = void (*)(void *context, int part);

    void runErased(Job job, void *context);
    void start();
    void stop();
    void workerLoop(int part, std::uint32_t seen);

    int m_threads = 1;
    std::vector<std::thread> m_workers;
    Job m_job = nullptr;
    void *m_context = nullptr;
    /// Bumped once per run (and once to stop); workers wait for it to change.
    std::atomic<std::uint32_t> m_generation{0};
    /// Workers still busy with the current run.
    std::atomic<int> m_pending{0};
    bool m_stopping = false;
};

} // namespace hex::sim
