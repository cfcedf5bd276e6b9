// The world's automaton stepped by real hexsphere-worker processes through a ComputeGroup
// (issue 7): bit-identical to the in-process step, kill -9 and SIGSTOP under load for every
// wake-up method, slots given up after repeated failures, clean fall-back when no worker
// starts, workers refusing a world they cannot serve, and no segment left in /dev/shm.
#include "compute/computegroup.h"
#include "compute/segment.h"
#include "compute/wakeup.h"
#include "compute/workerprocess.h"

#include "geometry/hexsphere.h"
#include "scriptedworld.h"

#include "sim/content.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QScopeGuard>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <signal.h>
#include <unistd.h>

using namespace hex;
using namespace hex::server::compute;
using namespace hex::sim;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(hex::server::compute::WakeMethod)

namespace {

constexpr std::uint64_t kSeed = 20261121;
/// Players in every world here, each building one polluting factory, so that actions,
/// machines and pollution all change the world during the runs.
constexpr int kPlayers = 12;

/// QVERIFY2 evaluates its message even when the check passes: never call error() on a value.
template<typename T>
QString errorOf(const tl::expected<T, QString> &result)
{
    return result ? QString() : result.error();
}

/// The hexsphere-worker built with this test (tests and programs live in different folders,
/// so ComputeGroup::defaultProgram() does not find it from here).
QString workerBinary()
{
    return QStringLiteral(HEX_BIN_DIR "/hexsphere-worker");
}

/// Our own segments in /dev/shm, by this process's pid.
QStringList ourSegments()
{
    return QDir(QStringLiteral("/dev/shm"))
        .entryList({QStringLiteral("hexsphere-%1-*").arg(::getpid())}, QDir::Files | QDir::System);
}

/// Our children that are hexsphere-worker processes (zombies included: not reaped yet).
QStringList ourWorkers()
{
    QStringList found;
    const QString self = QString::number(::getpid());
    for (const QString &pid : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        const QString line = QString::fromLocal8Bit(stat.readAll());
        const qsizetype close = line.lastIndexOf(QLatin1Char(')'));
        const qsizetype open = line.indexOf(QLatin1Char('('));
        if (open < 0 || close < open)
            continue;
        const QString comm = line.mid(open + 1, close - open - 1);
        const QStringList rest = line.mid(close + 2).split(QLatin1Char(' '));
        if (rest.size() > 1 && rest[1] == self && comm.startsWith(QLatin1String("hexsphere-work")))
            found << pid + QLatin1Char(' ') + rest[0];
    }
    return found;
}

/// The shipped content: the only one a worker serves.
std::shared_ptr<const Content> shippedContent()
{
    static const std::shared_ptr<const Content> content = [] {
        auto loaded = loadDefaultContent();
        if (!loaded) {
            qWarning("content: %s", qPrintable(loaded.error()));
            return std::shared_ptr<const Content>();
        }
        return std::make_shared<const Content>(std::move(*loaded));
    }();
    return content;
}

std::shared_ptr<const geometry::HexSphere> sphereOf(int subdivisions)
{
    static std::map<int, std::shared_ptr<const geometry::HexSphere>> spheres;
    auto &sphere = spheres[subdivisions];
    if (!sphere)
        sphere = std::make_shared<const geometry::HexSphere>(subdivisions);
    return sphere;
}

// Land, lattice slots and five-cell lines on deposits, as the persistence tests find them.
using hex::test::findLine;
using hex::test::slotOf;

/// Actions by tick for a run of `ticks` ticks: every player claims a line and builds an
/// extractor → conveyor → conveyor → furnace → chest factory on iron (a polluting one, so
/// the automaton has machines' pollution to spread), fight over a cell, and later take
/// plates, turn a conveyor away and back and remove it.
struct Script
{
    std::map<std::uint64_t, std::vector<Action>> byTick;

    void queue(World &world) const
    {
        const auto it = byTick.find(world.state().tick);
        if (it == byTick.end())
            return;
        for (const Action &a : it->second)
            world.queueAction(a);
    }
};

Script makeScript(const WorldState &s, const Content &content, std::uint64_t ticks)
{
    Script script;
    ResourceId iron = 0;
    PrototypeId extractor = 0, conveyor = 0, furnace = 0, chest = 0;
    RecipeId plate = kNoRecipe;
    ItemId plateItem = 0;
    content.findResource(QStringLiteral("iron"), &iron);
    content.findPrototype(QStringLiteral("extractor"), &extractor);
    content.findPrototype(QStringLiteral("conveyor"), &conveyor);
    content.findPrototype(QStringLiteral("furnace"), &furnace);
    content.findPrototype(QStringLiteral("chest"), &chest);
    content.findRecipe(QStringLiteral("iron_plate"), &plate);
    content.findItem(QStringLiteral("iron_plate"), &plateItem);
    const geometry::HexSphere &sphere = *s.sphere;
    std::set<CellId> taken;
    for (PlayerId player = 0; player < s.players.size(); ++player) {
        const auto line = findLine(s, iron, taken);
        if (!line)
            break;
        const std::vector<CellId> &l = *line;
        for (CellId c : l) {
            taken.insert(c);
            for (CellId n : sphere.neighbours(c))
                taken.insert(n);
        }
        const std::uint64_t start = 2 + player * 3;
        auto action = [&](ActionKind kind, CellId cell) {
            Action a;
            a.kind = kind;
            a.player = player;
            a.cell = cell;
            a.clientSeq = std::uint32_t(script.byTick.size() * 100 + cell % 100);
            return a;
        };
        for (CellId c : l)
            script.byTick[start].push_back(action(ActionKind::Claim, c));
        const PrototypeId kinds[5] = {extractor, conveyor, conveyor, furnace, chest};
        for (int i = 0; i < 5; ++i) {
            Action build = action(ActionKind::Build, l[std::size_t(i)]);
            build.prototype = kinds[i];
            build.orientation
                = i < 4 ? std::uint8_t(slotOf(sphere, l[std::size_t(i)], l[std::size_t(i) + 1]))
                        : 0;
            script.byTick[start + 1].push_back(build);
        }
        Action recipe = action(ActionKind::SetRecipe, l[3]);
        recipe.recipe = plate;
        script.byTick[start + 2].push_back(recipe);
        Action steal = action(ActionKind::Claim, l[0]);
        steal.player = PlayerId((player + 1) % s.players.size());
        script.byTick[start].push_back(steal);
        Action take = action(ActionKind::TakeItems, l[4]);
        take.items = ItemStack{plateItem, 1};
        script.byTick[ticks * 6 / 10 + player].push_back(take);
        Action rotate = action(ActionKind::Rotate, l[1]);
        rotate.orientation = std::uint8_t((slotOf(sphere, l[1], l[2]) + 1) % 6);
        script.byTick[ticks * 7 / 10].push_back(rotate);
        rotate.orientation = std::uint8_t(slotOf(sphere, l[1], l[2]));
        script.byTick[ticks * 72 / 100].push_back(rotate);
        script.byTick[ticks * 9 / 10].push_back(action(ActionKind::Remove, l[2]));
    }
    return script;
}

/// A generated world of the shipped content with two players, as every test here starts.
std::unique_ptr<World> newWorld(int subdivisions, int threads = 1)
{
    auto world = std::make_unique<World>(sphereOf(subdivisions), shippedContent(), kSeed, threads);
    for (int i = 0; i < kPlayers; ++i)
        world->addPlayer(QStringLiteral("Player %1").arg(i + 1));
    return world;
}

/// What one step produced that must not depend on who stepped the automaton.
struct TickRecord
{
    std::uint64_t tick = 0;
    std::uint64_t hash = 0;
    std::vector<ActionResult> actions;
    ChunkDeltas deltas;
};

TickRecord recordOf(const StepResult &result)
{
    return {result.tick, result.stateHash, result.actions, result.deltas};
}

/// Empty when both runs match tick by tick; otherwise the first difference, readably.
QString firstDifference(const std::vector<TickRecord> &expected,
                        const std::vector<TickRecord> &actual)
{
    if (actual.size() != expected.size())
        return QStringLiteral("%1 ticks recorded, %2 expected")
            .arg(actual.size())
            .arg(expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const TickRecord &e = expected[i];
        const TickRecord &a = actual[i];
        if (a.tick != e.tick)
            return QStringLiteral("step %1: tick %2, expected %3").arg(i).arg(a.tick).arg(e.tick);
        if (a.hash != e.hash)
            return QStringLiteral("tick %1: state hash %2, expected %3")
                .arg(e.tick)
                .arg(a.hash, 16, 16, QLatin1Char('0'))
                .arg(e.hash, 16, 16, QLatin1Char('0'));
        if (a.actions != e.actions)
            return QStringLiteral("tick %1: the action results differ").arg(e.tick);
        if (a.deltas.size() != e.deltas.size())
            return QStringLiteral("tick %1: %2 changed chunks, expected %3")
                .arg(e.tick)
                .arg(a.deltas.size())
                .arg(e.deltas.size());
        for (std::size_t k = 0; k < e.deltas.size(); ++k) {
            if (!(a.deltas[k] == e.deltas[k]))
                return QStringLiteral("tick %1: delta of chunk %2 differs (%3 cells, expected %4 "
                                      "in chunk %5)")
                    .arg(e.tick)
                    .arg(a.deltas[k].chunk)
                    .arg(a.deltas[k].cells.size())
                    .arg(e.deltas[k].cells.size())
                    .arg(e.deltas[k].chunk);
        }
    }
    return {};
}

/// Steps `world` by one tick with the script's actions.
TickRecord stepWith(World &world, const Script &script)
{
    script.queue(world);
    return recordOf(world.step());
}

/// Options for `workers` workers of the test's build, waking them with `method`.
ComputeOptions optionsFor(int workers, WakeMethod method)
{
    ComputeOptions options;
    options.workers = workers;
    options.method = method;
    options.program = workerBinary();
    options.startTimeout = 30s;
    return options;
}

/// True while `pid` exists, a zombie included.
bool processExists(qint64 pid)
{
    return pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
}

/// Waits (up to a second) until the kernel reports process `pid` in `state`, the
/// third field of /proc/<pid>/stat ('T': stopped by a signal).
bool waitForProcessState(pid_t pid, char state)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 1000) {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!stat.open(QIODevice::ReadOnly))
            return false;
        const QByteArray line = stat.readAll();
        // "pid (comm) state ...": the command may hold spaces and parentheses.
        const qsizetype close = line.lastIndexOf(')');
        if (close >= 0 && close + 2 < line.size() && line.at(close + 2) == state)
            return true;
        QThread::usleep(50);
    }
    return false;
}

