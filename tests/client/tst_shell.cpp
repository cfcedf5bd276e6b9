// The client's shell: the Host dialog's checks and the ServerConfig it makes, the Join
// dialog's server list and addresses, the settings and their dialog, and the Start
// screen → host → game → leave flow (that one only under X: Qt3D cannot show a window
// on the offscreen platform). Settings live in a temporary file, never the user's.
#include "app/hostedserver.h"
#include "app/settings.h"
#include "app/shell.h"
#include "net/serverlistmodel.h"
#include "render/glinfo.h"
#include "render/planetview.h"
#include "ui/builddock.h"
#include "ui/hostdialog.h"
#include "ui/joindialog.h"
#include "ui/mainwindow.h"
#include "ui/settingsdialog.h"
#include "ui/startscreen.h"

#include <Qt3DExtras/Qt3DWindow>

#include <QAction>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QComboBox>
#include <QGuiApplication>
#include <QKeyEvent>
#include <QKeySequenceEdit>
#include <QLineEdit>
#include <QMenu>
#include <QProgressDialog>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <algorithm>

using namespace hex::client;

class tst_Shell : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void hostDialogValidation_data();
    void hostDialogValidation();
    void hostDialogMakesConfig_data();
    void hostDialogMakesConfig();
    void savedWorldsAreListed();
    void newWorldNeedsAFreeName();
    void withoutAStoreNothingToContinue();

    void addressToUrl_data();
    void addressToUrl();
    void badAddressIsRefused_data();
    void badAddressIsRefused();
    void joinDialogShowsServers();
    void choosingRowGivesItsUrl();
    void typedAddressGivesUrl();

    void settingsDefaults();
    void settingsRoundTrip();
    void automaticMsaa_data();
    void automaticMsaa();
    void settingsDialogRoundTrip();
    void settingsDialogRefusesDuplicateKeys();

    void startScreenQuits();
    void hostLeaveAndReturn();
    void cancelWhileStarting();

private:
    QString settingsFile(const QString &name) const { return m_dir.filePath(name); }
    QTemporaryDir m_dir;
};

namespace {

ServerEntry entry(const char *address, quint16 port, const char *world, int players)
{
    ServerEntry server;
    server.address = QHostAddress(QLatin1String(address));
    server.port = port;
    server.worldName = QLatin1String(world);
    server.hostName = QStringLiteral("Ada");
    server.players = players;
    server.maxPlayers = 16;
    server.subdivisions = 16;
    server.pingMs = 3;
    server.lastSeen = QDateTime::currentDateTimeUtc();
    return server;
}

} // namespace

