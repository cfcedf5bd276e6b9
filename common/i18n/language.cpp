#include "language.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

#include <atomic>

namespace hex::i18n {

namespace {

std::atomic<Language> s_installed{Language::English};

// Qt's own French (qtbase_fr.qm of Qt 6.4) lacks these texts of QCommandLineParser's
// help options; ours has them, and our translator is asked before Qt's.
[[maybe_unused]] const char *const kQtTextsMissingInFrench[] = {
    QT_TRANSLATE_NOOP("QCommandLineParser", "Displays help on commandline options."),
    QT_TRANSLATE_NOOP("QCommandLineParser", "Displays help including Qt specific options."),
};

} // namespace

QString languageCode(Language language)
{
    return language == Language::French ? QStringLiteral("fr") : QStringLiteral("en");
}

std::optional<Language> languageFromCode(const QString &code)
{
    const QString lower = code.trimmed().toLower();
    if (lower == QLatin1String("en"))
        return Language::English;
    if (lower == QLatin1String("fr"))
        return Language::French;
    return std::nullopt;
}

std::optional<Language> languageInArguments(const QStringList &arguments)
{
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &argument = arguments.at(i);
        std::optional<Language> language;
        if (argument == QLatin1String("--lang") || argument == QLatin1String("-lang")) {
            if (i + 1 < arguments.size())
                language = languageFromCode(arguments.at(i + 1));
        } else if (argument.startsWith(QLatin1String("--lang="))) {
            language = languageFromCode(argument.mid(7));
        }
        if (language)
            return language;
    }
    return std::nullopt;
}

Language languageFromArguments(const QStringList &arguments)
{
    if (const auto language = languageInArguments(arguments))
        return *language;
    return QLocale::system().language() == QLocale::French ? Language::French : Language::English;
}

bool installTranslators(QCoreApplication &app, Language language)
{
    const QString code = languageCode(language);
    auto *qtTranslator = new QTranslator(&app);
    if (qtTranslator->load(QLocale(code), QStringLiteral("qtbase"), QStringLiteral("_"),
                           QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(qtTranslator);
    auto *translator = new QTranslator(&app);
    if (!translator->load(QStringLiteral(":/i18n/hexsphere_") + code)) {
        delete translator;
        return false;
    }
    QCoreApplication::installTranslator(translator);
    s_installed = language;
    return true;
}

Language installedLanguage()
{
    return s_installed;
}

} // namespace hex::i18n
