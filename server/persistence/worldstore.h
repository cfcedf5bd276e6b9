#pragma once

#include "sim/actions.h"
#include "sim/worldstate.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <tl/expected.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

/// Where worlds are kept, and the one interface every backend implements. Modelled on
/// Luanti's src/database/: one interface, one file pair per backend. Two backends go
/// through Qt Sql: SQLite (the default: one file per world under a directory) and
/// PostgreSQL (every world of a server in one database, rows keyed by world).
namespace hex::server::persistence {

/// Where a server keeps its worlds, parsed from --database.
struct StoreLocation
{
    enum class Kind {
        None,       ///< nothing is kept: the world dies with the process (tests, benchmarks)
        Sqlite,     ///< `directory` holds one `<name>.hexworld` SQLite file per world
        Postgresql, ///< every world in one PostgreSQL database
    };
    Kind kind = Kind::None;
    /// Sqlite: the directory of world files (created on first use).
    QString directory;
    /// Postgresql: connection parameters.
    QString host = QStringLiteral("localhost");
    int port = 5432;
    QString user;
    QString password;
    QString databaseName;

    /// "none"; "sqlite:DIR" (or a bare directory path); "postgresql://user:pass@host:port/db"
    /// (percent-encoded parts; "postgres://" too). An empty text is the default:
    /// SQLite under defaultSqliteDirectory(). Says what is wrong otherwise.
    static tl::expected<StoreLocation, QString> parse(const QString &text);
    /// QStandardPaths::GenericDataLocation + "/hexsphere/worlds", i.e.
    /// $XDG_DATA_HOME/hexsphere/worlds (~/.local/share/hexsphere/worlds): the same for
    /// the dedicated server and the client's Host mode, so either can continue a world.
    static QString defaultSqliteDirectory();
    /// For logs and errors: the directory, or postgresql://user@host:port/db (never the
    /// password).
    QString describe() const;
};

/// A world as the catalogue lists it.
struct WorldSummary
{
    QString name;
    std::uint64_t seed = 0;
    int subdivisions = 0;
    /// The last tick whose events are committed: the world resumes here.
    std::uint64_t tick = 0;
    std::uint64_t stateHash = 0;
    QString contentVersion;
    QDateTime updatedAt;
    /// Players who ever joined it.
    int players = 0;
    /// Sqlite: the file's size; Postgresql: the bytes of its rows (approximate).
    qint64 bytes = 0;
    /// Empty when the world could be read. Otherwise why not, in a sentence (a damaged
    /// file in WorldCatalog::list()); then only `name` and `bytes` are filled in.
    QString problem;
};

/// One chunk's cells, compressed (see statecodec.h), as of `tick`.
struct ChunkRecord
{
    geometry::ChunkId chunk = 0;
    std::uint64_t tick = 0;
    QByteArray cells;
};

/// What a consistent save point holds besides its chunks: the state at `tick` is every
/// chunk's newest record with a tick <= `tick`, plus these blobs (statecodec.h).
struct SnapshotRecord
{
    std::uint64_t tick = 0;
    std::uint64_t stateHash = 0;
    QByteArray machines;
    QByteArray players;
};

/// One entry of the append-only event log. Within a tick, `seq` orders entries: joins
/// first (in player id order), then actions in the order they were applied.
struct EventRecord
{
    enum class Kind : std::uint8_t { Join = 0, Action = 1 };
    std::uint64_t tick = 0; ///< the step it belongs to (StepResult::tick)
    std::uint32_t seq = 0;
    Kind kind = Kind::Action;
    /// Join: the new player's id and name.
    sim::PlayerId player = sim::kNoPlayer;
    QString name;
    /// Action: what was asked (action.player == player) and what came of it.
    sim::Action action;
    sim::RejectReason result = sim::RejectReason::None;
    bool operator==(const EventRecord &) const = default;
};

/// The events of one step and the state it left: committed together, and once
/// committed the step is durable.
struct TickRecord
{
    std::uint64_t tick = 0;
    std::uint64_t stateHash = 0;
    std::vector<EventRecord> events;
};

/// A player as the store keeps it between sessions. Accounts have a password hash;
/// guests have none. `player` is the id in the world's state once the player joined.
struct PlayerRecord
{
    QString name;
    std::optional<QByteArray> passwordHash;
    std::optional<sim::PlayerId> player;
    /// The camera's last view, as a serialized protocol::View; empty for none.
    QByteArray view;
    /// The inventory at the last save, as JSON {"item id": count}; informational (the
    /// world's own state is the truth).
    QByteArray inventory;
    QDateTime lastSeen;
};

/// What a world needs on creation.
struct WorldMeta
{
    QString name;
    std::uint64_t seed = 0;
    int subdivisions = 0;
    QString contentVersion;
};

/// Everything to rebuild a world: the newest complete snapshot, its chunks, and the
/// events after it up to the last committed tick.
struct LoadedWorld
{
    WorldSummary summary;
    SnapshotRecord snapshot;
    std::vector<ChunkRecord> chunks; ///< one per chunk that has a record, ascending
    std::vector<EventRecord> events; ///< ticks > snapshot.tick, in (tick, seq) order
};

/// One open connection to where one world is kept. Not thread-safe: one thread opens it
/// and makes every call (each thread has its own store; Qt Sql connections are per
/// thread). Every write is one transaction: it all lands or none of it does. Failures
/// return false / an error value; errorString() then names the file or server and says
/// what went wrong in a sentence.
class WorldStore
{
public:
    virtual ~WorldStore() = default;

