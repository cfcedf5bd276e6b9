#pragma once

#include "compute/computegroup.h"
#include "persistence/worldstore.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

class QCommandLineParser;

namespace hex::server {

/// Everything a GameServer is started with.
struct ServerConfig
{
    Q_DECLARE_TR_FUNCTIONS(hex::server::ServerConfig)

public:
    QString worldName = QStringLiteral("Hexsphere");
    /// n of GP(n,0); the world has 10n²+2 cells. 1..512.
    int subdivisions = 128;
    /// Simulation updates per second, 10..60.
    int ups = 20;
    std::uint64_t seed = 1;
    /// Threads the simulation step may use, 1..kMaxThreads.
    int threads = 1;
    /// TCP port; 0 lets the system choose a free one (see GameServer::port()).
    quint16 port = 7357;
    /// Address to listen on: Any for a dedicated or LAN server, LocalHost for a
    /// private hosted game.
    QHostAddress bindAddress = QHostAddress::Any;
    /// Most WebSocket clients connected at once.
    int maxClients = 10'000;
    /// Most HTTP connections open at once (long-polls hold theirs).
    int maxHttpConnections = 1024;
    /// Guests are refused: players register and log in.
    bool requireAccounts = false;
    /// Seconds a session token stays valid.
    int tokenTtlSeconds = 24 * 3600;
    /// Messages a session's mailbox holds before the oldest become a Resync marker.
    int mailboxCapacity = 256;
    /// Seconds a session without a connection or request lives on.
    int sessionIdleSeconds = 300;
    /// A password every player must give to join (Hello.server_password); empty for
    /// none.
    QString joinPassword;
    /// Answer LAN discovery queries and announce the server on the LAN every second
    /// (UDP port protocol::kLanDiscoveryPort).
    bool announceOnLan = false;
    /// Who hosts, as LAN announcements show it ("Ada"); empty for none.
    QString hostName;
    /// Where the world is kept. Kind::None (the default here, for tests and the client's
    /// throwaway worlds) keeps nothing; the dedicated server's --database defaults to
    /// SQLite under StoreLocation::defaultSqliteDirectory().
    persistence::StoreLocation store;
    /// Milliseconds between snapshot flushes of the changed chunks, 100..3600000.
    int flushIntervalMs = 5000;
    /// hexsphere-worker processes that step the automaton in shared memory; 0 steps it on
    /// `threads` threads in this process (the default here, for tests and the client's
    /// hosted games; the dedicated server's --workers defaults to defaultWorkers()).
    /// kAutoWorkers: defaultWorkers() for worlds of size 256 and more, else 0.
    int workers = 0;
    /// How the server and its workers wake each other: "futex", "eventfd", "signal", or
    /// empty for the best the kernel offers.
    QString wakeup;
    /// Milliseconds one phase of one worker may take before it is killed and its part
    /// computed in the server, 10..60000.
    int workerDeadlineMs = 250;
};

/// Workers the dedicated server starts by default: one per processor, 1..4.
int defaultWorkers();
/// The workers for a world of `size` subdivisions: `configured`, or for kAutoWorkers
/// defaultWorkers() when the world is at least kAutoWorkersMinSize and the machine has two
/// processors or more, else 0.
int resolveWorkers(int configured, int size);
/// What `config` asks of `workers` compute workers: the worker next to this program, the
/// config's wake-up method (the best the kernel offers when unset) and deadline.
compute::ComputeOptions computeOptionsFor(const ServerConfig &config, int workers);

inline constexpr int kMinUps = 10;
inline constexpr int kMaxUps = 60;
inline constexpr int kMaxSubdivisions = 512;
inline constexpr int kMaxThreads = 64;
inline constexpr int kMaxClients = 100'000;
inline constexpr int kMaxWorkers = 16;
inline constexpr int kAutoWorkers = -1;
/// The smallest world --workers auto starts workers for: below it a tick takes well
/// under a millisecond and wake-ups would cost more than they save.
inline constexpr int kAutoWorkersMinSize = 256;

/// Adds the world, network and session options (--port, --bind, --size, --ups,
/// --seed, --world, --threads, --max-clients, --max-http, --require-accounts, --token-ttl,
/// --mailbox-size, --session-idle, --password, --announce, --database, --flush-interval,
/// --workers, --wakeup, --worker-deadline)
/// to `parser`.
void addServerOptions(QCommandLineParser &parser);

/// Reads the options added by addServerOptions() after parser.process(). Returns the
/// config, or nullopt with every problem in `errors` (one sentence each).
std::optional<ServerConfig> serverConfigFromParser(const QCommandLineParser &parser,
                                                   QStringList *errors);

} // namespace hex::server
