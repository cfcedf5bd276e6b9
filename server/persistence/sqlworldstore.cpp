#include "sqlworldstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSqlRecord>
#include <QUuid>

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

namespace hex::server::persistence {

namespace {

Q_LOGGING_CATEGORY(lcDb, "hex.db")

/// Multi-row INSERTs go in statements of these many rows (largest first): one round trip
/// per statement instead of one per row.
constexpr int kBatchSizes[] = {64, 32, 16, 8, 4, 2, 1};

/// Serialises migrations of one PostgreSQL database between servers starting at once.
constexpr qint64 kMigrationLock = 0x4865785370686572; // "HexSpher"

qint64 bits(std::uint64_t value)
{
    return static_cast<qint64>(value);
}

std::uint64_t unbits(const QVariant &value)
{
    return static_cast<std::uint64_t>(value.toLongLong());
}

/// A tick bound as the database compares it (ticks stay far below 2^63).
qint64 tickBound(std::uint64_t tick)
{
    return static_cast<qint64>(std::min<std::uint64_t>(tick, std::numeric_limits<qint64>::max()));
}

QVariant nullText()
{
    return QVariant(QMetaType::fromType<QString>());
}

QVariant nullBytes()
{
    return QVariant(QMetaType::fromType<QByteArray>());
}

/// Text that is never NULL (a null QString binds as NULL).
QString text(const QString &value)
{
    return value.isNull() ? QString(QLatin1StringView("")) : value;
}

/// A blob that is never NULL (QByteArray() binds as NULL).
QVariant blob(const QByteArray &bytes)
{
    return bytes.isNull() ? QVariant(QByteArray("")) : QVariant(bytes);
}

QDateTime timeFrom(const QVariant &value)
{
    if (value.isNull())
        return {};
    if (value.metaType() == QMetaType::fromType<QDateTime>())
        return value.toDateTime().toUTC();
    return QDateTime::fromString(value.toString(), Qt::ISODateWithMs).toUTC();
}

QVariant timeValue(const QDateTime &time)
{
    if (!time.isValid())
        return nullText();
    return time.toUTC();
}

struct Migration
{
    int version = 0;
    QString name;
    QString resource;
};

std::vector<Migration> migrations(SqlWorldStore::Backend backend)
{
    const QString folder = backend == SqlWorldStore::Backend::Sqlite
                               ? QStringLiteral(":/migrations/sqlite")
                               : QStringLiteral(":/migrations/postgresql");
    static const QRegularExpression pattern(QStringLiteral("^(\\d{4})_(.+)\\.sql$"));
    std::vector<Migration> found;
    const QStringList files
        = QDir(folder).entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name);
    for (const QString &file : files) {
        const auto match = pattern.match(file);
        if (!match.hasMatch())
            continue;
        found.push_back(
            {match.captured(1).toInt(), match.captured(2), folder + QLatin1Char('/') + file});
    }
    std::sort(found.begin(), found.end(),
              [](const Migration &a, const Migration &b) { return a.version < b.version; });
    return found;
}

/// A migration file's statements: they end with ';' at a line's end; lines starting
/// with "--" are comments.
QStringList splitStatements(const QString &text)
{
    QStringList statements;
    QString current;
    for (const QString &line : text.split(QLatin1Char('\n'))) {
        const QString trimmed = line.trimmed();
        if (trimmed.startsWith(QStringLiteral("--")))
            continue;
        if (trimmed.endsWith(QLatin1Char(';'))) {
            current += trimmed.chopped(1);
            if (!current.trimmed().isEmpty())
                statements << current.trimmed();
            current.clear();
        } else if (!trimmed.isEmpty()) {
            current += trimmed + QLatin1Char('\n');
        }
    }
    if (!current.trimmed().isEmpty())
        statements << current.trimmed();
    return statements;
}

/// Whether `error` says the server went away rather than that the request was wrong.
bool looksLikeConnectionError(const QSqlError &error)
{
    if (error.type() == QSqlError::ConnectionError)
        return true;
    const QString code = error.nativeErrorCode();
    if (code.startsWith(QStringLiteral("08")) || code == QStringLiteral("57P01")
        || code == QStringLiteral("57P02") || code == QStringLiteral("57P03"))
        return true;
    const QString text = error.text();
    for (const char *phrase :
         {"server closed the connection", "terminating connection", "could not connect",
          "no connection to the server", "connection to server", "Connection refused",
          "could not receive data", "could not send data"}) {
        if (text.contains(QLatin1StringView(phrase), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace

enum class SqlWorldStore::Statement {
    WorldByName,
    InsertWorld,
    Summary,
    InsertChunks,
    InsertSnapshot,
    DeleteOldSnapshots,
    DeleteSupersededChunks,
    AdvanceTick,
    AdvanceTickIfNewer,
    InsertEvents,
    InsertEventArrays,
    UpsertPlayers,
    PlayerByKey,
    Players,
    SetTokenKey,
    TokenKey,
    NewestSnapshot,
    ChunksAt,
    EventsRange,
};

SqlWorldStore::SqlWorldStore(const StoreLocation &location, const QString &file,
                             const QString &worldName, const QString &connectionName, Access access)
    : m_location(location)
    , m_backend(location.kind == StoreLocation::Kind::Postgresql ? Backend::Postgresql
                                                                 : Backend::Sqlite)
    , m_file(file)
    , m_worldName(worldName)
    , m_connectionName(connectionName.isEmpty()
                           ? QStringLiteral("hex-store-") + QUuid::createUuid().toString()
                           : connectionName)
    , m_access(access)
    , m_where(m_backend == Backend::Sqlite ? file : location.describe())
{}

SqlWorldStore::~SqlWorldStore()
{
    disconnect();
}

QString SqlWorldStore::worldFile(const StoreLocation &location, const QString &name)
{
    return QDir(location.directory).filePath(name + QStringLiteral(".hexworld"));
}

qint64 SqlWorldStore::fileBytes(const QString &file)
{
    return QFileInfo(file).size() + QFileInfo(file + QStringLiteral("-wal")).size();
}

void SqlWorldStore::removeFiles(const QString &file)
{
    for (const char *suffix : {"-wal", "-shm", "-journal"})
        QFile::remove(file + QLatin1StringView(suffix));
    QFile::remove(file);
}

int SqlWorldStore::newestMigration(Backend backend)
{
    const auto all = migrations(backend);
    return all.empty() ? 0 : all.back().version;
}

// --- connection ---------------------------------------------------------------------------

bool SqlWorldStore::open()
{
    if (!connect())
        return false;
    int version = 0;
    if (!checkSchema(&version)) {
        disconnect();
        return false;
    }
    m_schemaVersion = version;
    if (m_access == Access::ReadWrite) {
        if (m_backend == Backend::Sqlite) {
            // Only now: journal_mode=WAL writes to the file, and a file we refuse stays as
            // it was. synchronous=FULL: a commit survives kill -9 and power loss.
            QSqlQuery wal(m_db);
            if (!wal.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !wal.next()
                || wal.value(0).toString().compare(QStringLiteral("wal"), Qt::CaseInsensitive)
                       != 0) {
                fail(tr("cannot switch to write-ahead logging"), wal.lastError());
                disconnect();
                return false;
            }
            wal.finish();
            if (!runStatement(QStringLiteral("PRAGMA synchronous=FULL"), tr("cannot set up"))) {
                disconnect();
                return false;
            }
        }
        if (!migrate(version)) {
            disconnect();
            return false;
        }
    }
    if (!lookUpWorld()) {
        disconnect();
        return false;
    }
    return true;
}

bool SqlWorldStore::connect()
{
    disconnect();
    const QString driver
        = m_backend == Backend::Sqlite ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL");
    m_db = QSqlDatabase::addDatabase(driver, m_connectionName);
    if (!m_db.isValid()) {
        return failWith(tr("%1: the Qt Sql driver %2 is not installed.").arg(m_where, driver));
    }
    if (m_backend == Backend::Sqlite) {
        m_db.setDatabaseName(m_file);
        // Even ReadOnly opens read-write at the SQLite level (and then only reads): a
        // read-only connection to a WAL file leaves its -wal and -shm files behind.
        m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    } else {
        m_db.setHostName(m_location.host);
        m_db.setPort(m_location.port);
        m_db.setUserName(m_location.user);
        m_db.setPassword(m_location.password);
        m_db.setDatabaseName(m_location.databaseName);
        m_db.setConnectOptions(QStringLiteral("connect_timeout=10;application_name=hexsphere"));
    }
    if (!m_db.open()) {
        fail(tr("cannot open the database"), m_db.lastError());
        if (m_backend == Backend::Postgresql)
            m_connectionLost = true;
        return false;
    }
    if (m_backend == Backend::Postgresql) {
        // Qt asks for the escape format; hex is half the size for compressed blobs, and
        // PQunescapeBytea reads both.
        if (!runStatement(QStringLiteral("SET bytea_output = hex"), tr("cannot set up")))
            return false;
    } else if (!runStatement(QStringLiteral("PRAGMA foreign_keys=ON"), tr("cannot set up"))) {
        return false;
    }
    m_connectionLost = false;
    return true;
}

void SqlWorldStore::disconnect()
{
    // Statements first: each holds the connection's driver.
    m_statements.clear();
    if (m_db.isValid()) {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_connectionName);
    }
}

bool SqlWorldStore::reconnect()
{
    if (!connect())
        return false;
    int version = 0;
    if (!checkSchema(&version))
        return false;
    m_schemaVersion = version;
    if (m_access == Access::ReadWrite && m_backend == Backend::Sqlite) {
        if (!runStatement(QStringLiteral("PRAGMA journal_mode=WAL"), tr("cannot set up"))
            || !runStatement(QStringLiteral("PRAGMA synchronous=FULL"), tr("cannot set up")))
            return false;
    }
    if (m_access == Access::ReadWrite && !migrate(version))
        return false;
    m_worldId = 0;
    if (!lookUpWorld())
        return false;
    qCInfo(lcDb).noquote() << QStringLiteral("%1: reconnected").arg(m_where);
    return true;
}

/// Reads the recorded schema version; refuses what is not ours or is newer than we know.
bool SqlWorldStore::checkSchema(int *version)
{
    *version = 0;
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    if (m_backend == Backend::Sqlite && QFileInfo(m_file).size() > 0) {
        // Qt opens any file; the first read finds out what it is.
        if (!query.exec(QStringLiteral("PRAGMA quick_check"))) {
            // SQLITE_CORRUPT (11): ours or not, it is damaged; otherwise (SQLITE_NOTADB,
            // 26) it is no database at all.
            const QSqlError error = query.lastError();
            if (error.nativeErrorCode() == QStringLiteral("11"))
                return failWith(tr("%1 is damaged: %2.").arg(m_file, error.databaseText()));
            return failWith(
                tr("%1 is not a Hexsphere world: %2.").arg(m_file, error.databaseText()));
        }
        QStringList findings;
        while (query.next())
            findings << query.value(0).toString();
        if (findings != QStringList{QStringLiteral("ok")}) {
            return failWith(
                tr("%1 is damaged: %2.")
                    .arg(m_file, findings.isEmpty() ? QStringLiteral("?") : findings.first()));
        }
    }
    const QString tablesSql
        = m_backend == Backend::Sqlite
              ? QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name")
              : QStringLiteral("SELECT table_name FROM information_schema.tables "
                               "WHERE table_schema = current_schema() ORDER BY table_name");
    if (!query.exec(tablesSql)) {
        if (m_backend == Backend::Sqlite) {
            return failWith(tr("%1 is not a Hexsphere world: %2.")
                                .arg(m_file, query.lastError().databaseText()));
        }
        return fail(tr("cannot read the schema"), query.lastError());
    }
    QStringList tables;
    while (query.next())
        tables << query.value(0).toString();
    if (tables.isEmpty())
        return true; // a new store
    if (!tables.contains(QStringLiteral("schema_migrations"))) {
        return failWith(tr("%1 is not a Hexsphere world: it holds other tables (%2) and no "
                           "schema_migrations.")
                            .arg(m_where, tables.join(QStringLiteral(", "))));
    }
    if (!query.exec(QStringLiteral("SELECT version, name, applied_at FROM schema_migrations "
                                   "ORDER BY version DESC"))) {
        return failWith(tr("%1 is not a Hexsphere world: its schema_migrations table is not "
                           "ours (%2).")
                            .arg(m_where, query.lastError().databaseText()));
    }
    if (query.next())
        *version = query.value(0).toInt();
    query.finish();
    const int known = newestMigration(m_backend);
    if (*version > known) {
        return failWith(tr("%1 has schema version %2; this hexsphere-server knows up to %3. Use a "
                           "newer hexsphere-server.")
                            .arg(m_where)
                            .arg(*version)
                            .arg(known));
    }
    return true;
}

bool SqlWorldStore::migrate(int fromVersion)
{
    int version = fromVersion;
    for (const Migration &migration : migrations(m_backend)) {
        if (migration.version <= version)
            continue;
        if (!applyMigration(migration.version, migration.name, migration.resource))
            return false;
        version = migration.version;
    }
    m_schemaVersion = version;
    return true;
}

bool SqlWorldStore::applyMigration(int version, const QString &name, const QString &resource)
{
    QFile file(resource);
    if (!file.open(QIODevice::ReadOnly))
        return failWith(tr("%1: cannot read the migration %2.").arg(m_where, resource));
    const QStringList statements = splitStatements(QString::fromUtf8(file.readAll()));
    const QString what
        = tr("cannot apply migration %1_%2").arg(version, 4, 10, QLatin1Char('0')).arg(name);
    if (!begin(what))
        return false;
    QSqlQuery query(m_db);
    if (m_backend == Backend::Postgresql) {
        // Another server may be migrating the same database: wait for it, then look again.
        if (!query.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kMigrationLock))) {
            fail(what, query.lastError());
            rollback();
            return false;
        }
        const bool recorded
            = query.exec(QStringLiteral("SELECT to_regclass('schema_migrations') IS NOT NULL"))
              && query.next() && query.value(0).toBool();
        if (recorded) {
            query.prepare(QStringLiteral("SELECT 1 FROM schema_migrations WHERE version = ?"));
            query.bindValue(0, version);
            if (query.exec() && query.next()) {
                query.finish();
                return commit(what); // applied by the other server meanwhile
            }
        }
    }
    for (const QString &sql : statements) {
        if (!query.exec(sql)) {
            fail(what, query.lastError());
            rollback();
            return false;
        }
    }
    query.prepare(QStringLiteral(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"));
    query.bindValue(0, version);
    query.bindValue(1, name);
    query.bindValue(2, QDateTime::currentDateTimeUtc());
    if (!query.exec()) {
        fail(what, query.lastError());
        rollback();
        return false;
    }
    query.finish();
    if (!commit(what))
        return false;
    qCInfo(lcDb).noquote()
        << QStringLiteral("%1: applied migration %2 %3").arg(m_where).arg(version).arg(name);
    return true;
}

bool SqlWorldStore::lookUpWorld()
{
    m_worldId = 0;
    if (m_schemaVersion == 0 || m_worldName.isEmpty())
        return true;
    QSqlQuery *query = statement(Statement::WorldByName);
    if (!query)
        return false;
    query->bindValue(0, m_worldName);
    if (!execute(*query, tr("cannot look up the world")))
        return false;
    if (query->next())
        m_worldId = query->value(0).toLongLong();
    query->finish();
    return true;
}

bool SqlWorldStore::requireWorld(const QString &what)
{
    if (!m_db.isValid() || !m_db.isOpen()) {
        m_error = tr("%1: %2: the connection to the database is lost.").arg(m_where, what);
        m_connectionLost = true;
        return false;
    }
    if (m_worldId == 0 && !lookUpWorld())
        return false;
    if (m_worldId == 0)
        return failWith(tr("%1: %2: there is no world '%3'.").arg(m_where, what, m_worldName));
    return true;
}

// --- helpers -------------------------------------------------------------------------------

bool SqlWorldStore::fail(const QString &what, const QSqlError &error)
{
    // One line: libpq's messages span several.
    const QString why
        = error.databaseText().trimmed().isEmpty() ? error.driverText() : error.databaseText();
    m_error = tr("%1: %2: %3").arg(m_where, what, why.simplified());
    m_connectionLost
        = m_backend == Backend::Postgresql && (looksLikeConnectionError(error) || !m_db.isOpen());
    return false;
}

bool SqlWorldStore::failWith(const QString &message)
{
    m_error = message;
    m_connectionLost = false;
    return false;
}

bool SqlWorldStore::runStatement(const QString &sql, const QString &what)
{
    if (!m_db.isOpen()) {
        m_error = tr("%1: %2: the connection to the database is lost.").arg(m_where, what);
        m_connectionLost = true;
        return false;
    }
    QSqlQuery query(m_db);
    if (!query.exec(sql))
        return fail(what, query.lastError());
    return true;
}

bool SqlWorldStore::begin(const QString &what)
{
    // IMMEDIATE: take the write lock now, so that two connections to one file wait for
    // each other (busy_timeout) instead of failing on upgrade.
    return runStatement(m_backend == Backend::Sqlite && m_access == Access::ReadWrite
                            ? QStringLiteral("BEGIN IMMEDIATE")
                            : QStringLiteral("BEGIN"),
                        what);
}

bool SqlWorldStore::commit(const QString &what)
{
    if (runStatement(QStringLiteral("COMMIT"), what))
        return true;
    rollback();
    return false;
}

void SqlWorldStore::rollback()
{
    if (!m_db.isOpen())
        return;
    QSqlQuery query(m_db);
    (void)query.exec(QStringLiteral("ROLLBACK"));
}

bool SqlWorldStore::execute(QSqlQuery &query, const QString &what)
{
    if (query.exec())
        return true;
    return fail(what, query.lastError());
}

QString SqlWorldStore::statementText(Statement which, int rows) const
{
    const auto values = [rows](int columns) {
        QString row = QStringLiteral("(?");
        for (int i = 1; i < columns; ++i)
            row += QStringLiteral(", ?");
        row += QLatin1Char(')');
        QStringList all;
        for (int i = 0; i < rows; ++i)
            all << row;
        return all.join(QStringLiteral(", "));
    };
    const QString bytes
        = m_backend == Backend::Sqlite
              ? QStringLiteral("0")
              : QStringLiteral(
                  "(COALESCE((SELECT sum(pg_column_size(c.cells) + 40) FROM chunks c "
                  "WHERE c.world = w.id), 0) "
                  "+ COALESCE((SELECT sum(pg_column_size(s.machines) + pg_column_size(s.players) "
                  "+ 48) FROM snapshots s WHERE s.world = w.id), 0) "
                  "+ (SELECT count(*) * 96 FROM events e WHERE e.world = w.id) "
                  "+ COALESCE((SELECT sum(pg_column_size(p.view) + octet_length(p.inventory) + "
                  "64) FROM players p WHERE p.world = w.id), 0) + pg_column_size(w.*))::bigint");
    switch (which) {
    case Statement::WorldByName:
        return QStringLiteral("SELECT id FROM worlds WHERE name = ?");
    case Statement::InsertWorld:
        return QStringLiteral("INSERT INTO worlds (name, seed, subdivisions, tick, state_hash, "
                              "content_version, created_at, updated_at) "
                              "VALUES (?, ?, ?, 0, 0, ?, ?, ?) RETURNING id");
    case Statement::Summary:
        return QStringLiteral("SELECT w.name, w.seed, w.subdivisions, w.tick, w.state_hash, "
                              "w.content_version, w.updated_at, "
                              "(SELECT count(*) FROM players p WHERE p.world = w.id), %1 "
                              "FROM worlds w WHERE w.id = ?")
            .arg(bytes);
    case Statement::InsertChunks:
        return QStringLiteral(
                   "INSERT INTO chunks (world, chunk, tick, cells) VALUES %1 "
                   "ON CONFLICT (world, chunk, tick) DO UPDATE SET cells = excluded.cells")
            .arg(values(4));
    case Statement::InsertSnapshot:
        return QStringLiteral(
            "INSERT INTO snapshots (world, tick, state_hash, machines, players, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (world, tick) DO UPDATE SET "
            "state_hash = excluded.state_hash, machines = excluded.machines, "
            "players = excluded.players, created_at = excluded.created_at");
    case Statement::DeleteOldSnapshots:
        return QStringLiteral("DELETE FROM snapshots WHERE world = ? AND tick < ?");
    case Statement::DeleteSupersededChunks:
        return QStringLiteral(
            "DELETE FROM chunks WHERE world = ? AND tick < ? AND EXISTS (SELECT 1 FROM chunks n "
            "WHERE n.world = chunks.world AND n.chunk = chunks.chunk AND n.tick > chunks.tick "
            "AND n.tick <= ?)");
    case Statement::AdvanceTick:
        return QStringLiteral(
            "UPDATE worlds SET tick = ?, state_hash = ?, updated_at = ? WHERE id = ?");
    case Statement::AdvanceTickIfNewer:
        return QStringLiteral("UPDATE worlds SET tick = ?, state_hash = ?, updated_at = ? "
                              "WHERE id = ? AND tick < ?");
    case Statement::InsertEvents:
        return QStringLiteral("INSERT INTO events (world, tick, seq, kind, player, name, "
                              "action_kind, cell, prototype, orientation, recipe, item, count, "
                              "client_seq, result) VALUES %1")
            .arg(values(15));
    case Statement::InsertEventArrays:
        return QStringLiteral(
            "INSERT INTO events (world, tick, seq, kind, player, name, action_kind, cell, "
            "prototype, orientation, recipe, item, count, client_seq, result) SELECT ?, * FROM "
            "unnest(?::bigint[], ?::bigint[], ?::smallint[], ?::integer[], ?::text[], "
            "?::smallint[], ?::bigint[], ?::integer[], ?::smallint[], ?::integer[], "
            "?::integer[], ?::integer[], ?::bigint[], ?::smallint[])");
    case Statement::UpsertPlayers:
        return QStringLiteral("INSERT INTO players (world, name_key, name, password_hash, "
                              "player_id, view, inventory, last_seen) VALUES %1 "
                              "ON CONFLICT (world, name_key) DO UPDATE SET name = excluded.name, "
                              "password_hash = excluded.password_hash, "
                              "player_id = excluded.player_id, view = excluded.view, "
                              "inventory = excluded.inventory, last_seen = excluded.last_seen")
            .arg(values(8));
    case Statement::PlayerByKey:
        return QStringLiteral("SELECT name, password_hash, player_id, view, inventory, last_seen "
                              "FROM players WHERE world = ? AND name_key = ?");
    case Statement::Players:
        return QStringLiteral("SELECT name, password_hash, player_id, view, inventory, last_seen "
                              "FROM players WHERE world = ? ORDER BY name_key");
    case Statement::SetTokenKey:
        return QStringLiteral("UPDATE worlds SET token_key = ? WHERE id = ? AND token_key IS NULL");
    case Statement::TokenKey:
        return QStringLiteral("SELECT token_key FROM worlds WHERE id = ?");
    case Statement::NewestSnapshot:
        return QStringLiteral("SELECT tick, state_hash, machines, players FROM snapshots "
                              "WHERE world = ? ORDER BY tick DESC LIMIT 1");
    case Statement::ChunksAt:
        return QStringLiteral(
            "SELECT c.chunk, c.tick, c.cells FROM chunks c WHERE c.world = ? AND c.tick = "
            "(SELECT max(m.tick) FROM chunks m WHERE m.world = c.world AND m.chunk = c.chunk "
            "AND m.tick <= ?) ORDER BY c.chunk");
    case Statement::EventsRange:
        return QStringLiteral("SELECT tick, seq, kind, player, name, action_kind, cell, prototype, "
                              "orientation, recipe, item, count, client_seq, result FROM events "
                              "WHERE world = ? AND tick >= ? AND tick <= ? ORDER BY tick, seq");
    }
    return {};
}

QSqlQuery *SqlWorldStore::statement(Statement which, int rows)
{
    if (!m_db.isOpen()) {
        m_error = tr("%1: the connection to the database is lost.").arg(m_where);
        m_connectionLost = true;
        return nullptr;
    }
    const int key = static_cast<int>(which) * 1000 + rows;
    auto found = m_statements.find(key);
    if (found != m_statements.end())
        return found->second.get();
    auto query = std::make_unique<QSqlQuery>(m_db);
    query->setForwardOnly(true);
    if (!query->prepare(statementText(which, rows))) {
        fail(tr("cannot prepare a statement"), query->lastError());
        return nullptr;
    }
    return m_statements.emplace(key, std::move(query)).first->second.get();
}

template<typename Row, typename Bind>
bool SqlWorldStore::insertRows(Statement which, std::span<const Row> rows, const QString &what,
                               Bind bind)
{
    std::size_t done = 0;
    while (done < rows.size()) {
        const std::size_t left = rows.size() - done;
        int batch = 1;
        for (int size : kBatchSizes) {
            if (std::size_t(size) <= left) {
                batch = size;
                break;
            }
        }
        QSqlQuery *query = statement(which, batch);
        if (!query)
            return false;
        int column = 0;
        for (int i = 0; i < batch; ++i)
            column = bind(*query, column, rows[done + i]);
        if (!execute(*query, what))
            return false;
        query->finish();
        done += batch;
    }
    return true;
}

// --- the world ------------------------------------------------------------------------------

bool SqlWorldStore::exists()
{
    return lookUpWorld() && m_worldId != 0;
}

bool SqlWorldStore::create(const WorldMeta &meta)
{
    const QString name = meta.name.isEmpty() ? m_worldName : meta.name;
    if (name != m_worldName) {
        return failWith(
            tr("%1: this store is for the world '%2', not '%3'.").arg(m_where, m_worldName, name));
    }
    if (m_access == Access::ReadOnly || m_schemaVersion == 0)
        return failWith(tr("%1: cannot create a world: the store is read-only.").arg(m_where));
    const QString what = tr("cannot create the world '%1'").arg(name);
    if (!lookUpWorld())
        return false;
    if (m_worldId != 0)
        return failWith(tr("%1: the world '%2' exists already.").arg(m_where, name));
    if (!begin(what))
        return false;
    QSqlQuery *query = statement(Statement::InsertWorld);
    if (!query) {
        rollback();
        return false;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    query->bindValue(0, name);
    query->bindValue(1, bits(meta.seed));
    query->bindValue(2, meta.subdivisions);
    query->bindValue(3, meta.contentVersion.isNull() ? QString(QLatin1StringView(""))
                                                     : meta.contentVersion);
    query->bindValue(4, now);
    query->bindValue(5, now);
    if (!execute(*query, what)) {
        rollback();
        return false;
    }
    if (!query->next()) {
        query->finish();
        failWith(tr("%1: %2.").arg(m_where, what));
        rollback();
        return false;
    }
    const qint64 id = query->value(0).toLongLong();
    query->finish();
    if (!commit(what))
        return false;
    m_worldId = id;
    qCInfo(lcDb).noquote() << QStringLiteral("tick 0: %1: created world '%2', seed %3, n=%4")
                                  .arg(m_where, name)
                                  .arg(meta.seed)
                                  .arg(meta.subdivisions);
    return true;
}

std::optional<WorldSummary> SqlWorldStore::summaryOf(QSqlQuery &query)
{
    WorldSummary summary;
    summary.name = query.value(0).toString();
    summary.seed = unbits(query.value(1));
    summary.subdivisions = query.value(2).toInt();
    summary.tick = unbits(query.value(3));
    summary.stateHash = unbits(query.value(4));
    summary.contentVersion = query.value(5).toString();
    summary.updatedAt = timeFrom(query.value(6));
    summary.players = query.value(7).toInt();
    summary.bytes = m_backend == Backend::Sqlite ? fileBytes(m_file) : query.value(8).toLongLong();
    return summary;
}

std::optional<WorldSummary> SqlWorldStore::summary()
{
    m_error.clear();
    if (m_schemaVersion == 0)
        return std::nullopt;
    if (!requireWorld(tr("cannot read the world")))
        return std::nullopt;
    QSqlQuery *query = statement(Statement::Summary);
    if (!query)
        return std::nullopt;
    query->bindValue(0, m_worldId);
    if (!execute(*query, tr("cannot read the world")))
        return std::nullopt;
    if (!query->next()) {
        query->finish();
        m_worldId = 0;
        failWith(tr("%1: there is no world '%2'.").arg(m_where, m_worldName));
        return std::nullopt;
    }
    auto result = summaryOf(*query);
    query->finish();
    return result;
}

bool SqlWorldStore::writeChunks(std::span<const ChunkRecord> chunks)
{
    const QString what = tr("cannot write chunks");
    if (!requireWorld(what))
        return false;
    if (chunks.empty())
        return true;
    // One row per (chunk, tick), the last one given: PostgreSQL refuses a statement that
    // would update one row twice.
    std::vector<ChunkRecord> unique;
    unique.reserve(chunks.size());
    {
        std::map<std::pair<geometry::ChunkId, std::uint64_t>, std::size_t> index;
        for (const ChunkRecord &record : chunks) {
            const auto [it, inserted]
                = index.try_emplace({record.chunk, record.tick}, unique.size());
            if (inserted)
                unique.push_back(record);
            else
                unique[it->second] = record;
        }
    }
    if (!begin(what))
        return false;
    const qint64 world = m_worldId;
    const bool ok = insertRows(Statement::InsertChunks, std::span<const ChunkRecord>(unique), what,
                               [world](QSqlQuery &q, int c, const ChunkRecord &r) {
                                   q.bindValue(c++, world);
                                   q.bindValue(c++, qint64(r.chunk));
                                   q.bindValue(c++, bits(r.tick));
                                   q.bindValue(c++, blob(r.cells));
                                   return c;
                               });
    if (!ok) {
        rollback();
        return false;
    }
    return commit(what);
}

bool SqlWorldStore::commitSnapshot(const SnapshotRecord &snapshot)
{
    const QString what = tr("cannot commit the snapshot of tick %1").arg(snapshot.tick);
    if (!requireWorld(what))
        return false;
    if (!begin(what))
        return false;
    const auto abort = [this] {
        rollback();
        return false;
    };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QSqlQuery *insert = statement(Statement::InsertSnapshot);
    if (!insert)
        return abort();
    insert->bindValue(0, m_worldId);
    insert->bindValue(1, bits(snapshot.tick));
    insert->bindValue(2, bits(snapshot.stateHash));
    insert->bindValue(3, blob(snapshot.machines));
    insert->bindValue(4, blob(snapshot.players));
    insert->bindValue(5, now);
    if (!execute(*insert, what))
        return abort();
    insert->finish();
    QSqlQuery *snapshots = statement(Statement::DeleteOldSnapshots);
    if (!snapshots)
        return abort();
    snapshots->bindValue(0, m_worldId);
    snapshots->bindValue(1, bits(snapshot.tick));
    if (!execute(*snapshots, what))
        return abort();
    if (m_backend == Backend::Postgresql) {
        // The delete below joins chunks with itself. With statistics taken while the
        // table was small (another world first, or before autovacuum looked again),
        // PostgreSQL picks a nested loop of sequential scans: 25 to 40 s instead of 30
        // ms at n=512. A hash join is right at every size; this transaction only.
        QSqlQuery planner(m_db);
        if (!planner.exec(QStringLiteral("SET LOCAL enable_nestloop = off"))) {
            fail(what, planner.lastError());
            return abort();
        }
    }
    QSqlQuery *chunks = statement(Statement::DeleteSupersededChunks);
    if (!chunks)
        return abort();
    chunks->bindValue(0, m_worldId);
    chunks->bindValue(1, bits(snapshot.tick));
    chunks->bindValue(2, bits(snapshot.tick));
    if (!execute(*chunks, what))
        return abort();
    const int dropped = chunks->numRowsAffected();
    // A snapshot is a committed state too: the world's tick never lags behind it.
    QSqlQuery *advance = statement(Statement::AdvanceTickIfNewer);
    if (!advance)
        return abort();
    advance->bindValue(0, bits(snapshot.tick));
    advance->bindValue(1, bits(snapshot.stateHash));
    advance->bindValue(2, now);
    advance->bindValue(3, m_worldId);
    advance->bindValue(4, bits(snapshot.tick));
    if (!execute(*advance, what))
        return abort();
    if (!commit(what))
        return false;
    qCDebug(lcDb).noquote() << QStringLiteral("tick %1: snapshot of %2 committed, %3 chunk records "
                                              "superseded")
                                   .arg(snapshot.tick)
                                   .arg(m_worldName)
                                   .arg(dropped);
    return true;
}

/// PostgreSQL: every event of the batch in one statement of 15 array parameters,
/// unnested by the server. Qt's QPSQL sends each parameter as an SQL literal, so this
/// costs one literal per column instead of one per value (a tick of 100 events: one
/// round trip, a few hundred bytes).
bool SqlWorldStore::insertEventArrays(const std::vector<EventRow> &rows, const QString &what)
{
    constexpr int kColumns = 14;
    QString arrays[kColumns];
    for (QString &array : arrays) {
        array.reserve(int(rows.size()) * 8 + 2);
        array += QLatin1Char('{');
    }
    const auto number = [](QString &array, qint64 value) {
        if (array.size() > 1)
            array += QLatin1Char(',');
        array += QString::number(value);
    };
    for (const EventRow &row : rows) {
        const EventRecord &e = *row.event;
        number(arrays[0], bits(row.tick));
        number(arrays[1], e.seq);
        number(arrays[2], int(e.kind));
        number(arrays[3], int(e.player));
        // Array elements are quoted, with '"' and backslashes escaped by a backslash.
        QString name = e.name;
        name.replace(QLatin1Char('\\'), QStringLiteral("\\\\"));
        name.replace(QLatin1Char('"'), QStringLiteral("\\\""));
        if (arrays[4].size() > 1)
            arrays[4] += QLatin1Char(',');
        arrays[4] += QLatin1Char('"') + name + QLatin1Char('"');
        number(arrays[5], int(e.action.kind));
        number(arrays[6], e.action.cell);
        number(arrays[7], e.action.prototype);
        number(arrays[8], e.action.orientation);
        number(arrays[9], e.action.recipe);
        number(arrays[10], e.action.items.item);
        number(arrays[11], e.action.items.count);
        number(arrays[12], e.action.clientSeq);
        number(arrays[13], int(e.result));
    }
    QSqlQuery *query = statement(Statement::InsertEventArrays);
    if (!query)
        return false;
    query->bindValue(0, m_worldId);
    for (int i = 0; i < kColumns; ++i)
        query->bindValue(i + 1, arrays[i] + QLatin1Char('}'));
    if (!execute(*query, what))
        return false;
    query->finish();
    return true;
}

bool SqlWorldStore::appendTicks(std::span<const TickRecord> ticks)
{
    if (ticks.empty())
        return true;
    const QString what = tr("cannot append the events of ticks %1..%2")
                             .arg(ticks.front().tick)
                             .arg(ticks.back().tick);
    if (!requireWorld(what))
        return false;
    std::vector<EventRow> rows;
    for (const TickRecord &record : ticks) {
        // The step's tick is the truth for its events.
        for (const EventRecord &event : record.events)
            rows.push_back({record.tick, &event});
    }
    if (!begin(what))
        return false;
    const qint64 world = m_worldId;
    const bool ok
        = m_backend == Backend::Postgresql
              ? insertEventArrays(rows, what)
              : insertRows(Statement::InsertEvents, std::span<const EventRow>(rows), what,
                           [world](QSqlQuery &q, int c, const EventRow &row) {
                               const EventRecord &e = *row.event;
                               q.bindValue(c++, world);
                               q.bindValue(c++, bits(row.tick));
                               q.bindValue(c++, qint64(e.seq));
                               q.bindValue(c++, int(e.kind));
                               q.bindValue(c++, int(e.player));
                               q.bindValue(c++, e.name.isNull() ? QString(QLatin1StringView(""))
                                                                : e.name);
                               q.bindValue(c++, int(e.action.kind));
                               q.bindValue(c++, qint64(e.action.cell));
                               q.bindValue(c++, int(e.action.prototype));
                               q.bindValue(c++, int(e.action.orientation));
                               q.bindValue(c++, int(e.action.recipe));
                               q.bindValue(c++, int(e.action.items.item));
                               q.bindValue(c++, int(e.action.items.count));
                               q.bindValue(c++, qint64(e.action.clientSeq));
                               q.bindValue(c++, int(e.result));
                               return c;
                           });
    if (!ok) {
        rollback();
        return false;
    }
    QSqlQuery *advance = statement(Statement::AdvanceTick);
    if (!advance) {
        rollback();
        return false;
    }
    advance->bindValue(0, bits(ticks.back().tick));
    advance->bindValue(1, bits(ticks.back().stateHash));
    advance->bindValue(2, QDateTime::currentDateTimeUtc());
    advance->bindValue(3, m_worldId);
    if (!execute(*advance, what)) {
        rollback();
        return false;
    }
    return commit(what);
}

bool SqlWorldStore::savePlayers(std::span<const PlayerRecord> players)
{
    const QString what = tr("cannot save players");
    if (!requireWorld(what))
        return false;
    if (players.empty())
        return true;
    // One row per name regardless of case: the last one given.
    std::vector<PlayerRecord> unique;
    {
        std::unordered_map<QString, std::size_t> index;
        for (const PlayerRecord &record : players) {
            const auto [it, inserted] = index.try_emplace(record.name.toLower(), unique.size());
            if (inserted)
                unique.push_back(record);
            else
                unique[it->second] = record;
        }
    }
    if (!begin(what))
        return false;
    const qint64 world = m_worldId;
    const bool ok
        = insertRows(Statement::UpsertPlayers, std::span<const PlayerRecord>(unique), what,
                     [world](QSqlQuery &q, int c, const PlayerRecord &p) {
                         q.bindValue(c++, world);
                         q.bindValue(c++, text(p.name.toLower()));
                         q.bindValue(c++, text(p.name));
                         q.bindValue(c++, p.passwordHash ? blob(*p.passwordHash) : nullBytes());
                         q.bindValue(c++, p.player ? QVariant(int(*p.player))
                                                   : QVariant(QMetaType::fromType<int>()));
                         q.bindValue(c++, blob(p.view));
                         q.bindValue(c++, text(QString::fromUtf8(p.inventory)));
                         q.bindValue(c++, timeValue(p.lastSeen));
                         return c;
                     });
    if (!ok) {
        rollback();
        return false;
    }
    return commit(what);
}

PlayerRecord SqlWorldStore::playerFrom(const QSqlQuery &query) const
{
    PlayerRecord record;
    record.name = query.value(0).toString();
    if (!query.value(1).isNull())
        record.passwordHash = query.value(1).toByteArray();
    if (!query.value(2).isNull())
        record.player = static_cast<sim::PlayerId>(query.value(2).toInt());
    record.view = query.value(3).toByteArray();
    record.inventory = query.value(4).toString().toUtf8();
    record.lastSeen = timeFrom(query.value(5));
    return record;
}

std::optional<PlayerRecord> SqlWorldStore::player(const QString &name)
{
    m_error.clear();
    const QString what = tr("cannot read the player '%1'").arg(name);
    if (!requireWorld(what))
        return std::nullopt;
    QSqlQuery *query = statement(Statement::PlayerByKey);
    if (!query)
        return std::nullopt;
    query->bindValue(0, m_worldId);
    query->bindValue(1, name.toLower());
    if (!execute(*query, what))
        return std::nullopt;
    std::optional<PlayerRecord> result;
    if (query->next())
        result = playerFrom(*query);
    query->finish();
    return result;
}

tl::expected<std::vector<PlayerRecord>, QString> SqlWorldStore::players()
{
    const QString what = tr("cannot read the players");
    if (!requireWorld(what))
        return tl::make_unexpected(m_error);
    QSqlQuery *query = statement(Statement::Players);
    if (!query)
        return tl::make_unexpected(m_error);
    query->bindValue(0, m_worldId);
    if (!execute(*query, what))
        return tl::make_unexpected(m_error);
    std::vector<PlayerRecord> result;
    while (query->next())
        result.push_back(playerFrom(*query));
    query->finish();
    return result;
}

tl::expected<QByteArray, QString> SqlWorldStore::tokenKey(const QByteArray &keyIfNone)
{
    const QString what = tr("cannot read the token key");
    if (!requireWorld(what))
        return tl::make_unexpected(m_error);
    if (!begin(what))
        return tl::make_unexpected(m_error);
    if (!keyIfNone.isEmpty()) {
        QSqlQuery *set = statement(Statement::SetTokenKey);
        if (!set) {
            rollback();
            return tl::make_unexpected(m_error);
        }
        set->bindValue(0, keyIfNone);
        set->bindValue(1, m_worldId);
        if (!execute(*set, what)) {
            rollback();
            return tl::make_unexpected(m_error);
        }
    }
    QSqlQuery *get = statement(Statement::TokenKey);
    if (!get) {
        rollback();
        return tl::make_unexpected(m_error);
    }
    get->bindValue(0, m_worldId);
    if (!execute(*get, what)) {
        rollback();
        return tl::make_unexpected(m_error);
    }
    QByteArray key;
    if (get->next())
        key = get->value(0).toByteArray();
    get->finish();
    if (!commit(what))
        return tl::make_unexpected(m_error);
    if (key.isEmpty()) {
        failWith(tr("%1: the world '%2' has no token key yet.").arg(m_where, m_worldName));
        return tl::make_unexpected(m_error);
    }
    return key;
}

EventRecord SqlWorldStore::eventFrom(const QSqlQuery &query, int c) const
{
    EventRecord event;
    event.tick = unbits(query.value(c++));
    event.seq = static_cast<std::uint32_t>(query.value(c++).toLongLong());
    event.kind = static_cast<EventRecord::Kind>(query.value(c++).toInt());
    event.player = static_cast<sim::PlayerId>(query.value(c++).toInt());
    event.name = query.value(c++).toString();
    event.action.kind = static_cast<sim::ActionKind>(query.value(c++).toInt());
    event.action.cell = static_cast<sim::CellId>(query.value(c++).toLongLong());
    event.action.prototype = static_cast<sim::PrototypeId>(query.value(c++).toInt());
    event.action.orientation = static_cast<std::uint8_t>(query.value(c++).toInt());
    event.action.recipe = static_cast<sim::RecipeId>(query.value(c++).toInt());
    event.action.items.item = static_cast<sim::ItemId>(query.value(c++).toInt());
    event.action.items.count = static_cast<std::uint16_t>(query.value(c++).toInt());
    event.action.clientSeq = static_cast<std::uint32_t>(query.value(c++).toLongLong());
    event.result = static_cast<sim::RejectReason>(query.value(c++).toInt());
    // action.player is not stored: an action is always the player's own; a join's
    // action is unused and comes back default.
    if (event.kind == EventRecord::Kind::Action)
        event.action.player = event.player;
    return event;
}

tl::expected<std::vector<EventRecord>, QString> SqlWorldStore::events(std::uint64_t from,
                                                                      std::uint64_t to)
{
    const QString what = tr("cannot read the events");
    if (!requireWorld(what))
        return tl::make_unexpected(m_error);
    std::vector<EventRecord> result;
    if (from > to)
        return result;
    QSqlQuery *query = statement(Statement::EventsRange);
    if (!query)
        return tl::make_unexpected(m_error);
    query->bindValue(0, m_worldId);
    query->bindValue(1, tickBound(from));
    query->bindValue(2, tickBound(to));
    if (!execute(*query, what))
        return tl::make_unexpected(m_error);
    while (query->next())
        result.push_back(eventFrom(*query, 0));
    query->finish();
    return result;
}

tl::expected<LoadedWorld, QString> SqlWorldStore::load()
{
    const QString what = tr("cannot load the world '%1'").arg(m_worldName);
    if (!requireWorld(what))
        return tl::make_unexpected(m_error);
    // One read transaction: a consistent view while a writer may be flushing.
    if (!runStatement(QStringLiteral("BEGIN"), what))
        return tl::make_unexpected(m_error);
    const auto abort = [this]() -> tl::expected<LoadedWorld, QString> {
        rollback();
        return tl::make_unexpected(m_error);
    };
    LoadedWorld world;
    auto summary = this->summary();
    if (!summary)
        return abort();
    world.summary = *summary;
    QSqlQuery *snapshot = statement(Statement::NewestSnapshot);
    if (!snapshot)
        return abort();
    snapshot->bindValue(0, m_worldId);
    if (!execute(*snapshot, what))
        return abort();
    if (!snapshot->next()) {
        snapshot->finish();
        failWith(tr("%1: the world '%2' has no complete snapshot.").arg(m_where, m_worldName));
        return abort();
    }
    world.snapshot.tick = unbits(snapshot->value(0));
    world.snapshot.stateHash = unbits(snapshot->value(1));
    world.snapshot.machines = snapshot->value(2).toByteArray();
    world.snapshot.players = snapshot->value(3).toByteArray();
    snapshot->finish();
    QSqlQuery *chunks = statement(Statement::ChunksAt);
    if (!chunks)
        return abort();
    chunks->bindValue(0, m_worldId);
    chunks->bindValue(1, bits(world.snapshot.tick));
    if (!execute(*chunks, what))
        return abort();
    while (chunks->next()) {
        world.chunks.push_back({static_cast<geometry::ChunkId>(chunks->value(0).toLongLong()),
                                unbits(chunks->value(1)), chunks->value(2).toByteArray()});
    }
    chunks->finish();
    if (world.summary.tick > world.snapshot.tick) {
        auto events = this->events(world.snapshot.tick + 1, world.summary.tick);
        if (!events)
            return abort();
        world.events = std::move(*events);
    }
    if (!runStatement(QStringLiteral("COMMIT"), what))
        return abort();
    qCInfo(lcDb).noquote() << QStringLiteral("tick %1: loaded %2: snapshot of tick %3, %4 chunks, "
                                             "%5 events to replay")
                                  .arg(world.summary.tick)
                                  .arg(m_worldName)
                                  .arg(world.snapshot.tick)
                                  .arg(world.chunks.size())
                                  .arg(world.events.size());
    return world;
}

// --- the catalogue's part ------------------------------------------------------------------

tl::expected<std::vector<WorldSummary>, QString> SqlWorldStore::listWorlds()
{
    std::vector<WorldSummary> worlds;
    if (m_schemaVersion == 0)
        return worlds;
    QString sql = statementText(Statement::Summary, 1);
    sql.replace(QStringLiteral("WHERE w.id = ?"), QStringLiteral("ORDER BY w.name"));
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    if (!query.exec(sql)) {
        fail(tr("cannot list the worlds"), query.lastError());
        return tl::make_unexpected(m_error);
    }
    while (query.next()) {
        if (auto summary = summaryOf(query))
            worlds.push_back(*summary);
    }
    return worlds;
}

bool SqlWorldStore::vacuumInto(const QString &file)
{
    const QString what = tr("cannot copy the world to %1").arg(file);
    if (!m_db.isOpen())
        return failWith(tr("%1: %2: the database is not open.").arg(m_where, what));
    QSqlQuery query(m_db);
    if (!query.prepare(QStringLiteral("VACUUM INTO ?")))
        return fail(what, query.lastError());
    query.bindValue(0, file);
    return execute(query, what);
}

bool SqlWorldStore::renameWorld(const QString &newName)
{
    const QString what = tr("cannot rename the world to '%1'").arg(newName);
    if (!requireWorld(what))
        return false;
    if (!begin(what))
        return false;
    QSqlQuery query(m_db);
    query.prepare(QStringLiteral("UPDATE worlds SET name = ?, updated_at = ? WHERE id = ?"));
    query.bindValue(0, newName);
    query.bindValue(1, QDateTime::currentDateTimeUtc());
    query.bindValue(2, m_worldId);
    if (!execute(query, what)) {
        rollback();
        return false;
    }
    if (!commit(what))
        return false;
    m_worldName = newName;
    return true;
}

bool SqlWorldStore::branchWorld(const QString &target)
{
    const QString what = tr("cannot branch the world '%1' to '%2'").arg(m_worldName, target);
    if (!requireWorld(what))
        return false;
    // Repeatable read: every table is copied as of one moment, even while a server writes.
    if (!runStatement(QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ"), what))
        return false;
    QSqlQuery query(m_db);
    const auto abort = [&](const QSqlError &error) {
        fail(what, error);
        rollback();
        return false;
    };
    query.prepare(QStringLiteral("SELECT 1 FROM worlds WHERE name = ?"));
    query.bindValue(0, target);
    if (!query.exec())
        return abort(query.lastError());
    if (query.next()) {
        rollback();
        return failWith(tr("A world '%1' exists already in %2.").arg(target, m_where));
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    query.prepare(QStringLiteral(
        "INSERT INTO worlds (name, seed, subdivisions, tick, state_hash, content_version, "
        "token_key, created_at, updated_at) SELECT ?, seed, subdivisions, tick, state_hash, "
        "content_version, token_key, ?, ? FROM worlds WHERE id = ? RETURNING id"));
    query.bindValue(0, target);
    query.bindValue(1, now);
    query.bindValue(2, now);
    query.bindValue(3, m_worldId);
    if (!query.exec() || !query.next())
        return abort(query.lastError());
    const qint64 copy = query.value(0).toLongLong();
    query.finish();
    const char *copies[] = {
        "INSERT INTO chunks (world, chunk, tick, cells) SELECT ?, chunk, tick, cells FROM chunks "
        "WHERE world = ?",
        "INSERT INTO snapshots (world, tick, state_hash, machines, players, created_at) "
        "SELECT ?, tick, state_hash, machines, players, created_at FROM snapshots WHERE world = ?",
        "INSERT INTO players (world, name_key, name, password_hash, player_id, view, inventory, "
        "last_seen) SELECT ?, name_key, name, password_hash, player_id, view, inventory, "
        "last_seen FROM players WHERE world = ?",
        "INSERT INTO events (world, tick, seq, kind, player, name, action_kind, cell, prototype, "
        "orientation, recipe, item, count, client_seq, result) SELECT ?, tick, seq, kind, player, "
        "name, action_kind, cell, prototype, orientation, recipe, item, count, client_seq, result "
        "FROM events WHERE world = ?",
    };
    for (const char *sql : copies) {
        query.prepare(QString::fromLatin1(sql));
        query.bindValue(0, copy);
        query.bindValue(1, m_worldId);
        if (!query.exec())
            return abort(query.lastError());
    }
    query.finish();
    if (!commit(what))
        return false;
    qCInfo(lcDb).noquote()
        << QStringLiteral("%1: branched world '%2' to '%3'").arg(m_where, m_worldName, target);
    return true;
}

bool SqlWorldStore::removeWorld()
{
    const QString what = tr("cannot delete the world '%1'").arg(m_worldName);
    if (!requireWorld(what))
        return false;
    if (!begin(what))
        return false;
    QSqlQuery query(m_db);
    query.prepare(QStringLiteral("DELETE FROM worlds WHERE id = ?"));
    query.bindValue(0, m_worldId);
    if (!execute(query, what)) {
        rollback();
        return false;
    }
    if (!commit(what))
        return false;
    qCInfo(lcDb).noquote() << QStringLiteral("%1: deleted world '%2'").arg(m_where, m_worldName);
    m_worldId = 0;
    return true;
}

} // namespace hex::server::persistence
