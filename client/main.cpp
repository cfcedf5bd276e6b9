// hexsphere: the desktop client. Hosts a game in-process or joins a server, and shows
// the planet in 3D.
#include "app/clientoptions.h"
#include "app/displaycheck.h"
#include "app/settings.h"
#include "app/shell.h"
#include "render/framepacer.h"
#include "render/glinfo.h"
#include "ui/mainwindow.h"
#include "ui/startscreen.h"
#include "ui/timedscreenshot.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QLibraryInfo>
#include <QLocale>
#include <QSurfaceFormat>
#include <QTextStream>
#include <QTimer>
#include <QTranslator>
#include <QUrl>

#include <cstdio>
#include <vector>

using namespace hex::client;

namespace {

/// Installs Qt's own translations and the client's for `language`, before any
/// translated text is built.
void installClientTranslators(QCoreApplication &app, Language language)
{
    if (!hex::i18n::installTranslators(app, language))
        std::fprintf(stderr, "hexsphere: translation '%s' is missing\n",
                     qPrintable(hex::i18n::languageCode(language)));
}

void setUpParser(QCommandLineParser &parser)
{
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "Hexsphere: build factories on a living hexagonal planet. Without --host or "
                "--connect, opens the Start screen."));
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

/// The default surface format from the graphics settings, for every 3D window created
/// later. (Qt3D's window sets its own samples; the Shell sets them there too.)
void applyGraphicsSettings(const Settings &settings)
{
    QSurfaceFormat format = QSurfaceFormat::defaultFormat();
    format.setSamples(Settings::effectiveMsaaSamples(settings.msaaSamples(),
                                                     isSoftwareRenderer(glRendererName())));
    format.setSwapInterval(settings.vsync() ? 1 : 0);
    QSurfaceFormat::setDefaultFormat(format);
}

/// --screenshot and --quit-after on the Start screen: saves a picture of it after
/// `seconds`, then quits with 0, or 1 when the picture could not be saved.
void quitFromStartScreen(StartScreen *screen, double seconds, const QString &path)
{
    QTimer::singleShot(qRound(seconds * 1000.0), screen, [screen, path] {
        if (!path.isEmpty() && !screen->grab().save(path, "PNG")) {
            std::fprintf(stderr, "hexsphere: %s\n",
                         qPrintable(QCoreApplication::translate(
                                        "main", "Could not save the screenshot to %1.")
                                        .arg(path)));
            QCoreApplication::exit(1);
            return;
        }
        QCoreApplication::exit(0);
    });
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
    installClientTranslators(app, hex::i18n::languageFromArguments(app.arguments()));
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
    // Frames start on even 16 ms deadlines, not up to a millisecond late as Qt's timers
    // would start them.
    const std::unique_ptr<FramePacer> pacer = FramePacer::installForThisThread();
    QGuiApplication::setApplicationDisplayName(QCoreApplication::translate("main", "Hexsphere"));
    Settings settings;
    // --lang wins over the language chosen in the Settings.
    installClientTranslators(
        app, hex::i18n::languageInArguments(app.arguments()).value_or(settings.language()));
    applyGraphicsSettings(settings);

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

    Shell shell(&settings);
    QObject::connect(&shell, &Shell::quitRequested, &app, &QCoreApplication::quit,
                     Qt::QueuedConnection);
    // LanDiscovery is to fill shell.serverList() once it exists.

    if (!options->modeChosen) {
        shell.showStartScreen();
        if (options->quitAfterSeconds)
            quitFromStartScreen(shell.startScreen(), *options->quitAfterSeconds,
                                options->screenshotPath);
        return app.exec();
    }

    if (options->mode == ClientMode::Host)
        shell.hostNow(options->hostConfig, options->playerName, Shell::AfterGame::Quit);
    else
        shell.joinNow(options->serverUrl, JoinOptions{options->playerName, {}, {}},
                      Shell::AfterGame::Quit);
    MainWindow *window = shell.gameWindow();

    TimedScreenshot timedScreenshot(window, options->screenshotPath);
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
