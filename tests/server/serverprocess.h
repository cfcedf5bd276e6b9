#pragma once

#include <QProcess>
#include <QRegularExpression>
#include <QStringList>
#include <QTest>

/// A real hexsphere-server process on a free loopback port, for integration tests.
/// Stopped with SIGTERM (then killed) when destroyed.
class ServerProcess
{
public:
    ~ServerProcess() { stop(); }

    /// Starts build/bin/hexsphere-server with `args` plus --port 0 --bind 127.0.0.1 (and
    /// --database none unless `args` names a --database: tests keep throwaway worlds) and
    /// waits up to `timeoutMs` for its "listening on" line. False (with the output in
    /// output()) if it did not come.
    [[nodiscard]] bool start(const QStringList &args, int timeoutMs = 30'000)
    {
        m_process.setProgram(QStringLiteral(HEX_BIN_DIR "/hexsphere-server"));
        QStringList all = args + QStringList{"--port", "0", "--bind", "127.0.0.1"};
        if (!args.contains(QStringLiteral("--database")))
            all << QStringLiteral("--database") << QStringLiteral("none");
        m_process.setArguments(all);
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        m_process.start();
        if (!m_process.waitForStarted(timeoutMs))
            return false;
        static const QRegularExpression listening(
            QStringLiteral(R"(listening on ws://[^:]+:(\d+))"));
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs && m_process.state() == QProcess::Running) {
            m_process.waitForReadyRead(100);
            m_stdout += m_process.readAllStandardOutput();
            m_stderr += m_process.readAllStandardError();
            const auto match = listening.match(QString::fromUtf8(m_stdout));
            if (match.hasMatch()) {
                m_port = quint16(match.captured(1).toUInt());
                return m_port != 0;
            }
        }
        return false;
    }

    /// SIGKILL, as a crash would: nothing is flushed. Waits for the process to end.
    void kill()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.kill();
        m_process.waitForFinished();
        m_stdout += m_process.readAllStandardOutput();
        m_stderr += m_process.readAllStandardError();
    }

    /// SIGTERM, then wait; returns the exit code, or -1 if it had to be killed.
    int stop(int timeoutMs = 10'000)
    {
        if (m_process.state() == QProcess::NotRunning)
            return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
        m_process.terminate();
        if (!m_process.waitForFinished(timeoutMs)) {
            m_process.kill();
            m_process.waitForFinished();
            return -1;
        }
        m_stdout += m_process.readAllStandardOutput();
        m_stderr += m_process.readAllStandardError();
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }

    quint16 port() const { return m_port; }
    bool running() const { return m_process.state() == QProcess::Running; }
    QString url() const { return QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_port); }
    QString output() const { return QString::fromUtf8(m_stdout + m_stderr); }

private:
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
    quint16 m_port = 0;
};