void tst_Shell::initTestCase()
{
    // Whatever asks QStandardPaths is kept away from the user's files too.
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

void tst_Shell::hostDialogValidation_data()
{
    QTest::addColumn<QString>("worldName");
    QTest::addColumn<QString>("seed");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("problem");

    QTest::newRow("the defaults can be hosted") << "Terra"
                                                << "42" << 7357 << "";
    QTest::newRow("port 0 picks any free port") << "Terra"
                                                << "42" << 0 << "";
    QTest::newRow("port 1024 is the first allowed") << "Terra"
                                                    << "42" << 1024 << "";
    QTest::newRow("a 64-character name is fine") << QString(64, 'x') << "1" << 7357 << "";
    QTest::newRow("an empty name is refused")
        << ""
        << "42" << 7357 << "The world name must be 1 to 64 characters.";
    QTest::newRow("a name of spaces is refused")
        << "   "
        << "42" << 7357 << "The world name must be 1 to 64 characters.";
    QTest::newRow("a 65-character name is refused")
        << QString(65, 'x') << "42" << 7357 << "The world name must be 1 to 64 characters.";
    QTest::newRow("port 80 needs privileges")
        << "Terra"
        << "42" << 80 << "The port must be 0 (any free port) or 1024 to 65535.";
    QTest::newRow("a seed must be a number")
        << "Terra"
        << "abc" << 7357 << "The seed must be a whole number from 0 to 18446744073709551615.";
}

void tst_Shell::hostDialogValidation()
{
    QFETCH(QString, worldName);
    QFETCH(QString, seed);
    QFETCH(int, port);
    QFETCH(QString, problem);

    HostDialog dialog(QStringLiteral("Ada"));
    dialog.worldNameEdit()->setText(worldName);
    dialog.seedEdit()->setText(seed);
    dialog.portSpin()->setValue(port);

    QCOMPARE(dialog.problemText(), problem);
    QCOMPARE(dialog.canHost(), problem.isEmpty());
    QCOMPARE(dialog.problems().isEmpty(), problem.isEmpty());
}

void tst_Shell::hostDialogMakesConfig_data()
{
    QTest::addColumn<bool>("lan");
    QTest::addColumn<QString>("password");
    QTest::newRow("private, no password") << false << "";
    QTest::newRow("visible on the LAN, with a password") << true << "s3cret";
}

void tst_Shell::hostDialogMakesConfig()
{
    QFETCH(bool, lan);
    QFETCH(QString, password);

    HostDialog dialog(QStringLiteral("Ada"));
    dialog.worldNameEdit()->setText(QStringLiteral("  Terra  "));
    dialog.seedEdit()->setText(QStringLiteral("18446744073709551615"));
    dialog.sizeSpin()->setValue(16);
    dialog.upsSpin()->setValue(30);
    dialog.portSpin()->setValue(0);
    dialog.lanCheck()->setChecked(lan);
    dialog.passwordEdit()->setText(password);
    QVERIFY2(dialog.canHost(), qPrintable(dialog.problemText()));

    const hex::server::ServerConfig config = dialog.config();
    QCOMPARE(config.worldName, QStringLiteral("Terra"));
    QCOMPARE(config.seed, std::uint64_t(18446744073709551615ULL));
    QCOMPARE(config.subdivisions, 16);
    QCOMPARE(config.ups, 30);
    QCOMPARE(config.port, quint16(0));
    QCOMPARE(config.announceOnLan, lan);
    QCOMPARE(config.bindAddress, QHostAddress(lan ? QHostAddress::Any : QHostAddress::LocalHost));
    QCOMPARE(config.hostName, QStringLiteral("Ada"));
    QCOMPARE(config.joinPassword, password);
}

namespace {

/// Saves an empty world record `name` in `location`, as a hosted game would.
bool saveWorld(const hex::server::persistence::StoreLocation &location, const QString &name,
               std::uint64_t seed, int subdivisions)
{
    QString error;
    auto store = hex::server::persistence::WorldStore::open(location, name,
                                                            QStringLiteral("tst_shell_") + name,
                                                            &error);
    if (!store) {
        qWarning().noquote() << error;
        return false;
    }
    return store->create({name, seed, subdivisions, QStringLiteral("test")});
}

hex::server::persistence::StoreLocation sqliteIn(const QString &directory)
{
    hex::server::persistence::StoreLocation location;
    location.kind = hex::server::persistence::StoreLocation::Kind::Sqlite;
    location.directory = directory;
    return location;
}

} // namespace

void tst_Shell::savedWorldsAreListed()
{
    QTemporaryDir worlds;
    const auto location = sqliteIn(worlds.path());
    QVERIFY(saveWorld(location, QStringLiteral("Terra"), 42, 8));
    QVERIFY(saveWorld(location, QStringLiteral("Luna"), 7, 12));
    // A damaged file is listed, so that the player knows, but cannot be chosen.
    QFile broken(worlds.filePath(QStringLiteral("Broken.hexworld")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write(QByteArray(4096, 'x'));
    broken.close();

    HostDialog dialog(QStringLiteral("Ada"), location);
    QVERIFY(dialog.continueWorldButton()->isEnabled());
    QCOMPARE(dialog.savedWorldList()->topLevelItemCount(), 3);
    QTreeWidgetItem *terra = nullptr;
    QTreeWidgetItem *damaged = nullptr;
    for (int row = 0; row < 3; ++row) {
        QTreeWidgetItem *item = dialog.savedWorldList()->topLevelItem(row);
        if (item->text(0) == QLatin1String("Terra"))
            terra = item;
        if (item->text(0) == QLatin1String("Broken"))
            damaged = item;
    }
    QVERIFY(terra);
    QVERIFY(damaged);
    QVERIFY(!(damaged->flags() & Qt::ItemIsSelectable));
    QVERIFY(damaged->toolTip(0).contains(QLatin1String("Broken.hexworld")));
    QVERIFY(terra->text(1).contains(QLatin1String("n=8")));
    // Choosing a saved world chooses to continue it: its own seed and size come with it.
    dialog.savedWorldList()->setCurrentItem(terra);
    // For people to look at: the dialog as a player sees it.
    QVERIFY(QDir().mkpath(QStringLiteral(HEX_ARTIFACTS_DIR)));
    QVERIFY(dialog.grab().save(QStringLiteral(HEX_ARTIFACTS_DIR "/host-dialog.png")));
    QVERIFY(dialog.continueWorldButton()->isChecked());
    QVERIFY(!dialog.worldNameEdit()->isEnabled());
    QVERIFY2(dialog.canHost(), qPrintable(dialog.problemText()));
    const hex::server::ServerConfig config = dialog.config();
    QCOMPARE(config.worldName, QStringLiteral("Terra"));
    QCOMPARE(config.seed, std::uint64_t(42));
    QCOMPARE(config.subdivisions, 8);
    QCOMPARE(config.store.kind, hex::server::persistence::StoreLocation::Kind::Sqlite);
    QCOMPARE(config.store.directory, worlds.path());

    // Continue with nothing chosen cannot host.
    dialog.savedWorldList()->clearSelection();
    QVERIFY(!dialog.canHost());
    QVERIFY(dialog.problemText().contains(QLatin1String("Choose the saved world")));
}

void tst_Shell::newWorldNeedsAFreeName()
{
    QTemporaryDir worlds;
    const auto location = sqliteIn(worlds.path());
    QVERIFY(saveWorld(location, QStringLiteral("New world"), 1, 4));

    HostDialog dialog(QStringLiteral("Ada"), location);
    // The name offered is free.
    QCOMPARE(dialog.worldNameEdit()->text(), QStringLiteral("New world 2"));
    QVERIFY2(dialog.canHost(), qPrintable(dialog.problemText()));
    dialog.worldNameEdit()->setText(QStringLiteral("new WORLD"));
    QVERIFY(!dialog.canHost());
    QVERIFY(dialog.problemText().contains(QLatin1String("already")));
    dialog.worldNameEdit()->setText(QStringLiteral(".hidden"));
    QVERIFY(!dialog.canHost());
    QVERIFY(dialog.problemText().contains(QLatin1String("may not start with")));
    dialog.worldNameEdit()->setText(QStringLiteral("Mars"));
    QVERIFY(dialog.canHost());
    QCOMPARE(dialog.config().worldName, QStringLiteral("Mars"));
    QCOMPARE(dialog.config().store.directory, worlds.path());
}

void tst_Shell::withoutAStoreNothingToContinue()
{
    HostDialog dialog(QStringLiteral("Ada"), hex::server::persistence::StoreLocation{});
    QVERIFY(!dialog.continueWorldButton()->isEnabled());
    QCOMPARE(dialog.savedWorldList()->topLevelItemCount(), 0);
    QVERIFY(dialog.canHost());
    QCOMPARE(dialog.config().store.kind, hex::server::persistence::StoreLocation::Kind::None);
}

void tst_Shell::addressToUrl_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QUrl>("url");

    QTest::newRow("a host name gets port 7357")
        << "example.org" << QUrl("ws://example.org:7357/ws");
    QTest::newRow("host:port") << "example.org:8000" << QUrl("ws://example.org:8000/ws");
    QTest::newRow("an IPv4 address") << "192.168.1.5" << QUrl("ws://192.168.1.5:7357/ws");
    QTest::newRow("spaces around are ignored")
        << "  10.0.0.2:9000 " << QUrl("ws://10.0.0.2:9000/ws");
    QTest::newRow("a bare IPv6 address") << "::1" << QUrl("ws://[::1]:7357/ws");
    QTest::newRow("[IPv6]:port") << "[::1]:8000" << QUrl("ws://[::1]:8000/ws");
    QTest::newRow("a ws:// URL is kept")
        << "ws://example.org:9/ws" << QUrl("ws://example.org:9/ws");
    QTest::newRow("a ws:// URL without port or path")
        << "ws://example.org" << QUrl("ws://example.org:7357/ws");
    QTest::newRow("a wss:// URL keeps its default port")
        << "wss://example.org/game" << QUrl("wss://example.org/game");
}

void tst_Shell::addressToUrl()
{
    QFETCH(QString, address);
    QFETCH(QUrl, url);
    QString error;
    const std::optional<QUrl> result = JoinDialog::urlFromAddress(address, &error);
    QVERIFY2(result, qPrintable(error));
    QCOMPARE(*result, url);
}

void tst_Shell::badAddressIsRefused_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("error");

    QTest::newRow("nothing") << ""
                             << "Choose a server in the list or type its address.";
    QTest::newRow("an http:// URL") << "http://example.org"
                                    << "A server address is host, host:port or a ws:// or wss:// "
                                       "URL, not “http://example.org”.";
    QTest::newRow("a port that is not a number")
        << "example.org:abc"
        << "A server address is host, host:port or a ws:// or wss:// URL, not “example.org:abc”.";
    QTest::newRow("port 0") << "example.org:0"
                            << "The port in “example.org:0” must be 1 to 65535.";
    QTest::newRow("a path without scheme")
        << "example.org/ws"
        << "A server address is host, host:port or a ws:// or wss:// URL, not “example.org/ws”.";
}

void tst_Shell::badAddressIsRefused()
{
    QFETCH(QString, address);
    QFETCH(QString, error);
    QString reason;
    QVERIFY(!JoinDialog::urlFromAddress(address, &reason));
    QCOMPARE(reason, error);
}

void tst_Shell::joinDialogShowsServers()
{
    ServerListModel servers;
    servers.upsert(entry("192.168.1.20", 7357, "Beta", 2));
    servers.upsert(entry("192.168.1.10", 7400, "Alpha", 1));
    JoinDialog dialog(&servers, QStringLiteral("Ada"), QString());

    QCOMPARE(dialog.serverView()->model(), static_cast<QAbstractItemModel *>(&servers));
    QCOMPARE(dialog.serverView()->model()->rowCount(), 2);
    for (int row = 0; row < 2; ++row) {
        const QModelIndex world = dialog.serverView()->model()->index(row, ServerListModel::World);
        QCOMPARE(world.data().toString(), servers.entry(row).worldName);
    }
    // Rows LanDiscovery adds later show up too.
    servers.upsert(entry("192.168.1.30", 7357, "Gamma", 0));
    QCOMPARE(dialog.serverView()->model()->rowCount(), 3);
    // Nothing chosen, nothing typed: nothing to join yet.
    QVERIFY(!dialog.canJoin());
}

void tst_Shell::choosingRowGivesItsUrl()
{
    ServerListModel servers;
    servers.upsert(entry("192.168.1.20", 7357, "Beta", 2));
    servers.upsert(entry("192.168.1.10", 7400, "Alpha", 1));
    JoinDialog dialog(&servers, QStringLiteral("Ada"), QString());
    const int alpha = servers.rowOf(QHostAddress(QStringLiteral("192.168.1.10")), 7400);
    QVERIFY(alpha >= 0);

    // A click on the row, as the player does.
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTableView *view = dialog.serverView();
    const QRect cell = view->visualRect(view->model()->index(alpha, ServerListModel::World));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, cell.center());

    QVERIFY2(dialog.canJoin(), qPrintable(dialog.problemText()));
    QCOMPARE(dialog.addressEdit()->text(), QStringLiteral("192.168.1.10:7400"));
    const JoinRequest request = dialog.request();
    QCOMPARE(request.url, QUrl(QStringLiteral("ws://192.168.1.10:7400/ws")));
    QCOMPARE(request.url, servers.entry(alpha).url());
    QCOMPARE(request.join.playerName, QStringLiteral("Ada"));

    const int beta = 1 - alpha;
    dialog.chooseRow(beta);
    QCOMPARE(dialog.request().url, servers.entry(beta).url());
}