/// Every figure of `s`, for failure messages and the timings printed.
/// Parts' phases run by the workers and by the server together.
std::uint64_t partsAccounted(const ComputeStats &s)
{
    std::uint64_t sum = s.takenOver;
    for (const std::uint64_t n : s.partsRun)
        sum += n;
    return sum;
}

QString describe(const ComputeStats &s)
{
    QStringList perSlot;
    for (const std::uint64_t n : s.partsRun)
        perSlot << QString::number(n);
    return QStringLiteral("workers %1 (parts run %11 in %12 parts), running %2, jobs %3, "
                          "crashes %4, missed deadlines %5, taken over %6, restarts %7, bytes "
                          "copied %8, given up [%9], last error \"%10\"")
        .arg(s.workers)
        .arg(s.running)
        .arg(s.jobs)
        .arg(s.crashes)
        .arg(s.missedDeadlines)
        .arg(s.takenOver)
        .arg(s.restarts)
        .arg(s.bytesCopied)
        .arg(s.givenUp.join(QStringLiteral("; ")), s.lastError, perSlot.join(QLatin1Char('/')))
        .arg(s.parts);
}

/// Steps `world` and `reference` together until the group reports every slot running, or
/// `timeout` passes; sleeps a little between ticks so that restarts can happen. Returns the
/// first hash difference, if any.
QString stepUntilAllRunning(World &world, World &reference, const Script &script,
                            const ComputeGroup &group, std::chrono::milliseconds timeout)
{
    QElapsedTimer timer;
    timer.start();
    while (group.stats().running < group.stats().workers && timer.elapsed() < timeout.count()) {
        const TickRecord a = stepWith(world, script);
        const TickRecord e = stepWith(reference, script);
        if (a.hash != e.hash)
            return QStringLiteral("tick %1: hash differs after the run").arg(e.tick);
        QThread::msleep(2);
    }
    return {};
}

/// When killedWorkersAreReplaced() kills a worker.
enum class KillTiming {
    BetweenTicks, ///< from the test's thread, while the worker waits for the next job
    DuringStep,   ///< from another thread, a random moment after the step began
};

/// Sends SIGKILL (or another signal) to a process after a delay, from a thread of its
/// own, so that it can land in the middle of a step the test's thread is running.
class DelayedKiller
{
public:
    DelayedKiller()
        : m_thread([this] { run(); })
    {}
    ~DelayedKiller()
    {
        {
            std::lock_guard lock(m_mutex);
            m_quit = true;
        }
        m_wake.notify_one();
        m_thread.join();
    }
    /// Queues a SIGKILL to `pid`, sent `delay` after the signals queued before it.
    void killAfter(pid_t pid, std::chrono::microseconds delay)
    {
        signalAfter(pid, SIGKILL, delay);
    }
    /// Queues `signal` to `pid`, sent `delay` after the signals queued before it.
    void signalAfter(pid_t pid, int signal, std::chrono::microseconds delay)
    {
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back({pid, signal, delay});
        }
        m_wake.notify_one();
    }
    /// Signals whose kill() call failed (the process was already gone).
    int failed() const { return m_failed.load(); }
    /// Kills sent so far.
    int sent() const { return m_sent.load(); }

private:
    void run()
    {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_wake.wait(lock, [this] { return m_quit || !m_queue.empty(); });
            if (m_queue.empty())
                return;
            const auto [pid, signal, delay] = m_queue.front();
            m_queue.pop_front();
            lock.unlock();
            std::this_thread::sleep_for(delay);
            if (::kill(pid, signal) != 0)
                ++m_failed;
            ++m_sent;
            lock.lock();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    struct Queued
    {
        pid_t pid;
        int signal;
        std::chrono::microseconds delay;
    };
    std::deque<Queued> m_queue;
    bool m_quit = false;
    std::atomic<int> m_failed{0};
    std::atomic<int> m_sent{0};
    std::thread m_thread;
};

} // namespace

Q_DECLARE_METATYPE(KillTiming)

