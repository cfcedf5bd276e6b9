// hexsphere-server: the dedicated, headless server.
#include "app/epolldispatcher.h"
#include "compute/computegroup.h"
#include "gameserver.h"
#include "persistence/worldloader.h"
#include "persistence/worldstore.h"
#include "serverconfig.h"
#include "unixsignalwatcher.h"

#include "geometry/hexsphere.h"
#include "i18n/language.h"
#include "sim/content.h"
#include "sim/world.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTextStream>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>

#include <sys/resource.h>

using namespace hex::server;

namespace {

/// Every client costs a file descriptor: raise the soft limit to the hard one, so that
/// --max-clients is what limits, not a default of 1024.
void raiseDescriptorLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &limit);
    }
}

/// "12.3 MiB": a size on disk for people.
QString humanBytes(qint64 bytes)
{
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = double(bytes);
    int unit = -1;
    while (value >= 1024 && unit < 3) {
        value /= 1024;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(value, 0, 'f', 1).arg(QLatin1StringView(units[unit]));
}

/// The most ticks one `world simulate` runs.
constexpr qint64 kMaxSimulateTicks = 10'000'000;

/// The stop signal received during `world simulate` (0: none). Set by the handler only.
volatile std::sig_atomic_t g_stopSignal = 0;

extern "C" void onStopSignal(int number)
{
    g_stopSignal = number;
}

/// While it lives, SIGINT and SIGTERM set g_stopSignal once; the next one of either ends
/// the process as usual (SA_RESETHAND).
class StopSignals
{
public:
    StopSignals()
    {
        struct sigaction action = {};
        action.sa_handler = onStopSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESETHAND | SA_RESTART;
        sigaction(SIGINT, &action, &m_oldInt);
        sigaction(SIGTERM, &action, &m_oldTerm);
    }
    ~StopSignals()
    {
        sigaction(SIGINT, &m_oldInt, nullptr);
        sigaction(SIGTERM, &m_oldTerm, nullptr);
    }
    StopSignals(const StopSignals &) = delete;
    StopSignals &operator=(const StopSignals &) = delete;

private:
    struct sigaction m_oldInt = {};
    struct sigaction m_oldTerm = {};
};

/// What `world simulate` is asked to do, checked.
struct SimulateRequest
{
    QString name;
    std::uint64_t ticks = 0;
    /// kAutoWorkers, or 0..kMaxWorkers.
    int workers = kAutoWorkers;
    /// Empty for the best the kernel offers.
    QString wakeup;
};

/// Opens the world `name` of `location` with a connection of its own.
std::unique_ptr<hex::server::persistence::WorldStore>
openWorldStore(const hex::server::persistence::StoreLocation &location, const QString &name,
               QString *error)
{
    static int serial = 0;
    return hex::server::persistence::WorldStore::open(
        location, name, QStringLiteral("hex-world-simulate-%1").arg(++serial), error);
}

/// `world simulate`: loads the world as a server does, runs the ticks through the compute
/// workers (or threads), and saves the result as a complete snapshot. 0 when every tick
/// ran and was saved; 128 + the signal when SIGINT or SIGTERM stopped it early and what
/// ran was saved; 1 with one line on stderr when nothing was saved.
int runSimulate(const SimulateRequest &request,
                const hex::server::persistence::StoreLocation &location, QTextStream &out,
                QTextStream &err)
{
    using namespace hex::server::persistence;
    const auto tr = [](const char *text, int n = -1) {
        return QCoreApplication::translate("main", text, nullptr, n);
    };
    const auto fail = [&](const QString &problem) {
        err << "hexsphere-server world: " << problem << '\n';
        return 1;
    };
    const QString where = location.describe();
    // The library's own debug and info lines repeat what this command says; warnings stay.
    // QT_LOGGING_RULES may turn them on again.
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false\n*.info=false"));

    WorldCatalog catalog(location);
    if (!WorldCatalog::isValidName(request.name))
        return fail(tr("'%1' is not a valid world name.").arg(request.name));
    // Before opening: opening a SQLite world that does not exist would create its file.
    if (!catalog.exists(request.name))
        return fail(tr("There is no world '%1' in %2.").arg(request.name, where));
    auto content = hex::sim::loadDefaultContent();
    if (!content)
        return fail(tr("The game content does not load: %1").arg(content.error()));
    auto sharedContent = std::make_shared<const hex::sim::Content>(std::move(*content));

    QString error;
    auto store = openWorldStore(location, request.name, &error);
    if (!store)
        return fail(tr("The world store %1 does not open: %2").arg(where, error));
    // A server that has the world open commits its tick several times a second: a world
    // written to in the last seconds is watched a moment to tell.
    const auto before = store->summary();
    if (!before)
        return fail(store->errorString());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (before->updatedAt.isValid() && qAbs(before->updatedAt.secsTo(now)) < 15) {
        QThread::msleep(1500);
        const auto later = store->summary();
        if (!later)
            return fail(store->errorString());
        if (later->tick != before->tick) {
            return fail(tr("The world '%1' is in use: its tick went from %2 to %3 while this "
                           "command looked. Stop the server that runs it first.")
                            .arg(request.name)
                            .arg(before->tick)
                            .arg(later->tick));
        }
    }

    const int cores = std::clamp(QThread::idealThreadCount(), 1, kMaxThreads);
    QElapsedTimer loadTimer;
    loadTimer.start();
    auto restored = restoreWorld(*store, sharedContent, 1);
    if (!restored) {
        return fail(tr("World '%1' in %2 does not load: %3")
                        .arg(request.name, where, restored.error()));
    }
    store.reset();
    hex::sim::World &world = *restored->world;
    const std::uint64_t startTick = world.state().tick;
    const std::uint64_t startHash = world.stateHash();
    err << "simulate: "
        << tr("world '%1' loaded at tick %2 in %3 ms (snapshot at tick %4, %5 events "
              "replayed), state hash %6")
               .arg(request.name)
               .arg(startTick)
               .arg(loadTimer.elapsed())
               .arg(restored->snapshotTick)
               .arg(restored->eventsReplayed)
               .arg(stateHashText(startHash))
        << Qt::endl;

    // Workers as the server starts them (GameServer::startCompute).
    const int workers = resolveWorkers(request.workers, world.state().sphere->subdivisions());
    ServerConfig wanted;
    wanted.wakeup = request.wakeup;
    const hex::server::compute::ComputeOptions options = computeOptionsFor(wanted, workers);
    const hex::server::compute::WakeMethod method = options.method;
    std::unique_ptr<hex::server::compute::ComputeGroup> group;
    if (workers > 0) {
        (void)hex::server::compute::Segment::removeStale();
        auto started = hex::server::compute::ComputeGroup::start(world, options);
        if (started) {
            group = std::move(*started);
        } else {
            err << "simulate: "
                << tr("tick %1: the compute workers did not start (%2); simulating on %3 "
                      "threads instead")
                       .arg(startTick)
                       .arg(started.error())
                       .arg(cores)
                << Qt::endl;
        }
    }
    if (group) {
        err << "simulate: "
            << tr("%n compute workers (%1 wake-ups)", workers)
                   .arg(hex::server::compute::wakeMethodName(method))
            << Qt::endl;
    } else {
        world.setThreadCount(cores);
        if (workers == 0)
            err << "simulate: " << tr("%n threads, no compute workers", cores)
                << Qt::endl;
    }

    // Progress: a line whenever another 1 % is done or a second has passed, whichever
    // comes first. The callback runs between two ticks, where stopping leaves a whole
    // state.
    const std::uint64_t ticks = request.ticks;
    QElapsedTimer timer;
    qint64 lastLineMs = 0;
    std::uint64_t lastPercent = 0;
    bool anyLine = false;
    const auto ratePerSecond = [&](std::uint64_t done) {
        const double seconds = double(timer.nsecsElapsed()) / 1e9;
        return seconds > 0 ? double(done) / seconds : 0.0;
    };
    const auto progress = [&](std::uint64_t done, std::uint64_t total) {
        if (g_stopSignal != 0)
            return false;
        const std::uint64_t percent = done * 100 / total;
        const qint64 nowMs = timer.elapsed();
        if (anyLine && percent <= lastPercent && nowMs - lastLineMs < 1000)
            return true;
        const double rate = ratePerSecond(done);
        const qint64 eta = rate > 0 ? qRound64(double(total - done) / rate) : 0;
        err << "simulate: "
            << tr("tick %1/%2 (%3%), %4 ticks/s, eta %5 s")
                   .arg(done)
                   .arg(total)
                   .arg(percent)
                   .arg(qRound64(rate))
                   .arg(eta)
            << Qt::endl;
        anyLine = true;
        lastPercent = percent;
        lastLineMs = nowMs;
        return true;
    };
    std::uint64_t hash = 0;
    int stoppedBy = 0;
    {
        g_stopSignal = 0;
        const StopSignals signalGuard;
        timer.start();
        hash = world.simulate(ticks, 1, progress);
        stoppedBy = g_stopSignal;
    }
    const qint64 elapsedNs = timer.nsecsElapsed();
    const std::uint64_t done = world.state().tick - startTick;
    if (stoppedBy != 0) {
        err << "simulate: "
            << tr("signal %1 received: stopped at tick %2 after %3 of %4 ticks; saving what "
                  "was simulated")
                   .arg(stoppedBy)
                   .arg(world.state().tick)
                   .arg(done)
                   .arg(ticks)
            << Qt::endl;
    }
    if (done == 0) {
        group.reset();
        err << "simulate: " << tr("nothing was simulated; the world is unchanged") << Qt::endl;
        return stoppedBy != 0 ? 128 + stoppedBy : 0;
    }

    // Save, from a fresh connection (a long run may outlast an idle one), unless the world
    // moved meanwhile: then another program wrote it, and this state would overwrite that.
    QElapsedTimer saveTimer;
    saveTimer.start();
    store = openWorldStore(location, request.name, &error);
    if (!store) {
        return fail(tr("The world store %1 does not open: %2; nothing was saved.")
                        .arg(where, error));
    }
    const auto current = store->summary();
    if (!current)
        return fail(tr("%1; nothing was saved.").arg(store->errorString()));
    if (current->tick != startTick || current->stateHash != startHash) {
        return fail(tr("The world '%1' changed while it was simulated (it is at tick %2 now, "
                       "not %3): another server has it open. Nothing was saved.")
                        .arg(request.name)
                        .arg(current->tick)
                        .arg(startTick));
    }
    const auto saved = saveWholeWorld(*store, world, cores);
    if (!saved) {
        return fail(tr("World '%1' cannot be saved in %2: %3")
                        .arg(request.name, where, saved.error()));
    }
    group.reset();
    err << "simulate: "
        << tr("tick %1: saved to %2 in %3 ms")
               .arg(QString::number(world.state().tick), where,
                    QString::number(saveTimer.elapsed()))
        << Qt::endl;

    const double seconds = double(elapsedNs) / 1e9;
    const QString rate = QString::number(qRound64(seconds > 0 ? double(done) / seconds : 0));
    const QString time = QString::number(seconds, 'f', 2);
    if (stoppedBy != 0) {
        out << tr("Interrupted: simulated %1 of %n ticks of '%2' in %3 s (%4 ticks/s); saved "
                  "at tick %5, state hash %6.",
                  int(ticks))
                   .arg(done)
                   .arg(request.name, time, rate)
                   .arg(world.state().tick)
                   .arg(stateHashText(hash))
            << Qt::endl;
        return 128 + stoppedBy;
    }
    out << tr("Simulated %n ticks of '%1' in %2 s (%3 ticks/s); saved at tick %4, state hash "
              "%5.",
              int(done))
               .arg(request.name, time, rate)
               .arg(world.state().tick)
               .arg(stateHashText(hash))
        << Qt::endl;
    return 0;
}

/// --lang: read before the parser exists (i18n::languageFromArguments()); the parser
/// only needs to know it, and to refuse a language not shipped.
QCommandLineOption languageOption()
{
    return {QStringLiteral("lang"),
            QCoreApplication::translate(
                "main", "Language of messages: en or fr (default: the system's, else en)."),
            QStringLiteral("code")};
}

/// Why --lang is refused, or empty.
QString languageProblem(const QCommandLineParser &parser)
{
    const QString code = parser.value(QStringLiteral("lang"));
    if (!parser.isSet(QStringLiteral("lang")) || hex::i18n::languageFromCode(code))
        return {};
    return QCoreApplication::translate("main", "--lang must be en or fr, not \"%1\".").arg(code);
}

/// `hexsphere-server world list|branch SOURCE TARGET|delete NAME|simulate NAME TICKS
/// [--database D] [--workers N] [--wakeup M]`: manages the worlds a server keeps. 0 on
/// success; 1 with one line on stderr otherwise (simulate: see runSimulate()).
int runWorldCommand(const QStringList &arguments)
{
    using namespace hex::server::persistence;
    QTextStream out(stdout);
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Lists, branches, deletes and fast-forwards the worlds a server keeps."));
    parser.addHelpOption();
    parser.addOption(
        {QStringLiteral("database"),
         QCoreApplication::translate(
             "main", "Where worlds are kept: a directory of SQLite files (\"sqlite:DIR\" or a "
                     "path) or \"postgresql://user:password@host:port/database\" (default: "
                     "SQLite files in %1).")
             .arg(StoreLocation::defaultSqliteDirectory()),
         QCoreApplication::translate("main", "url")});
    parser.addOption(languageOption());
    parser.addPositionalArgument(QStringLiteral("list"),
                                 QCoreApplication::translate("main", "Lists every world."),
                                 QStringLiteral("list"));
    parser.addPositionalArgument(
        QStringLiteral("branch"),
        QCoreApplication::translate("main", "Copies the world SOURCE to a new world TARGET."),
        QStringLiteral("| branch SOURCE TARGET"));
    parser.addPositionalArgument(
        QStringLiteral("delete"),
        QCoreApplication::translate("main", "Deletes the world NAME and everything in it."),
        QStringLiteral("| delete NAME"));
    parser.addPositionalArgument(
        QStringLiteral("simulate"),
        QCoreApplication::translate(
            "main",
            "Runs TICKS ticks (1..%1) of the world NAME with no player actions, through the "
            "compute workers, and saves the result. The world must not be open in a "
            "running server. Ctrl-C stops at the next tick and saves what ran.")
            .arg(kMaxSimulateTicks),
        QStringLiteral("| simulate NAME TICKS"));
    parser.addOption(
        {QStringLiteral("workers"),
         QCoreApplication::translate(
             "main", "simulate: compute worker processes, 0..%1; 0 simulates on %2 threads in "
                     "this process (default: \"auto\", as the server: %3 for worlds of size %4 "
                     "and more, else 0).")
             .arg(kMaxWorkers)
             .arg(std::clamp(QThread::idealThreadCount(), 1, kMaxThreads))
             .arg(defaultWorkers())
             .arg(kAutoWorkersMinSize),
         QCoreApplication::translate("main", "count")});
    parser.addOption(
        {QStringLiteral("wakeup"),
         QCoreApplication::translate("main",
                                     "simulate: how this process and its workers wake each "
                                     "other: futex, eventfd or signal (default: the best this "
                                     "kernel offers)."),
         QCoreApplication::translate("main", "method")});
    QStringList args = arguments;
    args.removeAt(1);
    // One line on stderr, whatever went wrong.
    const auto usage = [&](const QString &problem) {
        err << "hexsphere-server world: " << problem << ' '
            << QCoreApplication::translate(
                   "main",
                   "Usage: hexsphere-server world list | branch SOURCE TARGET | delete NAME "
                   "| simulate NAME TICKS [--workers N] [--wakeup M] [--database URL]")
            << '\n';
        return 1;
    };
    // "simulate NAME -5": a negative number reads as options; say what is wrong with it.
    const auto ticksProblem = [](const QString &text) {
        return QCoreApplication::translate(
                   "main", "TICKS must be a whole number from 1 to %1, not '%2'.")
            .arg(kMaxSimulateTicks)
            .arg(text);
    };
    if (!parser.parse(args)) {
        if (args.contains(QStringLiteral("simulate"))) {
            static const QRegularExpression negative(QStringLiteral("^-[0-9]"));
            for (const QString &arg : args) {
                if (negative.match(arg).hasMatch())
                    return usage(ticksProblem(arg));
            }
        }
        return usage(parser.errorText());
    }
    if (parser.isSet(QStringLiteral("help"))) {
        // The usage line names the subcommand, as if it were a program of its own.
        QStringList help = parser.helpText().split(QLatin1Char('\n'));
        help.first() = QCoreApplication::translate(
            "main", "Usage: hexsphere-server world [options] list | branch SOURCE TARGET "
                    "| delete NAME | simulate NAME TICKS");
        out << help.join(QLatin1Char('\n')) << '\n';
        return 0;
    }
    if (const QString problem = languageProblem(parser); !problem.isEmpty())
        return usage(problem);
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usage(QCoreApplication::translate("main", "Say what to do with the worlds."));
    const auto location = StoreLocation::parse(parser.value(QStringLiteral("database")));
    if (!location)
        return usage(QCoreApplication::translate("main", "--database: %1").arg(location.error()));
    if (location->kind == StoreLocation::Kind::None)
        return usage(QCoreApplication::translate("main", "--database none keeps no worlds."));
    const auto fail = [&](const QString &problem) {
        err << "hexsphere-server world: " << problem << '\n';
        return 1;
    };
    const QString command = positional.first();
    const bool computeOptions
        = parser.isSet(QStringLiteral("workers")) || parser.isSet(QStringLiteral("wakeup"));
    if (computeOptions && command != QStringLiteral("simulate")) {
        return usage(QCoreApplication::translate(
            "main", "--workers and --wakeup are for 'simulate' only."));
    }
    if (command == QStringLiteral("simulate")) {
        if (positional.size() != 3) {
            return usage(QCoreApplication::translate(
                "main", "'simulate' takes the NAME of one world and a number of TICKS."));
        }
        SimulateRequest request;
        request.name = positional[1];
        bool whole = false;
        const qint64 ticks = positional[2].toLongLong(&whole);
        if (!whole || ticks < 1 || ticks > kMaxSimulateTicks)
            return usage(ticksProblem(positional[2]));
        request.ticks = std::uint64_t(ticks);
        if (parser.isSet(QStringLiteral("workers"))
            && parser.value(QStringLiteral("workers")) != QStringLiteral("auto")) {
            const int workers = parser.value(QStringLiteral("workers")).toInt(&whole);
            if (!whole || workers < 0 || workers > kMaxWorkers) {
                return usage(QCoreApplication::translate(
                                 "main", "--workers must be \"auto\" or 0..%1, not '%2'.")
                                 .arg(kMaxWorkers)
                                 .arg(parser.value(QStringLiteral("workers"))));
            }
            request.workers = workers;
        }
        if (parser.isSet(QStringLiteral("wakeup"))) {
            request.wakeup = parser.value(QStringLiteral("wakeup"));
            if (!hex::server::compute::parseWakeMethod(request.wakeup)) {
                return usage(QCoreApplication::translate(
                                 "main", "--wakeup must be futex, eventfd or signal, not '%1'.")
                                 .arg(request.wakeup));
            }
        }
        return runSimulate(request, *location, out, err);
    }
    WorldCatalog catalog(*location);
    if (command == QStringLiteral("list")) {
        if (positional.size() != 1)
            return usage(QCoreApplication::translate("main", "'list' takes no arguments."));
        const auto worlds = catalog.list();
        if (!worlds)
            return fail(worlds.error());
        if (worlds->empty()) {
            out << QCoreApplication::translate("main", "No worlds in %1.").arg(location->describe())
                << '\n';
            return 0;
        }
        const QStringList header{QCoreApplication::translate("main", "NAME"),
                                 QCoreApplication::translate("main", "SIZE n"),
                                 QCoreApplication::translate("main", "SEED"),
                                 QCoreApplication::translate("main", "TICK"),
                                 QCoreApplication::translate("main", "PLAYERS"),
                                 QCoreApplication::translate("main", "UPDATED"),
                                 QCoreApplication::translate("main", "ON DISK")};
        std::vector<QStringList> table{header};
        std::vector<QString> problems;
        for (const WorldSummary &world : *worlds) {
            if (!world.problem.isEmpty()) {
                table.push_back({world.name, QStringLiteral("-"), QStringLiteral("-"),
                                 QStringLiteral("-"), QStringLiteral("-"), QStringLiteral("-"),
                                 humanBytes(world.bytes)});
                problems.push_back(world.problem);
                continue;
            }
            table.push_back({world.name, QString::number(world.subdivisions),
                             QString::number(world.seed), QString::number(world.tick),
                             QString::number(world.players),
                             world.updatedAt.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                                 + QStringLiteral(" UTC"),
                             humanBytes(world.bytes)});
        }
        std::vector<qsizetype> widths(header.size(), 0);
        for (const QStringList &row : table) {
            for (qsizetype i = 0; i < row.size(); ++i)
                widths[i] = std::max(widths[i], row[i].size());
        }
        for (const QStringList &row : table) {
            QString line;
            for (qsizetype i = 0; i < row.size(); ++i) {
                // Names and dates to the left, numbers to the right.
                const bool left = i == 0 || i == 5;
                line += left ? row[i].leftJustified(widths[i]) : row[i].rightJustified(widths[i]);
                if (i + 1 < row.size())
                    line += QStringLiteral("  ");
            }
            out << line.trimmed() << '\n';
        }
        for (const QString &problem : problems)
            out << QCoreApplication::translate("main", "Cannot read: %1").arg(problem) << '\n';
        return 0;
    }
    if (command == QStringLiteral("branch")) {
        if (positional.size() != 3)
            return usage(
                QCoreApplication::translate("main", "'branch' takes a SOURCE and a TARGET world."));
        const auto done = catalog.branch(positional[1], positional[2]);
        if (!done)
            return fail(done.error());
        out << QCoreApplication::translate("main", "Branched '%1' to '%2'.")
                   .arg(positional[1], positional[2])
            << '\n';
        return 0;
    }
    if (command == QStringLiteral("delete")) {
        if (positional.size() != 2)
            return usage(
                QCoreApplication::translate("main", "'delete' takes the NAME of one world."));
        const auto done = catalog.remove(positional[1]);
        if (!done)
            return fail(done.error());
        out << QCoreApplication::translate("main", "Deleted the world '%1'.").arg(positional[1])
            << '\n';
        return 0;
    }
    return usage(QCoreApplication::translate("main", "Unknown command '%1'.").arg(command));
}

} // namespace

