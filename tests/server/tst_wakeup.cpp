// Wake-ups between the server and a real hexsphere-worker process over a shared-memory
// segment: ping-pong for every method, layout refusal, segment clean-up, removeStale().
#include "compute/segment.h"
#include "compute/wakeup.h"
#include "compute/workerprocess.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTest>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace hex::server::compute;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(hex::server::compute::WakeMethod)

namespace {

/// QVERIFY2 evaluates its message even when the check passes: never call error() on a value.
template<typename T>
QString errorOf(const tl::expected<T, QString> &result)
{
    return result ? QString() : result.error();
}

QString workerBinary()
{
    return QStringLiteral(HEX_BIN_DIR "/hexsphere-worker");
}

QString shmPath(const QString &name)
{
    return QStringLiteral("/dev/shm/") + name;
}

/// Our own leftovers in /dev/shm, by this process's pid.
QStringList ourSegments()
{
    return QDir(QStringLiteral("/dev/shm"))
        .entryList({QStringLiteral("hexsphere-%1-*").arg(::getpid())}, QDir::Files | QDir::System);
}

/// A shared-memory object with a name of the scheme, created by hand (not by Segment).
bool createRawSegment(const QString &name)
{
    const QByteArray path = (QLatin1Char('/') + name).toLocal8Bit();
    const int fd = ::shm_open(path.constData(), O_CREAT | O_RDWR, 0600);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
}

/// The pid of a child that has exited and been reaped: a pid no process has right now
/// (until the kernel reuses it, which takes a full pid cycle).
pid_t deadPid()
{
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    if (child > 0)
        ::waitpid(child, nullptr, 0);
    return child;
}

} // namespace

class tst_Wakeup : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void waitReportsTimeout_data();
    void waitReportsTimeout();
    void pingPongWithRealWorker_data();
    void pingPongWithRealWorker();
    void workerRefusesBadSegment_data();
    void workerRefusesBadSegment();
    void attachRefusesWrongLayoutInProcess();
    void creatorRemovesSegment();
    void removeStaleKeepsLiveInstances();
    void bestMethodIsUsable();
    void cleanupTestCase();
};

void tst_Wakeup::initTestCase()
{
    QVERIFY2(QFile::exists(workerBinary()), qPrintable(workerBinary()));
}

void tst_Wakeup::waitReportsTimeout_data()
{
    QTest::addColumn<WakeMethod>("method");
    QTest::newRow("futex wait with nobody to wake it") << WakeMethod::Futex;
    QTest::newRow("eventfd wait with nobody to wake it") << WakeMethod::EventFd;
    QTest::newRow("signal wait with nobody to wake it") << WakeMethod::Signal;
}

void tst_Wakeup::waitReportsTimeout()
{
    QFETCH(WakeMethod, method);
    auto segment = Segment::create();
    QVERIFY2(segment, qPrintable(errorOf(segment)));
    auto waker = Waker::create(method, WakeSide::Server, segment->slot(0));
    QVERIFY2(waker, qPrintable(errorOf(waker)));
    QElapsedTimer timer;
    timer.start();
    QCOMPARE((*waker)->wait(50ms), WaitResult::TimedOut);
    QVERIFY(timer.elapsed() >= 45);

    // A wake-up sent while nobody waits is kept: a Worker-side waker on the same slot
    // sees it. (Signal needs a registered peer thread: this thread plays both sides.)
    WakerOptions workerOptions;
    if (method == WakeMethod::EventFd) {
        // The worker side owns and closes its descriptors: give it copies, as a child
        // process would have.
        workerOptions.eventFdIn = ::dup((*waker)->peerEventFds().first);
        workerOptions.eventFdOut = ::dup((*waker)->peerEventFds().second);
    }
    auto worker = Waker::create(method, WakeSide::Worker, segment->slot(0), workerOptions);
    QVERIFY2(worker, qPrintable(errorOf(worker)));
    QVERIFY2((*waker)->notify(), qPrintable((*waker)->errorString()));
    QCOMPARE((*worker)->wait(5s), WaitResult::Woken);
    QCOMPARE((*worker)->wait(20ms), WaitResult::TimedOut); // consumed exactly once
}

void tst_Wakeup::pingPongWithRealWorker_data()
{
    QTest::addColumn<WakeMethod>("method");
    QTest::addColumn<int>("spinUs");
    QTest::newRow("futex") << WakeMethod::Futex << 20;
    QTest::newRow("futex without spinning") << WakeMethod::Futex << 0;
    QTest::newRow("eventfd") << WakeMethod::EventFd << 0;
    QTest::newRow("signal") << WakeMethod::Signal << 0;
}

