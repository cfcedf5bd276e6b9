// End to end: the real hexsphere executable hosts a small world, joins it, and saves a
// screenshot that must show the planet. Needs an X display (CTest wraps it in xvfb-run).
#include <QDir>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <deque>

namespace {

const QString kClient = QStringLiteral(HEX_BIN_DIR "/hexsphere");
const QString kArtifacts = QStringLiteral(HEX_ARTIFACTS_DIR);

/// What a screenshot shows, in numbers.
struct PictureStats
{
    double differentFromBackground = 0.0; ///< share of pixels unlike the backdrop
    int chromaticColours = 0;             ///< distinct coloured (non-grey) tones
};

/// `background` is sampled in the 3D view, left of the globe: the colour of space.
PictureStats measure(const QImage &image, QRgb background)
{
    PictureStats stats;
    qint64 different = 0;
    QHash<int, int> tones;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < rgb.height(); ++y) {
        const auto *line = reinterpret_cast<const QRgb *>(rgb.constScanLine(y));
        for (int x = 0; x < rgb.width(); ++x) {
            const QRgb p = line[x];
            const int r = qRed(p), g = qGreen(p), b = qBlue(p);
            if (qAbs(r - qRed(background)) + qAbs(g - qGreen(background))
                    + qAbs(b - qBlue(background))
                > 24)
                ++different;
            // Widgets are grey; the planet is coloured. Count its tones, 3 bits a channel.
            if (std::max({r, g, b}) - std::min({r, g, b}) > 24)
                ++tones[(r >> 5) << 6 | (g >> 5) << 3 | (b >> 5)];
        }
    }
    stats.differentFromBackground = double(different) / double(rgb.width() * rgb.height());
    for (const int count : std::as_const(tones))
        stats.chromaticColours += count >= 20;
    return stats;
}

/// The environment without `names`, and with a fresh data directory of its own: a hosted
/// game keeps its world there, never among the user's worlds (nor another run's).
QProcessEnvironment environmentWithout(const QStringList &names)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const QString &name : names)
        environment.remove(name);
    static std::deque<QTemporaryDir> dataDirectories;
    environment.insert(QStringLiteral("XDG_DATA_HOME"), dataDirectories.emplace_back().path());
    return environment;
}

} // namespace

class tst_Screenshot : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void hostedPlanetIsDrawn_data();
    void hostedPlanetIsDrawn();
    void refusesToStartWithoutDisplay_data();
    void refusesToStartWithoutDisplay();
    void failsWhenScreenshotCannotBeSaved();
};

void tst_Screenshot::initTestCase()
{
    QVERIFY2(QFileInfo(kClient).isExecutable(), qPrintable(kClient + " is not built"));
    QVERIFY(QDir().mkpath(kArtifacts));
}

void tst_Screenshot::hostedPlanetIsDrawn_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<QString>("file");
    QTest::newRow("English") << "en"
                             << "screenshot_en.png";
    QTest::newRow("French") << "fr"
                            << "screenshot_fr.png";
}

