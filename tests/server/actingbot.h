#pragma once

// A player for fault tests that acts continuously over WebSocket (claims spreading from
// a first cell, conveyors built and removed) and keeps what it was told: every action
// result with its tick, every TickUpdate's durable_tick and state hash. After a crash,
// checkDurable() compares what it was told was durable with a restarted world.

#include "wsclient.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/content.h"
#include "sim/terrain.h"
#include "sim/worldstate.h"

#include <QRandomGenerator>
#include <QString>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace hex::tests {

/// One WebSocket player that keeps acting. Call absorb() and act() from the test's
/// event loop (see runBots()).
class ActingBot
{
public:
    /// What the bot asked for.
    struct Sent
    {
        protocol::ActionKind kind = protocol::CLAIM;
        std::uint32_t cell = 0;
    };
    /// What the server answered.
    struct Ack
    {
        std::uint64_t tick = 0;
        std::uint32_t reason = 0;
        bool accepted() const { return reason == 0; }
    };

    /// `conveyor` is the prototype it builds (cheap, and a removal gives its cost back).
    ActingBot(const QString &url, QString name, int subdivisions, sim::PrototypeId conveyor,
              quint32 seed)
        : client(url)
        , m_name(std::move(name))
        , m_subdivisions(subdivisions)
        , m_sphere(std::make_shared<geometry::HexSphere>(subdivisions))
        , m_conveyor(conveyor)
        , m_random(seed)
    {}

    /// Joins as a guest and learns the ground from its snapshot.
    bool join()
    {
        if (!client.join(qPrintable(m_name)))
            return false;
        playerId = client.playerId();
        m_known = client.mirror(m_subdivisions);
        return true;
    }

    const QString &name() const { return m_name; }

    /// Land cells nobody owned when it joined.
    std::vector<std::uint32_t> freeLand() const
    {
        std::vector<std::uint32_t> out;
        for (std::uint32_t c = 12; c < m_known.cellCount(); ++c) {
            if (isLand(c) && m_known.owner[c] == sim::kNoPlayer
                && m_known.structure[c] == sim::kNoStructure)
                out.push_back(c);
        }
        return out;
    }

    /// The cell its first claim takes; later claims spread from the cells it owns.
    void setFirstCell(std::uint32_t cell) { m_frontier.push_back(cell); }

    /// Reads what arrived since the last call: results, durable ticks, hashes.
    void absorb()
    {
        for (; m_absorbed < client.m_received.size(); ++m_absorbed) {
            const protocol::Envelope &e = client.m_received[m_absorbed];
            if (e.has_tick()) {
                const protocol::TickUpdate &t = e.tick();
                lastTick = std::max(lastTick, t.tick());
                hashes[t.tick()] = t.state_hash();
                maxDurableTick = std::max<std::uint64_t>(maxDurableTick, t.durable_tick());
                for (const auto &r : t.results())
                    absorbResult(r);
            } else if (e.has_resync()) {
                for (const auto &r : e.resync().results())
                    absorbResult(r);
            }
        }
    }

    /// Sends one action if it has something to do: mostly claims at first, then builds
    /// and removals on the cells it owns. Never two actions on one cell at once.
    void act()
    {
        const int roll = int(m_random.bounded(100));
        const bool canBuild = m_standing.size() + m_pendingBuilds < kMaxStanding;
        std::vector<std::uint32_t> buildable;
        if (canBuild) {
            for (const std::uint32_t c : m_owned) {
                if (isLand(c) && !m_standing.contains(c) && !m_busy.contains(c))
                    buildable.push_back(c);
            }
        }
        std::vector<std::uint32_t> removable;
        for (const std::uint32_t c : m_standing) {
            if (!m_busy.contains(c))
                removable.push_back(c);
        }
        if (roll < 25 && !removable.empty()) {
            send(protocol::REMOVE, pick(removable));
        } else if (roll < 60 && !buildable.empty()) {
            const std::uint32_t cell = pick(buildable);
            send(protocol::BUILD, cell, m_conveyor);
            ++m_pendingBuilds;
        } else if (const auto claim = nextClaim()) {
            send(protocol::CLAIM, *claim);
        } else if (!buildable.empty()) {
            send(protocol::BUILD, pick(buildable), m_conveyor);
            ++m_pendingBuilds;
        } else if (!removable.empty()) {
            send(protocol::REMOVE, pick(removable));
        }
    }

    /// Whether the action `seq` was acknowledged as durable: accepted or not, its result
    /// came in a tick <= a durable_tick this client saw.
    bool durable(const Ack &ack) const { return ack.tick <= maxDurableTick; }

    WsClient client;
    sim::PlayerId playerId = sim::kNoPlayer;
    std::map<std::uint32_t, Sent> sent;
    std::map<std::uint32_t, Ack> acks;
    /// TickUpdate.state_hash by tick.
    std::map<std::uint64_t, std::uint64_t> hashes;
    std::uint64_t maxDurableTick = 0;
    std::uint64_t lastTick = 0;

private:
    /// Conveyors standing at once: well within the starting gears.
    static constexpr std::size_t kMaxStanding = 12;

    bool isLand(std::uint32_t c) const
    {
        return m_known.terrain[c] > std::uint8_t(sim::Terrain::ShallowWater);
    }

    std::uint32_t pick(const std::vector<std::uint32_t> &cells)
    {
        return cells[std::size_t(m_random.bounded(quint32(cells.size())))];
    }

    std::optional<std::uint32_t> nextClaim()
    {
        while (!m_frontier.empty()) {
            const std::size_t i = std::size_t(m_random.bounded(quint32(m_frontier.size())));
            const std::uint32_t cell = m_frontier[i];
            m_frontier.erase(m_frontier.begin() + std::ptrdiff_t(i));
            if (m_tried.insert(cell).second && !m_busy.contains(cell))
                return cell;
        }
        return std::nullopt;
    }

