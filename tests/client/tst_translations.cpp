// tst_translations: English and French ship complete. lupdate is run, as the
// update_translations target runs it (the same project: every source client/CMakeLists.txt
// lists), on copies of translations/hexsphere_en.ts and hexsphere_fr.ts in a temporary
// directory: the copies must come out equal to the committed files (so no text of the
// sources is missing from them, none is left over, and nothing in them was edited by hand
// into a shape lupdate would change), and no French text may be unfinished or empty. Every
// French text must keep its source's placeholders (%1, %2, ...).

#include "tsfile.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

namespace {

using hex::ts::Message;
using hex::ts::readMessages;

/// The placeholders of `text` (%1..%99, %L1, %n), sorted.
QStringList placeholders(const QString &text, bool withNumerus)
{
    static const QRegularExpression pattern(QStringLiteral("%L?(\\d{1,2}|n)"));
    QStringList found;
    for (const QRegularExpressionMatch &match : pattern.globalMatch(text)) {
        if (match.captured(1) == QLatin1String("n") && !withNumerus)
            continue;
        found << match.captured(0);
    }
    found.sort();
    return found;
}

QString describe(const Message &m)
{
    return QStringLiteral("[%1] \"%2\"").arg(m.context, m.source);
}

} // namespace

class tst_Translations : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void lupdateChangesNothing();
    void frenchIsComplete();
    void frenchKeepsThePlaceholders();

private:
    QTemporaryDir m_dir;
    QString m_englishCopy;
    QString m_frenchCopy;
};

void tst_Translations::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(QFile::exists(QStringLiteral(HEX_LUPDATE_PROJECT)),
             "the lupdate project of the hexsphere target is missing: reconfigure the build");
    const QString project = m_dir.filePath(QStringLiteral("project.json"));
    QProcess generate;
    generate.start(QStringLiteral(HEX_CMAKE),
                   {QStringLiteral("-DIN_FILE=" HEX_LUPDATE_PROJECT),
                    QStringLiteral("-DOUT_FILE=") + project, QStringLiteral("-P"),
                    QStringLiteral(HEX_LUPDATE_GENERATOR)});
    QVERIFY(generate.waitForFinished(60000));
    QVERIFY2(generate.exitCode() == 0, generate.readAllStandardError().constData());

    m_englishCopy = m_dir.filePath(QStringLiteral("hexsphere_en.ts"));
    m_frenchCopy = m_dir.filePath(QStringLiteral("hexsphere_fr.ts"));
    QVERIFY(
        QFile::copy(QStringLiteral(HEX_SOURCE_DIR "/translations/hexsphere_en.ts"), m_englishCopy));
    QVERIFY(
        QFile::copy(QStringLiteral(HEX_SOURCE_DIR "/translations/hexsphere_fr.ts"), m_frenchCopy));
    QFile::setPermissions(m_englishCopy, QFile::ReadOwner | QFile::WriteOwner);
    QFile::setPermissions(m_frenchCopy, QFile::ReadOwner | QFile::WriteOwner);
    QProcess lupdate;
    lupdate.setProcessChannelMode(QProcess::MergedChannels);
    lupdate.start(QStringLiteral(HEX_LUPDATE),
                  {QStringLiteral("-project"), project, QStringLiteral("-no-obsolete"),
                   QStringLiteral("-locations"), QStringLiteral("none"), QStringLiteral("-ts"),
                   m_englishCopy, m_frenchCopy});
    QVERIFY2(lupdate.waitForFinished(240000), "lupdate did not finish in 4 minutes");
    const QByteArray output = lupdate.readAll();
    qInfo("%s", output.trimmed().constData());
    QVERIFY2(lupdate.exitCode() == 0, output.constData());
}

void tst_Translations::lupdateChangesNothing()
{
    for (const auto &[copy, committed] :
         {std::pair{m_englishCopy, QStringLiteral(HEX_SOURCE_DIR "/translations/hexsphere_en.ts")},
          std::pair{m_frenchCopy,
                    QStringLiteral(HEX_SOURCE_DIR "/translations/hexsphere_fr.ts")}}) {
        QFile a(copy);
        QFile b(committed);
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        const QList<QByteArray> updated = a.readAll().split('\n');
        const QList<QByteArray> kept = b.readAll().split('\n');
        for (qsizetype i = 0; i < std::max(updated.size(), kept.size()); ++i) {
            const QByteArray x = i < updated.size() ? updated.at(i) : QByteArray("(end)");
            const QByteArray y = i < kept.size() ? kept.at(i) : QByteArray("(end)");
            QVERIFY2(x == y,
                     qPrintable(
                         QStringLiteral("%1 is not what lupdate makes of the sources "
                                        "(run cmake --build build --target "
                                        "update_translations, then translate): line %2 "
                                        "is \"%3\", lupdate writes \"%4\"")
                             .arg(committed)
                             .arg(i + 1)
                             .arg(QString::fromUtf8(y.trimmed()), QString::fromUtf8(x.trimmed()))));
        }
    }
}

void tst_Translations::frenchIsComplete()
{
    QString error;
    const QList<Message> messages = readMessages(m_frenchCopy, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(messages.size() > 500);
    QStringList missing;
    for (const Message &m : messages) {
        const bool empty = m.translations.isEmpty()
                           || std::any_of(m.translations.begin(), m.translations.end(),
                                          [](const QString &t) { return t.isEmpty(); });
        if (m.unfinished || empty)
            missing << describe(m);
    }
    QVERIFY2(missing.isEmpty(),
             qPrintable(QStringLiteral("%1 French texts unfinished or empty, among them: %2")
                            .arg(missing.size())
                            .arg(missing.mid(0, 10).join(QStringLiteral("; ")))));
    const QList<Message> english = readMessages(m_englishCopy, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(english.size(), messages.size());
    for (const Message &m : english)
        QVERIFY2(!m.unfinished, qPrintable(describe(m)));
}

void tst_Translations::frenchKeepsThePlaceholders()
{
    QString error;
    const QList<Message> messages
        = readMessages(QStringLiteral(HEX_SOURCE_DIR "/translations/hexsphere_fr.ts"), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QStringList wrong;
    for (const Message &m : messages) {
        // A numerus form may leave %n out ("un tick"); every other placeholder stays.
        const QStringList expected = placeholders(m.source, !m.numerus);
        for (const QString &translation : m.translations) {
            if (placeholders(translation, !m.numerus) != expected)
                wrong << describe(m) + QStringLiteral(" → \"%1\"").arg(translation);
        }
    }
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong.mid(0, 10).join(QLatin1Char('\n'))));
}

QTEST_GUILESS_MAIN(tst_Translations)
#include "tst_translations.moc"
