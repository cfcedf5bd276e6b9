#include "protocol/worldcodec.h"

#include <QTest>

#include <functional>

using namespace hex;

using Mutation = std::function<void(hex::protocol::ChunkDelta &, const hex::geometry::HexSphere &)>;
Q_DECLARE_METATYPE(Mutation)

class tst_WorldCodec : public QObject
{
    Q_OBJECT
private slots:
    void snapshotRoundTrip();
    void chunkSnapshotHoldsItsChunksCells_data();
    void chunkSnapshotHoldsItsChunksCells();
    void badSnapshots_data();
    void badSnapshots();
    void deltaBringsAMirrorUpToDate();
    void badDeltas_data();
    void badDeltas();
};

namespace {

/// A small world state with every layer filled with a recognisable pattern.
sim::WorldState patternedState(int n)
{
    sim::WorldState state;
    state.sphere = std::make_shared<const geometry::HexSphere>(n, 2);
    const std::uint32_t cells = state.sphere->cellCount();
    state.tick = 77;
    for (std::uint32_t c = 0; c < cells; ++c) {
        state.terrain.push_back(std::uint8_t(c % 8));
        state.elevation.push_back(std::uint8_t(c * 7));
        state.resourceKind.push_back(std::uint8_t(c % 5));
        state.resourceAmount.push_back(std::uint16_t(c));
        state.flora.push_back(std::uint8_t(c * 3));
        state.water.push_back(std::uint8_t(c * 5));
        state.pollution.push_back(std::uint8_t(c * 11));
        state.structure.push_back(std::uint16_t(c % 3 == 0 ? 0 : 300 + c));
        state.orientation.push_back(std::uint8_t(c % 6));
        state.owner.push_back(c % 4 == 0 ? sim::kNoPlayer : std::uint16_t(c % 4));
    }
    return state;
}

protocol::ChunkDelta validDelta(sim::WorldState &state, std::vector<geometry::CellId> *cells)
{
    // Change three cells of chunk 1 and describe them.
    const auto chunkCells = state.sphere->chunkCells(1);
    *cells = {chunkCells[0], chunkCells[2], chunkCells[5]};
    const sim::ChunkDelta delta{1, *cells};
    for (const geometry::CellId c : delta.cells) {
        state.flora[c] = 200;
        state.structure[c] = 0xBEEF;
        state.owner[c] = 3;
    }
    protocol::ChunkDelta out;
    protocol::encodeChunkDelta(state, delta, &out);
    return out;
}

} // namespace

void tst_WorldCodec::snapshotRoundTrip()
{
    const sim::WorldState state = patternedState(6);
    protocol::Snapshot snapshot;
    protocol::encodeSnapshot(state, &snapshot);
    QCOMPARE(snapshot.tick(), 77u);
    QCOMPARE(snapshot.structure().size(), std::size_t(state.cellCount()) * 2);
    const auto decoded = protocol::decodeSnapshot(snapshot, state.cellCount());
    QVERIFY2(decoded, qPrintable(decoded ? QString() : decoded.error()));
    QVERIFY(*decoded == protocol::visibleCells(state));
    QCOMPARE(decoded->structure[1], std::uint16_t(301));
    QCOMPARE(decoded->owner[0], sim::kNoPlayer);
}

void tst_WorldCodec::chunkSnapshotHoldsItsChunksCells_data()
{
    QTest::addColumn<int>("chunk");
    QTest::newRow("chunk 0, holds a pentagon") << 0;
    QTest::newRow("chunk 13") << 13;
    QTest::newRow("the last chunk, 39") << 39;
}

void tst_WorldCodec::chunkSnapshotHoldsItsChunksCells()
{
    QFETCH(int, chunk);
    const sim::WorldState state = patternedState(6);
    protocol::ChunkSnapshot out;
    protocol::encodeChunkSnapshot(state, geometry::ChunkId(chunk), &out);
    const auto cells = state.sphere->chunkCells(geometry::ChunkId(chunk));
    QCOMPARE(out.tick(), 77u);
    QCOMPARE(out.chunk(), std::uint32_t(chunk));
    QCOMPARE(std::vector<std::uint32_t>(out.cells().begin(), out.cells().end()),
             std::vector<std::uint32_t>(cells.begin(), cells.end()));
    QCOMPARE(out.structure().size(), 2 * cells.size());
    QCOMPARE(out.owner().size(), 2 * cells.size());
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const geometry::CellId c = cells[i];
        QCOMPARE(std::uint8_t(out.terrain()[i]), state.terrain[c]);
        QCOMPARE(std::uint8_t(out.elevation()[i]), state.elevation[c]);
        QCOMPARE(std::uint8_t(out.flora()[i]), state.flora[c]);
        QCOMPARE(std::uint8_t(out.water()[i]), state.water[c]);
        QCOMPARE(std::uint8_t(out.pollution()[i]), state.pollution[c]);
        QCOMPARE(std::uint8_t(out.resource()[i]), state.resourceKind[c]);
        QCOMPARE(std::uint8_t(out.orientation()[i]), state.orientation[c]);
        QCOMPARE(std::uint16_t(std::uint8_t(out.structure()[2 * i])
                               | std::uint8_t(out.structure()[2 * i + 1]) << 8),
                 state.structure[c]);
        QCOMPARE(std::uint16_t(std::uint8_t(out.owner()[2 * i])
                               | std::uint8_t(out.owner()[2 * i + 1]) << 8),
                 state.owner[c]);
    }
}