void tst_Shell::typedAddressGivesUrl()
{
    ServerListModel servers;
    JoinDialog dialog(&servers, QStringLiteral("Ada"), QStringLiteral("example.org"));
    QVERIFY(dialog.canJoin());
    QCOMPARE(dialog.request().url, QUrl(QStringLiteral("ws://example.org:7357/ws")));

    dialog.addressEdit()->setText(QStringLiteral("http://example.org"));
    QVERIFY(!dialog.canJoin());
    QVERIFY(dialog.problemText().contains(QLatin1String("ws://")));

    dialog.addressEdit()->setText(QStringLiteral("example.org:9000"));
    dialog.nameEdit()->setText(QStringLiteral("  Grace "));
    dialog.accountPasswordEdit()->setText(QStringLiteral("account-pw"));
    dialog.serverPasswordEdit()->setText(QStringLiteral("server-pw"));
    QVERIFY(dialog.canJoin());
    const JoinRequest request = dialog.request();
    QCOMPARE(request.url, QUrl(QStringLiteral("ws://example.org:9000/ws")));
    QCOMPARE(request.join.playerName, QStringLiteral("Grace"));
    QCOMPARE(request.join.accountPassword, QStringLiteral("account-pw"));
    QCOMPARE(request.join.serverPassword, QStringLiteral("server-pw"));

    dialog.nameEdit()->clear();
    QVERIFY(!dialog.canJoin());
    QCOMPARE(dialog.problemText(), QStringLiteral("Your name must be 1 to 32 characters."));
}

