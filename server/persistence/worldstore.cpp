#include "worldstore.h"

#include "sqlworldstore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrl>
#include <QUuid>

#include <algorithm>

namespace hex::server::persistence {

namespace {

constexpr QLatin1StringView kWorldSuffix(".hexworld");

/// A connection name no other caller uses.
QString uniqueConnectionName(const QString &purpose)
{
    return QStringLiteral("hex-catalog-%1-%2")
        .arg(purpose, QUuid::createUuid().toString(QUuid::WithoutBraces));
}

} // namespace

tl::expected<StoreLocation, QString> StoreLocation::parse(const QString &text)
{
    StoreLocation location;
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        location.kind = Kind::Sqlite;
        location.directory = defaultSqliteDirectory();
        return location;
    }
    if (trimmed.compare(QStringLiteral("none"), Qt::CaseInsensitive) == 0) {
        location.kind = Kind::None;
        return location;
    }
    if (trimmed.startsWith(QStringLiteral("postgresql://"), Qt::CaseInsensitive)
        || trimmed.startsWith(QStringLiteral("postgres://"), Qt::CaseInsensitive)) {
        const QUrl url(trimmed, QUrl::StrictMode);
        if (!url.isValid()) {
            return tl::make_unexpected(SqlWorldStore::tr("The database URL '%1' is not valid: %2.")
                                           .arg(trimmed, url.errorString()));
        }
        location.kind = Kind::Postgresql;
        if (!url.host().isEmpty())
            location.host = url.host(QUrl::FullyDecoded);
        location.port = url.port(5432);
        location.user = url.userName(QUrl::FullyDecoded);
        location.password = url.password(QUrl::FullyDecoded);
        QString path = url.path(QUrl::FullyDecoded);
        if (path.startsWith(QLatin1Char('/')))
            path.remove(0, 1);
        if (path.isEmpty() || path.contains(QLatin1Char('/'))) {
            return tl::make_unexpected(
                SqlWorldStore::tr("The database URL '%1' names no database: write "
                                  "postgresql://user:password@host:port/database.")
                    .arg(trimmed));
        }
        location.databaseName = path;
        return location;
    }
    QString directory = trimmed;
    if (trimmed.startsWith(QStringLiteral("sqlite:"), Qt::CaseInsensitive)) {
        directory = trimmed.mid(7);
        // sqlite:///abs/dir and sqlite://rel/dir read as the path after the slashes.
        if (directory.startsWith(QStringLiteral("//")))
            directory.remove(0, 2);
        if (directory.isEmpty()) {
            return tl::make_unexpected(
                SqlWorldStore::tr("'%1' names no directory: write sqlite:DIRECTORY.").arg(trimmed));
        }
    } else if (static const QRegularExpression scheme(
                   QStringLiteral("^[A-Za-z][A-Za-z0-9+.-]*://"));
               scheme.match(trimmed).hasMatch()) {
        return tl::make_unexpected(
            SqlWorldStore::tr(
                "Unknown database '%1': use sqlite:DIRECTORY, postgresql://user:password@host:port/"
                "database or none.")
                .arg(trimmed));
    }
    location.kind = Kind::Sqlite;
    location.directory = QDir::cleanPath(QFileInfo(directory).absoluteFilePath());
    return location;
}

QString StoreLocation::defaultSqliteDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
           + QStringLiteral("/hexsphere/worlds");
}

QString StoreLocation::describe() const
{
    switch (kind) {
    case Kind::None:
        return QStringLiteral("none");
    case Kind::Sqlite:
        return directory;
    case Kind::Postgresql:
        return QStringLiteral("postgresql://%1%2:%3/%4")
            .arg(user.isEmpty() ? QString() : user + QLatin1Char('@'), host)
            .arg(port)
            .arg(databaseName);
    }
    return {};
}