int main(int argc, char *argv[])
{
    // The main thread's event loop runs on epoll: Qt's own dispatchers poll every
    // socket on every turn, which costs more with each client. HEX_EVENT_DISPATCHER=qt
    // falls back to Qt's own (without glib, cheaper per turn than glib's).
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    if (qgetenv("HEX_EVENT_DISPATCHER") != "qt") {
        auto *dispatcher = new EpollEventDispatcher;
        if (dispatcher->isValid())
            QCoreApplication::setEventDispatcher(dispatcher);
        else
            delete dispatcher;
    }
    raiseDescriptorLimit();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hexsphere-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HEX_VERSION));
    // English or French, before any translated text (the options' help) is built.
    if (!hex::i18n::installTranslators(app, hex::i18n::languageFromArguments(app.arguments())))
        QTextStream(stderr) << "hexsphere-server: the translations are missing\n";
    // "hexsphere-server world ...": manage the kept worlds, then exit.
    if (argc > 1 && qstrcmp(argv[1], "world") == 0)
        return runWorldCommand(QCoreApplication::arguments());

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere dedicated server: ticks a world and serves it over WebSocket.\n"
                "Saved worlds: hexsphere-server world list | branch SOURCE TARGET | delete NAME "
                "| simulate NAME TICKS (see hexsphere-server world --help)."));
    parser.addHelpOption();
    parser.addVersionOption();
    addServerOptions(parser);
    parser.addOption(languageOption());
    parser.process(app);
    if (const QString problem = languageProblem(parser); !problem.isEmpty()) {
        QTextStream(stderr) << "hexsphere-server: " << problem << '\n'
                            << QCoreApplication::translate("main", "Try --help.") << '\n';
        return 2;
    }

    QTextStream err(stderr);
    QStringList problems;
    const auto config = serverConfigFromParser(parser, &problems);
    if (!config) {
        for (const QString &p : problems)
            err << "hexsphere-server: " << p << '\n';
        err << QCoreApplication::translate("main", "Try --help.") << '\n';
        return 2;
    }

    GameServer server(*config);
    if (!server.start()) {
        err << "hexsphere-server: " << server.errorString() << '\n';
        return 1;
    }

    UnixSignalWatcher signalWatcher({SIGINT, SIGTERM});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::signalled, &app, [&](int number) {
        err << "hexsphere-server: "
            << QCoreApplication::translate("main", "signal %1 received, stopping").arg(number)
            << '\n';
        err.flush();
        server.stop();
        app.quit();
    });

    // One line tests and scripts can parse: the addresses clients connect to, one port.
    QTextStream out(stdout);
    const QString host = config->bindAddress == QHostAddress::Any ? QStringLiteral("0.0.0.0")
                                                                  : config->bindAddress.toString();
    out << "hexsphere-server: listening on ws://" << host << ':' << server.port()
        << "/ws and http://" << host << ':' << server.port() << "/api/v1 (world '"
        << config->worldName << "', n=" << config->subdivisions << ", "
        << hex::geometry::HexSphere::cellCountFor(config->subdivisions) << " cells, " << config->ups
        << " UPS)" << Qt::endl;

    return app.exec();
}
