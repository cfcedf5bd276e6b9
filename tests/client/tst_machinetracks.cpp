// MachineTracks: belts' items and machines' progress drawn between server states, a
// step over the tick before the state that brought it; bad entries refused by name.
#include "net/machinetracks.h"

#include <QTest>

#include <memory>

using namespace hex;
using client::MachineMotion;
using client::MachineTracks;

namespace {

/// A small world: cell ids and chunks as the server has them.
const geometry::HexSphere &sphere()
{
    static const geometry::HexSphere s(8);
    return s;
}

/// The first non-pentagon cell of chunk 3, and the next one.
geometry::CellId cellOfChunk(geometry::ChunkId chunk, int index = 0)
{
    const auto cells = sphere().chunkCells(chunk);
    int seen = 0;
    for (const geometry::CellId cell : cells) {
        if (geometry::HexSphere::isPentagon(cell))
            continue;
        if (seen++ == index)
            return cell;
    }
    return cells.back();
}

protocol::MachineView belt(geometry::CellId cell, std::initializer_list<std::pair<int, int>> items,
                           int duration = 8)
{
    protocol::MachineView view;
    view.set_cell(cell);
    view.set_duration(std::uint32_t(duration));
    for (const auto &[item, along] : items) {
        view.add_lane_items(std::uint32_t(item));
        view.add_lane_progress(std::uint32_t(along));
    }
    return view;
}

protocol::MachineView working(geometry::CellId cell, int progress, int duration)
{
    protocol::MachineView view;
    view.set_cell(cell);
    view.set_progress(std::uint32_t(progress));
    view.set_duration(std::uint32_t(duration));
    view.set_running(true);
    return view;
}

/// Applies `views` as one tick's update of chunk `chunk` at `timeMs`.
void send(MachineTracks &tracks, geometry::ChunkId chunk, qint64 timeMs,
          std::initializer_list<protocol::MachineView> views, bool full = false)
{
    protocol::ChunkMachines machines;
    machines.set_chunk(chunk);
    machines.set_full(full);
    for (const protocol::MachineView &view : views)
        *machines.add_machines() = view;
    const protocol::ChunkMachines *list[] = {&machines};
    tracks.onTick(timeMs);
    const auto applied = tracks.apply(list, sphere(), timeMs);
    QVERIFY2(applied, applied ? "" : qPrintable(applied.error()));
}

const MachineMotion *motionOf(const std::vector<MachineMotion> &motions, geometry::CellId cell)
{
    for (const MachineMotion &motion : motions) {
        if (motion.cell == cell)
            return &motion;
    }
    return nullptr;
}

} // namespace

class tst_MachineTracks : public QObject
{
    Q_OBJECT
private slots:
    void anItemGlidesBetweenTicks();
    void aMachineStandsStillUntilTheTickBeforeItsNextState();
    void itemsLeaveAtTheFrontAndEnterAtTheBack();
    void progressWrapsWhenACycleEnds();
    void removedAndUnlistedMachinesGo();
    void entriesOutsideTheirChunkAreRefused_data();
    void entriesOutsideTheirChunkAreRefused();
};

void tst_MachineTracks::anItemGlidesBetweenTicks()
{
    MachineTracks tracks;
    const geometry::CellId cell = cellOfChunk(3);
    for (int tick = 0; tick < 4; ++tick)
        send(tracks, 3, tick * 50, {belt(cell, {{5, 2 + tick}})});
    QCOMPARE(tracks.tickIntervalMs(), 50.0);
    // Half way between the states of 100 ms (4/8) and 150 ms (5/8).
    const auto motions = tracks.at(125.0);
    const MachineMotion *motion = motionOf(motions, cell);
    QVERIFY(motion);
    QCOMPARE(motion->items.size(), std::size_t(1));
    QCOMPARE(motion->items[0].item, sim::ItemId(5));
    QCOMPARE(motion->items[0].along, 4.5f / 8.0f);
    QVERIFY(motion->progress < 0.0f); // A belt shows items, not a bar.
    // Past the newest state it stands there.
    QCOMPARE(motionOf(tracks.at(1000.0), cell)->items[0].along, 5.0f / 8.0f);
}

void tst_MachineTracks::aMachineStandsStillUntilTheTickBeforeItsNextState()
{
    MachineTracks tracks;
    const geometry::CellId cell = cellOfChunk(3);
    send(tracks, 3, 0, {working(cell, 2, 10)});
    // Ticks pass without a word about it: it did not change.
    for (int tick = 1; tick < 10; ++tick)
        send(tracks, 3, tick * 50, {});
    send(tracks, 3, 500, {working(cell, 3, 10)});
    QCOMPARE(motionOf(tracks.at(250.0), cell)->progress, 0.2f);
    QCOMPARE(motionOf(tracks.at(450.0), cell)->progress, 0.2f);
    QCOMPARE(motionOf(tracks.at(475.0), cell)->progress, 0.25f);
    QCOMPARE(motionOf(tracks.at(500.0), cell)->progress, 0.3f);
}

