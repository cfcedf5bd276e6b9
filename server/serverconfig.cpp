#include "serverconfig.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QThread>

#include <algorithm>

#include "protocol/protocolversion.h"

namespace hex::server {

void addServerOptions(QCommandLineParser &parser)
{
    const ServerConfig defaults;
    parser.addOptions({
        {QStringLiteral("port"),
         ServerConfig::tr("TCP port to listen on; 0 picks a free one (default %1).")
             .arg(defaults.port),
         ServerConfig::tr("port")},
        {QStringLiteral("bind"),
         ServerConfig::tr("Address to listen on (default: all interfaces)."),
         ServerConfig::tr("address")},
        {QStringLiteral("size"),
         ServerConfig::tr("World size n: the planet has 10n²+2 cells, 1..%1 (default %2).")
             .arg(kMaxSubdivisions)
             .arg(defaults.subdivisions),
         ServerConfig::tr("n")},
        {QStringLiteral("ups"),
         ServerConfig::tr("Simulation updates per second, %1..%2 (default %3).")
             .arg(kMinUps)
             .arg(kMaxUps)
             .arg(defaults.ups),
         ServerConfig::tr("rate")},
        {QStringLiteral("seed"),
         ServerConfig::tr("World generation seed (default %1).").arg(defaults.seed),
         ServerConfig::tr("number")},
        {QStringLiteral("world"),
         ServerConfig::tr("World name (default \"%1\").").arg(defaults.worldName),
         ServerConfig::tr("name")},
        {QStringLiteral("threads"),
         ServerConfig::tr("Threads the simulation step may use, 1..%1 (default %2).")
             .arg(kMaxThreads)
             .arg(defaults.threads),
         ServerConfig::tr("count")},
        {QStringLiteral("max-clients"),
         ServerConfig::tr("Most WebSocket clients connected at once, 1..%1 (default %2).")
             .arg(kMaxClients)
             .arg(defaults.maxClients),
         ServerConfig::tr("count")},
        {QStringLiteral("max-http"),
         ServerConfig::tr("Most HTTP connections open at once, long-polls included, 1..%1 "
                          "(default %2).")
             .arg(kMaxClients)
             .arg(defaults.maxHttpConnections),
         ServerConfig::tr("count")},
        {QStringLiteral("require-accounts"),
         ServerConfig::tr("Refuse guests: players register an account and log in.")},
        {QStringLiteral("token-ttl"),
         ServerConfig::tr("Seconds a session token stays valid, 10..2592000 (default %1).")
             .arg(defaults.tokenTtlSeconds),
         ServerConfig::tr("seconds")},
        {QStringLiteral("mailbox-size"),
         ServerConfig::tr("Messages a session's mailbox holds before the oldest are replaced "
                          "by a resync marker, 4..65536 (default %1).")
             .arg(defaults.mailboxCapacity),
         ServerConfig::tr("count")},
        {QStringLiteral("session-idle"),
         ServerConfig::tr("Seconds a session with no connection and no request lives on, "
                          "10..86400 (default %1).")
             .arg(defaults.sessionIdleSeconds),
         ServerConfig::tr("seconds")},
        {QStringLiteral("password"),
         ServerConfig::tr("A password players must give to join (default: none)."),
         ServerConfig::tr("password")},
        {QStringLiteral("announce"),
         ServerConfig::tr("Announce the server on the local network and answer LAN "
                          "discovery (UDP port %1).")
             .arg(protocol::kLanDiscoveryPort)},
        {QStringLiteral("database"),
         ServerConfig::tr("Where worlds are kept: a directory of SQLite files (\"sqlite:DIR\" or "
                          "a path), \"postgresql://user:password@host:port/database\", or "
                          "\"none\" to keep nothing (default: SQLite files in %1).")
             .arg(persistence::StoreLocation::defaultSqliteDirectory()),
         ServerConfig::tr("url")},
        {QStringLiteral("flush-interval"),
         ServerConfig::tr("Milliseconds between saves of the changed parts of the world, "
                          "100..3600000 (default %1).")
             .arg(defaults.flushIntervalMs),
         ServerConfig::tr("ms")},
        {QStringLiteral("workers"),
         ServerConfig::tr("Compute worker processes that step the world in shared memory, "
                          "0..%1; 0 steps it on --threads threads in the server (default: "
                          "\"auto\", %2 for worlds of size 256 and more on this machine, "
                          "else 0).")
             .arg(kMaxWorkers)
             .arg(defaultWorkers()),
         ServerConfig::tr("count")},
        {QStringLiteral("wakeup"),
         ServerConfig::tr("How the server and its workers wake each other: futex, eventfd "
                          "or signal (default: the best this kernel offers)."),
         ServerConfig::tr("method")},
        {QStringLiteral("worker-deadline"),
         ServerConfig::tr("Milliseconds one step phase of a worker may take before the "
                          "server kills it and runs the parts it took itself, 10..60000 "
                          "(default %1).")
             .arg(defaults.workerDeadlineMs),
         ServerConfig::tr("ms")},
    });
}

int defaultWorkers()
{
    return std::clamp(QThread::idealThreadCount(), 1, 4);
}

compute::ComputeOptions computeOptionsFor(const ServerConfig &config, int workers)
{
    compute::ComputeOptions options;
    options.workers = workers;
    options.program = compute::ComputeGroup::defaultProgram();
    options.deadline = std::chrono::milliseconds(config.workerDeadlineMs);
    options.method = compute::parseWakeMethod(config.wakeup).value_or(compute::Waker::best());
    return options;
}

int resolveWorkers(int configured, int size)
{
    if (configured != kAutoWorkers)
        return configured;
    return size >= kAutoWorkersMinSize && QThread::idealThreadCount() >= 2 ? defaultWorkers() : 0;
}

std::optional<ServerConfig> serverConfigFromParser(const QCommandLineParser &parser,
                                                   QStringList *errors)
{
    ServerConfig config;
    QStringList problems;

    auto readInt = [&](const QString &name, int min, int max, int *out) {
        if (!parser.isSet(name))
            return;
        bool ok = false;
        const int value = parser.value(name).toInt(&ok);
        if (!ok || value < min || value > max) {
            problems << ServerConfig::tr("--%1 must be a whole number from %2 to %3, not \"%4\".")
                            .arg(name)
                            .arg(min)
                            .arg(max)
                            .arg(parser.value(name));
            return;
        }
        *out = value;
    };

    int port = config.port;
    readInt(QStringLiteral("port"), 0, 65535, &port);
    config.port = quint16(port);
    readInt(QStringLiteral("size"), 1, kMaxSubdivisions, &config.subdivisions);
    readInt(QStringLiteral("ups"), kMinUps, kMaxUps, &config.ups);
    readInt(QStringLiteral("threads"), 1, kMaxThreads, &config.threads);
    readInt(QStringLiteral("max-clients"), 1, kMaxClients, &config.maxClients);
    readInt(QStringLiteral("max-http"), 1, kMaxClients, &config.maxHttpConnections);
    readInt(QStringLiteral("token-ttl"), 10, 30 * 24 * 3600, &config.tokenTtlSeconds);
    readInt(QStringLiteral("mailbox-size"), 4, 65536, &config.mailboxCapacity);
    readInt(QStringLiteral("session-idle"), 10, 24 * 3600, &config.sessionIdleSeconds);
    readInt(QStringLiteral("flush-interval"), 100, 3600 * 1000, &config.flushIntervalMs);
    readInt(QStringLiteral("worker-deadline"), 10, 60000, &config.workerDeadlineMs);
    // The dedicated server decides once it knows the world's size (see GameServer).
    config.workers = kAutoWorkers;
    if (parser.isSet(QStringLiteral("workers"))
        && parser.value(QStringLiteral("workers")) != QStringLiteral("auto"))
        readInt(QStringLiteral("workers"), 0, kMaxWorkers, &config.workers);
    if (parser.isSet(QStringLiteral("wakeup"))) {
        config.wakeup = parser.value(QStringLiteral("wakeup"));
        if (config.wakeup != QStringLiteral("futex") && config.wakeup != QStringLiteral("eventfd")
            && config.wakeup != QStringLiteral("signal"))
            problems << ServerConfig::tr("--wakeup must be futex, eventfd or signal, not \"%1\".")
                            .arg(config.wakeup);
    }
    config.requireAccounts = parser.isSet(QStringLiteral("require-accounts"));
    config.announceOnLan = parser.isSet(QStringLiteral("announce"));
    if (parser.isSet(QStringLiteral("password"))) {
        config.joinPassword = parser.value(QStringLiteral("password"));
        if (config.joinPassword.isEmpty() || config.joinPassword.size() > 256)
            problems << ServerConfig::tr("--password must be 1 to 256 characters.");
    }

    if (parser.isSet(QStringLiteral("seed"))) {
        bool ok = false;
        const qulonglong seed = parser.value(QStringLiteral("seed")).toULongLong(&ok);
        if (ok)
            config.seed = seed;
        else
            problems << ServerConfig::tr("--seed must be a non-negative whole number, not \"%1\".")
                            .arg(parser.value(QStringLiteral("seed")));
    }
    if (parser.isSet(QStringLiteral("bind"))) {
        QHostAddress address;
        if (address.setAddress(parser.value(QStringLiteral("bind"))))
            config.bindAddress = address;
        else
            problems << ServerConfig::tr("--bind must be an IP address, not \"%1\".")
                            .arg(parser.value(QStringLiteral("bind")));
    }
    if (parser.isSet(QStringLiteral("world"))) {
        const QString name = parser.value(QStringLiteral("world")).trimmed();
        if (name.isEmpty() || name.size() > 64)
            problems << ServerConfig::tr("--world must be a name of 1 to 64 characters.");
        else
            config.worldName = name;
    }

    // No --database: the default SQLite directory, so a dedicated server keeps its world.
    const QString database = parser.isSet(QStringLiteral("database"))
                                 ? parser.value(QStringLiteral("database"))
                                 : QString();
    if (parser.isSet(QStringLiteral("database")) && database.trimmed().isEmpty()) {
        problems << ServerConfig::tr("--database must be a directory, a postgresql:// URL or "
                                     "\"none\", not empty.");
    } else if (auto location = persistence::StoreLocation::parse(database)) {
        config.store = *location;
    } else {
        problems << ServerConfig::tr("--database: %1").arg(location.error());
    }
    if (config.store.kind != persistence::StoreLocation::Kind::None
        && !persistence::WorldCatalog::isValidName(config.worldName)) {
        problems << ServerConfig::tr("--world \"%1\" cannot name a saved world: use letters, "
                                     "digits, spaces, '-', '_' and '.', not starting with '.'.")
                        .arg(config.worldName);
    }

    if (!problems.isEmpty()) {
        if (errors)
            *errors = problems;
        return std::nullopt;
    }
    return config;
}

} // namespace hex::server
