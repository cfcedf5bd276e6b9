#pragma once

#include "worldstore.h"

#include <QCoreApplication>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <map>
#include <memory>

namespace hex::server::persistence {

/// The Qt Sql backend of WorldStore, for SQLite (QSQLITE: one file per world) and
/// PostgreSQL (QPSQL: every world in one database). See worldstore.h for the contract.
/// Beyond the interface it offers what WorldCatalog needs (listing, branching,
/// removing). One thread uses it; it owns its Qt Sql connection.
class SqlWorldStore final : public WorldStore
{
    Q_DECLARE_TR_FUNCTIONS(hex::server::persistence::SqlWorldStore)

public:
    enum class Backend { Sqlite, Postgresql };
    enum class Access {
        ReadWrite, ///< migrates the schema; every call may write
        ReadOnly,  ///< reads only: no migrations, no write (listing, a branch's source)
    };

    /// `file`: the SQLite file (ignored for PostgreSQL). Nothing happens before open().
    SqlWorldStore(const StoreLocation &location, const QString &file, const QString &worldName,
                  const QString &connectionName, Access access);
    ~SqlWorldStore() override;

    /// Connects, checks the database is ours (and, ReadWrite, applies missing
    /// migrations). False with the reason in errorString(); nothing is written then.
    [[nodiscard]] bool open();

    /// `<directory>/<name>.hexworld`.
    static QString worldFile(const StoreLocation &location, const QString &name);
    /// The bytes of a SQLite file and its write-ahead log.
    static qint64 fileBytes(const QString &file);
    /// Removes `file`'s -wal, -shm and -journal companions, and `file` itself.
    static void removeFiles(const QString &file);
    /// The highest NNNN of resources/migrations/<backend>/NNNN_name.sql compiled in.
    static int newestMigration(Backend backend);

    QString errorString() const override { return m_error; }
    bool connectionLost() const override { return m_connectionLost; }
    [[nodiscard]] bool reconnect() override;
    int databaseSchemaVersion() const override { return m_schemaVersion; }

    bool exists() override;
    [[nodiscard]] bool create(const WorldMeta &meta) override;
    std::optional<WorldSummary> summary() override;
    [[nodiscard]] bool writeChunks(std::span<const ChunkRecord> chunks) override;
    [[nodiscard]] bool commitSnapshot(const SnapshotRecord &snapshot) override;
    [[nodiscard]] bool appendTicks(std::span<const TickRecord> ticks) override;
    [[nodiscard]] bool savePlayers(std::span<const PlayerRecord> players) override;
    std::optional<PlayerRecord> player(const QString &name) override;
    tl::expected<std::vector<PlayerRecord>, QString> players() override;
    tl::expected<QByteArray, QString> tokenKey(const QByteArray &keyIfNone) override;
    tl::expected<LoadedWorld, QString> load() override;
    tl::expected<std::vector<EventRecord>, QString> events(std::uint64_t from,
                                                           std::uint64_t to) override;

    /// Every world in the database, by name (PostgreSQL; a SQLite file holds one).
    tl::expected<std::vector<WorldSummary>, QString> listWorlds();
    /// SQLite: a consistent copy of the whole file into `file` (VACUUM INTO).
    [[nodiscard]] bool vacuumInto(const QString &file);
    /// Renames this store's world (the copy a SQLite branch makes).
    [[nodiscard]] bool renameWorld(const QString &newName);
    /// PostgreSQL: copies this world, every row, to a new world `target` in one
    /// transaction. Refused when this world does not exist or `target` does.
    [[nodiscard]] bool branchWorld(const QString &target);
    /// PostgreSQL: deletes this world and all its rows. Refused when it does not exist.
    [[nodiscard]] bool removeWorld();

private:
    enum class Statement;
    /// One event to append, with the tick of the step it belongs to.
    struct EventRow
    {
        std::uint64_t tick;
        const EventRecord *event;
    };

    bool connect();
    void disconnect();
    bool checkSchema(int *version);
    bool migrate(int fromVersion);
    bool applyMigration(int version, const QString &name, const QString &resource);
    bool lookUpWorld();
    bool requireWorld(const QString &what);
    bool begin(const QString &what);
    bool commit(const QString &what);
    void rollback();
    bool fail(const QString &what, const QSqlError &error);
    bool failWith(const QString &message);
    QSqlQuery *statement(Statement which, int rows = 1);
    QString statementText(Statement which, int rows) const;
    bool execute(QSqlQuery &query, const QString &what);
    bool runStatement(const QString &sql, const QString &what);
    template<typename Row, typename Bind>
    bool insertRows(Statement which, std::span<const Row> rows, const QString &what, Bind bind);
    bool insertEventArrays(const std::vector<EventRow> &rows, const QString &what);
    std::optional<WorldSummary> summaryOf(QSqlQuery &query);
    EventRecord eventFrom(const QSqlQuery &query, int column) const;
    PlayerRecord playerFrom(const QSqlQuery &query) const;

    StoreLocation m_location;
    Backend m_backend;
    QString m_file;
    QString m_worldName;
    QString m_connectionName;
    Access m_access;
    /// The file, or postgresql://user@host:port/db, for messages.
    QString m_where;
    QSqlDatabase m_db;
    std::map<int, std::unique_ptr<QSqlQuery>> m_statements;
    qint64 m_worldId = 0;
    int m_schemaVersion = 0;
    QString m_error;
    bool m_connectionLost = false;
};

} // namespace hex::server::persistence
