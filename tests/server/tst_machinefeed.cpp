// MachineFeed: the machines' moving parts per chunk, each piece encoded once a tick:
// what changed since the last tick, what went, and whole chunks for new viewers.
#include "session/machinefeed.h"

#include "protocol/codec.h"
#include "sim/tinyfactory.h"

#include <QTest>

using namespace hex;
using namespace hex::sim::test;

namespace {

protocol::ChunkMachines decodeOne(const QByteArray &piece)
{
    const auto envelope = protocol::decodeEnvelope(piece);
    if (!envelope || envelope->tick().machines_size() != 1)
        return {};
    return envelope->tick().machines(0);
}

} // namespace

class tst_MachineFeed : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void changesAreSentOnce();
    void removalsAreListed();
    void wholeChunksForNewViewers();

private:
    sim::Content m_content = tinyContent();
    std::shared_ptr<const geometry::HexSphere> m_sphere
        = std::make_shared<const geometry::HexSphere>(8);
    sim::WorldState m_state;
    geometry::ChunkId m_chunk = 0;
    geometry::CellId m_belt = 0;
    geometry::CellId m_furnace = 0;
};

void tst_MachineFeed::init()
{
    m_state = emptyWorld(m_sphere);
    m_chunk = 3;
    const auto cells = m_sphere->chunkCells(m_chunk);
    m_belt = cells[cells.size() / 2];
    m_furnace = cells[cells.size() / 2 + 1];
    m_state.structure[m_belt] = Conveyor;
    m_state.structure[m_furnace] = Furnace;
    sim::MachineState belt;
    belt.lane.items[0] = Ore;
    belt.lane.progress[0] = 3;
    belt.lane.count = 1;
    m_state.machines[m_belt] = belt;
    sim::MachineState furnace;
    furnace.recipe = Smelt;
    furnace.running = true;
    furnace.progress = 1;
    m_state.machines[m_furnace] = furnace;
}

void tst_MachineFeed::changesAreSentOnce()
{
    server::MachineFeed feed;
    feed.beginTick(m_state, m_content);
    QCOMPARE(std::vector<geometry::ChunkId>(feed.activeChunks().begin(), feed.activeChunks().end()),
             std::vector<geometry::ChunkId>{m_chunk});
    // Asked twice in a tick: the same bytes.
    const QByteArray first = feed.changedPiece(m_chunk);
    QCOMPARE(feed.changedPiece(m_chunk), first);
    protocol::ChunkMachines machines = decodeOne(first);
    QCOMPARE(machines.chunk(), m_chunk);
    QVERIFY(!machines.full());
    QCOMPARE(machines.machines_size(), 2);
    const protocol::MachineView &belt = machines.machines(0);
    QCOMPARE(belt.cell(), m_belt);
    QCOMPARE(belt.duration(), 4u); // the conveyor's ticks per item
    QCOMPARE(belt.lane_items_size(), 1);
    QCOMPARE(belt.lane_items(0), std::uint32_t(Ore));
    QCOMPARE(belt.lane_progress(0), 3u);
    const protocol::MachineView &furnace = machines.machines(1);
    QCOMPARE(furnace.cell(), m_furnace);
    QCOMPARE(furnace.duration(), 4u); // the smelting recipe's ticks, not the prototype's
    QCOMPARE(furnace.progress(), 1u);
    QVERIFY(furnace.running());

    // Nothing changed: nothing to send.
    feed.beginTick(m_state, m_content);
    QVERIFY(feed.changedPiece(m_chunk).isEmpty());

    // One moved: only that one.
    m_state.machines[m_furnace].progress = 2;
    feed.beginTick(m_state, m_content);
    machines = decodeOne(feed.changedPiece(m_chunk));
    QCOMPARE(machines.machines_size(), 1);
    QCOMPARE(machines.machines(0).cell(), m_furnace);
    QCOMPARE(machines.machines(0).progress(), 2u);
}

void tst_MachineFeed::removalsAreListed()
{
    server::MachineFeed feed;
    feed.beginTick(m_state, m_content);
    QVERIFY(!feed.changedPiece(m_chunk).isEmpty());
    m_state.machines.clear();
    m_state.structure[m_belt] = 0;
    m_state.structure[m_furnace] = 0;
    // The chunk has no machine left, but its viewers must hear they went.
    feed.beginTick(m_state, m_content);
    QCOMPARE(feed.activeChunks().size(), std::size_t(1));
    const protocol::ChunkMachines machines = decodeOne(feed.changedPiece(m_chunk));
    QCOMPARE(machines.machines_size(), 0);
    QCOMPARE(machines.removed_size(), 2);
    QCOMPARE(machines.removed(0), std::min(m_belt, m_furnace));
    feed.beginTick(m_state, m_content);
    QVERIFY(feed.activeChunks().empty());
}

void tst_MachineFeed::wholeChunksForNewViewers()
{
    server::MachineFeed feed;
    feed.beginTick(m_state, m_content);
    (void)feed.changedPiece(m_chunk);
    feed.beginTick(m_state, m_content);
    // Unchanged, yet a new viewer gets every machine of the chunk.
    QVERIFY(feed.changedPiece(m_chunk).isEmpty());
    const protocol::ChunkMachines machines = decodeOne(feed.fullPiece(m_chunk));
    QVERIFY(machines.full());
    QCOMPARE(machines.machines_size(), 2);
    // A chunk without machines: an empty full list, which clears what a viewer had.
    const protocol::ChunkMachines empty = decodeOne(feed.fullPiece(m_chunk + 1));
    QVERIFY(empty.full());
    QCOMPARE(empty.chunk(), m_chunk + 1);
    QCOMPARE(empty.machines_size(), 0);
}

QTEST_APPLESS_MAIN(tst_MachineFeed)
#include "tst_machinefeed.moc"