void tst_Shell::settingsDefaults()
{
    const Settings settings(settingsFile(QStringLiteral("defaults.ini")));
    QCOMPARE(settings.playerName(), ClientOptions::defaultPlayerName());
    QCOMPARE(settings.msaaSamples(), Settings::kMsaaAutomatic);
    QCOMPARE(settings.vsync(), true);
    QCOMPARE(settings.defaultServer(), QString());
    QCOMPARE(settings.keyBinding(KeyAction::RotateStructure), QKeySequence(Qt::Key_R));
    QCOMPARE(settings.keyBinding(KeyAction::GameMenu), QKeySequence(Qt::Key_Escape));
    QCOMPARE(settings.keyBinding(KeyAction::Chat), QKeySequence(Qt::Key_T));
    QCOMPARE(settings.keyBinding(KeyAction::CameraLeft), QKeySequence(Qt::Key_A));
    for (const KeyAction action : Settings::keyActions()) {
        QVERIFY(!Settings::actionLabel(action).isEmpty());
        QVERIFY(!Settings::defaultKeys(action).isEmpty());
    }
}

void tst_Shell::settingsRoundTrip()
{
    const QString file = settingsFile(QStringLiteral("roundtrip.ini"));
    {
        Settings settings(file);
        settings.setPlayerName(QStringLiteral(" Ada "));
        settings.setLanguage(Language::French);
        settings.setMsaaSamples(8);
        settings.setVsync(false);
        settings.setKeyBinding(KeyAction::Chat, QKeySequence(Qt::Key_Return));
        settings.setKeyBinding(KeyAction::RotateStructure, QKeySequence(Qt::Key_E));
        settings.setDefaultServer(QStringLiteral("example.org:9000"));
        settings.sync();
    }
    Settings settings(file);
    QCOMPARE(settings.playerName(), QStringLiteral("Ada"));
    QCOMPARE(settings.language(), Language::French);
    QCOMPARE(settings.msaaSamples(), 8);
    QCOMPARE(settings.vsync(), false);
    QCOMPARE(settings.keyBinding(KeyAction::Chat), QKeySequence(Qt::Key_Return));
    QCOMPARE(settings.keyBinding(KeyAction::RotateStructure), QKeySequence(Qt::Key_E));
    QCOMPARE(settings.keyBinding(KeyAction::ZoomIn), QKeySequence(Qt::Key_Plus));
    QCOMPARE(settings.defaultServer(), QStringLiteral("example.org:9000"));

    // An empty binding restores the default; a bad stored value reads as the default.
    settings.setKeyBinding(KeyAction::Chat, QKeySequence());
    QCOMPARE(settings.keyBinding(KeyAction::Chat), QKeySequence(Qt::Key_T));
    settings.setMsaaSamples(3);
    QCOMPARE(settings.msaaSamples(), Settings::kMsaaAutomatic);
}