void tst_WorldCodec::badSnapshots_data()
{
    QTest::addColumn<int>("field");
    QTest::addColumn<QString>("message");
    QTest::newRow("terrain one byte short")
        << 0 << "The snapshot's terrain field does not hold one value for each of the 362 cells.";
    QTest::newRow("structure with one byte per cell")
        << 1 << "The snapshot's structure field does not hold one value for each of the 362 cells.";
    QTest::newRow("owner missing")
        << 2 << "The snapshot's owner field does not hold one value for each of the 362 cells.";
}

void tst_WorldCodec::badSnapshots()
{
    QFETCH(int, field);
    QFETCH(QString, message);
    const sim::WorldState state = patternedState(6);
    protocol::Snapshot snapshot;
    protocol::encodeSnapshot(state, &snapshot);
    if (field == 0)
        snapshot.mutable_terrain()->pop_back();
    else if (field == 1)
        snapshot.set_structure(std::string(state.cellCount(), '\0'));
    else
        snapshot.clear_owner();
    const auto decoded = protocol::decodeSnapshot(snapshot, state.cellCount());
    QVERIFY(!decoded);
    QCOMPARE(decoded.error(), message);
}

void tst_WorldCodec::deltaBringsAMirrorUpToDate()
{
    sim::WorldState state = patternedState(6);
    protocol::VisibleCells mirror = protocol::visibleCells(state);
    std::vector<geometry::CellId> cells;
    const protocol::ChunkDelta delta = validDelta(state, &cells);
    QVERIFY(!(mirror == protocol::visibleCells(state)));
    std::vector<geometry::CellId> changed;
    const auto applied = protocol::applyChunkDelta(delta, *state.sphere, mirror, &changed);
    QVERIFY2(applied, qPrintable(applied ? QString() : applied.error()));
    QVERIFY(mirror == protocol::visibleCells(state));
    QCOMPARE(changed, cells);
}

void tst_WorldCodec::badDeltas_data()
{
    QTest::addColumn<Mutation>("mutate");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown chunk")
        << Mutation([](protocol::ChunkDelta &d, const geometry::HexSphere &) { d.set_chunk(999); })
        << "A delta names chunk 999, but the world has 40 chunks.";
    QTest::newRow("a cell of another chunk")
        << Mutation([](protocol::ChunkDelta &d, const geometry::HexSphere &s) {
               d.set_cells(1, s.chunkCells(2)[0]);
           })
        << "The delta of chunk 1 lists cell 29, which is out of order or not in that chunk.";
    QTest::newRow("cells out of order")
        << Mutation([](protocol::ChunkDelta &d, const geometry::HexSphere &) {
               const auto first = d.cells(0);
               d.set_cells(0, d.cells(1));
               d.set_cells(1, first);
           })
        << "The delta of chunk 1 lists cell 2, which is out of order or not in that chunk.";
    QTest::newRow("a cell beyond the world")
        << Mutation(
               [](protocol::ChunkDelta &d, const geometry::HexSphere &) { d.set_cells(2, 100000); })
        << "The delta of chunk 1 lists cell 100000, which is out of order or not in that chunk.";
    QTest::newRow("structure field too short")
        << Mutation([](protocol::ChunkDelta &d, const geometry::HexSphere &) {
               d.mutable_structure()->pop_back();
           })
        << "The delta of chunk 1 lists 3 cells but its structure field does not match.";
    QTest::newRow("flora field missing")
        << Mutation([](protocol::ChunkDelta &d, const geometry::HexSphere &) { d.clear_flora(); })
        << "The delta of chunk 1 lists 3 cells but its flora field does not match.";
}

void tst_WorldCodec::badDeltas()
{
    QFETCH(Mutation, mutate);
    QFETCH(QString, message);
    sim::WorldState state = patternedState(6);
    const protocol::VisibleCells before = protocol::visibleCells(state);
    protocol::VisibleCells mirror = before;
    std::vector<geometry::CellId> cells;
    protocol::ChunkDelta delta = validDelta(state, &cells);
    mutate(delta, *state.sphere);
    std::vector<geometry::CellId> changed;
    const auto applied = protocol::applyChunkDelta(delta, *state.sphere, mirror, &changed);
    QVERIFY(!applied);
    QCOMPARE(applied.error(), message);
    QVERIFY(mirror == before); // nothing applied
    QVERIFY(changed.empty());
}

QTEST_APPLESS_MAIN(tst_WorldCodec)
#include "tst_worldcodec.moc"