std::unique_ptr<WorldStore> WorldStore::open(const StoreLocation &location,
                                             const QString &worldName,
                                             const QString &connectionName, QString *error)
{
    const auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return nullptr;
    };
    if (!WorldCatalog::isValidName(worldName)) {
        return fail(SqlWorldStore::tr(
                        "'%1' is not a valid world name: use 1 to 64 letters, digits, spaces, "
                        "'-', '_' or '.', not starting with '.'.")
                        .arg(worldName));
    }
    std::unique_ptr<SqlWorldStore> store;
    switch (location.kind) {
    case StoreLocation::Kind::None:
        return fail(
            SqlWorldStore::tr("No database is configured (--database none): worlds are not kept."));
    case StoreLocation::Kind::Sqlite:
        if (!QDir().mkpath(location.directory)) {
            return fail(SqlWorldStore::tr("Cannot create the directory %1 for world files.")
                            .arg(location.directory));
        }
        store = std::make_unique<SqlWorldStore>(
            location, SqlWorldStore::worldFile(location, worldName), worldName, connectionName,
            SqlWorldStore::Access::ReadWrite);
        break;
    case StoreLocation::Kind::Postgresql:
        store = std::make_unique<SqlWorldStore>(location, QString(), worldName, connectionName,
                                                SqlWorldStore::Access::ReadWrite);
        break;
    }
    if (!store->open())
        return fail(store->errorString());
    return store;
}

int WorldStore::schemaVersion()
{
    return std::max(SqlWorldStore::newestMigration(SqlWorldStore::Backend::Sqlite),
                    SqlWorldStore::newestMigration(SqlWorldStore::Backend::Postgresql));
}

// --- WorldCatalog ---------------------------------------------------------------------

WorldCatalog::WorldCatalog(StoreLocation location)
    : m_location(std::move(location))
{}

bool WorldCatalog::isValidName(const QString &name)
{
    if (name.isEmpty() || name.size() > 64 || name.startsWith(QLatin1Char('.')))
        return false;
    return std::all_of(name.begin(), name.end(), [](QChar c) {
        return c.isLetterOrNumber() || c == QLatin1Char(' ') || c == QLatin1Char('-')
               || c == QLatin1Char('_') || c == QLatin1Char('.');
    });
}

tl::expected<std::vector<WorldSummary>, QString> WorldCatalog::list()
{
    switch (m_location.kind) {
    case StoreLocation::Kind::None:
        return std::vector<WorldSummary>{};
    case StoreLocation::Kind::Postgresql: {
        SqlWorldStore store(m_location, QString(), QString(),
                            uniqueConnectionName(QStringLiteral("list")),
                            SqlWorldStore::Access::ReadOnly);
        if (!store.open())
            return tl::make_unexpected(store.errorString());
        return store.listWorlds();
    }
    case StoreLocation::Kind::Sqlite:
        break;
    }
    const QDir dir(m_location.directory);
    if (!dir.exists())
        return std::vector<WorldSummary>{};
    std::vector<WorldSummary> worlds;
    const QStringList files = dir.entryList({QStringLiteral("*") + kWorldSuffix},
                                            QDir::Files | QDir::Readable, QDir::Name);
    for (const QString &fileName : files) {
        const QString name = fileName.chopped(kWorldSuffix.size());
        if (!isValidName(name))
            continue; // a branch under way (".name.hexworld.partial") or a stray file
        const QString path = dir.filePath(fileName);
        SqlWorldStore store(m_location, path, name, uniqueConnectionName(QStringLiteral("list")),
                            SqlWorldStore::Access::ReadOnly);
        WorldSummary summary;
        if (store.open()) {
            if (auto found = store.summary()) {
                summary = *found;
            } else {
                summary.problem = store.errorString().isEmpty()
                                      ? SqlWorldStore::tr("%1 holds no world '%2'.").arg(path, name)
                                      : store.errorString();
            }
        } else {
            summary.problem = store.errorString();
        }
        summary.name = name;
        summary.bytes = SqlWorldStore::fileBytes(path);
        worlds.push_back(std::move(summary));
    }
    return worlds;
}

bool WorldCatalog::exists(const QString &name)
{
    if (!isValidName(name))
        return false;
    switch (m_location.kind) {
    case StoreLocation::Kind::None:
        return false;
    case StoreLocation::Kind::Sqlite:
        return QFileInfo::exists(SqlWorldStore::worldFile(m_location, name));
    case StoreLocation::Kind::Postgresql: {
        SqlWorldStore store(m_location, QString(), name,
                            uniqueConnectionName(QStringLiteral("exists")),
                            SqlWorldStore::Access::ReadOnly);
        return store.open() && store.exists();
    }
    }
    return false;
}

