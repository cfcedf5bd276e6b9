#pragma once

// A hexsphere-server process for fault tests: unlike ServerProcess it can be killed
// with SIGKILL, reads its output while it runs, and finds the line a world load logs.

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QStringList>
#include <QTest>

#include <cstdint>
#include <optional>

namespace hex::tests {

/// What a server logged when it loaded a world from its store:
/// "tick T: world 'X' loaded from <location>: snapshot at tick S, N events replayed in
/// M ms (K ticks), state hash H" (the part in brackets may be missing).
struct LoadLine
{
    std::uint64_t tick = 0;
    QString world;
    std::uint64_t snapshotTick = 0;
    std::uint64_t eventsReplayed = 0;
    std::uint64_t stateHash = 0;
};

/// The last load line in `output`, if there is one. The hash is hexadecimal, with or
/// without 0x, as the server logs hashes.
inline std::optional<LoadLine> findLoadLine(const QString &output)
{
    static const QRegularExpression line(QStringLiteral(
        R"(tick (\d+): world '([^']*)' loaded from .*: snapshot at tick (\d+), (\d+) events? )"
        R"(replayed in [\d.]+ ms[^,]*, state hash (?:0x)?([0-9a-fA-F]+))"));
    std::optional<LoadLine> found;
    auto it = line.globalMatch(output);
    while (it.hasNext()) {
        const auto m = it.next();
        LoadLine l;
        l.tick = m.captured(1).toULongLong();
        l.world = m.captured(2);
        l.snapshotTick = m.captured(3).toULongLong();
        l.eventsReplayed = m.captured(4).toULongLong();
        bool ok = false;
        l.stateHash = m.captured(5).toULongLong(&ok, 16);
        if (ok)
            found = l;
    }
    return found;
}

/// What a server logged when a clean stop saved its world: "tick T: world 'X' saved to
/// <location> in M ms: events up to tick D, snapshot at tick S".
struct SaveLine
{
    std::uint64_t tick = 0;
    std::uint64_t durableTick = 0;
    std::uint64_t snapshotTick = 0;
};

/// The last save line in `output`, if there is one.
inline std::optional<SaveLine> findSaveLine(const QString &output)
{
    static const QRegularExpression line(
        QStringLiteral(R"(tick (\d+): world '[^']*' saved to .* in \d+ ms: events up to tick )"
                       R"((\d+), snapshot at tick (\d+))"));
    std::optional<SaveLine> found;
    auto it = line.globalMatch(output);
    while (it.hasNext()) {
        const auto m = it.next();
        found = SaveLine{m.captured(1).toULongLong(), m.captured(2).toULongLong(),
                         m.captured(3).toULongLong()};
    }
    return found;
}

/// A real hexsphere-server on a free loopback port. Stopped with SIGTERM (then SIGKILL)
/// when destroyed, unless it is gone already.
class KillableServer
{
public:
    ~KillableServer()
    {
        if (running())
            terminate();
    }

    /// Starts build/bin/hexsphere-server with `args` plus --port 0 --bind 127.0.0.1 and
    /// waits up to `timeoutMs` for its "listening on" line. False (output() says why) if
    /// it did not come.
    [[nodiscard]] bool start(const QStringList &args, int timeoutMs = 60'000)
    {
        m_output.clear();
        m_port = 0;
        m_process.setProgram(QStringLiteral(HEX_BIN_DIR "/hexsphere-server"));
        m_process.setArguments(args + QStringList{"--port", "0", "--bind", "127.0.0.1"});
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start();
        if (!m_process.waitForStarted(timeoutMs))
            return false;
        static const QRegularExpression listening(
            QStringLiteral(R"(listening on ws://[^:]+:(\d+))"));
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs && m_process.state() == QProcess::Running) {
            m_process.waitForReadyRead(100);
            m_output += m_process.readAll();
            const auto match = listening.match(QString::fromUtf8(m_output));
            if (match.hasMatch()) {
                m_port = quint16(match.captured(1).toUInt());
                return m_port != 0;
            }
        }
        m_output += m_process.readAll();
        return false;
    }

    /// SIGKILL, as a crash or the OOM killer would: nothing is flushed.
    void kill()
    {
        m_process.kill();
        m_process.waitForFinished(10'000);
        m_output += m_process.readAll();
    }

    /// SIGTERM and wait; the exit code, or -1 if it crashed or had to be killed.
    int terminate(int timeoutMs = 60'000)
    {
        if (m_process.state() == QProcess::NotRunning)
            return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
        m_process.terminate();
        if (!m_process.waitForFinished(timeoutMs)) {
            m_process.kill();
            m_process.waitForFinished();
            m_output += m_process.readAll();
            return -1;
        }
        m_output += m_process.readAll();
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }

    bool running() const { return m_process.state() == QProcess::Running; }
    quint16 port() const { return m_port; }
    QString url() const { return QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_port); }
    /// Everything it printed so far (stdout and stderr together).
    QString output()
    {
        m_output += m_process.readAll();
        return QString::fromUtf8(m_output);
    }
    /// The last 4000 characters of output(), for failure messages.
    QString tail() { return output().right(4000); }

private:
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
};

} // namespace hex::tests
