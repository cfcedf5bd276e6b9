// tests/bench/bots/childprocess.cpp
#include "childprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char **environ;

namespace hex::bench {

ChildProcess::~ChildProcess()
{
    stop();
}

bool ChildProcess::start(const std::string &program, const std::vector<std::string> &args,
                         const std::string &logPath, const std::vector<std::string> &extraEnv)
{
    m_logPath = logPath;
    m_exited = false;
    std::vector<std::string> argStorage{program};
    argStorage.insert(argStorage.end(), args.begin(), args.end());
    std::vector<char *> argv;
    argv.reserve(argStorage.size() + 1);
    for (std::string &a : argStorage)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    std::vector<std::string> envStorage;
    for (char **e = environ; *e; ++e)
        envStorage.emplace_back(*e);
    envStorage.insert(envStorage.end(), extraEnv.begin(), extraEnv.end());
    std::vector<char *> envp;
    envp.reserve(envStorage.size() + 1);
    for (std::string &e : envStorage)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc
        = posix_spawnp(&m_pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        m_pid = -1;
        m_error = "cannot start " + program + ": " + std::strerror(rc);
        return false;
    }
    return true;
}

bool ChildProcess::running()
{
    if (m_pid <= 0 || m_exited)
        return false;
    int status = 0;
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_exited = true;
        m_exitStatus = status;
        return false;
    }
    return true;
}

bool ChildProcess::waitForPort(int port, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!running()) {
            std::ostringstream why;
            why << "the process exited ";
            if (WIFEXITED(m_exitStatus))
                why << "with status " << WEXITSTATUS(m_exitStatus);
            else
                why << "on signal " << WTERMSIG(m_exitStatus);
            why << " before listening on port " << port << "; its log (" << m_logPath << ") ends:\n"
                << logTail();
            m_error = why.str();
            return false;
        }
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(std::uint16_t(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool connected
            = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
        ::close(fd);
        if (connected)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    m_error = "nothing listened on port " + std::to_string(port) + " within "
              + std::to_string(timeout.count() / 1000) + " s; the log (" + m_logPath + ") ends:\n"
              + logTail();
    return false;
}

void ChildProcess::stop(std::chrono::milliseconds grace)
{
    if (!running())
        return;
    ::kill(m_pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!running())
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(m_pid, SIGKILL);
    waitpid(m_pid, &m_exitStatus, 0);
    m_exited = true;
}

std::string ChildProcess::logTail(std::size_t maxBytes) const
{
    std::ifstream in(m_logPath, std::ios::binary);
    if (!in)
        return {};
    in.seekg(0, std::ios::end);
    const auto size = std::size_t(in.tellg());
    const std::size_t from = size > maxBytes ? size - maxBytes : 0;
    in.seekg(std::streamoff(from));
    std::string tail(size - from, '\0');
    in.read(tail.data(), std::streamsize(tail.size()));
    return tail;
}

std::optional<CpuTimes> processCpuTimes(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line))
        return std::nullopt;
    // The command name (field 2) may hold spaces and parentheses: fields after the last
    // ')' start with field 3, state.
    const auto close = line.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14)
            utime = std::stoull(field);
        else if (index == 15)
            stime = std::stoull(field);
    }
    const double tick = double(sysconf(_SC_CLK_TCK));
    return CpuTimes{double(utime) / tick, double(stime) / tick};
}

std::optional<long> processRssKib(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    }
    return std::nullopt;
}

int freeLoopbackPort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0
        && ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    ::close(fd);
    return port;
}

} // namespace hex::bench