void tst_Shell::automaticMsaa_data()
{
    QTest::addColumn<QString>("renderer");
    QTest::addColumn<bool>("software");
    QTest::newRow("Mesa llvmpipe") << QStringLiteral("llvmpipe (LLVM 15.0.6, 256 bits)") << true;
    QTest::newRow("Mesa softpipe") << QStringLiteral("softpipe") << true;
    QTest::newRow("Mesa swrast") << QStringLiteral("Mesa X11 swrast") << true;
    QTest::newRow("a software rasterizer") << QStringLiteral("Software Rasterizer") << true;
    QTest::newRow("Intel") << QStringLiteral("Mesa Intel(R) UHD Graphics 620 (KBL GT2)") << false;
    QTest::newRow("NVIDIA") << QStringLiteral("NVIDIA GeForce RTX 3060/PCIe/SSE2") << false;
    QTest::newRow("AMD") << QStringLiteral("AMD Radeon RX 6600 (navi23, LLVM 15.0.6, DRM 3.49)")
                         << false;
    QTest::newRow("no context") << QString() << false;
}

void tst_Shell::automaticMsaa()
{
    QFETCH(QString, renderer);
    QFETCH(bool, software);
    QCOMPARE(isSoftwareRenderer(renderer), software);
    // Automatic: off on a software rasteriser, 4 samples on a graphics card; a choice
    // the player made is kept either way.
    QCOMPARE(Settings::effectiveMsaaSamples(Settings::kMsaaAutomatic, software), software ? 0 : 4);
    for (const int samples : {0, 2, 4, 8})
        QCOMPARE(Settings::effectiveMsaaSamples(samples, software), samples);
}