class tst_ComputeGroup : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void identicalToInProcess_data();
    void identicalToInProcess();
    void killedWorkersAreReplaced_data();
    void killedWorkersAreReplaced();
    void stoppedWorkerMissesDeadline();
    void slowedWorkerTakesFewerParts();
    void partsHandedOutLongestFirst();
    void simulateThroughWorkers();
    void generatesWorld_data();
    void generatesWorld();
    void repeatedFailuresAreGivenUp();
    void startFailureLeavesWorldAlone_data();
    void startFailureLeavesWorldAlone();
    void workerRefusesWorldItCannotServe_data();
    void workerRefusesWorldItCannotServe();
    void cleanup();
    void cleanupTestCase();

private:
    /// The in-process run with one thread, by subdivisions: the reference every other run
    /// must match.
    const std::vector<TickRecord> &reference(int subdivisions, std::uint64_t ticks);

    std::map<int, std::vector<TickRecord>> m_references;
    QElapsedTimer m_total;
};

void tst_ComputeGroup::initTestCase()
{
    m_total.start();
    QVERIFY2(QFile::exists(workerBinary()), qPrintable(workerBinary()));
    QVERIFY2(shippedContent(), "the shipped content must load");
    QVERIFY2(ourSegments().isEmpty(), qPrintable(ourSegments().join(QLatin1Char(' '))));
}

const std::vector<TickRecord> &tst_ComputeGroup::reference(int subdivisions, std::uint64_t ticks)
{
    std::vector<TickRecord> &records = m_references[subdivisions];
    if (records.size() == ticks)
        return records;
    records.clear();
    QElapsedTimer timer;
    timer.start();
    auto world = newWorld(subdivisions, 1);
    const Script script = makeScript(world->state(), world->content(), ticks);
    const qint64 generateMs = timer.restart();
    for (std::uint64_t t = 0; t < ticks; ++t)
        records.push_back(stepWith(*world, script));
    const qint64 stepMs = timer.elapsed();
    qInfo("reference n=%d, in-process with one thread: generated in %lld ms, %llu ticks in %lld "
          "ms (%.3f ms/tick)",
          subdivisions, static_cast<long long>(generateMs), static_cast<unsigned long long>(ticks),
          static_cast<long long>(stepMs), double(stepMs) / double(ticks));
    return records;
}

// 1. Bit-identical results for in-process threads and 1 or 2 worker processes.

void tst_ComputeGroup::identicalToInProcess_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<int>("threads");
    QTest::addColumn<int>("workers");
    QTest::addColumn<bool>("shareSphere");
    QTest::addColumn<bool>("longestFirst");
    for (const int n : {64, 128}) {
        const QByteArray size = "n=" + QByteArray::number(n);
        QTest::newRow(size + ", two threads in-process") << n << 2 << 0 << true << true;
        QTest::newRow(size + ", one worker process") << n << 1 << 1 << true << true;
        QTest::newRow(size + ", two worker processes") << n << 1 << 2 << true << true;
    }
    QTest::newRow("n=64, two worker processes, each building its own sphere")
        << 64 << 1 << 2 << false << true;
    QTest::newRow("n=64, two worker processes, parts handed out in part order")
        << 64 << 1 << 2 << true << false;
}

void tst_ComputeGroup::identicalToInProcess()
{
    QFETCH(int, subdivisions);
    QFETCH(int, threads);
    QFETCH(int, workers);
    QFETCH(bool, shareSphere);
    QFETCH(bool, longestFirst);
    // Workers for the first kGrouped ticks, then the group goes away and the World steps on
    // by itself: the arrays must have come back intact.
    constexpr std::uint64_t kGrouped = 200;
    constexpr std::uint64_t kAfter = 20;
    const std::vector<TickRecord> &expected = reference(subdivisions, kGrouped + kAfter);
    std::size_t accepted = 0;
    for (const TickRecord &r : expected)
        accepted += std::size_t(std::count_if(r.actions.begin(), r.actions.end(),
                                              [](const ActionResult &a) { return a.accepted(); }));
    QVERIFY2(accepted >= std::size_t(kPlayers) * 10,
             qPrintable(QStringLiteral("only %1 actions accepted: the script must "
                                       "build factories, or machines are not "
                                       "exercised")
                            .arg(accepted)));

    auto world = newWorld(subdivisions, threads);
    const Script script = makeScript(world->state(), world->content(), kGrouped + kAfter);
    std::vector<TickRecord> actual;

    QElapsedTimer timer;
    timer.start();
    std::unique_ptr<ComputeGroup> group;
    if (workers > 0) {
        ComputeOptions options = optionsFor(workers, WakeMethod::Futex);
        options.shareSphere = shareSphere;
        options.longestFirst = longestFirst;
        auto started = ComputeGroup::start(*world, options);
        QVERIFY2(started, qPrintable(errorOf(started)));
        group = std::move(*started);
        QCOMPARE(world->stepRunner(), group.get());
        // The workers read the planet's geometry in the segment, or build their own.
        QCOMPARE(group->stats().sphereBytes,
                 shareSphere ? std::uint64_t(sphereTablesBytes(world->state().sphere->tables()))
                             : std::uint64_t(0));
        QCOMPARE(group->partCount(), workers * ComputeOptions{}.partsPerWorker);
        QVERIFY(QFile::exists(QStringLiteral("/dev/shm/") + group->segmentName()));
        for (int slot = 0; slot < workers; ++slot)
            QVERIFY2(processExists(group->workerPid(slot)), qPrintable(QString::number(slot)));
        QCOMPARE(ourWorkers().size(), qsizetype(workers));
    }
    const qint64 startMs = timer.restart();

    const ComputeStats atStart = group ? group->stats() : ComputeStats{};
    for (std::uint64_t t = 0; t < kGrouped; ++t)
        actual.push_back(stepWith(*world, script));
    const qint64 stepMs = timer.elapsed();
    const QString grouped = firstDifference(
        std::vector<TickRecord>(expected.begin(), expected.begin() + kGrouped), actual);
    QVERIFY2(grouped.isEmpty(), qPrintable(grouped));
    QCOMPARE(world->fullStateHash(), world->stateHash());

    if (group) {
        const ComputeStats stats = group->stats();
        QVERIFY2(stats.workers == workers && stats.running == workers, qPrintable(describe(stats)));
        QVERIFY2(stats.crashes == 0 && stats.missedDeadlines == 0 && stats.takenOver == 0
                     && stats.restarts == 0 && stats.givenUp.isEmpty(),
                 qPrintable(describe(stats)));
        // Every phase of every tick went to every worker, and every part of every phase ran
        // once, in a worker.
        QVERIFY2(stats.jobs - atStart.jobs == kGrouped * std::uint64_t(sim::kAutomatonPhaseCount) * std::uint64_t(workers),
                 qPrintable(describe(stats)));
        QVERIFY2(partsAccounted(stats) - partsAccounted(atStart)
                     == kGrouped * std::uint64_t(sim::kAutomatonPhaseCount)
                            * std::uint64_t(group->partCount()),
                 qPrintable(describe(stats)));
        // The arrays moved in once; nothing is copied per tick.
        QVERIFY2(atStart.bytesCopied >= world->arrayBytes() / 2, qPrintable(describe(atStart)));
        QCOMPARE(stats.bytesCopied, atStart.bytesCopied);
        const QString segment = group->segmentName();
        group.reset();
        QCOMPARE(world->stepRunner(), nullptr);
        QVERIFY2(!QFile::exists(QStringLiteral("/dev/shm/") + segment), qPrintable(segment));
        QCOMPARE(world->fullStateHash(), world->stateHash());
    }
    for (std::uint64_t t = 0; t < kAfter; ++t)
        actual.push_back(stepWith(*world, script));
    QCOMPARE(world->fullStateHash(), world->stateHash());

    const QString difference = firstDifference(expected, actual);
    QVERIFY2(difference.isEmpty(), qPrintable(difference));
    qInfo("n=%d, %d thread(s), %d worker(s): start %lld ms, %llu ticks in %lld ms (%.3f ms/tick)",
          subdivisions, threads, workers, static_cast<long long>(startMs),
          static_cast<unsigned long long>(kGrouped), static_cast<long long>(stepMs),
          double(stepMs) / double(kGrouped));
}

