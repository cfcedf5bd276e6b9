// hexsphere-server: the dedicated, headless server.
#include "app/epolldispatcher.h"
#include "gameserver.h"
#include "serverconfig.h"
#include "unixsignalwatcher.h"

#include "geometry/hexsphere.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

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

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere dedicated server: ticks a world and serves it over WebSocket."));
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