void tst_MachineTracks::itemsLeaveAtTheFrontAndEnterAtTheBack()
{
    MachineTracks tracks;
    const geometry::CellId cell = cellOfChunk(3);
    // Item 1 at the front edge leaves; item 2 moves up; item 3 enters at the back.
    send(tracks, 3, 0, {belt(cell, {{1, 8}, {2, 4}})});
    send(tracks, 3, 50, {belt(cell, {{2, 5}, {3, 0}})});
    const auto motions = tracks.at(25.0);
    const MachineMotion *half = motionOf(motions, cell);
    QVERIFY(half);
    QCOMPARE(half->items.size(), std::size_t(3));
    QCOMPARE(half->items[0].item, sim::ItemId(1)); // leaving: at the edge until it is gone
    QCOMPARE(half->items[0].along, 1.0f);
    QCOMPARE(half->items[1].item, sim::ItemId(2));
    QCOMPARE(half->items[1].along, 4.5f / 8.0f);
    QCOMPARE(half->items[2].item, sim::ItemId(3));
    QCOMPARE(half->items[2].along, 0.0f);
    const auto after = tracks.at(50.0);
    const MachineMotion *done = motionOf(after, cell);
    QVERIFY(done);
    QCOMPARE(done->items.size(), std::size_t(2));
    QCOMPARE(done->items[0].item, sim::ItemId(2));
    QCOMPARE(done->items[1].item, sim::ItemId(3));

    // A blocked belt: nothing moves, nothing enters.
    send(tracks, 3, 100, {belt(cell, {{2, 5}, {3, 0}})});
    const auto still = tracks.at(75.0);
    const MachineMotion *blocked = motionOf(still, cell);
    QVERIFY(blocked);
    QCOMPARE(blocked->items.size(), std::size_t(2));
    QCOMPARE(blocked->items[0].along, 5.0f / 8.0f);
    QCOMPARE(blocked->items[1].along, 0.0f);
}

void tst_MachineTracks::progressWrapsWhenACycleEnds()
{
    MachineTracks tracks;
    const geometry::CellId cell = cellOfChunk(3);
    // 9 of 10 done, then the cycle ends and the next is 1 tick in: 9 -> 10 -> 1.
    send(tracks, 3, 0, {working(cell, 9, 10)});
    send(tracks, 3, 50, {working(cell, 1, 10)});
    QCOMPARE(motionOf(tracks.at(0.0), cell)->progress, 0.9f);
    QCOMPARE(motionOf(tracks.at(12.5), cell)->progress, 0.95f);
    QCOMPARE(motionOf(tracks.at(37.5), cell)->progress, 0.05f);
    QCOMPARE(motionOf(tracks.at(50.0), cell)->progress, 0.1f);
}

void tst_MachineTracks::removedAndUnlistedMachinesGo()
{
    MachineTracks tracks;
    const geometry::CellId a = cellOfChunk(3, 0);
    const geometry::CellId b = cellOfChunk(3, 1);
    send(tracks, 3, 0, {working(a, 1, 10), working(b, 1, 10)}, true);
    QCOMPARE(tracks.at(0.0).size(), std::size_t(2));

    protocol::ChunkMachines removal;
    removal.set_chunk(3);
    removal.add_removed(a);
    const protocol::ChunkMachines *list[] = {&removal};
    QVERIFY(tracks.apply(list, sphere(), 50));
    QCOMPARE(tracks.at(25.0).size(), std::size_t(2)); // still there before it went
    QCOMPARE(tracks.at(60.0).size(), std::size_t(1));
    QVERIFY(motionOf(tracks.at(60.0), b));

    // A full list without b: b went too.
    send(tracks, 3, 100, {}, true);
    QVERIFY(tracks.at(150.0).empty());
    // A chunk that leaves the view takes its machines along.
    send(tracks, 3, 150, {working(a, 1, 10)});
    QCOMPARE(tracks.at(200.0).size(), std::size_t(1));
    tracks.dropChunk(3, sphere());
    QVERIFY(tracks.at(200.0).empty());
}

void tst_MachineTracks::entriesOutsideTheirChunkAreRefused_data()
{
    QTest::addColumn<int>("chunk");
    QTest::addColumn<int>("cell");
    QTest::addColumn<bool>("unevenLane");
    QTest::addColumn<QString>("message");
    const int inThree = int(cellOfChunk(3));
    const int inFour = int(cellOfChunk(4));
    QTest::newRow("chunk past the last") << int(sphere().chunkCount()) << inThree << false
                                         << QStringLiteral("does not have");
    QTest::newRow("cell of another chunk") << 3 << inFour << false << QStringLiteral("outside it");
    QTest::newRow("cell past the last") << 3 << int(sphere().cellCount()) << false
                                        << QStringLiteral("outside it");
    QTest::newRow("items without positions") << 3 << inThree << true
                                             << QStringLiteral("positions");
}

void tst_MachineTracks::entriesOutsideTheirChunkAreRefused()
{
    QFETCH(int, chunk);
    QFETCH(int, cell);
    QFETCH(bool, unevenLane);
    QFETCH(QString, message);
    MachineTracks tracks;
    protocol::ChunkMachines machines;
    machines.set_chunk(std::uint32_t(chunk));
    protocol::MachineView *view = machines.add_machines();
    *view = belt(geometry::CellId(cell), {{1, 2}});
    if (unevenLane)
        view->add_lane_items(4);
    const protocol::ChunkMachines *list[] = {&machines};
    const auto applied = tracks.apply(list, sphere(), 0);
    QVERIFY(!applied);
    QVERIFY2(applied.error().contains(message), qPrintable(applied.error()));
    QCOMPARE(tracks.size(), std::size_t(0));
}

QTEST_APPLESS_MAIN(tst_MachineTracks)
#include "tst_machinetracks.moc"