// 2. kill -9 during a long run, for every wake-up method.

void tst_ComputeGroup::killedWorkersAreReplaced_data()
{
    QTest::addColumn<WakeMethod>("method");
    QTest::addColumn<KillTiming>("timing");
    const std::pair<const char *, WakeMethod> methods[] = {{"futex", WakeMethod::Futex},
                                                           {"eventfd", WakeMethod::EventFd},
                                                           {"signal", WakeMethod::Signal}};
    for (const auto &[name, method] : methods) {
        QTest::addRow("%s wake-ups, a worker killed between ticks every 7 ticks", name)
            << method << KillTiming::BetweenTicks;
        QTest::addRow("%s wake-ups, a worker killed inside a step every 7 ticks", name)
            << method << KillTiming::DuringStep;
    }
}

void tst_ComputeGroup::killedWorkersAreReplaced()
{
    QFETCH(WakeMethod, method);
    QFETCH(KillTiming, timing);
    constexpr int kSubdivisions = 32;
    constexpr std::uint64_t kTicks = 1000;
    constexpr int kEvery = 7;

    auto reference = newWorld(kSubdivisions, 1);
    auto world = newWorld(kSubdivisions, 1);
    const Script script = makeScript(world->state(), world->content(), kTicks);
    ComputeOptions options = optionsFor(2, method);
    // Restarts wait 100 ms doubling, capped here: 10 ms, so that a killed worker is back
    // (about 60 ms to start) and killed again many times during the run.
    options.maxBackoff = 10ms;
    options.maxFailures = 1000000; // these failures are the test's doing: never give up
    auto started = ComputeGroup::start(*world, options);
    QVERIFY2(started, qPrintable(errorOf(started)));
    ComputeGroup &group = **started;
    // Our own view of the segment: a worker is killed only once it is attached (Ready), so
    // that the kills hit workers that take jobs rather than workers still starting.
    const auto view = Segment::attach(group.segmentName());
    QVERIFY2(view, qPrintable(errorOf(view)));
    const auto attached = [&view](int slot) {
        return view->slot(slot).state.load() == std::uint32_t(SlotState::Ready);
    };
    // Inside a step: the kill lands 0..400 µs after the step begins (a step takes about
    // 300 µs here), so at any point of any phase, the worker computing or waiting.
    std::mt19937 random(7);
    std::uniform_int_distribution<int> delayUs(0, 400);
    DelayedKiller killer;

    QElapsedTimer timer;
    timer.start();
    int kills = 0;
    int landedInStep = 0; // kills the other thread sent before the step returned
    std::set<qint64> killed;
    for (std::uint64_t t = 0; t < kTicks; ++t) {
        if (t % kEvery == kEvery - 1) {
            const int slot = int(t / kEvery) % 2;
            const qint64 pid = group.workerPid(slot);
            if (pid > 0 && attached(slot) && !killed.count(pid)) {
                killed.insert(pid);
                ++kills;
                if (timing == KillTiming::BetweenTicks)
                    QCOMPARE(::kill(pid_t(pid), SIGKILL), 0);
                else
                    killer.killAfter(pid_t(pid), std::chrono::microseconds(delayUs(random)));
            }
        }
        const int sentBefore = killer.sent();
        const bool pending = kills > sentBefore;
        const TickRecord a = stepWith(*world, script);
        if (timing == KillTiming::DuringStep && pending && killer.sent() > sentBefore)
            ++landedInStep;
        const TickRecord e = stepWith(*reference, script);
        const QString difference = firstDifference({e}, {a});
        if (!difference.isEmpty())
            QFAIL(qPrintable(QStringLiteral("%1 (%2 workers killed so far; %3)")
                                 .arg(difference)
                                 .arg(kills)
                                 .arg(describe(group.stats()))));
        // Pace the run as a tick loop would, so that restarts happen while it goes on.
        QThread::usleep(1000);
    }
    const qint64 runMs = timer.elapsed();
    QCOMPARE(world->stateHash(), reference->stateHash());
    QCOMPARE(world->fullStateHash(), world->stateHash());
    QCOMPARE(killer.failed(), 0);
    const ComputeStats stats = group.stats();
    qInfo("%s, %s: %llu ticks with %d workers killed (%d while the step ran) in %lld ms; %s",
          qPrintable(wakeMethodName(method)),
          timing == KillTiming::BetweenTicks ? "between ticks" : "inside steps",
          static_cast<unsigned long long>(kTicks), kills, landedInStep,
          static_cast<long long>(runMs), qPrintable(describe(stats)));
    if (timing == KillTiming::DuringStep)
        QVERIFY2(landedInStep > 0, "no kill landed while a step ran");
    QVERIFY2(kills >= 10, qPrintable(QStringLiteral("only %1 kills").arg(kills)));
    QVERIFY2(stats.crashes > 0, qPrintable(describe(stats)));
    QVERIFY2(stats.takenOver > 0, qPrintable(describe(stats)));
    QVERIFY2(stats.restarts > 0, qPrintable(describe(stats)));
    QVERIFY2(stats.givenUp.isEmpty(), qPrintable(describe(stats)));

    // Workers come back, and then serve again: nothing more is taken over.
    const QString difference = stepUntilAllRunning(*world, *reference, script, group, 15s);
    QVERIFY2(difference.isEmpty(), qPrintable(difference));
    const ComputeStats back = group.stats();
    QVERIFY2(back.running == 2, qPrintable(describe(back)));
    // Every kill was noticed and answered with a restart.
    QVERIFY2(back.restarts >= std::uint64_t(kills), qPrintable(describe(back)));
    for (int t = 0; t < 20; ++t)
        QCOMPARE(stepWith(*world, script).hash, stepWith(*reference, script).hash);
    const ComputeStats after = group.stats();
    QVERIFY2(after.takenOver == back.takenOver && after.jobs == back.jobs + 20 * std::uint64_t(sim::kAutomatonPhaseCount) * 2,
             qPrintable(describe(back) + QStringLiteral(" -> ") + describe(after)));
    for (int slot = 0; slot < 2; ++slot) {
        QVERIFY(processExists(group.workerPid(slot)));
        QVERIFY(!killed.count(group.workerPid(slot)));
    }
    for (const qint64 pid : killed)
        QVERIFY2(!processExists(pid), qPrintable(QString::number(pid)));
    started->reset();
    QCOMPARE(world->fullStateHash(), reference->stateHash());
}

// 3. A stopped worker misses its deadline.