void tst_Screenshot::hostedPlanetIsDrawn()
{
    if (qEnvironmentVariableIsEmpty("DISPLAY"))
        QSKIP("No X display: run through CTest, which provides one with xvfb-run.");
    QFETCH(QString, language);
    QFETCH(QString, file);

    const QString path = kArtifacts + QLatin1Char('/') + file;
    QFile::remove(path);
    QProcess client;
    QProcessEnvironment environment = environmentWithout({"WAYLAND_DISPLAY"});
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
    client.setProcessEnvironment(environment);
    client.setProcessChannelMode(QProcess::MergedChannels);
    client.start(kClient, {"--host", "--size", "16", "--lang", language, "--name", "tester",
                           "--screenshot", path, "--quit-after", "4"});
    QVERIFY2(client.waitForStarted(10'000), qPrintable(client.errorString()));
    const bool finished = client.waitForFinished(120'000);
    const QByteArray output = client.readAll();
    if (!finished)
        client.kill();
    QVERIFY2(finished, output.constData());
    QVERIFY2(client.exitStatus() == QProcess::NormalExit, output.constData());
    QVERIFY2(client.exitCode() == 0, output.constData());

    QImage image;
    QVERIFY2(image.load(path), qPrintable(path));
    QVERIFY2(image.width() >= 320 && image.height() >= 240,
             qPrintable(QStringLiteral("%1×%2").arg(image.width()).arg(image.height())));

    // Space is at the left edge of the view, half-way down: the globe is centred and
    // fits the height, and the window is wider than tall.
    const QRgb background = image.pixel(4, image.height() / 2);
    const PictureStats stats = measure(image, background);
    const QString summary = QStringLiteral("%1 % unlike the background, %2 colours; see %3")
                                .arg(stats.differentFromBackground * 100.0, 0, 'f', 1)
                                .arg(stats.chromaticColours)
                                .arg(path);
    qInfo().noquote() << summary;
    QVERIFY2(stats.differentFromBackground > 0.20, qPrintable(summary));
    QVERIFY2(stats.chromaticColours >= 8, qPrintable(summary));
}

void tst_Screenshot::refusesToStartWithoutDisplay_data()
{
    QTest::addColumn<QString>("platform"); // QT_QPA_PLATFORM, empty for unset
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("stderrStart");

    QTest::newRow("nothing set") << QString() << QStringList{} << 2
                                 << "hexsphere: no display found; to run a dedicated server "
                                    "use ./run.sh --server (or hexsphere-server --help)";
    QTest::newRow("xcb chosen without DISPLAY")
        << "xcb" << QStringList{"--host"} << 2 << "hexsphere: no display found";
    QTest::newRow("wayland chosen without WAYLAND_DISPLAY")
        << "wayland" << QStringList{} << 2 << "hexsphere: no display found";
    QTest::newRow("--help still works") << QString() << QStringList{"--help"} << 0 << "";
}

void tst_Screenshot::refusesToStartWithoutDisplay()
{
    QFETCH(QString, platform);
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, stderrStart);

    QProcess client;
    QProcessEnvironment environment
        = environmentWithout({"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "LANGUAGE"});
    environment.insert(QStringLiteral("LC_ALL"), QStringLiteral("C.UTF-8"));
    environment.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
    if (!platform.isEmpty())
        environment.insert(QStringLiteral("QT_QPA_PLATFORM"), platform);
    client.setProcessEnvironment(environment);
    client.start(kClient, arguments);
    QVERIFY2(client.waitForFinished(30'000), "exits at once");
    const QString out = QString::fromUtf8(client.readAllStandardOutput());
    const QString err = QString::fromUtf8(client.readAllStandardError());
    QCOMPARE(client.exitStatus(), QProcess::NormalExit);
    QVERIFY2(client.exitCode() == exitCode, qPrintable(err));
    if (exitCode == 2) {
        QVERIFY2(err.startsWith(stderrStart), qPrintable(err));
        QCOMPARE(err.count(QLatin1Char('\n')), 1); // exactly one line
        QVERIFY(err.endsWith(QLatin1Char('\n')));
    } else {
        for (const char *option :
             {"--host", "--connect", "--lan", "--size", "--ups", "--seed", "--world", "--name",
              "--lang", "--screenshot", "--quit-after", "--port", "--bind"})
            QVERIFY2(out.contains(QLatin1String(option)), option);
    }
}

void tst_Screenshot::failsWhenScreenshotCannotBeSaved()
{
    if (qEnvironmentVariableIsEmpty("DISPLAY"))
        QSKIP("No X display: run through CTest, which provides one with xvfb-run.");
    QProcess client;
    QProcessEnvironment environment = environmentWithout({"WAYLAND_DISPLAY"});
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
    client.setProcessEnvironment(environment);
    // A directory cannot be written as a PNG.
    client.start(kClient, {"--host", "--size", "4", "--lang", "en", "--screenshot", kArtifacts,
                           "--quit-after", "2"});
    QVERIFY(client.waitForFinished(120'000));
    const QString err = QString::fromUtf8(client.readAllStandardError());
    QVERIFY2(client.exitCode() != 0, qPrintable(err));
    QVERIFY2(err.contains(QLatin1String("Could not save the screenshot")), qPrintable(err));
}

QTEST_GUILESS_MAIN(tst_Screenshot)
#include "tst_screenshot.moc"