void tst_Shell::settingsDialogRoundTrip()
{
    const QString file = settingsFile(QStringLiteral("dialog.ini"));
    Settings settings(file);
    settings.setPlayerName(QStringLiteral("Ada"));
    {
        SettingsDialog dialog(&settings);
        QCOMPARE(dialog.nameEdit()->text(), QStringLiteral("Ada"));
        QCOMPARE(dialog.msaaCombo()->currentData().toInt(), Settings::kMsaaAutomatic);
        QCOMPARE(dialog.msaaCombo()->currentText(), QStringLiteral("Automatic"));
        QVERIFY(dialog.vsyncCheck()->isChecked());
        QCOMPARE(dialog.keyEdit(KeyAction::GameMenu)->keySequence(), QKeySequence(Qt::Key_Escape));
        QCOMPARE(dialog.keyTable()->rowCount(), int(Settings::keyActions().size()));

        dialog.nameEdit()->setText(QStringLiteral("Grace"));
        dialog.languageCombo()->setCurrentIndex(
            dialog.languageCombo()->findData(int(Language::French)));
        dialog.msaaCombo()->setCurrentIndex(dialog.msaaCombo()->findData(0));
        dialog.vsyncCheck()->setChecked(false);
        dialog.keyEdit(KeyAction::Chat)->setKeySequence(QKeySequence(Qt::Key_Y));
        dialog.defaultServerEdit()->setText(QStringLiteral("example.org"));
        QVERIFY2(dialog.apply(), qPrintable(dialog.problemText()));
    }
    const Settings reread(file);
    QCOMPARE(reread.playerName(), QStringLiteral("Grace"));
    QCOMPARE(reread.language(), Language::French);
    QCOMPARE(reread.msaaSamples(), 0);
    QCOMPARE(reread.vsync(), false);
    QCOMPARE(reread.keyBinding(KeyAction::Chat), QKeySequence(Qt::Key_Y));
    QCOMPARE(reread.defaultServer(), QStringLiteral("example.org"));

    // A second dialog shows what the first saved.
    SettingsDialog again(&settings);
    QCOMPARE(again.nameEdit()->text(), QStringLiteral("Grace"));
    QCOMPARE(again.languageCombo()->currentData().toInt(), int(Language::French));
    QCOMPARE(again.keyEdit(KeyAction::Chat)->keySequence(), QKeySequence(Qt::Key_Y));
}

void tst_Shell::settingsDialogRefusesDuplicateKeys()
{
    Settings settings(settingsFile(QStringLiteral("duplicate.ini")));
    SettingsDialog dialog(&settings);
    dialog.keyEdit(KeyAction::Chat)->setKeySequence(QKeySequence(Qt::Key_R));
    QVERIFY(!dialog.apply());
    QCOMPARE(dialog.problemText(),
             QStringLiteral("“R” is bound to both “Rotate the structure under the mouse” and "
                            "“Chat”."));
    QCOMPARE(Settings(settingsFile(QStringLiteral("duplicate.ini"))).keyBinding(KeyAction::Chat),
             QKeySequence(Qt::Key_T));
}

void tst_Shell::startScreenQuits()
{
    Settings settings(settingsFile(QStringLiteral("quit.ini")));
    Shell shell(&settings);
    QSignalSpy quit(&shell, &Shell::quitRequested);
    shell.showStartScreen();
    QVERIFY(shell.startScreen()->isVisible());
    QVERIFY(!shell.gameWindow());
    shell.startScreen()->quitButton()->click();
    QCOMPARE(quit.size(), 1);
}

