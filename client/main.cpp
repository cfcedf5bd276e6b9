// hexsphere: the desktop client. Hosts a game in-process or joins a server, and shows
// the planet in 3D.
#include "app/clientoptions.h"
#include "app/displaycheck.h"
#include "app/hostedserver.h"
#include "net/serverconnection.h"
#include "ui/mainwindow.h"
#include "ui/timedscreenshot.h"

#include "geometry/hexsphere.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QLibraryInfo>
#include <QLocale>
#include <QTextStream>
#include <QTranslator>
#include <QUrl>

#include <cstdio>
#include <vector>

using namespace hex::client;

namespace {

/// Installs Qt's own translations and the client's for `language`, before any
/// translated text is built.
void installTranslators(QCoreApplication &app, Language language)
{
    const QString code = ClientOptions::languageCode(language);
    auto *qtTranslator = new QTranslator(&app);
    if (qtTranslator->load(QLocale(code), QStringLiteral("qtbase"), QStringLiteral("_"),
                           QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(qtTranslator);
    auto *translator = new QTranslator(&app);
    if (translator->load(QStringLiteral(":/i18n/hexsphere_") + code))
        QCoreApplication::installTranslator(translator);
    else
        std::fprintf(stderr, "hexsphere: translation '%s' is missing\n", qPrintable(code));
}

void setUpParser(QCommandLineParser &parser)
{
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere: build factories on a living hexagonal planet. Without options, "
                "hosts a private game and joins it."));
    // Our own -h/--help: Qt's French catalogue leaves its help option in English.
    parser.addOption({{QStringLiteral("h"), QStringLiteral("help")},
                      QCoreApplication::translate("main", "Show this help and exit.")});
    parser.addVersionOption();
    ClientOptions::addTo(parser);
}

/// parser.process(), then the help if it was asked for (exits).
void processArguments(QCommandLineParser &parser, const QCoreApplication &app)
{
    parser.process(app);
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
}

void setUpApplication()
{
    QCoreApplication::setApplicationName(QStringLiteral("hexsphere"));
    QCoreApplication::setOrganizationName(QStringLiteral("Hexsphere"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HEX_VERSION));
}

bool asksForHelpOrVersion(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray argument(argv[i]);
        if (argument == "-h" || argument == "--help" || argument == "-v" || argument == "--version")
            return true;
    }
    return false;
}

/// QGuiApplication takes "-name X" and "--name X" for itself (the X11 resource name) and
/// drops them before our parser runs: glue the player's name as "--name=X", which Qt
/// leaves alone. Returns the rewritten arguments.
std::vector<QByteArray> protectNameOption(int argc, char **argv)
{
    std::vector<QByteArray> arguments;
    for (int i = 0; i < argc; ++i) {
        const QByteArray argument(argv[i]);
        if (i > 0 && (argument == "--name" || argument == "-name") && i + 1 < argc) {
            arguments.push_back("--name=" + QByteArray(argv[++i]));
            continue;
        }
        arguments.push_back(argument);
    }
    return arguments;
}

/// Without a display the window cannot open: say so in one line (or print the help
/// that was asked for) and return the exit code.
int runWithoutDisplay(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    setUpApplication();
    installTranslators(app, ClientOptions::languageFromArguments(app.arguments()));
    if (asksForHelpOrVersion(argc, argv)) {
        QCommandLineParser parser;
        setUpParser(parser);
        processArguments(parser, app); // Prints the help or version and exits.
    }
    std::fprintf(stderr, "%s\n", qPrintable(DisplayCheck::noDisplayMessage()));
    return 2;
}

} // namespace

int main(int argc, char *argv[])
{
    if (!DisplayCheck::displayAvailable(DisplayCheck::platformArgument(argc, argv)))
        return runWithoutDisplay(argc, argv);

    // Qt3D's OpenGL renderer works with every GL driver we meet, llvmpipe included;
    // the user may still choose another.
    if (qEnvironmentVariableIsEmpty("QT3D_RENDERER"))
        qputenv("QT3D_RENDERER", "opengl");

    std::vector<QByteArray> arguments = protectNameOption(argc, argv);
    std::vector<char *> argumentPointers;
    argumentPointers.reserve(arguments.size() + 1);
    for (QByteArray &argument : arguments)
        argumentPointers.push_back(argument.data());
    argumentPointers.push_back(nullptr);
    int argumentCount = int(arguments.size());

    QApplication app(argumentCount, argumentPointers.data());
    setUpApplication();
    QGuiApplication::setApplicationDisplayName(QCoreApplication::translate("main", "Hexsphere"));
    installTranslators(app, ClientOptions::languageFromArguments(app.arguments()));

    QCommandLineParser parser;
    setUpParser(parser);
    processArguments(parser, app);

    QStringList problems;
    const std::optional<ClientOptions> options = ClientOptions::fromParser(parser, &problems);
    QTextStream err(stderr);
    if (!options) {
        for (const QString &problem : problems)
            err << "hexsphere: " << problem << '\n';
        err << QCoreApplication::translate("main", "Try --help.") << '\n';
        return 1;
    }

    HostedServer hostedServer;
    ServerConnection connection;
    MainWindow window(&connection);
    window.show();

    if (options->mode == ClientMode::Host) {
        QObject::connect(&hostedServer, &HostedServer::started, &connection,
                         [&connection, &hostedServer, name = options->playerName] {
                             // The same WebSocket path any remote player takes.
                             connection.open(hostedServer.joinUrl(), name);
                         });
        QObject::connect(
            &hostedServer, &HostedServer::failed, &window, [&window](const QString &reason) {
                window.showConnectionStatus(
                    QCoreApplication::translate("main", "Could not start the server: %1")
                        .arg(reason));
            });
        const int cells
            = int(hex::geometry::HexSphere::cellCountFor(options->hostConfig.subdivisions));
        window.showConnectionStatus(QCoreApplication::translate(
            "main", "Starting a server for a world of %n cells…", nullptr, cells));
        hostedServer.start(options->hostConfig);
    } else {
        connection.open(options->serverUrl, options->playerName);
    }

    TimedScreenshot timedScreenshot(&window, options->screenshotPath);
    QObject::connect(&timedScreenshot, &TimedScreenshot::finished, &app,
                     [&err](int exitCode, const QString &message) {
                         if (!message.isEmpty())
                             err << "hexsphere: " << message << Qt::endl;
                         QCoreApplication::exit(exitCode);
                     });
    if (options->quitAfterSeconds)
        timedScreenshot.start(*options->quitAfterSeconds);

    return app.exec();
}