void tst_ComputeGroup::stoppedWorkerMissesDeadline()
{
    constexpr int kSubdivisions = 32;
    constexpr std::uint64_t kTicks = 300;
    constexpr std::uint64_t kStopAt = 50;

    auto reference = newWorld(kSubdivisions, 1);
    auto world = newWorld(kSubdivisions, 1);
    const Script script = makeScript(world->state(), world->content(), kTicks);
    ComputeOptions options = optionsFor(2, WakeMethod::Futex);
    options.deadline = 100ms;
    options.maxBackoff = 100ms;
    auto started = ComputeGroup::start(*world, options);
    QVERIFY2(started, qPrintable(errorOf(started)));
    ComputeGroup &group = **started;

    qint64 stopped = 0;
    qint64 stoppedTickMs = 0;
    QElapsedTimer timer;
    for (std::uint64_t t = 0; t < kTicks; ++t) {
        const ComputeStats before = group.stats();
        if (t == kStopAt) {
            stopped = group.workerPid(1);
            QVERIFY(stopped > 0);
            QCOMPARE(::kill(pid_t(stopped), SIGSTOP), 0);
        }
        timer.start();
        const TickRecord a = stepWith(*world, script);
        const qint64 ms = timer.elapsed();
        const TickRecord e = stepWith(*reference, script);
        const QString difference = firstDifference({e}, {a});
        if (!difference.isEmpty())
            QFAIL(qPrintable(difference + QStringLiteral("; ") + describe(group.stats())));
        if (t == kStopAt) {
            // Noticed within the tick it stopped in: the tick waited the deadline, then the
            // server killed the worker. It took no part (it was stopped before the tick): the
            // other worker ran the whole first phase, and the server took parts in the
            // stopped one's place for the rest; no part ran twice or not at all.
            stoppedTickMs = ms;
            const ComputeStats now = group.stats();
            QVERIFY2(now.missedDeadlines == 1 && now.crashes == 0 && now.running == 1,
                     qPrintable(describe(now)));
            QVERIFY2(partsAccounted(now) - partsAccounted(before)
                         == std::uint64_t(sim::kAutomatonPhaseCount * group.partCount()),
                     qPrintable(describe(before) + QStringLiteral(" -> ") + describe(now)));
            QVERIFY2(now.partsRun[0] - before.partsRun[0] >= std::uint64_t(group.partCount())
                         && now.partsRun[1] == before.partsRun[1],
                     qPrintable(describe(before) + QStringLiteral(" -> ") + describe(now)));
            QVERIFY2(ms >= 95 && ms < 2000, qPrintable(QString::number(ms)));
            // SIGKILL reaches a stopped process; the group reaped it.
            QVERIFY2(!processExists(stopped), qPrintable(QString::number(stopped)));
        }
        QThread::usleep(1000);
    }
    QCOMPARE(world->stateHash(), reference->stateHash());
    const ComputeStats stats = group.stats();
    qInfo("stopped worker %lld before tick %llu, which took %lld ms (deadline 100 ms); %s",
          static_cast<long long>(stopped), static_cast<unsigned long long>(kStopAt + 1),
          static_cast<long long>(stoppedTickMs), qPrintable(describe(stats)));
    QVERIFY2(stats.missedDeadlines == 1 && stats.crashes == 0, qPrintable(describe(stats)));
    const QString difference = stepUntilAllRunning(*world, *reference, script, group, 15s);
    QVERIFY2(difference.isEmpty(), qPrintable(difference));
    QVERIFY2(group.stats().running == 2 && group.stats().restarts == 1,
             qPrintable(describe(group.stats())));
    QVERIFY(group.workerPid(1) != stopped);
    QCOMPARE(world->fullStateHash(), reference->stateHash());
}

// 3a. A worker that keeps losing its core takes fewer parts; nothing fails.

void tst_ComputeGroup::slowedWorkerTakesFewerParts()
{
    constexpr int kSubdivisions = 64;
    constexpr std::uint64_t kTicks = 150;
    // Every third tick starts with worker 1 stopped, as a process whose core the
    // hypervisor or a neighbour takes would be, and another thread lets it go on 20 ms
    // later: far less than the deadline, so it is never failed. Meanwhile the other
    // worker takes every part of the tick's first phase. (A thread stopping it 2 ms of
    // every 3 on its own clock left the outcome to the scheduler: on two busy cores that
    // thread ran too seldom to slow anything, and the shares came out even.)
    constexpr std::uint64_t kEvery = 3;
    constexpr auto kStopped = 20ms;

    auto reference = newWorld(kSubdivisions, 1);
    auto world = newWorld(kSubdivisions, 1);
    const Script script = makeScript(world->state(), world->content(), kTicks);
    auto started = ComputeGroup::start(*world, optionsFor(2, WakeMethod::Futex));
    QVERIFY2(started, qPrintable(errorOf(started)));
    ComputeGroup &group = **started;
    const int parts = group.partCount();
    QCOMPARE(parts, 2 * ComputeOptions{}.partsPerWorker);
    const ComputeStats atStart = group.stats();

    const auto slowed = pid_t(group.workerPid(1));
    QVERIFY(slowed > 0);
    DelayedKiller resumer;
    for (std::uint64_t t = 0; t < kTicks; ++t) {
        const bool stall = t % kEvery == 0;
        const std::uint64_t fastBefore = group.stats().partsRun[0];
        if (stall) {
            // Between ticks, when no worker holds a part; the step starts once the
            // kernel has stopped it.
            QCOMPARE(::kill(slowed, SIGSTOP), 0);
            QVERIFY2(waitForProcessState(slowed, 'T'), "the worker did not stop");
            resumer.signalAfter(slowed, SIGCONT, kStopped);
        }
        const TickRecord a = stepWith(*world, script);
        if (stall) {
            QVERIFY2(group.stats().partsRun[0] >= fastBefore + std::uint64_t(parts),
                     qPrintable(QStringLiteral("tick %1: %2").arg(t).arg(describe(group.stats()))));
        }
        const TickRecord e = stepWith(*reference, script);
        const QString difference = firstDifference({e}, {a});
        if (!difference.isEmpty())
            QFAIL(qPrintable(difference + QStringLiteral("; ") + describe(group.stats())));
    }
    QCOMPARE(resumer.failed(), 0);
    const ComputeStats stats = group.stats();
    qInfo("worker 1 stopped for %lld ms at the start of every %llu ticks through %llu: %s",
          static_cast<long long>(kStopped.count()), static_cast<unsigned long long>(kEvery),
          static_cast<unsigned long long>(kTicks), qPrintable(describe(stats)));
    QVERIFY2(stats.crashes == 0 && stats.missedDeadlines == 0 && stats.takenOver == 0
                 && stats.running == 2,
             qPrintable(describe(stats)));
    // Every part of every phase ran once, and the worker that kept its core took more of
    // them (a fixed share would be exactly half each).
    const std::uint64_t total = kTicks * std::uint64_t(sim::kAutomatonPhaseCount)
                                * std::uint64_t(parts);
    QVERIFY2(partsAccounted(stats) - partsAccounted(atStart) == total, qPrintable(describe(stats)));
    const std::uint64_t fast = stats.partsRun[0] - atStart.partsRun[0];
    const std::uint64_t slow = stats.partsRun[1] - atStart.partsRun[1];
    QVERIFY2(fast > slow, qPrintable(describe(stats)));
    QCOMPARE(world->fullStateHash(), reference->stateHash());
}

// 3b. The parts that take longest are handed out first, by the times the workers report.