void tst_Wakeup::pingPongWithRealWorker()
{
    QFETCH(WakeMethod, method);
    QFETCH(int, spinUs);
    constexpr int kRounds = 1000;

    auto segment = Segment::create();
    QVERIFY2(segment, qPrintable(errorOf(segment)));
    const int slotIndex = 3;
    WorkerProcess worker(*segment, slotIndex);
    WakerOptions options;
    options.spin = std::chrono::microseconds(spinUs);
    QVERIFY2(worker.start(workerBinary(), method, options, 30s), qPrintable(worker.errorString()));
    WorkerSlot &slot = segment->slot(slotIndex);
    QCOMPARE(slot.workerPid.load(), static_cast<std::int32_t>(worker.processId()));
    if (method == WakeMethod::EventFd) {
        // Only the worker gets the descriptors; other children of ours must not.
        const auto [in, out] = worker.waker().peerEventFds();
        QVERIFY(in >= 0 && out >= 0);
        QVERIFY(::fcntl(in, F_GETFD) & FD_CLOEXEC);
        QVERIFY(::fcntl(out, F_GETFD) & FD_CLOEXEC);
    }

    for (int i = 1; i <= kRounds; ++i) {
        QVERIFY2(worker.waker().notify(), qPrintable(worker.waker().errorString()));
        const WaitResult result = worker.waker().wait(20s);
        if (result != WaitResult::Woken)
            QFAIL(qPrintable(QStringLiteral("round %1 of %2: %3 %4")
                                 .arg(i)
                                 .arg(kRounds)
                                 .arg(result == WaitResult::TimedOut ? "timed out" : "failed",
                                      worker.waker().errorString())));
        QCOMPARE(slot.echo.load(), static_cast<std::uint32_t>(i));
        QCOMPARE(slot.toServer.load(), static_cast<std::uint32_t>(i));
    }
    QCOMPARE(slot.heartbeat.load(), static_cast<std::uint64_t>(kRounds));

    QVERIFY2(worker.stop(30s), qPrintable(worker.errorString()));
    QCOMPARE(worker.exitCode(), 0);
    QCOMPARE(slot.state.load(), static_cast<std::uint32_t>(SlotState::Stopped));
    QVERIFY2(worker.standardError().isEmpty(), qPrintable(worker.standardError()));
}

void tst_Wakeup::workerRefusesBadSegment_data()
{
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QStringList>("expectedInMessage");
    QTest::newRow("wrong layout version")
        << QStringLiteral("version")
        << QStringList{QStringLiteral("layout version %1").arg(kLayoutVersion + 41),
                       QStringLiteral("layout version %1").arg(kLayoutVersion)};
    QTest::newRow("wrong magic") << QStringLiteral("magic")
                                 << QStringList{QStringLiteral("not a Hexsphere compute segment")};
    QTest::newRow("no such segment") << QStringLiteral("missing")
                                     << QStringList{QStringLiteral("cannot open shared-memory "
                                                                   "segment")};
}

void tst_Wakeup::workerRefusesBadSegment()
{
    QFETCH(QString, damage);
    QFETCH(QStringList, expectedInMessage);
    auto segment = Segment::create();
    QVERIFY2(segment, qPrintable(errorOf(segment)));
    QString name = segment->name();
    if (damage == QLatin1String("version"))
        segment->control()->layoutVersion = kLayoutVersion + 41;
    else if (damage == QLatin1String("magic"))
        segment->control()->magic = 0x1234;
    else
        name = QStringLiteral("hexsphere-%1-999999").arg(::getpid());

    WorkerProcess worker(*segment, 0);
    worker.startRaw(workerBinary(),
                    {QStringLiteral("--ping"), name, QStringLiteral("--slot"), QStringLiteral("0"),
                     QStringLiteral("--wakeup"), QStringLiteral("futex")});
    QVERIFY2(worker.waitForExit(30s), "the worker did not exit on a bad segment");
    QVERIFY2(worker.exitCode() != 0, qPrintable(worker.standardError()));
    QCOMPARE(worker.exitCode(), 2);
    for (const QString &expected : expectedInMessage)
        QVERIFY2(worker.standardError().contains(expected), qPrintable(worker.standardError()));
    QVERIFY(worker.standardError().startsWith(QLatin1String("hexsphere-worker: ")));
    // Nothing was touched: the slot is still empty.
    QCOMPARE(segment->slot(0).state.load(), static_cast<std::uint32_t>(SlotState::Empty));
}