void tst_Shell::hostLeaveAndReturn()
{
    // CTest runs this case again under X (tst_shell_flow): Qt3D needs a real window.
    if (QGuiApplication::platformName() == QLatin1String("offscreen"))
        QSKIP("Qt3D cannot show the game window on the offscreen platform.");
    Settings settings(settingsFile(QStringLiteral("shell.ini")));
    settings.setPlayerName(QStringLiteral("Ada"));
    Shell shell(&settings);
    shell.showStartScreen();
    QVERIFY(shell.startScreen()->isVisible());

    // The hosted world is kept, as a player's would be, in a directory of the test's own.
    QTemporaryDir worlds;
    hex::server::ServerConfig config;
    config.worldName = QStringLiteral("Shell");
    config.subdivisions = 4;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    config.hostName = QStringLiteral("Ada");
    config.store = sqliteIn(worlds.path());
    shell.host(config);
    QVERIFY(shell.progressDialog());
    QVERIFY(shell.progressDialog()->labelText().contains(QLatin1String("Shell")));

    QTRY_VERIFY_WITH_TIMEOUT(shell.gameWindow(), 30'000);
    QVERIFY(!shell.progressDialog());
    QVERIFY(!shell.startScreen()->isVisible());
    QCOMPARE(shell.hostedServer().state(), HostedServer::State::Running);
    QTRY_COMPARE_WITH_TIMEOUT(shell.connection().state(), ServerConnection::State::Joined, 30'000);

    // Escape with a tool held puts the tool away; with none, it opens the game menu.
    MainWindow *window = shell.gameWindow();
    QWindow *view = window->planetView()->window3D();
    // The default MSAA setting (automatic) gave the 3D view the samples that suit this GL:
    // none under Xvfb's software rasteriser.
    const QString renderer = glRendererName();
    qInfo("GL renderer: %s; the game window's samples: %d", qPrintable(renderer),
          view->format().samples());
    QCOMPARE(std::max(0, view->format().samples()),
             Settings::effectiveMsaaSamples(Settings::kMsaaAutomatic, isSoftwareRenderer(renderer)));
    BuildTool claim;
    claim.kind = BuildTool::Kind::Claim;
    window->buildDock()->selectTool(claim);
    QKeyEvent escape(QEvent::KeyPress, Qt::Key_Escape, Qt::NoModifier);
    QCoreApplication::sendEvent(view, &escape);
    QCOMPARE(window->buildDock()->currentTool().kind, BuildTool::Kind::None);
    QVERIFY(!window->gameMenu()->isVisible());
    QCoreApplication::sendEvent(view, &escape);
    QTRY_VERIFY(window->gameMenu()->isVisible());

    QAction *leave = nullptr;
    for (QAction *action : window->gameMenu()->actions()) {
        if (action->text().contains(QLatin1String("Leave")))
            leave = action;
    }
    QVERIFY(leave);
    leave->trigger();
    QTRY_VERIFY(!shell.gameWindow());
    QVERIFY(shell.startScreen()->isVisible());
    QCOMPARE(shell.hostedServer().state(), HostedServer::State::Stopped);
    QCOMPARE(shell.connection().state(), ServerConnection::State::Disconnected);

    // Leaving saved the world where it was: the Host dialog offers to continue it.
    auto saved = hex::server::persistence::WorldCatalog(config.store).list();
    QVERIFY2(saved, saved ? "" : qPrintable(saved.error()));
    QCOMPARE(saved->size(), std::size_t(1));
    QCOMPARE(saved->front().name, QStringLiteral("Shell"));
    QVERIFY(saved->front().tick > 0);
    QCOMPARE(saved->front().players, 1);
}

void tst_Shell::cancelWhileStarting()
{
    Settings settings(settingsFile(QStringLiteral("cancel.ini")));
    Shell shell(&settings);
    shell.showStartScreen();

    hex::server::ServerConfig config;
    config.subdivisions = 64;
    config.port = 0;
    config.bindAddress = QHostAddress(QHostAddress::LocalHost);
    shell.host(config);
    QVERIFY(shell.progressDialog());
    auto *cancel = shell.progressDialog()->findChild<QPushButton *>();
    QVERIFY(cancel);
    cancel->click();

    QVERIFY(!shell.progressDialog());
    QVERIFY(!shell.gameWindow());
    QVERIFY(shell.startScreen()->isVisible());
    QCOMPARE(shell.hostedServer().state(), HostedServer::State::Stopped);
    // A late start report must not open a game.
    QTest::qWait(200);
    QVERIFY(!shell.gameWindow());
}

QTEST_MAIN(tst_Shell)
#include "tst_shell.moc"
