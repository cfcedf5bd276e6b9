#include "steppool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace hex::sim {

namespace {

/// Spins this many rounds (a few microseconds) before sleeping: a step's phases follow
/// each other closely, and waking a sleeping thread costs more than that. Short, because
/// with more threads than free cores a spinning thread only delays the one it waits for.
constexpr int kSpinRounds = 256;

inline void cpuRelax()
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

} // namespace

StepPool::StepPool(int threads)
    : m_threads(std::clamp(threads, 1, 64))
{
    start();
}

StepPool::~StepPool()
{
    stop();
}

void StepPool::setThreadCount(int threads)
{
    threads = std::clamp(threads, 1, 64);
    if (threads == m_threads)
        return;
    stop();
    m_threads = threads;
    start();
}

void StepPool::start()
{
    m_stopping = false;
    m_workers.reserve(std::size_t(m_threads - 1));
    // Workers start from the generation as it is now, not as they find it when they get
    // to run: a run() issued before a worker starts must not be missed.
    const std::uint32_t generation = m_generation.load(std::memory_order_relaxed);
    for (int part = 1; part < m_threads; ++part)
        m_workers.emplace_back([this, part, generation] { workerLoop(part, generation); });
}

void StepPool::stop()
{
    if (m_workers.empty())
        return;
    m_stopping = true;
    m_generation.fetch_add(1, std::memory_order_release);
    m_generation.notify_all();
    for (std::thread &worker : m_workers)
        worker.join();
    m_workers.clear();
}

void StepPool::runErased(Job job, void *context)
{
    m_job = job;
    m_context = context;
    m_pending.store(m_threads - 1, std::memory_order_relaxed);
    // The release publishes m_job and m_context to the workers.
    m_generation.fetch_add(1, std::memory_order_release);
    m_generation.notify_all();

    job(context, 0);

    for (int spin = 0; m_pending.load(std::memory_order_acquire) != 0; ++spin) {
        if (spin < kSpinRounds) {
            cpuRelax();
            continue;
        }
        const int pending = m_pending.load(std::memory_order_acquire);
        if (pending != 0)
            m_pending.wait(pending, std::memory_order_acquire);
    }
}

void StepPool::workerLoop(int part, std::uint32_t seen)
{
    for (;;) {
        for (int spin = 0; m_generation.load(std::memory_order_acquire) == seen; ++spin) {
            if (spin < kSpinRounds)
                cpuRelax();
            else
                m_generation.wait(seen, std::memory_order_acquire);
        }
        seen = m_generation.load(std::memory_order_acquire);
        if (m_stopping)
            return;
        m_job(m_context, part);
        if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1)
            m_pending.notify_one();
    }
}

} // namespace hex::sim