    void send(protocol::ActionKind kind, std::uint32_t cell, std::uint32_t prototype = 0)
    {
        const std::uint32_t seq = client.act(kind, cell, prototype, 0);
        sent[seq] = Sent{kind, cell};
        m_busy.insert(cell);
    }

    void absorbResult(const protocol::ActionResult &r)
    {
        const auto it = sent.find(r.client_seq());
        if (it == sent.end() || acks.contains(r.client_seq()))
            return;
        acks[r.client_seq()] = Ack{r.tick(), r.reason()};
        const Sent &s = it->second;
        m_busy.erase(s.cell);
        const bool accepted = r.reason() == 0;
        switch (s.kind) {
        case protocol::CLAIM:
            if (accepted) {
                m_owned.insert(s.cell);
                for (const geometry::CellId n : m_sphere->neighbours(s.cell)) {
                    if (!m_tried.contains(n) && m_known.owner[n] == sim::kNoPlayer)
                        m_frontier.push_back(n);
                }
            }
            break;
        case protocol::BUILD:
            --m_pendingBuilds;
            if (accepted)
                m_standing.insert(s.cell);
            break;
        case protocol::REMOVE:
            if (accepted)
                m_standing.erase(s.cell);
            break;
        default:
            break;
        }
    }

    QString m_name;
    int m_subdivisions = 0;
    std::shared_ptr<const geometry::HexSphere> m_sphere;
    sim::PrototypeId m_conveyor = 0;
    QRandomGenerator m_random;
    protocol::VisibleCells m_known;
    std::size_t m_absorbed = 0;
    std::vector<std::uint32_t> m_frontier;
    std::set<std::uint32_t> m_tried;
    std::set<std::uint32_t> m_owned;
    std::set<std::uint32_t> m_standing;
    std::set<std::uint32_t> m_busy;
    std::size_t m_pendingBuilds = 0;
};

/// Lets `bots` act for `durationMs`, each at most once per `intervalMs` (under the
/// per-session rate limit), calling `each` on every turn of the loop; stops early when
/// `each` returns false.
template<typename Each>
void runBots(const std::vector<std::unique_ptr<ActingBot>> &bots, int durationMs, int intervalMs,
             Each each)
{
    QElapsedTimer timer;
    timer.start();
    std::vector<qint64> lastSent(bots.size(), -intervalMs);
    while (timer.elapsed() < durationMs) {
        for (std::size_t i = 0; i < bots.size(); ++i) {
            bots[i]->absorb();
            if (timer.elapsed() - lastSent[i] >= intervalMs) {
                bots[i]->act();
                lastSent[i] = timer.elapsed();
            }
        }
        if (!each())
            return;
        QTest::qWait(10);
    }
    for (const auto &bot : bots)
        bot->absorb();
}

/// What checkDurable() found.
struct DurabilityReport
{
    int acknowledged = 0;   ///< results received
    int durable = 0;        ///< of those, in a tick <= a durable_tick the bot saw
    int durableClaims = 0;  ///< accepted durable claims checked against the owners
    int structureCells = 0; ///< cells whose last action was durable and accepted
    QString failure;        ///< empty when every check held
};

/// Checks what `bot` was told was durable against `cells`, the world after a restart:
/// every accepted durable claim's cell is the bot's, and every cell whose last action
/// (by the bot's sequence) was accepted and durable holds what that action left (a
/// conveyor after a build; nothing after a removal or a claim). Claims are never undone
/// and only the owner acts on a cell, so both are exact.
inline DurabilityReport checkDurable(const ActingBot &bot, const protocol::VisibleCells &cells,
                                     sim::PrototypeId conveyor)
{
    DurabilityReport report;
    std::map<std::uint32_t, std::uint32_t> lastSeqOnCell;
    for (const auto &[seq, sent] : bot.sent)
        lastSeqOnCell[sent.cell] = std::max(lastSeqOnCell[sent.cell], seq);
    for (const auto &[seq, ack] : bot.acks) {
        ++report.acknowledged;
        if (!bot.durable(ack))
            continue;
        ++report.durable;
        const ActingBot::Sent &sent = bot.sent.at(seq);
        if (sent.kind == protocol::CLAIM && ack.accepted()) {
            ++report.durableClaims;
            if (cells.owner[sent.cell] != bot.playerId && report.failure.isEmpty()) {
                report.failure = QStringLiteral("%1's claim of cell %2 (seq %3) was accepted "
                                                "in tick %4 and durable (durable tick %5), "
                                                "but the cell's owner is %6 after the restart")
                                     .arg(bot.name())
                                     .arg(sent.cell)
                                     .arg(seq)
                                     .arg(ack.tick)
                                     .arg(bot.maxDurableTick)
                                     .arg(cells.owner[sent.cell]);
            }
        }
        if (lastSeqOnCell[sent.cell] != seq || !ack.accepted())
            continue;
        ++report.structureCells;
        const std::uint16_t expected = sent.kind == protocol::BUILD ? conveyor : sim::kNoStructure;
        if (cells.structure[sent.cell] != expected && report.failure.isEmpty()) {
            report.failure = QStringLiteral("%1's last action on cell %2 (seq %3, kind %4) was "
                                            "accepted in tick %5 and durable, so the cell should "
                                            "hold structure %6, but it holds %7 after the "
                                            "restart")
                                 .arg(bot.name())
                                 .arg(sent.cell)
                                 .arg(seq)
                                 .arg(int(sent.kind))
                                 .arg(ack.tick)
                                 .arg(expected)
                                 .arg(cells.structure[sent.cell]);
        }
    }
    return report;
}

} // namespace hex::tests