tl::expected<void, QString> WorldCatalog::branch(const QString &source, const QString &target)
{
    if (!isValidName(source))
        return tl::make_unexpected(
            SqlWorldStore::tr("'%1' is not a valid world name.").arg(source));
    if (!isValidName(target)) {
        return tl::make_unexpected(
            SqlWorldStore::tr(
                "'%1' is not a valid world name: use 1 to 64 letters, digits, spaces, '-', '_' "
                "or '.', not starting with '.'.")
                .arg(target));
    }
    if (source == target)
        return tl::make_unexpected(SqlWorldStore::tr("A world cannot be branched onto itself."));
    switch (m_location.kind) {
    case StoreLocation::Kind::None:
        return tl::make_unexpected(
            SqlWorldStore::tr("No database is configured: there are no worlds."));
    case StoreLocation::Kind::Postgresql: {
        SqlWorldStore store(m_location, QString(), source,
                            uniqueConnectionName(QStringLiteral("branch")),
                            SqlWorldStore::Access::ReadWrite);
        if (!store.open())
            return tl::make_unexpected(store.errorString());
        if (!store.branchWorld(target))
            return tl::make_unexpected(store.errorString());
        return {};
    }
    case StoreLocation::Kind::Sqlite:
        break;
    }
    const QString sourceFile = SqlWorldStore::worldFile(m_location, source);
    const QString targetFile = SqlWorldStore::worldFile(m_location, target);
    if (!QFileInfo::exists(sourceFile))
        return tl::make_unexpected(
            SqlWorldStore::tr("There is no world '%1' in %2.").arg(source, m_location.directory));
    if (QFileInfo::exists(targetFile))
        return tl::make_unexpected(
            SqlWorldStore::tr("A world '%1' exists already (%2).").arg(target, targetFile));
    // Copy into a hidden file first, so that a copy cut short never looks like a world.
    const QString partial
        = QDir(m_location.directory)
              .filePath(QLatin1Char('.') + target + kWorldSuffix + QStringLiteral(".partial"));
    SqlWorldStore::removeFiles(partial);
    {
        SqlWorldStore from(m_location, sourceFile, source,
                           uniqueConnectionName(QStringLiteral("branch-source")),
                           SqlWorldStore::Access::ReadOnly);
        if (!from.open())
            return tl::make_unexpected(from.errorString());
        if (!from.exists())
            return tl::make_unexpected(
                SqlWorldStore::tr("%1 holds no world '%2'.").arg(sourceFile, source));
        if (!from.vacuumInto(partial)) {
            SqlWorldStore::removeFiles(partial);
            return tl::make_unexpected(from.errorString());
        }
    }
    {
        SqlWorldStore copy(m_location, partial, source,
                           uniqueConnectionName(QStringLiteral("branch-copy")),
                           SqlWorldStore::Access::ReadWrite);
        if (!copy.open() || !copy.renameWorld(target)) {
            const QString why = copy.errorString();
            SqlWorldStore::removeFiles(partial);
            return tl::make_unexpected(why);
        }
    }
    if (!QFile::rename(partial, targetFile)) {
        SqlWorldStore::removeFiles(partial);
        return tl::make_unexpected(SqlWorldStore::tr("Cannot create %1.").arg(targetFile));
    }
    SqlWorldStore::removeFiles(partial);
    return {};
}

tl::expected<void, QString> WorldCatalog::remove(const QString &name)
{
    if (!isValidName(name))
        return tl::make_unexpected(SqlWorldStore::tr("'%1' is not a valid world name.").arg(name));
    switch (m_location.kind) {
    case StoreLocation::Kind::None:
        return tl::make_unexpected(
            SqlWorldStore::tr("No database is configured: there are no worlds."));
    case StoreLocation::Kind::Postgresql: {
        SqlWorldStore store(m_location, QString(), name,
                            uniqueConnectionName(QStringLiteral("remove")),
                            SqlWorldStore::Access::ReadWrite);
        if (!store.open())
            return tl::make_unexpected(store.errorString());
        if (!store.removeWorld())
            return tl::make_unexpected(store.errorString());
        return {};
    }
    case StoreLocation::Kind::Sqlite:
        break;
    }
    const QString file = SqlWorldStore::worldFile(m_location, name);
    if (!QFileInfo::exists(file))
        return tl::make_unexpected(
            SqlWorldStore::tr("There is no world '%1' in %2.").arg(name, m_location.directory));
    if (!QFile::remove(file))
        return tl::make_unexpected(SqlWorldStore::tr("Cannot delete %1.").arg(file));
    SqlWorldStore::removeFiles(file);
    return {};
}

} // namespace hex::server::persistence
