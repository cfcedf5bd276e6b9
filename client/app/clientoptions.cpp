#include "clientoptions.h"

#include <QCommandLineParser>
#include <QHostAddress>
#include <QLocale>

namespace hex::client {

namespace {

const QString kHost = QStringLiteral("host");
const QString kConnect = QStringLiteral("connect");
const QString kLan = QStringLiteral("lan");
const QString kName = QStringLiteral("name");
const QString kLang = QStringLiteral("lang");
const QString kScreenshot = QStringLiteral("screenshot");
const QString kQuitAfter = QStringLiteral("quit-after");

} // namespace

QString ClientOptions::defaultPlayerName()
{
    QString name = qEnvironmentVariable("USER").trimmed();
    if (name.isEmpty())
        name = qEnvironmentVariable("USERNAME").trimmed();
    return name.isEmpty() ? tr("Player") : name;
}

void ClientOptions::addTo(QCommandLineParser &parser)
{
    parser.addOptions({
        {kHost, tr("Host a game: start a server in this process and join it. Without --host or "
                   "--connect, the Start screen opens.")},
        {kConnect, tr("Join the server at this address, for instance ws://example.org:7357."),
         tr("url")},
        {kLan, tr("When hosting, accept players from the local network (listen on all interfaces "
                  "instead of this computer only).")},
        {kName, tr("Your player name (default: your user name)."), tr("name")},
        {kLang, tr("Language of the interface: en or fr (default: the system's, else en)."),
         tr("code")},
        {kScreenshot,
         tr("Save a PNG picture of the window to this file, then quit. Needs --quit-after."),
         tr("file")},
        {kQuitAfter,
         tr("Quit this many seconds after start (fractions allowed), after taking the "
            "screenshot if one was asked for."),
         tr("seconds")},
    });
    server::addServerOptions(parser);
}

std::optional<ClientOptions> ClientOptions::fromParser(const QCommandLineParser &parser,
                                                       QStringList *errors)
{
    ClientOptions options;
    QStringList problems;

    if (!parser.positionalArguments().isEmpty())
        problems << tr("Unexpected argument \"%1\".").arg(parser.positionalArguments().first());

    options.modeChosen = parser.isSet(kHost) || parser.isSet(kConnect);
    if (parser.isSet(kConnect)) {
        if (parser.isSet(kHost))
            problems << tr("--host and --connect exclude each other: choose one.");
        options.mode = ClientMode::Connect;
        const QUrl url(parser.value(kConnect), QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        if (!url.isValid() || (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))
            || url.host().isEmpty()) {
            problems << tr("--connect needs a ws:// or wss:// address such as "
                           "ws://example.org:7357, not \"%1\".")
                            .arg(parser.value(kConnect));
        }
        options.serverUrl = url;
    }

    QStringList serverProblems;
    if (auto config = server::serverConfigFromParser(parser, &serverProblems)) {
        options.hostConfig = *config;
        // A hosted game picks a free port and stays private unless told otherwise.
        if (!parser.isSet(QStringLiteral("port")))
            options.hostConfig.port = 0;
        if (!parser.isSet(QStringLiteral("bind"))) {
            options.hostConfig.bindAddress = parser.isSet(kLan)
                                                 ? QHostAddress(QHostAddress::Any)
                                                 : QHostAddress(QHostAddress::LocalHost);
        }
    } else {
        problems << serverProblems;
    }

    options.playerName = parser.isSet(kName) ? parser.value(kName).trimmed() : defaultPlayerName();
    if (options.playerName.isEmpty() || options.playerName.size() > 32)
        problems << tr("--name must be 1 to 32 characters.");
    // A game open to the LAN says so: others find it in Join, under the host's name.
    if (parser.isSet(kLan)) {
        options.hostConfig.announceOnLan = true;
        options.hostConfig.hostName = options.playerName;
    }

    if (parser.isSet(kLang)) {
        if (const auto language = i18n::languageFromCode(parser.value(kLang)))
            options.language = *language;
        else
            problems << tr("--lang must be en or fr, not \"%1\".").arg(parser.value(kLang));
    } else {
        options.language = i18n::languageFromArguments({});
    }

    if (parser.isSet(kQuitAfter)) {
        bool ok = false;
        const double seconds = parser.value(kQuitAfter).toDouble(&ok);
        if (!ok || !(seconds > 0.0) || seconds > 24.0 * 3600.0)
            problems << tr("--quit-after must be a number of seconds above 0, not \"%1\".")
                            .arg(parser.value(kQuitAfter));
        else
            options.quitAfterSeconds = seconds;
    }
    if (parser.isSet(kScreenshot)) {
        options.screenshotPath = parser.value(kScreenshot);
        if (options.screenshotPath.isEmpty())
            problems << tr("--screenshot needs a file name.");
        if (!parser.isSet(kQuitAfter))
            problems << tr("--screenshot needs --quit-after to say when to take it.");
    }

    if (!problems.isEmpty()) {
        if (errors)
            *errors = problems;
        return std::nullopt;
    }
    return options;
}

} // namespace hex::client