void tst_ComputeGroup::partsHandedOutLongestFirst()
{
    constexpr int kSubdivisions = 64;
    auto reference = newWorld(kSubdivisions, 1);
    auto world = newWorld(kSubdivisions, 1);
    const Script script = makeScript(world->state(), world->content(), 30);
    auto started = ComputeGroup::start(*world, optionsFor(2, WakeMethod::Futex));
    QVERIFY2(started, qPrintable(errorOf(started)));
    ComputeGroup &group = **started;
    const int parts = group.partCount();
    for (int phase = 0; phase < sim::kAutomatonPhaseCount; ++phase) {
        // Nothing measured yet: part order.
        std::vector<int> identity(static_cast<std::size_t>(parts));
        std::iota(identity.begin(), identity.end(), 0);
        QCOMPARE(group.partOrder(sim::AutomatonPhase(phase)), identity);
    }
    for (int t = 0; t < 30; ++t) {
        const QString difference
            = firstDifference({stepWith(*reference, script)}, {stepWith(*world, script)});
        QVERIFY2(difference.isEmpty(), qPrintable(difference));
    }
    QVERIFY2(group.stats().takenOver == 0, qPrintable(describe(group.stats())));
    for (int phase = 0; phase < sim::kAutomatonPhaseCount; ++phase) {
        const auto p = sim::AutomatonPhase(phase);
        const std::vector<double> times = group.partTimes(p);
        const std::vector<int> order = group.partOrder(p);
        QCOMPARE(times.size(), std::size_t(parts));
        QCOMPARE(order.size(), std::size_t(parts));
        // The workers ran every part and said how long each took.
        for (int part = 0; part < parts; ++part)
            QVERIFY2(times[std::size_t(part)] > 0,
                     qPrintable(QStringLiteral("phase %1 part %2").arg(phase).arg(part)));
        // Every part once, longest first.
        std::vector<int> sorted = order;
        std::sort(sorted.begin(), sorted.end());
        for (int part = 0; part < parts; ++part)
            QCOMPARE(sorted[std::size_t(part)], part);
        for (int k = 1; k < parts; ++k) {
            QVERIFY2(times[std::size_t(order[std::size_t(k - 1)])]
                         >= times[std::size_t(order[std::size_t(k)])],
                     qPrintable(QStringLiteral("phase %1, place %2").arg(phase).arg(k)));
        }
    }
    // The read phase's parts take unlike times (land and sea differ), so the order is
    // chosen, not a tie.
    const std::vector<double> read = group.partTimes(sim::AutomatonPhase::Read);
    QVERIFY(*std::max_element(read.begin(), read.end())
            > *std::min_element(read.begin(), read.end()));
    QCOMPARE(world->fullStateHash(), reference->stateHash());
}

// 3c. Bulk jobs: World::simulate() through the workers, with progress.

void tst_ComputeGroup::simulateThroughWorkers()
{
    constexpr int kSubdivisions = 48;
    constexpr std::uint64_t kTicks = 300;
    auto reference = newWorld(kSubdivisions, 1);
    auto world = newWorld(kSubdivisions, 1);
    auto started = ComputeGroup::start(*world, optionsFor(2, WakeMethod::Futex));
    QVERIFY2(started, qPrintable(errorOf(started)));
    const ComputeStats before = (*started)->stats();

    std::vector<std::pair<std::uint64_t, std::uint64_t>> reported;
    const auto progress = [&reported](std::uint64_t done, std::uint64_t ticks) {
        reported.emplace_back(done, ticks);
        return true;
    };
    QElapsedTimer timer;
    timer.start();
    const std::uint64_t hash = world->simulate(kTicks, 100, progress);
    const qint64 ms = timer.elapsed();
    QCOMPARE(hash, reference->simulate(kTicks));
    QCOMPARE(world->fullStateHash(), hash);
    const std::vector<std::pair<std::uint64_t, std::uint64_t>> expected{
        {100, kTicks}, {200, kTicks}, {300, kTicks}};
    QCOMPARE(reported, expected);
    const ComputeStats after = (*started)->stats();
    QVERIFY2(after.jobs - before.jobs == kTicks * std::uint64_t(sim::kAutomatonPhaseCount) * 2 && after.takenOver == 0
                 && after.bytesCopied == before.bytesCopied,
             qPrintable(describe(after)));

    // Stopped early by the progress callback: the ticks done so far, no more.
    const std::uint64_t early
        = world->simulate(kTicks, 50, [](std::uint64_t done, std::uint64_t) { return done < 150; });
    QCOMPARE(world->state().tick, kTicks + 150);
    QCOMPARE(early, reference->simulate(150));
    qInfo("n=%d: simulate(%llu) on two workers in %lld ms", kSubdivisions,
          static_cast<unsigned long long>(kTicks), static_cast<long long>(ms));
}

// World generation as bulk jobs: the same world as sim::generateWorld(), with progress,
// whether the workers live, die on the way, or the run is cancelled.

void tst_ComputeGroup::generatesWorld_data()
{
    QTest::addColumn<int>("workers");
    QTest::addColumn<QString>("trouble");
    QTest::newRow("one worker") << 1 << QString();
    QTest::newRow("two workers") << 2 << QString();
    QTest::newRow("two workers, one killed on the way") << 2 << QStringLiteral("kill");
    QTest::newRow("two workers, cancelled") << 2 << QStringLiteral("cancel");
}

void tst_ComputeGroup::generatesWorld()
{
    QFETCH(int, workers);
    QFETCH(QString, trouble);
    constexpr int kSubdivisions = 192; // 368,642 cells: 45 jobs per field
    constexpr std::uint64_t kSeed = 4242;
    const auto sphere = sphereOf(kSubdivisions);
    const WorldState expected = sim::generateWorld(sphere, *shippedContent(), kSeed);

    auto created = ComputeGroup::create(sphere, *shippedContent(), optionsFor(workers, WakeMethod::Futex));
    QVERIFY2(created, qPrintable(errorOf(created)));
    ComputeGroup &group = **created;
    std::vector<std::uint64_t> reported;
    bool killed = false;
    const auto progress = [&](std::uint64_t done, std::uint64_t total) {
        if (total != sphere->cellCount())
            return false;
        reported.push_back(done);
        if (trouble == QStringLiteral("kill") && !killed && group.workerPid(1) > 0) {
            ::kill(pid_t(group.workerPid(1)), SIGKILL);
            killed = true;
        }
        // Cancelled once the ground is done, in the noise fields.
        return trouble != QStringLiteral("cancel") || done < total / 2;
    };
    QElapsedTimer timer;
    timer.start();
    const auto generated = group.generateWorld(*shippedContent(), kSeed, progress);
    const qint64 ms = timer.elapsed();
    QVERIFY(!reported.empty());
    QVERIFY(std::is_sorted(reported.begin(), reported.end()));
    if (trouble == QStringLiteral("cancel")) {
        QVERIFY(!generated);
        QCOMPARE(generated.error(), QStringLiteral("cancelled"));
        QVERIFY(reported.back() >= sphere->cellCount() / 2);
        // The group is still usable: the next run generates the whole world.
        const auto again = group.generateWorld(*shippedContent(), kSeed, {});
        QVERIFY2(again, qPrintable(errorOf(again)));
        QVERIFY(*again == expected);
        return;
    }
    QVERIFY2(generated, qPrintable(errorOf(generated)));
    QVERIFY(*generated == expected);
    QCOMPARE(reported.back(), std::uint64_t(sphere->cellCount()));
    const ComputeStats stats = group.stats();
    if (trouble == QStringLiteral("kill")) {
        QVERIFY(killed);
        QVERIFY2(stats.crashes >= 1, qPrintable(describe(stats)));
    } else {
        QVERIFY2(stats.crashes == 0 && stats.running == workers, qPrintable(describe(stats)));
    }
    // The generated world then steps on the same workers, as in-process.
    auto world = std::make_unique<World>(*generated, shippedContent(), 1);
    World reference(sphere, shippedContent(), kSeed, 1);
    QCOMPARE(world->stateHash(), reference.stateHash());
    const auto attached = group.attach(*world);
    QVERIFY2(attached, qPrintable(attached ? QString() : attached.error()));
    for (int t = 0; t < 10; ++t)
        QCOMPARE(world->step().stateHash, reference.step().stateHash);
    qInfo("n=%d: world generated with %d worker(s) and the test's thread in %lld ms (%s)",
          kSubdivisions, workers, static_cast<long long>(ms), qPrintable(trouble));
    created->reset(); // before the world: the arrays move back into the heap
}

