#pragma once

#include "i18n/language.h"
#include "serverconfig.h"

#include <QCoreApplication>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

class QCommandLineParser;

namespace hex::client {

/// How the client gets a server to play on.
enum class ClientMode {
    /// Start the server library in-process and join it over WebSocket.
    Host,
    /// Join a remote server at a ws:// or wss:// URL.
    Connect,
};

/// The languages the client ships translations for.
using Language = i18n::Language;

/// Everything `hexsphere` is started with, read from its command line.
struct ClientOptions
{
    Q_DECLARE_TR_FUNCTIONS(hex::client::ClientOptions)

public:
    ClientMode mode = ClientMode::Host;
    /// True when --host or --connect was given: the client goes straight into the
    /// game. Without either it shows the Start screen.
    bool modeChosen = false;
    /// The server to join in Connect mode.
    QUrl serverUrl;
    /// The server to start in Host mode: port 0 and localhost unless the user chose.
    server::ServerConfig hostConfig;
    /// The name the player joins as; never empty.
    QString playerName;
    Language language = Language::English;
    /// Where to save a PNG of the main window; empty for none. Needs quitAfterSeconds.
    QString screenshotPath;
    /// Quit (after the screenshot, if any) this many seconds after start; > 0.
    std::optional<double> quitAfterSeconds;

    /// Adds every client option, the server ones included, with translated
    /// descriptions: install the translator first.
    static void addTo(QCommandLineParser &parser);
    /// Reads the options after parser.process(). Returns them, or nullopt with every
    /// problem in `errors` (one sentence each).
    static std::optional<ClientOptions> fromParser(const QCommandLineParser &parser,
                                                   QStringList *errors);
    /// The player's name when none is chosen: the user's login name, else "Player".
    static QString defaultPlayerName();
};

} // namespace hex::client
