// bench_ipc: round-trip wake-up latency between this process and a real child process,
// for every wake-up method of server/compute and a Unix-domain-socket baseline.
//
//   build/bin/bench_ipc [--rounds N] [--worker PATH]
//
// Each method: start hexsphere-worker --ping on a fresh segment, warm up, then time N
// round trips (wake the worker, wait for its wake-up back). The baseline: a forked child
// echoing one byte over a socketpair. Prints a table, then as the last stdout line a JSON
// object with the figures. Tick throughput and bytes copied per tick need workers that
// step the world, which do not exist yet: they are reported as not measured.
#include "compute/segment.h"
#include "compute/wakeup.h"
#include "compute/workerprocess.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace hex::server::compute;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats
{
    double p50Us = 0;
    double p99Us = 0;
    double meanUs = 0;
};

Stats summarise(std::vector<double> samplesUs)
{
    Stats stats;
    if (samplesUs.empty())
        return stats;
    std::sort(samplesUs.begin(), samplesUs.end());
    const auto at = [&](double q) {
        const auto index = static_cast<std::size_t>(q * static_cast<double>(samplesUs.size() - 1));
        return samplesUs[index];
    };
    stats.p50Us = at(0.50);
    stats.p99Us = at(0.99);
    double sum = 0;
    for (double s : samplesUs)
        sum += s;
    stats.meanUs = sum / static_cast<double>(samplesUs.size());
    return stats;
}

constexpr int kWarmUp = 2000;

std::optional<Stats> measureWaker(const QString &worker, WakeMethod method, int spinUs, int rounds)
{
    auto segment = Segment::create();
    if (!segment) {
        std::fprintf(stderr, "bench_ipc: %s\n", qPrintable(segment.error()));
        return std::nullopt;
    }
    WorkerProcess process(*segment, 0);
    WakerOptions options;
    options.spin = std::chrono::microseconds(spinUs);
    if (!process.start(worker, method, options, std::chrono::seconds(30))) {
        std::fprintf(stderr, "bench_ipc: %s\n", qPrintable(process.errorString()));
        return std::nullopt;
    }
    Waker &waker = process.waker();
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(rounds));
    for (int i = 0; i < kWarmUp + rounds; ++i) {
        const auto start = Clock::now();
        if (!waker.notify() || waker.wait(std::chrono::seconds(10)) != WaitResult::Woken) {
            std::fprintf(stderr, "bench_ipc: %s round trip %d failed or timed out %s\n",
                         qPrintable(wakeMethodName(method)), i, qPrintable(waker.errorString()));
            return std::nullopt;
        }
        const auto end = Clock::now();
        if (i >= kWarmUp)
            samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    if (!process.stop(std::chrono::seconds(10)) || process.exitCode() != 0) {
        std::fprintf(stderr, "bench_ipc: the %s worker did not stop cleanly: %s\n",
                     qPrintable(wakeMethodName(method)), qPrintable(process.errorString()));
        return std::nullopt;
    }
    return summarise(std::move(samples));
}

