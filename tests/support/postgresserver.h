#pragma once

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStringList>
#include <QTcpServer>
#include <QTemporaryDir>

#include <unistd.h>

#include <algorithm>

/// A private PostgreSQL server for tests and benchmarks: initdb into a temporary
/// directory, listening on 127.0.0.1 at a free port, never a system instance. Stopped
/// and its directory removed when destroyed. When run as root (CI), the server runs as
/// the `postgres` system user, since PostgreSQL refuses to run as root.
class PostgresServer
{
public:
    PostgresServer() = default;
    PostgresServer(const PostgresServer &) = delete;
    PostgresServer &operator=(const PostgresServer &) = delete;
    ~PostgresServer() { stop(); }

    /// initdb, start and create database `databaseName` owned by user "hex" (no
    /// password: trust on loopback). `durable` false turns fsync off (tests: faster; the
    /// tests kill our server, not PostgreSQL). False with the reason in errorString().
    [[nodiscard]] bool start(const QString &databaseName = QStringLiteral("hexsphere"),
                             bool durable = false)
    {
        m_bin = binDirectory();
        if (m_bin.isEmpty())
            return fail(QStringLiteral("No PostgreSQL server binaries under /usr/lib/postgresql "
                                       "(install the postgresql package)."));
        if (!m_dir.isValid())
            return fail(QStringLiteral("Cannot create a temporary directory."));
        m_data = m_dir.filePath(QStringLiteral("data"));
        if (::geteuid() == 0) {
            // The temporary directory must be the postgres user's to write into.
            if (!run(QStringLiteral("/bin/chown"),
                     {QStringLiteral("-R"), QStringLiteral("postgres:postgres"), m_dir.path()},
                     false))
                return false;
        }
        if (!run(m_bin + QStringLiteral("/initdb"),
                 {QStringLiteral("-D"), m_data, QStringLiteral("-U"), QStringLiteral("hex"),
                  QStringLiteral("-A"), QStringLiteral("trust"), QStringLiteral("-E"),
                  QStringLiteral("UTF8"), QStringLiteral("--no-sync"), QStringLiteral("--no-locale")}))
            return false;
        m_port = freePort();
        QStringList settings{QStringLiteral("-c listen_addresses=127.0.0.1"),
                             QStringLiteral("-c port=%1").arg(m_port),
                             QStringLiteral("-c unix_socket_directories=%1").arg(m_dir.path()),
                             QStringLiteral("-c max_connections=200")};
        if (!durable) {
            settings << QStringLiteral("-c fsync=off") << QStringLiteral("-c synchronous_commit=off")
                     << QStringLiteral("-c full_page_writes=off");
        }
        m_options = settings.join(QLatin1Char(' '));
        if (!startServer())
            return false;
        if (!run(m_bin + QStringLiteral("/createdb"),
                 {QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                  QString::number(m_port), QStringLiteral("-U"), QStringLiteral("hex"),
                  databaseName}))
            return false;
        m_database = databaseName;
        return true;
    }

    /// Starts the server again after stopServer(), on the same port and data.
    [[nodiscard]] bool startServer()
    {
        return run(m_bin + QStringLiteral("/pg_ctl"),
                   {QStringLiteral("-D"), m_data, QStringLiteral("-w"), QStringLiteral("-t"),
                    QStringLiteral("60"), QStringLiteral("-l"),
                    m_dir.filePath(QStringLiteral("server.log")), QStringLiteral("-o"), m_options,
                    QStringLiteral("start")});
    }

    /// Stops the server (fast shutdown: connections are cut), keeping its data, as a
    /// database that goes away would.
    [[nodiscard]] bool stopServer()
    {
        return run(m_bin + QStringLiteral("/pg_ctl"),
                   {QStringLiteral("-D"), m_data, QStringLiteral("-w"), QStringLiteral("-m"),
                    QStringLiteral("fast"), QStringLiteral("stop")});
    }

    /// Stops for good (idempotent).
    void stop()
    {
        if (m_port == 0)
            return;
        if (QFile::exists(m_data + QStringLiteral("/postmaster.pid")))
            (void)stopServer();
        m_port = 0;
    }

    int port() const { return m_port; }
    QString databaseName() const { return m_database; }
    /// postgresql://hex@127.0.0.1:PORT/DB, what --database takes.
    QString url(const QString &database = QString()) const
    {
        return QStringLiteral("postgresql://hex@127.0.0.1:%1/%2")
            .arg(m_port)
            .arg(database.isEmpty() ? m_database : database);
    }
    QString errorString() const { return m_error; }
    /// The server's own log, for failure messages.
    QString log() const
    {
        QFile file(m_dir.filePath(QStringLiteral("server.log")));
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
    }

    /// The newest /usr/lib/postgresql/N/bin holding initdb; empty if none.
    static QString binDirectory()
    {
        QDir root(QStringLiteral("/usr/lib/postgresql"));
        QStringList versions = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        std::sort(versions.begin(), versions.end(),
                  [](const QString &a, const QString &b) { return a.toInt() > b.toInt(); });
        for (const QString &version : versions) {
            const QString bin = root.filePath(version + QStringLiteral("/bin"));
            if (QFile::exists(bin + QStringLiteral("/initdb")))
                return bin;
        }
        return {};
    }

private:
    bool fail(const QString &why)
    {
        m_error = why;
        return false;
    }

    /// Runs `program` (as postgres when we are root and `asPostgres`), waiting up to
    /// two minutes; false with its output in errorString() unless it exits 0.
    bool run(const QString &program, const QStringList &arguments, bool asPostgres = true)
    {
        QProcess process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        if (asPostgres && ::geteuid() == 0) {
            process.setProgram(QStringLiteral("/usr/sbin/runuser"));
            process.setArguments(QStringList{QStringLiteral("-u"), QStringLiteral("postgres"),
                                             QStringLiteral("--"), program}
                                 + arguments);
        } else {
            process.setProgram(program);
            process.setArguments(arguments);
        }
        // Never pick up a caller's PG* settings.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const QString &key : env.keys()) {
            if (key.startsWith(QStringLiteral("PG")))
                env.remove(key);
        }
        process.setProcessEnvironment(env);
        process.setWorkingDirectory(m_dir.path());
        process.start();
        if (!process.waitForFinished(120'000)) {
            process.kill();
            process.waitForFinished();
            return fail(QStringLiteral("%1 did not finish: %2")
                            .arg(program, QString::fromUtf8(process.readAll())));
        }
        if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
            return fail(QStringLiteral("%1 failed (%2): %3 %4")
                            .arg(program)
                            .arg(process.exitCode())
                            .arg(QString::fromUtf8(process.readAll()), log()));
        }
        return true;
    }

    static int freePort()
    {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, 0))
            return 0;
        return probe.serverPort();
    }

    QTemporaryDir m_dir;
    QString m_bin;
    QString m_data;
    QString m_options;
    QString m_database;
    QString m_error;
    int m_port = 0;
};
