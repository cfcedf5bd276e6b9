// hexsphere-server: the dedicated, headless server.
#include "app/epolldispatcher.h"
#include "gameserver.h"
#include "persistence/worldstore.h"
#include "serverconfig.h"
#include "unixsignalwatcher.h"

#include "geometry/hexsphere.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <algorithm>
#include <csignal>
#include <cstdio>

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

/// `hexsphere-server world list|branch SOURCE TARGET|delete NAME [--database D]`: manages
/// the worlds a server keeps. 0 on success; 1 with one line on stderr otherwise.
int runWorldCommand(const QStringList &arguments)
{
    using namespace hex::server::persistence;
    QTextStream out(stdout);
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Lists, branches and deletes the worlds a server keeps."));
    parser.addHelpOption();
    parser.addOption(
        {QStringLiteral("database"),
         QCoreApplication::translate(
             "main", "Where worlds are kept: a directory of SQLite files (\"sqlite:DIR\" or a "
                     "path) or \"postgresql://user:password@host:port/database\" (default: "
                     "SQLite files in %1).")
             .arg(StoreLocation::defaultSqliteDirectory()),
         QCoreApplication::translate("main", "url")});
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
    QStringList args = arguments;
    args.removeAt(1);
    // One line on stderr, whatever went wrong.
    const auto usage = [&](const QString &problem) {
        err << "hexsphere-server world: " << problem << ' '
            << QCoreApplication::translate(
                   "main",
                   "Usage: hexsphere-server world list | branch SOURCE TARGET | delete NAME "
                   "[--database URL]")
            << '\n';
        return 1;
    };
    if (!parser.parse(args))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        // The usage line names the subcommand, as if it were a program of its own.
        QStringList help = parser.helpText().split(QLatin1Char('\n'));
        help.first() = QCoreApplication::translate(
            "main", "Usage: hexsphere-server world [options] list | branch SOURCE TARGET "
                    "| delete NAME");
        out << help.join(QLatin1Char('\n')) << '\n';
        return 0;
    }
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
    WorldCatalog catalog(*location);
    const QString command = positional.first();
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
    // "hexsphere-server world ...": manage the kept worlds, then exit.
    if (argc > 1 && qstrcmp(argv[1], "world") == 0)
        return runWorldCommand(QCoreApplication::arguments());

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere dedicated server: ticks a world and serves it over WebSocket.\n"
                "Saved worlds: hexsphere-server world list | branch SOURCE TARGET | delete NAME "
                "(see hexsphere-server world --help)."));
    parser.addHelpOption();
    parser.addVersionOption();
    addServerOptions(parser);
    parser.process(app);

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