std::optional<Stats> measureUnixSocket(int rounds)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        std::perror("bench_ipc: socketpair");
        return std::nullopt;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        std::perror("bench_ipc: fork");
        return std::nullopt;
    }
    if (child == 0) {
        ::close(fds[0]);
        char byte = 0;
        while (::read(fds[1], &byte, 1) == 1 && byte != 'q') {
            if (::write(fds[1], &byte, 1) != 1)
                ::_exit(1);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(rounds));
    bool ok = true;
    for (int i = 0; i < kWarmUp + rounds && ok; ++i) {
        char byte = 'p';
        const auto start = Clock::now();
        ok = ::write(fds[0], &byte, 1) == 1 && ::read(fds[0], &byte, 1) == 1 && byte == 'p';
        const auto end = Clock::now();
        if (i >= kWarmUp)
            samples.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    const char quit = 'q';
    (void)!::write(fds[0], &quit, 1);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_ipc: the Unix-socket echo child failed\n");
        return std::nullopt;
    }
    return summarise(std::move(samples));
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Round-trip wake-up latency benchmark."));
    parser.addHelpOption();
    const QCommandLineOption roundsOption(QStringLiteral("rounds"),
                                          QStringLiteral("Timed round trips per method."),
                                          QStringLiteral("n"), QStringLiteral("20000"));
    const QCommandLineOption workerOption(
        QStringLiteral("worker"), QStringLiteral("The hexsphere-worker binary."),
        QStringLiteral("path"),
        QCoreApplication::applicationDirPath() + QStringLiteral("/hexsphere-worker"));
    parser.addOptions({roundsOption, workerOption});
    parser.process(app);
    bool ok = false;
    const int rounds = parser.value(roundsOption).toInt(&ok);
    if (!ok || rounds < 100) {
        std::fprintf(stderr, "bench_ipc: --rounds must be a number of at least 100\n");
        return 1;
    }
    const QString worker = parser.value(workerOption);

    Segment::removeStale();
    std::printf("bench_ipc: %d round trips per method after %d warm-up, against a child "
                "process (best wake-up method here: %s)\n",
                rounds, kWarmUp, qPrintable(wakeMethodName(Waker::best())));

    struct Row
    {
        const char *label;
        std::optional<Stats> stats;
    };
    const auto futex = measureWaker(worker, WakeMethod::Futex, 20, rounds);
    const auto futexNoSpin = measureWaker(worker, WakeMethod::Futex, 0, rounds);
    const auto eventfd = measureWaker(worker, WakeMethod::EventFd, 0, rounds);
    const auto signal = measureWaker(worker, WakeMethod::Signal, 0, rounds);
    const auto uds = measureUnixSocket(rounds);
    const Row rows[] = {{"spin-then-futex (20 us spin)", futex},
                        {"plain futex (no spin)", futexNoSpin},
                        {"eventfd", eventfd},
                        {"signals (SIGUSR1/SIGUSR2)", signal},
                        {"Unix socket (socketpair)", uds}};

    std::printf("\n%-30s %10s %10s %10s %12s\n", "method", "p50 us", "p99 us", "mean us",
                "p50 vs UDS");
    for (const Row &row : rows) {
        if (!row.stats) {
            std::printf("%-30s %10s\n", row.label, "FAILED");
            continue;
        }
        const double ratio = uds ? row.stats->p50Us / uds->p50Us : 0.0;
        std::printf("%-30s %10.2f %10.2f %10.2f %11.2fx\n", row.label, row.stats->p50Us,
                    row.stats->p99Us, row.stats->meanUs, ratio);
    }
    const bool complete = futex && futexNoSpin && eventfd && signal && uds;
    const double ratio = (futex && uds) ? futex->p50Us / uds->p50Us : -1.0;
    std::printf("\ntarget: spin-then-futex round trip <= 0.5x the Unix socket's (p50): ");
    if (ratio < 0)
        std::printf("not measured (a method failed)\n");
    else
        std::printf("%.2fx -> %s\n", ratio, ratio <= 0.5 ? "MET" : "NOT MET");
    std::printf("tick throughput (n=256, n=512; 0, 1, 2 workers) and bytes copied per tick: "
                "not measured yet; the workers do not step the world in this build.\n");
    std::fflush(stdout);

    const auto num = [](const std::optional<Stats> &s, double Stats::*field) {
        return s ? QString::number(s.value().*field, 'f', 3) : QStringLiteral("null");
    };
    std::printf("{\"futex_rtt_us_p50\": %s, \"futex_rtt_us_p99\": %s, "
                "\"futex_nospin_rtt_us_p50\": %s, \"eventfd_rtt_us_p50\": %s, "
                "\"signal_rtt_us_p50\": %s, \"uds_rtt_us_p50\": %s, \"uds_rtt_us_p99\": %s, "
                "\"ratio_futex_to_uds\": %s}\n",
                qPrintable(num(futex, &Stats::p50Us)), qPrintable(num(futex, &Stats::p99Us)),
                qPrintable(num(futexNoSpin, &Stats::p50Us)),
                qPrintable(num(eventfd, &Stats::p50Us)), qPrintable(num(signal, &Stats::p50Us)),
                qPrintable(num(uds, &Stats::p50Us)), qPrintable(num(uds, &Stats::p99Us)),
                ratio < 0 ? "null" : qPrintable(QString::number(ratio, 'f', 3)));
    return complete ? 0 : 1;
}