// 4. Repeated failures are reported, not looped on.

void tst_ComputeGroup::repeatedFailuresAreGivenUp()
{
    constexpr int kSubdivisions = 32;
    constexpr int kMaxFailures = 2;

    auto reference = newWorld(kSubdivisions, 1);
    auto world = newWorld(kSubdivisions, 1);
    const Script script = makeScript(world->state(), world->content(), 1000);
    ComputeOptions options = optionsFor(2, WakeMethod::Futex);
    options.maxBackoff = 100ms;
    options.maxFailures = kMaxFailures;
    auto started = ComputeGroup::start(*world, options);
    QVERIFY2(started, qPrintable(errorOf(started)));
    ComputeGroup &group = **started;

    const qint64 survivor = group.workerPid(1);
    std::set<qint64> killed;
    QElapsedTimer timer;
    timer.start();
    // Kill slot 0's worker every time it comes back (attaches), until the group gives up.
    const auto view = Segment::attach(group.segmentName());
    QVERIFY2(view, qPrintable(errorOf(view)));
    while (group.stats().givenUp.isEmpty() && timer.elapsed() < 20000) {
        const qint64 pid = group.workerPid(0);
        if (pid > 0 && !killed.count(pid)
            && view->slot(0).state.load() == std::uint32_t(SlotState::Ready)) {
            QCOMPARE(::kill(pid_t(pid), SIGKILL), 0);
            killed.insert(pid);
        }
        if (stepWith(*world, script).hash != stepWith(*reference, script).hash)
            QFAIL(qPrintable(QStringLiteral("tick %1: hash differs; %2")
                                 .arg(reference->state().tick)
                                 .arg(describe(group.stats()))));
        QThread::msleep(1);
    }
    const qint64 givenUpMs = timer.elapsed();
    ComputeStats stats = group.stats();
    qInfo("slot 0 given up after %zu kills in %lld ms; %s", killed.size(),
          static_cast<long long>(givenUpMs), qPrintable(describe(stats)));
    QCOMPARE(int(stats.givenUp.size()), 1);
    QVERIFY2(stats.givenUp.first().contains(QLatin1String("worker 0 ")),
             qPrintable(stats.givenUp.first()));
    QCOMPARE(int(killed.size()), kMaxFailures);
    QCOMPARE(stats.restarts, std::uint64_t(kMaxFailures - 1));

    // From now on slot 0 is not restarted, its part runs here, and the ticks go on right.
    const std::uint64_t takenOver = stats.takenOver;
    timer.restart();
    int ticks = 0;
    while (timer.elapsed() < 1000) {
        QCOMPARE(stepWith(*world, script).hash, stepWith(*reference, script).hash);
        QThread::msleep(2);
        ++ticks;
    }
    stats = group.stats();
    QVERIFY2(stats.restarts == std::uint64_t(kMaxFailures - 1) && group.workerPid(0) == 0
                 && stats.running == 1 && stats.givenUp.size() == 1,
             qPrintable(describe(stats)));
    QVERIFY2(stats.takenOver >= takenOver + std::uint64_t(ticks) * 3, qPrintable(describe(stats)));
    QCOMPARE(group.workerPid(1), survivor);
    QCOMPARE(world->fullStateHash(), reference->stateHash());
}

// 5. Start failures fall back cleanly.

void tst_ComputeGroup::startFailureLeavesWorldAlone_data()
{
    QTest::addColumn<QString>("program");
    QTest::addColumn<int>("workers");
    QTest::addColumn<QString>("expectedInMessage");
    const QString missing = QStringLiteral("/nonexistent/hexsphere-worker");
    QTest::newRow("worker program that does not exist") << missing << 2 << missing;
    QTest::newRow("worker program that exits at once")
        << QStringLiteral("/bin/false") << 2 << QStringLiteral("exit status 1");
    QTest::newRow("no workers at all") << workerBinary() << 0 << QStringLiteral("not 0");
    QTest::newRow("more workers than slots") << workerBinary() << kMaxWorkerSlots + 1
                                             << QStringLiteral("not %1").arg(kMaxWorkerSlots + 1);
}

void tst_ComputeGroup::startFailureLeavesWorldAlone()
{
    QFETCH(QString, program);
    QFETCH(int, workers);
    QFETCH(QString, expectedInMessage);
    constexpr int kSubdivisions = 32;

    auto reference = newWorld(kSubdivisions, 1);
    auto world = newWorld(kSubdivisions, 1);
    const Script script = makeScript(world->state(), world->content(), 100);
    for (int t = 0; t < 10; ++t)
        QCOMPARE(stepWith(*world, script).hash, stepWith(*reference, script).hash);
    const std::uint64_t before = world->stateHash();

    ComputeOptions options = optionsFor(workers, WakeMethod::Futex);
    options.program = program;
    options.startTimeout = 20s;
    QElapsedTimer timer;
    timer.start();
    const auto started = ComputeGroup::start(*world, options);
    const qint64 ms = timer.elapsed();
    QVERIFY2(!started, "the group started with a broken worker program");
    qInfo("start failed in %lld ms: %s", static_cast<long long>(ms), qPrintable(started.error()));
    QVERIFY2(started.error().contains(expectedInMessage), qPrintable(started.error()));
    // A worker that cannot start is noticed at once, not after the start timeout.
    QVERIFY2(ms < 10000, qPrintable(QString::number(ms)));

    QCOMPARE(world->stepRunner(), nullptr);
    QCOMPARE(world->stateHash(), before);
    QCOMPARE(world->fullStateHash(), before);
    QVERIFY2(ourSegments().isEmpty(), qPrintable(ourSegments().join(QLatin1Char(' '))));
    for (int t = 0; t < 50; ++t)
        QCOMPARE(stepWith(*world, script).hash, stepWith(*reference, script).hash);
    QCOMPARE(world->fullStateHash(), reference->stateHash());
}

// 7. A worker refuses a segment whose world it cannot serve.

void tst_ComputeGroup::workerRefusesWorldItCannotServe_data()
{
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QStringList>("expectedInMessage");
    QTest::newRow("a matching world is served") << QString() << QStringList();
    QTest::newRow("a segment without the sphere's tables is served")
        << QStringLiteral("no sphere") << QStringList();
    QTest::newRow("content of another version")
        << QStringLiteral("content")
        << QStringList{QStringLiteral("\"not-the-shipped-content\""),
                       QStringLiteral("\"%1\"").arg(shippedContent()->version)};
    QTest::newRow("subdivisions that do not give the cell count")
        << QStringLiteral("subdivisions")
        << QStringList{QStringLiteral("17 subdivisions"),
                       QStringLiteral("%1 cells").arg(geometry::HexSphere::cellCountFor(16))};
    QTest::newRow("exchange of another size")
        << QStringLiteral("exchange") << QStringList{QStringLiteral("exchange")};
    QTest::newRow("another partition table")
        << QStringLiteral("partition") << QStringList{QStringLiteral("part 1")};
    QTest::newRow("a sphere table of another size")
        << QStringLiteral("sphere size")
        << QStringList{QStringLiteral("neighbour table holds %1 entries, not %2")
                           .arg(geometry::HexSphere::cellCountFor(16) * 6 - 1)
                           .arg(geometry::HexSphere::cellCountFor(16) * 6)};
    QTest::newRow("a sphere table outside the segment")
        << QStringLiteral("sphere place") << QStringList{QStringLiteral("does not lie within")};
}

