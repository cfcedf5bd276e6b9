#pragma once

#include <QString>
#include <QStringList>

#include <optional>

class QCoreApplication;

namespace hex::i18n {

/// The languages Hexsphere ships: every program (the client, the dedicated server and
/// its compute workers) embeds translations/hexsphere_<code>.qm under :/i18n.
enum class Language { English, French };

/// The file-name code of `language`: "en" or "fr".
QString languageCode(Language language);
/// The language for `code` ("en", "fr", case-insensitive), or nullopt.
std::optional<Language> languageFromCode(const QString &code);
/// The language `--lang` asks for in `arguments` (`--lang fr`, `--lang=fr`, `-lang fr`),
/// or nullopt when it is absent or names no shipped language. Read before the command
/// line is parsed: the options' help is itself translated.
std::optional<Language> languageInArguments(const QStringList &arguments);
/// languageInArguments(), else French when the system's locale is, else English.
Language languageFromArguments(const QStringList &arguments);

/// Installs Qt's own translations and Hexsphere's for `language`, before any translated
/// text is built; false when Hexsphere's are not embedded in this program.
bool installTranslators(QCoreApplication &app, Language language);
/// The language installTranslators() last installed (English before any).
Language installedLanguage();

} // namespace hex::i18n
