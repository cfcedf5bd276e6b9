// A tick's chunk deltas applied all or none, on several threads when the tick is
// large: the same mirror and the same list of changed cells as one delta after
// another, the first bad delta's reason, and nothing changed when one is bad.

#include "net/tickdeltas.h"

#include "geometry/hexsphere.h"
#include "protocol/worldcodec.h"
#include "sim/steppool.h"

#include <QTest>

#include <random>
#include <string>

using hex::client::applyChunkDeltas;
using hex::geometry::CellId;
using hex::geometry::HexSphere;
using hex::protocol::ChunkDelta;
using hex::protocol::VisibleCells;
using Deltas = google::protobuf::RepeatedPtrField<ChunkDelta>;

namespace {

/// A mirror of `count` cells, every layer filled from `seed`.
VisibleCells mirror(std::uint32_t count, unsigned seed)
{
    std::mt19937 random(seed);
    VisibleCells cells;
    cells.resize(count);
    for (std::uint32_t c = 0; c < count; ++c) {
        cells.terrain[c] = std::uint8_t(random());
        cells.elevation[c] = std::uint8_t(random());
        cells.flora[c] = std::uint8_t(random());
        cells.water[c] = std::uint8_t(random());
        cells.pollution[c] = std::uint8_t(random());
        cells.resource[c] = std::uint8_t(random());
        cells.structure[c] = std::uint16_t(random());
        cells.orientation[c] = std::uint8_t(random());
        cells.owner[c] = std::uint16_t(random());
    }
    return cells;
}

/// A delta of `chunk` changing every `stride`-th of its cells to values from `random`.
ChunkDelta deltaOf(const HexSphere &sphere, hex::geometry::ChunkId chunk, int stride,
                   std::mt19937 &random)
{
    ChunkDelta delta;
    delta.set_chunk(chunk);
    std::string narrow[5];
    std::string wide[2];
    const auto cells = sphere.chunkCells(chunk);
    for (std::size_t i = 0; i < cells.size(); i += std::size_t(stride)) {
        delta.add_cells(cells[i]);
        for (std::string &bytes : narrow)
            bytes.push_back(char(random()));
        for (std::string &bytes : wide) {
            bytes.push_back(char(random()));
            bytes.push_back(char(random()));
        }
    }
    delta.set_flora(narrow[0]);
    delta.set_water(narrow[1]);
    delta.set_pollution(narrow[2]);
    delta.set_resource(narrow[3]);
    delta.set_orientation(narrow[4]);
    delta.set_structure(wide[0]);
    delta.set_owner(wide[1]);
    return delta;
}

/// A delta for every chunk of `sphere`, each changing every `stride`-th cell.
Deltas tickOf(const HexSphere &sphere, int stride, unsigned seed)
{
    std::mt19937 random(seed);
    Deltas deltas;
    for (hex::geometry::ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk)
        *deltas.Add() = deltaOf(sphere, chunk, stride, random);
    return deltas;
}

std::size_t cellsIn(const Deltas &deltas)
{
    std::size_t cells = 0;
    for (const ChunkDelta &delta : deltas)
        cells += std::size_t(delta.cells_size());
    return cells;
}

bool sameMirror(const VisibleCells &a, const VisibleCells &b)
{
    return a.terrain == b.terrain && a.elevation == b.elevation && a.flora == b.flora
           && a.water == b.water && a.pollution == b.pollution && a.resource == b.resource
           && a.structure == b.structure && a.orientation == b.orientation && a.owner == b.owner;
}

} // namespace

class tst_TickDeltas : public QObject
{
    Q_OBJECT

private slots:
    void sameAsOneAfterAnother_data();
    void sameAsOneAfterAnother();
    void aBadDeltaChangesNothing_data();
    void aBadDeltaChangesNothing();
    void aRepeatedChunkIsWrittenInOrder();
};

void tst_TickDeltas::sameAsOneAfterAnother_data()
{
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("threads"); // 0: no pool
    QTest::addColumn<bool>("large");
    QTest::newRow("a large tick, 3 threads") << 1 << 3 << true;
    QTest::newRow("a large tick, 2 threads") << 2 << 2 << true;
    QTest::newRow("a small tick, written in place") << 9 << 3 << false;
    QTest::newRow("a large tick, no pool") << 1 << 0 << true;
}