void tst_ComputeGroup::workerRefusesWorldItCannotServe()
{
    QFETCH(QString, damage);
    QFETCH(QStringList, expectedInMessage);
    constexpr int kSubdivisions = 16;

    // A segment laid out as a ComputeGroup lays it out: the world's arrays and the exchange
    // in the payload, 64-byte aligned, and the StepJob describing them.
    auto world = newWorld(kSubdivisions, 1);
    const std::size_t exchangeBytes = world->exchangeBytes(1);
    const geometry::HexSphereTables sphereTables = world->state().sphere->tables();
    const std::size_t payload
        = world->arrayBytes() + exchangeBytes + sphereTablesBytes(sphereTables) + 2 * 64;
    auto segment = Segment::create(payload);
    QVERIFY2(segment, qPrintable(errorOf(segment)));
    SegmentArena resource(segment->payload(), payload);
    world->placeArrays(&resource);
    // Back into the heap before the segment goes, whatever happens below.
    const auto restore
        = qScopeGuard([&world] { world->placeArrays(std::pmr::get_default_resource()); });
    std::byte *exchange = static_cast<std::byte *>(resource.allocate(exchangeBytes, 64));
    std::memset(exchange, 0, exchangeBytes);

    const auto *base = reinterpret_cast<const std::byte *>(segment->control());
    const auto offset = [base](const void *p) {
        return std::uint64_t(static_cast<const std::byte *>(p) - base);
    };
    const WorldState &s = world->state();
    StepJob &job = segment->control()->job;
    job.subdivisions = kSubdivisions;
    job.chunkSplit = s.sphere->chunkSplit();
    job.cellCount = s.cellCount();
    job.parts = 1;
    job.exchangeBytes = exchangeBytes;
    const std::vector<CellId> partCells = world->partCells(1);
    QCOMPARE(partCells, Automaton::partCellsFor(*s.sphere, 1));
    std::copy(partCells.begin(), partCells.end(), job.partCells);
    const QByteArray version = world->content().version.toUtf8();
    QVERIFY(version.size() < int(sizeof(job.contentVersion)));
    std::memset(job.contentVersion, 0, sizeof(job.contentVersion));
    std::memcpy(job.contentVersion, version.constData(), std::size_t(version.size()));
    job.sequence = 0;
    job.seed = s.seed;
    job.tick = s.tick;
    job.stamp = 0;
    job.phase = 0;
    job.offsets[int(StepArray::Terrain)] = offset(s.terrain.data());
    job.offsets[int(StepArray::Elevation)] = offset(s.elevation.data());
    job.offsets[int(StepArray::Flora)] = offset(s.flora.data());
    job.offsets[int(StepArray::Water)] = offset(s.water.data());
    job.offsets[int(StepArray::Pollution)] = offset(s.pollution.data());
    job.offsets[int(StepArray::ResourceKind)] = offset(s.resourceKind.data());
    job.offsets[int(StepArray::ResourceAmount)] = offset(s.resourceAmount.data());
    job.offsets[int(StepArray::Dirty)] = offset(world->dirtyMarks());
    job.offsets[int(StepArray::Exchange)] = offset(exchange);
    auto *sphereAt
        = static_cast<std::byte *>(resource.allocate(sphereTablesBytes(sphereTables), 64));
    job.sphere = copySphereTables(sphereTables, reinterpret_cast<std::byte *>(segment->control()),
                                  offset(sphereAt));

    if (damage == QLatin1String("content")) {
        std::strcpy(job.contentVersion, "not-the-shipped-content");
    } else if (damage == QLatin1String("subdivisions")) {
        job.subdivisions = 17; // 10·17²+2 cells, not 10·16²+2
    } else if (damage == QLatin1String("exchange")) {
        job.exchangeBytes = world->exchangeBytes(2); // what two parts would need
        world->exchangeBytes(1);
        QVERIFY(job.exchangeBytes != exchangeBytes);
        // Both sizes, so that whoever reads it sees the programs disagree.
        expectedInMessage << QString::number(job.exchangeBytes) << QString::number(exchangeBytes);
    } else if (damage == QLatin1String("no sphere")) {
        job.sphere = SphereTablesPlace{}; // the worker builds its own
    } else if (damage == QLatin1String("sphere size")) {
        --job.sphere.counts[int(SphereTable::Neighbours)];
    } else if (damage == QLatin1String("sphere place")) {
        job.sphere.offsets[int(SphereTable::Lattice)] = segment->size() - 64;
    } else if (damage == QLatin1String("partition")) {
        job.partCells[1] -= 256; // the part would end a chunk early
        expectedInMessage << QString::number(job.partCells[1]) << QString::number(partCells[1]);
    }

    WorkerProcess worker(*segment, 0);
    const bool ok
        = worker.start(workerBinary(), WakeMethod::Futex, WakerOptions{}, 30s, WorkerMode::Step);
    if (damage.isEmpty() || damage == QLatin1String("no sphere")) {
        QVERIFY2(ok, qPrintable(worker.errorString()));
        QCOMPARE(segment->slot(0).state.load(), std::uint32_t(SlotState::Ready));
        QVERIFY2(worker.stop(30s), qPrintable(worker.errorString()));
        QCOMPARE(worker.exitCode(), 0);
    } else {
        QVERIFY2(!ok, "the worker took a world it cannot serve");
        const QString message = worker.errorString();
        qInfo("refused: %s", qPrintable(message));
        for (const QString &expected : expectedInMessage)
            QVERIFY2(message.contains(expected), qPrintable(message));
        QVERIFY2(worker.standardError().startsWith(QLatin1String("hexsphere-worker: ")),
                 qPrintable(worker.standardError()));
        // The worker's "wrong world" exit status, distinct from a bad segment (2) or a lost
        // server (4).
        QCOMPARE(worker.exitCode(), 5);
        QVERIFY(segment->slot(0).state.load() != std::uint32_t(SlotState::Ready));
    }
    QCOMPARE(world->fullStateHash(), world->stateHash());
}

// 6. No segment is left behind, whatever happened in the test.

void tst_ComputeGroup::cleanup()
{
    const QStringList left = ourSegments();
    QVERIFY2(left.isEmpty(), qPrintable(left.join(QLatin1Char(' '))));
    // Nor a worker process: a group stops its workers, a killed one was reaped.
    const QStringList workers = ourWorkers();
    QVERIFY2(workers.isEmpty(), qPrintable(QStringLiteral("workers left (pid state): ")
                                           + workers.join(QStringLiteral(", "))));
}

void tst_ComputeGroup::cleanupTestCase()
{
    qInfo("total %lld ms", static_cast<long long>(m_total.elapsed()));
    const QStringList left = ourSegments();
    QVERIFY2(left.isEmpty(), qPrintable(left.join(QLatin1Char(' '))));
}

QTEST_GUILESS_MAIN(tst_ComputeGroup)
#include "tst_computegroup.moc"