void tst_Wakeup::attachRefusesWrongLayoutInProcess()
{
    auto segment = Segment::create();
    QVERIFY2(segment, qPrintable(errorOf(segment)));
    const std::uint32_t other = kLayoutVersion + 1;
    segment->control()->layoutVersion = other;
    const auto attached = Segment::attach(segment->name());
    QVERIFY(!attached);
    QVERIFY2(attached.error().contains(QStringLiteral("layout version %1").arg(other)),
             qPrintable(errorOf(attached)));
    QVERIFY2(attached.error().contains(QStringLiteral("layout version %1").arg(kLayoutVersion)),
             qPrintable(errorOf(attached)));

    const auto badName = Segment::attach(QStringLiteral("../etc/passwd"));
    QVERIFY(!badName);
    QVERIFY2(badName.error().contains(QLatin1String("invalid shared-memory segment name")),
             qPrintable(errorOf(badName)));
}

void tst_Wakeup::creatorRemovesSegment()
{
    QString name;
    {
        auto segment = Segment::create(4096);
        QVERIFY2(segment, qPrintable(errorOf(segment)));
        name = segment->name();
        QVERIFY(name.startsWith(QStringLiteral("hexsphere-%1-").arg(::getpid())));
        QVERIFY(QFile::exists(shmPath(name)));
        {
            auto attached = Segment::attach(QLatin1Char('/') + name);
            QVERIFY2(attached, qPrintable(errorOf(attached)));
            QVERIFY(!attached->isOwner());
            QCOMPARE(attached->size(), segment->size());
            attached->slot(5).heartbeat.store(77);
        }
        // An attached Segment going away leaves the segment in place.
        QVERIFY(QFile::exists(shmPath(name)));
        QCOMPARE(segment->slot(5).heartbeat.load(), std::uint64_t(77));
        Segment moved = std::move(*segment);
        QVERIFY(moved.isOwner());
        // Assigning over an owning Segment removes the one it held.
        auto other = Segment::create();
        QVERIFY2(other, qPrintable(errorOf(other)));
        const QString otherName = other->name();
        moved = std::move(*other);
        QVERIFY(!QFile::exists(shmPath(name)));
        QVERIFY(QFile::exists(shmPath(otherName)));
        QCOMPARE(moved.name(), otherName);
        name = otherName;
    }
    QVERIFY(!QFile::exists(shmPath(name)));
}

void tst_Wakeup::removeStaleKeepsLiveInstances()
{
    const pid_t dead = deadPid();
    QVERIFY(dead > 0);
    QProcess sleeper;
    sleeper.start(QStringLiteral("sleep"), {QStringLiteral("120")});
    QVERIFY(sleeper.waitForStarted());
    const qint64 alive = sleeper.processId();

    const QString deadName = QStringLiteral("hexsphere-%1-0").arg(dead);
    const QString aliveName = QStringLiteral("hexsphere-%1-0").arg(alive);
    const QString otherScheme = QStringLiteral("hexsphere-%1-notanumber").arg(dead);
    QVERIFY(createRawSegment(deadName));
    QVERIFY(createRawSegment(aliveName));
    QVERIFY(createRawSegment(otherScheme));
    auto ours = Segment::create();
    QVERIFY2(ours, qPrintable(errorOf(ours)));

    const QStringList removed = Segment::removeStale();
    QVERIFY2(removed.contains(deadName), qPrintable(removed.join(QLatin1Char(' '))));
    QVERIFY(!removed.contains(aliveName));
    QVERIFY(!removed.contains(ours->name()));
    QVERIFY(!QFile::exists(shmPath(deadName)));
    QVERIFY(QFile::exists(shmPath(aliveName)));
    QVERIFY(QFile::exists(shmPath(ours->name())));
    QVERIFY2(QFile::exists(shmPath(otherScheme)), "a name outside the scheme was removed");

    // Once the live process is gone, its segment is stale too.
    sleeper.kill();
    QVERIFY(sleeper.waitForFinished());
    const QStringList removedLater = Segment::removeStale();
    QVERIFY(removedLater.contains(aliveName));
    QVERIFY(!QFile::exists(shmPath(aliveName)));

    ::shm_unlink((QLatin1Char('/') + otherScheme).toLocal8Bit().constData());
}

void tst_Wakeup::bestMethodIsUsable()
{
    const WakeMethod best = Waker::best();
    // Every Linux kernel we run on has futexes; best() must find them.
    QCOMPARE(wakeMethodName(best), QStringLiteral("futex"));
    QCOMPARE(parseWakeMethod(QStringLiteral("eventfd")), std::optional(WakeMethod::EventFd));
    QCOMPARE(parseWakeMethod(QStringLiteral("signal")), std::optional(WakeMethod::Signal));
    QCOMPARE(parseWakeMethod(QStringLiteral("pigeon")), std::nullopt);
}

void tst_Wakeup::cleanupTestCase()
{
    const QStringList left = ourSegments();
    QVERIFY2(left.isEmpty(), qPrintable(left.join(QLatin1Char(' '))));
}

QTEST_GUILESS_MAIN(tst_Wakeup)
#include "tst_wakeup.moc"