void tst_TickDeltas::sameAsOneAfterAnother()
{
    QFETCH(int, stride);
    QFETCH(int, threads);
    QFETCH(bool, large);
    const HexSphere sphere(64);
    const Deltas deltas = tickOf(sphere, stride, 7);
    QCOMPARE(cellsIn(deltas) >= hex::client::kParallelTickCells, large);

    VisibleCells expected = mirror(sphere.cellCount(), 1);
    std::vector<CellId> expectedChanged{CellId(5)}; // appended to, not replaced
    for (const ChunkDelta &delta : deltas)
        QVERIFY(hex::protocol::applyChunkDelta(delta, sphere, expected, &expectedChanged));

    VisibleCells cells = mirror(sphere.cellCount(), 1);
    std::vector<CellId> changed{CellId(5)};
    hex::sim::StepPool pool(std::max(threads, 1));
    const auto applied
        = applyChunkDeltas(deltas, sphere, cells, changed, threads > 0 ? &pool : nullptr);
    QVERIFY2(applied, applied ? "" : qPrintable(applied.error()));
    QVERIFY(sameMirror(cells, expected));
    QVERIFY(changed == expectedChanged);
}

void tst_TickDeltas::aBadDeltaChangesNothing_data()
{
    QTest::addColumn<int>("stride");
    QTest::addColumn<QList<int>>("bad"); // which deltas are spoilt
    QTest::addColumn<int>("reported"); // whose reason comes back
    QTest::newRow("large, the last delta") << 1 << QList<int>{159} << 159;
    QTest::newRow("large, two in different parts: the first") << 1 << QList<int>{150, 20} << 20;
    QTest::newRow("large, two in one part: the first") << 1 << QList<int>{21, 20} << 20;
    QTest::newRow("small, the last delta") << 9 << QList<int>{159} << 159;
    QTest::newRow("small, two: the first") << 9 << QList<int>{150, 20} << 20;
}

void tst_TickDeltas::aBadDeltaChangesNothing()
{
    QFETCH(int, stride);
    QFETCH(QList<int>, bad);
    QFETCH(int, reported);
    const HexSphere sphere(64);
    Deltas deltas = tickOf(sphere, stride, 11);
    QCOMPARE(deltas.size(), 160);
    // Each spoilt delta's reason names its own chunk: a cell of another chunk.
    for (const int i : bad) {
        ChunkDelta &delta = deltas[i];
        const hex::geometry::ChunkId other = (delta.chunk() + 1) % sphere.chunkCount();
        delta.set_cells(0, sphere.chunkCells(other).back());
    }
    std::vector<CellId> expectedChanged;
    VisibleCells copy = mirror(sphere.cellCount(), 2);
    const auto serial = hex::protocol::applyChunkDelta(deltas[reported], sphere, copy, &expectedChanged);
    QVERIFY(!serial);

    const VisibleCells before = mirror(sphere.cellCount(), 2);
    VisibleCells cells = before;
    std::vector<CellId> changed{CellId(3)};
    hex::sim::StepPool pool(3);
    const auto applied = applyChunkDeltas(deltas, sphere, cells, changed, &pool);
    QVERIFY(!applied);
    QCOMPARE(applied.error(), serial.error());
    QVERIFY(sameMirror(cells, before));
    QVERIFY(changed == std::vector<CellId>{CellId(3)});
}

void tst_TickDeltas::aRepeatedChunkIsWrittenInOrder()
{
    // A server that works never sends two deltas of one chunk in a tick; should one
    // do it, the later delta wins, as it would one after another, and no two threads
    // write the same cells.
    const HexSphere sphere(64);
    Deltas deltas = tickOf(sphere, 1, 13);
    std::mt19937 random(17);
    *deltas.Add() = deltaOf(sphere, 3, 1, random);
    QVERIFY(cellsIn(deltas) >= hex::client::kParallelTickCells);

    VisibleCells expected = mirror(sphere.cellCount(), 4);
    std::vector<CellId> expectedChanged;
    for (const ChunkDelta &delta : deltas)
        QVERIFY(hex::protocol::applyChunkDelta(delta, sphere, expected, &expectedChanged));

    VisibleCells cells = mirror(sphere.cellCount(), 4);
    std::vector<CellId> changed;
    hex::sim::StepPool pool(2);
    QVERIFY(applyChunkDeltas(deltas, sphere, cells, changed, &pool));
    QVERIFY(sameMirror(cells, expected));
    QVERIFY(changed == expectedChanged);
}

QTEST_GUILESS_MAIN(tst_TickDeltas)
#include "tst_tickdeltas.moc"