    /// Opens `location` for the world `worldName`: connects, checks the database is a
    /// Hexsphere store, applies missing migrations (resources/migrations/) and records
    /// them. Refuses, naming the file or database, a corrupt or truncated SQLite file, a
    /// database whose schema is newer than this program knows, and a schema that is not
    /// ours; it then writes nothing. `connectionName` must be unique in the process.
    static std::unique_ptr<WorldStore> open(const StoreLocation &location,
                                            const QString &worldName,
                                            const QString &connectionName,
                                            QString *error);

    virtual QString errorString() const = 0;
    /// Whether the last failure looks like a lost connection (the server went away)
    /// rather than bad data: the caller keeps its backlog and calls reconnect().
    virtual bool connectionLost() const = 0;
    /// Closes and opens the connection again. False while the database is unreachable.
    [[nodiscard]] virtual bool reconnect() = 0;
    /// The schema version this program writes (the newest migration it has).
    static int schemaVersion();
    /// The schema version of the open database.
    virtual int databaseSchemaVersion() const = 0;

    /// Whether the world exists yet.
    virtual bool exists() = 0;
    /// Creates the world's row; false if it exists.
    [[nodiscard]] virtual bool create(const WorldMeta &meta) = 0;
    virtual std::optional<WorldSummary> summary() = 0;

    /// Writes chunk records, one transaction for the whole batch.
    [[nodiscard]] virtual bool writeChunks(std::span<const ChunkRecord> chunks) = 0;
    /// Records a complete save point (its chunks are written already) and then drops
    /// chunk records and snapshots it supersedes. One transaction.
    [[nodiscard]] virtual bool commitSnapshot(const SnapshotRecord &snapshot) = 0;
    /// Appends the events of these steps and advances the world's tick and state hash
    /// to the last one: one transaction (group commit). `ticks` ascend.
    [[nodiscard]] virtual bool appendTicks(std::span<const TickRecord> ticks) = 0;
    /// Inserts or replaces players by name (case-insensitive), one transaction.
    [[nodiscard]] virtual bool savePlayers(std::span<const PlayerRecord> players) = 0;
    virtual std::optional<PlayerRecord> player(const QString &name) = 0;
    virtual tl::expected<std::vector<PlayerRecord>, QString> players() = 0;

    /// The key that signs session tokens: made once per world and kept, so that after a
    /// restart a token from before it is still known as this server's (its holder is told
    /// the session ended, not that the token is forged). `key` is stored only when none
    /// is.
    virtual tl::expected<QByteArray, QString> tokenKey(const QByteArray &keyIfNone) = 0;

    /// Everything to rebuild the world (see LoadedWorld). An error when the world does not
    /// exist or has no complete snapshot.
    virtual tl::expected<LoadedWorld, QString> load() = 0;
    /// Every event with from <= tick <= to, in (tick, seq) order (for replays and audits).
    virtual tl::expected<std::vector<EventRecord>, QString> events(std::uint64_t from,
                                                                  std::uint64_t to) = 0;
};

/// The worlds of a location, as `hexsphere-server world ...` manages them. Synchronous;
/// any one thread.
class WorldCatalog
{
public:
    explicit WorldCatalog(StoreLocation location);

    /// Every world, by name. An error when the location cannot be read.
    tl::expected<std::vector<WorldSummary>, QString> list();
    /// A full, independent copy of `source` named `target` (SQLite: VACUUM INTO a new
    /// file; PostgreSQL: the rows copied under a new world id in one transaction).
    /// Refused when source does not exist or target does.
    tl::expected<void, QString> branch(const QString &source, const QString &target);
    /// Deletes the world and everything it holds. Refused when it does not exist.
    tl::expected<void, QString> remove(const QString &name);
    bool exists(const QString &name);
    /// The world names allowed: 1..64 letters, digits, spaces, '-', '_' and '.', not
    /// starting with '.'; they become file names.
    static bool isValidName(const QString &name);

private:
    StoreLocation m_location;
};

} // namespace hex::server::persistence
