// tests/bench/bots/childprocess.h
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace hex::bench {

/// A server the benchmark starts and measures: our hexsphere-server or the Node
/// baseline. Its stdout and stderr go to a log file. Not thread safe; one owner.
class ChildProcess
{
public:
    ChildProcess() = default;
    ChildProcess(const ChildProcess &) = delete;
    ChildProcess &operator=(const ChildProcess &) = delete;
    /// Stops the process if it still runs.
    ~ChildProcess();

    /// Starts `program` (looked up in PATH when it has no slash) with `args`, adding
    /// `extraEnv` ("NAME=value") to this process's environment. Output goes to `logPath`.
    [[nodiscard]] bool start(const std::string &program, const std::vector<std::string> &args,
                             const std::string &logPath,
                             const std::vector<std::string> &extraEnv = {});
    /// Waits until a TCP connection to 127.0.0.1:`port` succeeds, or the process exits,
    /// or `timeout` passes.
    [[nodiscard]] bool waitForPort(int port, std::chrono::milliseconds timeout);
    /// Sends SIGTERM, waits up to `grace`, then SIGKILL. Safe to call twice.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
    /// True while the process has not exited.
    bool running();
    pid_t pid() const { return m_pid; }
    /// Why start() or waitForPort() failed, with the log's last lines when there are any.
    std::string errorString() const { return m_error; }
    /// The last `maxBytes` of the log file.
    std::string logTail(std::size_t maxBytes = 2000) const;

private:
    pid_t m_pid = -1;
    bool m_exited = false;
    int m_exitStatus = 0;
    std::string m_logPath;
    std::string m_error;
};

/// CPU time (user + system, all threads) a process has used so far, in seconds, from
/// /proc/PID/stat; nullopt when the process is gone.
/// User and kernel CPU seconds a process has used, from /proc/PID/stat.
struct CpuTimes
{
    double user = 0.0;
    double system = 0.0;
    double total() const { return user + system; }
};
std::optional<CpuTimes> processCpuTimes(pid_t pid);
/// Resident set size of a process in KiB (VmRSS from /proc/PID/status); nullopt when gone.
std::optional<long> processRssKib(pid_t pid);
/// A TCP port on 127.0.0.1 that was free a moment ago; 0 when none could be found.
int freeLoopbackPort();

} // namespace hex::bench
