// The dedicated server with compute workers, as a host runs it: hexsphere-server
// --workers N starts real hexsphere-worker processes, reports them in GET /api/v1/status,
// replaces one killed with kill -9 while ticks go on, cleans up on a clean stop, and after
// its own kill -9 its workers leave and the next server removes the stale segment.
#include "httpclient.h"
#include "serverprocess.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cerrno>
#include <functional>
#include <optional>
#include <signal.h>

using namespace hex::tests;

namespace {

/// GET /api/v1/status as JSON; nullopt when the server does not answer 200.
std::optional<QJsonObject> status(quint16 port)
{
    HttpConnection http(port);
    const HttpResponse r = http.request("GET", "/api/v1/status", {}, {}, 10'000);
    if (r.status != 200)
        return std::nullopt;
    return QJsonDocument::fromJson(r.body).object();
}

/// Polls the status every 50 ms until `done` says yes, for up to `timeoutMs`. Returns the
/// last status seen.
QJsonObject waitForStatus(quint16 port, const std::function<bool(const QJsonObject &)> &done,
                          int timeoutMs = 15'000)
{
    QElapsedTimer timer;
    timer.start();
    QJsonObject last;
    while (timer.elapsed() < timeoutMs) {
        if (const auto s = status(port)) {
            last = *s;
            if (done(last))
                return last;
        }
        QTest::qWait(50);
    }
    return last;
}

qint64 tickOf(const QJsonObject &s)
{
    return qint64(s.value(QStringLiteral("tick")).toDouble());
}

qint64 pidAt(const QJsonObject &compute, int slot)
{
    return qint64(compute.value(QStringLiteral("pids")).toArray().at(slot).toDouble());
}

/// The process `pid` exists and runs hexsphere-worker in step mode (not a zombie).
bool isStepWorker(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (pid <= 0 || !stat.open(QIODevice::ReadOnly))
        return false;
    const QByteArray line = stat.readAll();
    const qsizetype close = line.lastIndexOf(')');
    if (close < 0 || close + 2 >= line.size() || line.at(close + 2) == 'Z')
        return false;
    QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
    if (!cmdline.open(QIODevice::ReadOnly))
        return false;
    const QList<QByteArray> args = cmdline.readAll().split('\0');
    return !args.isEmpty() && args.first().endsWith("hexsphere-worker") && args.contains("--step");
}

bool gone(qint64 pid, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (!isStepWorker(pid))
            return true;
        QTest::qWait(20);
    }
    return false;
}

bool segmentExists(const QString &name)
{
    return !name.isEmpty() && QFile::exists(QStringLiteral("/dev/shm/") + name);
}

QString describe(const QJsonObject &s)
{
    return QString::fromUtf8(QJsonDocument(s).toJson(QJsonDocument::Compact));
}

} // namespace

class tst_ServerWorkers : public QObject
{
    Q_OBJECT

private slots:
    void stepsOnWorkersAndReplacesAKilledOne_data();
    void stepsOnWorkersAndReplacesAKilledOne();
    void noWorkersNoComputeStatus();
    void killedServerLeavesNothingRunning();
    void badOptionsAreRefused_data();
    void badOptionsAreRefused();
};

void tst_ServerWorkers::stepsOnWorkersAndReplacesAKilledOne_data()
{
    QTest::addColumn<QString>("wakeup");
    QTest::newRow("futex") << QStringLiteral("futex");
    QTest::newRow("eventfd") << QStringLiteral("eventfd");
    QTest::newRow("signal") << QStringLiteral("signal");
}

void tst_ServerWorkers::stepsOnWorkersAndReplacesAKilledOne()
{
    QFETCH(QString, wakeup);
    ServerProcess server;
    QVERIFY2(server.start({"--size", "32", "--workers", "2", "--wakeup", wakeup}),
             qPrintable(server.output()));

    // Both workers attached and stepping: jobs grow with the ticks, none taken over.
    QJsonObject s = waitForStatus(server.port(), [](const QJsonObject &s) {
        const QJsonObject c = s.value(QStringLiteral("compute")).toObject();
        return c.value(QStringLiteral("running")).toInt() == 2
               && c.value(QStringLiteral("jobs")).toDouble() >= 40 && tickOf(s) > 10;
    });
    QJsonObject compute = s.value(QStringLiteral("compute")).toObject();
    QVERIFY2(compute.value(QStringLiteral("running")).toInt() == 2, qPrintable(describe(s)));
    QCOMPARE(compute.value(QStringLiteral("workers")).toInt(), 2);
    QCOMPARE(compute.value(QStringLiteral("takenOver")).toDouble(), 0.0);
    // The parts go to whichever worker is free: both took some.
    QCOMPARE(compute.value(QStringLiteral("parts")).toInt(), 8);
    const QJsonArray partsRun = compute.value(QStringLiteral("partsRun")).toArray();
    QVERIFY2(partsRun.size() == 2 && partsRun.at(0).toDouble() > 0 && partsRun.at(1).toDouble() > 0,
             qPrintable(describe(s)));
    const QString segment = compute.value(QStringLiteral("segment")).toString();
    QVERIFY2(segmentExists(segment), qPrintable(segment));
    const qint64 first = pidAt(compute, 0);
    QVERIFY2(isStepWorker(first) && isStepWorker(pidAt(compute, 1)), qPrintable(describe(s)));

    // kill -9 one: the server notices, computes its part, starts another; ticks go on.
    QCOMPARE(::kill(pid_t(first), SIGKILL), 0);
    const qint64 tickAtKill = tickOf(s);
    s = waitForStatus(server.port(), [first](const QJsonObject &s) {
        const QJsonObject c = s.value(QStringLiteral("compute")).toObject();
        return c.value(QStringLiteral("crashes")).toDouble() >= 1
               && c.value(QStringLiteral("running")).toInt() == 2 && pidAt(c, 0) != first
               && pidAt(c, 0) > 0;
    });
    compute = s.value(QStringLiteral("compute")).toObject();
    QVERIFY2(compute.value(QStringLiteral("crashes")).toDouble() >= 1
                 && compute.value(QStringLiteral("restarts")).toDouble() >= 1
                 && compute.value(QStringLiteral("takenOver")).toDouble() >= 1
                 && compute.value(QStringLiteral("running")).toInt() == 2,
             qPrintable(describe(s)));
    QVERIFY2(isStepWorker(pidAt(compute, 0)), qPrintable(describe(s)));
    QVERIFY(tickOf(s) > tickAtKill);
    QVERIFY2(server.running(), qPrintable(server.output()));
    const qint64 replacement = pidAt(compute, 0);
    const qint64 second = pidAt(compute, 1);

    // A clean stop takes the workers and the segment along.
    QCOMPARE(server.stop(), 0);
    QVERIFY(gone(replacement, 5000));
    QVERIFY(gone(second, 5000));
    QVERIFY2(!segmentExists(segment), qPrintable(segment));
    QVERIFY2(server.output().contains(QStringLiteral("attached")), qPrintable(server.output()));
}

void tst_ServerWorkers::noWorkersNoComputeStatus()
{
    ServerProcess server;
    QVERIFY2(server.start({"--size", "32", "--workers", "0"}), qPrintable(server.output()));
    const QJsonObject s
        = waitForStatus(server.port(), [](const QJsonObject &s) { return tickOf(s) > 2; });
    QVERIFY2(tickOf(s) > 2, qPrintable(describe(s)));
    QVERIFY2(!s.contains(QStringLiteral("compute")), qPrintable(describe(s)));
    QCOMPARE(server.stop(), 0);
}

void tst_ServerWorkers::killedServerLeavesNothingRunning()
{
    QString segment;
    qint64 pids[2] = {0, 0};
    {
        ServerProcess server;
        QVERIFY2(server.start({"--size", "32", "--workers", "2"}), qPrintable(server.output()));
        const QJsonObject s = waitForStatus(server.port(), [](const QJsonObject &s) {
            return s.value(QStringLiteral("compute")).toObject().value(QStringLiteral("running")).toInt()
                   == 2;
        });
        const QJsonObject compute = s.value(QStringLiteral("compute")).toObject();
        segment = compute.value(QStringLiteral("segment")).toString();
        pids[0] = pidAt(compute, 0);
        pids[1] = pidAt(compute, 1);
        QVERIFY2(isStepWorker(pids[0]) && isStepWorker(pids[1]), qPrintable(describe(s)));
        server.kill();
    }
    // The workers see their server gone within about a second and leave; the segment
    // stays behind, as after a power cut.
    QVERIFY(gone(pids[0], 5000));
    QVERIFY(gone(pids[1], 5000));
    QVERIFY2(segmentExists(segment), qPrintable(segment));

    // The next server removes it (its creator is dead) and runs normally.
    ServerProcess next;
    QVERIFY2(next.start({"--size", "32", "--workers", "1"}), qPrintable(next.output()));
    QVERIFY2(!segmentExists(segment), qPrintable(segment));
    const QJsonObject s = waitForStatus(next.port(), [](const QJsonObject &s) {
        return s.value(QStringLiteral("compute")).toObject().value(QStringLiteral("running")).toInt()
               == 1;
    });
    QVERIFY2(s.value(QStringLiteral("compute")).toObject().value(QStringLiteral("running")).toInt()
                 == 1,
             qPrintable(describe(s)));
    QCOMPARE(next.stop(), 0);
    QVERIFY2(next.output().contains(QStringLiteral("removed the stale segment ") + segment),
             qPrintable(next.output()));
}

void tst_ServerWorkers::badOptionsAreRefused_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("named");
    QTest::newRow("too many workers") << QStringList{"--workers", "17"} << QStringLiteral("--workers");
    QTest::newRow("workers not a number") << QStringList{"--workers", "many"} << QStringLiteral("--workers");
    QTest::newRow("unknown wake-up") << QStringList{"--wakeup", "pigeon"} << QStringLiteral("--wakeup");
    QTest::newRow("deadline too short") << QStringList{"--worker-deadline", "1"}
                                        << QStringLiteral("--worker-deadline");
}

void tst_ServerWorkers::badOptionsAreRefused()
{
    QFETCH(QStringList, args);
    QFETCH(QString, named);
    QProcess process;
    process.start(QStringLiteral(HEX_BIN_DIR "/hexsphere-server"),
                  args + QStringList{"--database", "none", "--port", "0"});
    QVERIFY(process.waitForFinished(10'000));
    QCOMPARE(process.exitCode(), 2);
    const QString err = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(err.contains(named) && err.contains(args.last()), qPrintable(err));
}

QTEST_GUILESS_MAIN(tst_ServerWorkers)
#include "tst_serverworkers.moc"
