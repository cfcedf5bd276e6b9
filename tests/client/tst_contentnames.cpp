// Content names (items, resources, structures, recipes) are shown translated: every
// name of the shipped content is a source text, and French has each of them.
#include "tsfile.h"
#include "ui/contentnames.h"

#include "sim/content.h"

#include <QFile>
#include <QSet>
#include <QTest>

using namespace hex;

namespace {

/// The shipped content's names, "none" entries left out.
QStringList shippedNames()
{
    const auto content = sim::loadDefaultContent();
    if (!content)
        qFatal("%s", qPrintable(content.error()));
    QStringList names;
    for (const auto &item : content->items)
        names << item.name;
    for (std::size_t i = 1; i < content->resources.size(); ++i)
        names << content->resources[i].name;
    for (std::size_t i = 1; i < content->prototypes.size(); ++i)
        names << content->prototypes[i].name;
    for (const auto &recipe : content->recipes)
        names << recipe.name;
    return names;
}

/// source → translation of the "hex::content" context of a .ts file; unfinished
/// translations are left out.
QHash<QString, QString> contentTranslations(const QString &path)
{
    QString error;
    const QList<ts::Message> messages = ts::readMessages(path, &error);
    if (!error.isEmpty())
        qFatal("cannot read %s: %s", qPrintable(path), qPrintable(error));
    QHash<QString, QString> found;
    for (const ts::Message &m : messages) {
        if (m.context == u"hex::content" && !m.unfinished && !m.translations.isEmpty()
            && !m.translations.first().isEmpty())
            found.insert(m.source, m.translations.first());
    }
    return found;
}

} // namespace

class tst_ContentNames : public QObject
{
    Q_OBJECT
private slots:
    void everyShippedNameIsASourceText();
    void frenchHasEveryName();
    void translatedContentKeepsEverythingButNames();
};

void tst_ContentNames::everyShippedNameIsASourceText()
{
    QSet<QString> sources;
    for (const char *source : client::contentNameSources())
        sources.insert(QString::fromUtf8(source));
    const QStringList names = shippedNames();
    QVERIFY(names.size() >= 30);
    for (const QString &name : names)
        QVERIFY2(sources.contains(name),
                 qPrintable(name + " is not in client/ui/contentnames.cpp"));
}

void tst_ContentNames::frenchHasEveryName()
{
    const auto french
        = contentTranslations(QStringLiteral(HEX_SOURCE_DIR "/translations/hexsphere_fr.ts"));
    for (const QString &name : shippedNames()) {
        QVERIFY2(french.contains(name), qPrintable(name + " has no French translation"));
        QVERIFY2(french.value(name) != name || name == QStringLiteral("Circuit"),
                 qPrintable(name + " is \"translated\" to itself"));
    }
}

void tst_ContentNames::translatedContentKeepsEverythingButNames()
{
    auto content = sim::loadDefaultContent();
    QVERIFY(content);
    const sim::Content translated = client::translatedContent(*content);
    QCOMPARE(translated.items.size(), content->items.size());
    QCOMPARE(translated.recipes.size(), content->recipes.size());
    // With no translator installed, names come back as they were.
    for (std::size_t i = 0; i < content->prototypes.size(); ++i) {
        QCOMPARE(translated.prototypes[i].name, content->prototypes[i].name);
        QCOMPARE(translated.prototypes[i].key, content->prototypes[i].key);
    }
}

QTEST_GUILESS_MAIN(tst_ContentNames)
#include "tst_contentnames.moc"
