#include "geometry/hexsphere.h"
#include "sim/automaton.h"
#include "sim/steppool.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

using namespace hex;
using namespace hex::sim;

namespace {

/// Rules that do nothing unless a test turns them on.
Content quietContent()
{
    Content c;
    c.items = {{"ore", "Ore"}};
    c.resources.resize(3);
    c.resources[1] = {"iron", "Iron", 0, 100, 0, 0xFF};
    c.resources[2] = {"copper", "Copper", 0, 100, 0, std::uint8_t(1u << int(Terrain::Desert))};
    c.prototypes.resize(1);
    AutomatonRules &r = c.automaton;
    r.flora = FloraRules{};
    r.flora.birthMin = 2;
    r.flora.birthMax = 2;
    r.flora.surviveMin = 1;
    r.flora.surviveMax = 4;
    r.flora.birthChance = 0;
    r.flora.deathChance = 0;
    r.flora.birthFlora = 2;
    r.flora.growth = 1;
    r.flora.wither = 1;
    r.flora.maxFlora = 8;
    r.flora.terrainMask = std::uint8_t(1u << int(Terrain::Grassland));
    r.flora.pollutionHarm = 255;
    r.ore.accretionChance = 0;
    r.ore.neighboursNeeded = 2;
    r.ore.accretionAmount = 10;
    r.water.flowDivisor = 2;
    r.water.evaporationChance = 0;
    r.water.rainChance = 0;
    r.water.maxWater = 255;
    r.pollution.spreadDivisor = 8;
    r.pollution.decayChance = 0;
    return c;
}

/// Flat grassland at elevation 150, nothing living.
WorldState blankWorld(int subdivisions)
{
    WorldState s = WorldState::blank(std::make_shared<const geometry::HexSphere>(subdivisions), 99);
    std::fill(s.terrain.begin(), s.terrain.end(), std::uint8_t(Terrain::Grassland));
    std::fill(s.elevation.begin(), s.elevation.end(), std::uint8_t(150));
    s.cellsHash = s.computeCellsHash();
    return s;
}

/// A hexagon none of whose neighbours is a pentagon.
CellId quietHexagon(const geometry::HexSphere &sphere)
{
    for (CellId c = 12; c < sphere.cellCount(); ++c) {
        const auto nbs = sphere.neighbours(c);
        if (std::none_of(nbs.begin(), nbs.end(),
                         [](CellId n) { return geometry::HexSphere::isPentagon(n); }))
            return c;
    }
    return 12;
}

/// Steps `state` by `ticks` ticks, keeping its hash; returns the cells marked changed in
/// the last tick.
ChangeSet run(WorldState &state, const Content &content, int ticks = 1, int threads = 1,
              AutomatonKernel kernel = AutomatonKernel::Vector)
{
    Automaton automaton(state.sphere, content, kernel);
    StepPool pool(threads);
    ChangeSet changes;
    for (int t = 0; t < ticks; ++t) {
        changes.reset(state.cellCount());
        automaton.step(state, pool, changes);
        ++state.tick;
    }
    return changes;
}

std::uint64_t totalOf(const CellArray<std::uint8_t> &layer)
{
    return std::accumulate(layer.begin(), layer.end(), std::uint64_t(0));
}

/// A world with a bit of everything: generated terrain, deposits, lakes and flora, plus
/// pollution in blobs (some on pentagons).
WorldState busyWorld(int subdivisions, const Content &content)
{
    WorldState s
        = generateWorld(std::make_shared<const geometry::HexSphere>(subdivisions), content, 4242);
    for (CellId c = 0; c < s.cellCount(); c += 613)
        s.pollution[c] = 200;
    for (CellId p = 0; p < 12; p += 3)
        s.pollution[p] = 250;
    s.cellsHash = s.computeCellsHash();
    return s;
}

Content livelyContent()
{
    Content c = quietContent();
    c.resources[1].abundance = 2000;
    c.resources[2].abundance = 2000;
    AutomatonRules &r = c.automaton;
    r.flora.birthMin = 1;
    r.flora.birthMax = 2;
    r.flora.surviveMin = 1;
    r.flora.surviveMax = 2;
    r.flora.birthChance = 2000;
    r.flora.deathChance = 1500;
    r.flora.pollutionHarm = 60;
    r.flora.terrainMask = std::uint8_t(1u << int(Terrain::Grassland) | 1u << int(Terrain::Forest)
                                       | 1u << int(Terrain::Sand));
    r.ore.accretionChance = 3000;
    r.water.evaporationChance = 300;
    r.water.rainChance = 200;
    r.water.maxWater = 40;
    r.pollution.decayChance = 5000;
    return c;
}

} // namespace

class tst_Automaton : public QObject
{
    Q_OBJECT
private slots:
    void floraSurvival_data();
    void floraSurvival();
    void floraBirth_data();
    void floraBirth();
    void floraDeath_data();
    void floraDeath();
    void pollutionHarmsFlora_data();
    void pollutionHarmsFlora();
    void waterFlowsDownhill_data();
    void waterFlowsDownhill();
    void waterIsConserved_data();
    void waterIsConserved();
    void oceanSwallowsWater();
    void pollutionSpreads_data();
    void pollutionSpreads();
    void pollutionDecays();
    void oreAccretes_data();
    void oreAccretes();
    void diceHitTheirRate_data();
    void diceHitTheirRate();
    void kernelsAndThreadsAgree_data();
    void kernelsAndThreadsAgree();
    void changesAreMarkedExactly();
    void regularChunksUseTheVectorKernel();
};

void tst_Automaton::floraSurvival_data()
{
    QTest::addColumn<int>("flora");
    QTest::addColumn<int>("liveNeighbours");
    QTest::addColumn<int>("surviveMin");
    QTest::addColumn<int>("surviveMax");
    QTest::addColumn<int>("wither");
    QTest::addColumn<int>("expected");
    QTest::newRow("a lone cell with surviveMin 1 dies") << 1 << 0 << 1 << 4 << 1 << 0;
    QTest::newRow("a lone cell withers by wither") << 5 << 0 << 1 << 4 << 2 << 3;
    QTest::newRow("a lone cell withering more than it has dies") << 3 << 0 << 1 << 4 << 5 << 0;
    QTest::newRow("one neighbour: survives and grows") << 3 << 1 << 1 << 4 << 1 << 4;
    QTest::newRow("four neighbours: survives and grows") << 3 << 4 << 1 << 4 << 1 << 4;
    QTest::newRow("five neighbours: crowded out") << 3 << 5 << 1 << 4 << 1 << 2;
    QTest::newRow("six neighbours: crowded out") << 3 << 6 << 1 << 4 << 1 << 2;
    QTest::newRow("six neighbours allowed: survives") << 3 << 6 << 1 << 6 << 1 << 4;
    QTest::newRow("growth stops at maxFlora") << 8 << 2 << 1 << 4 << 1 << 8;
}

void tst_Automaton::floraSurvival()
{
    QFETCH(int, flora);
    QFETCH(int, liveNeighbours);
    QFETCH(int, surviveMin);
    QFETCH(int, surviveMax);
    QFETCH(int, wither);
    QFETCH(int, expected);
    Content c = quietContent();
    c.automaton.flora.surviveMin = std::uint8_t(surviveMin);
    c.automaton.flora.surviveMax = std::uint8_t(surviveMax);
    c.automaton.flora.wither = std::uint8_t(wither);
    WorldState s = blankWorld(3);
    const CellId centre = quietHexagon(*s.sphere);
    s.flora[centre] = std::uint8_t(flora);
    const auto nbs = s.sphere->neighbours(centre);
    for (int k = 0; k < liveNeighbours; ++k)
        s.flora[nbs[std::size_t(k)]] = 3;
    s.cellsHash = s.computeCellsHash();
    run(s, c);
    QCOMPARE(int(s.flora[centre]), expected);
    QCOMPARE(s.cellsHash, s.computeCellsHash());
}

void tst_Automaton::floraBirth_data()
{
    QTest::addColumn<int>("liveNeighbours");
    QTest::addColumn<int>("chance");
    QTest::addColumn<int>("terrain");
    QTest::addColumn<int>("waterNeeded");
    QTest::addColumn<int>("water");
    QTest::addColumn<int>("expected");
    const int grass = int(Terrain::Grassland);
    QTest::newRow("one neighbour: no birth") << 1 << 65536 << grass << 0 << 0 << 0;
    QTest::newRow("exactly two neighbours: born") << 2 << 65536 << grass << 0 << 0 << 2;
    QTest::newRow("three neighbours: no birth") << 3 << 65536 << grass << 0 << 0 << 0;
    QTest::newRow("two neighbours but chance 0: no birth") << 2 << 0 << grass << 0 << 0 << 0;
    QTest::newRow("two neighbours on sand: no birth")
        << 2 << 65536 << int(Terrain::Sand) << 0 << 0 << 0;
    QTest::newRow("needs water and has none: no birth") << 2 << 65536 << grass << 1 << 0 << 0;
    QTest::newRow("needs water and has it: born") << 2 << 65536 << grass << 1 << 1 << 2;
}

void tst_Automaton::floraBirth()
{
    QFETCH(int, liveNeighbours);
    QFETCH(int, chance);
    QFETCH(int, terrain);
    QFETCH(int, waterNeeded);
    QFETCH(int, water);
    QFETCH(int, expected);
    Content c = quietContent();
    c.automaton.flora.birthChance = std::uint32_t(chance);
    c.automaton.flora.waterNeeded = std::uint8_t(waterNeeded);
    WorldState s = blankWorld(3);
    const CellId centre = quietHexagon(*s.sphere);
    s.terrain[centre] = std::uint8_t(terrain);
    s.water[centre] = std::uint8_t(water);
    const auto nbs = s.sphere->neighbours(centre);
    // Live neighbours two slots apart, so that none of them crowds another.
    for (int k = 0; k < liveNeighbours; ++k)
        s.flora[nbs[std::size_t(2 * k % 6 + (k >= 3 ? 1 : 0))]] = 3;
    s.cellsHash = s.computeCellsHash();
    run(s, c);
    QCOMPARE(int(s.flora[centre]), expected);
}

void tst_Automaton::floraDeath_data()
{
    QTest::addColumn<int>("deathChance");
    QTest::addColumn<int>("birthChance");
    QTest::addColumn<int>("kernel");
    const int vector = int(AutomatonKernel::Vector);
    const int table = int(AutomatonKernel::Portable);
    QTest::newRow("chance 0 never kills") << 0 << 0 << vector;
    QTest::newRow("chance 0 never kills, through the table") << 0 << 0 << table;
    QTest::newRow("chance 65536 clears every living cell in one tick") << 65536 << 0 << vector;
    QTest::newRow("chance 65536 clears every living cell, through the table")
        << 65536 << 0 << table;
    QTest::newRow("chance 65536 wins over sure births") << 65536 << 65536 << vector;
    QTest::newRow("chance 65536 wins over sure births, through the table")
        << 65536 << 65536 << table;
    QTest::newRow("chance 1/8 kills about an eighth") << 8192 << 0 << vector;
    QTest::newRow("chance 1/8 kills about an eighth, through the table") << 8192 << 0 << table;
    QTest::newRow("chance 1 % kills about 1 %") << 655 << 0 << vector;
    QTest::newRow("chance 1/8 keeps an eighth of sure births from happening")
        << 8192 << 65536 << vector;
    QTest::newRow("chance 1/8 keeps an eighth of sure births, through the table")
        << 8192 << 65536 << table;
}

void tst_Automaton::floraDeath()
{
    QFETCH(int, deathChance);
    QFETCH(int, birthChance);
    QFETCH(int, kernel);
    // Any count of live neighbours allows life and birth, so only death empties a cell.
    Content c = quietContent();
    c.automaton.flora.surviveMin = 0;
    c.automaton.flora.surviveMax = 6;
    c.automaton.flora.birthMin = 0;
    c.automaton.flora.birthMax = 6;
    c.automaton.flora.birthChance = std::uint32_t(birthChance);
    c.automaton.flora.deathChance = std::uint32_t(deathChance);
    // n=32: 10242 cells, in regular chunks, irregular ones and the pentagons. About half
    // of them alive.
    WorldState s = blankWorld(32);
    for (CellId cell = 0; cell < s.cellCount(); ++cell)
        s.flora[cell] = mix64(cell ^ 0x5EEDu) % 2 == 0 ? std::uint8_t(1 + cell % 7) : 0;
    s.cellsHash = s.computeCellsHash();
    const WorldState before = s;
    const ChangeSet changes = run(s, c, 1, 2, AutomatonKernel(kernel));
    QCOMPARE(s.cellsHash, s.computeCellsHash());

    std::uint32_t living = 0;
    std::uint32_t killed = 0;
    std::uint32_t empty = 0;
    std::uint32_t born = 0;
    for (CellId cell = 0; cell < s.cellCount(); ++cell) {
        const int was = before.flora[cell];
        const int now = s.flora[cell];
        QVERIFY2((was != now) == changes.isMarked(cell), qPrintable(QString::number(cell)));
        if (was != 0) {
            ++living;
            killed += now == 0;
            // A survivor grows as the rule says; a victim is gone, whatever it had.
            QVERIFY2(now == 0 || now == was + 1, qPrintable(QString::number(cell)));
        } else {
            ++empty;
            born += now != 0;
            QVERIFY2(now == 0 || now == 2, qPrintable(QString::number(cell)));
        }
    }
    QVERIFY(living > 4000 && empty > 4000);
    if (deathChance == 0)
        QCOMPARE(killed, 0u);
    if (deathChance == 65536) {
        QCOMPARE(killed, living);
        QCOMPARE(born, 0u);
    }
    // Within five standard deviations of the expected counts: the dice are seeded, so
    // this either always holds or never does.
    const auto near = [](std::uint32_t hits, std::uint32_t cells, double p) {
        const double expected = cells * p;
        return std::abs(hits - expected) <= 5 * std::sqrt(cells * p * (1 - p)) + 0.5;
    };
    const double death = deathChance / 65536.0;
    const double birth = birthChance / 65536.0 * (1 - death);
    QVERIFY2(near(killed, living, death),
             qPrintable(QStringLiteral("%1 of %2 living cells killed, expected a share of %3")
                            .arg(killed)
                            .arg(living)
                            .arg(death)));
    QVERIFY2(near(born, empty, birth),
             qPrintable(QStringLiteral("%1 of %2 empty cells born, expected a share of %3")
                            .arg(born)
                            .arg(empty)
                            .arg(birth)));
}

void tst_Automaton::pollutionHarmsFlora_data()
{
    QTest::addColumn<int>("pollution");
    QTest::addColumn<int>("expected");
    QTest::newRow("just below the harm level: grows") << 39 << 4;
    QTest::newRow("at the harm level: withers") << 40 << 2;
    QTest::newRow("far above the harm level: withers") << 200 << 2;
}

void tst_Automaton::pollutionHarmsFlora()
{
    QFETCH(int, pollution);
    QFETCH(int, expected);
    Content c = quietContent();
    c.automaton.flora.pollutionHarm = 40;
    WorldState s = blankWorld(3);
    const CellId centre = quietHexagon(*s.sphere);
    s.flora[centre] = 3;
    s.flora[s.sphere->neighbours(centre)[0]] = 3;
    s.pollution[centre] = std::uint8_t(pollution);
    s.cellsHash = s.computeCellsHash();
    run(s, c);
    QCOMPARE(int(s.flora[centre]), expected);
}

void tst_Automaton::waterFlowsDownhill_data()
{
    QTest::addColumn<int>("water");
    QTest::addColumn<int>("lowElevation");
    QTest::addColumn<int>("flowDivisor");
    QTest::addColumn<int>("targetWater");
    QTest::addColumn<int>("maxWater");
    QTest::addColumn<int>("sent");
    QTest::newRow("steep: all of it goes") << 10 << 100 << 2 << 0 << 255 << 10;
    QTest::newRow("gentle: half the difference goes") << 10 << 155 << 2 << 0 << 255 << 2;
    QTest::newRow("a quarter with flowDivisor 4") << 10 << 140 << 4 << 0 << 255 << 5;
    QTest::newRow("level surfaces: nothing moves") << 10 << 160 << 2 << 0 << 255 << 0;
    QTest::newRow("a difference of one: nothing moves") << 10 << 159 << 2 << 0 << 255 << 0;
    QTest::newRow("a nearly full receiver takes a sixth of its room")
        << 40 << 20 << 2 << 48 << 60 << 2;
    QTest::newRow("a full receiver takes nothing") << 40 << 20 << 2 << 60 << 60 << 0;
}

void tst_Automaton::waterFlowsDownhill()
{
    QFETCH(int, water);
    QFETCH(int, lowElevation);
    QFETCH(int, flowDivisor);
    QFETCH(int, targetWater);
    QFETCH(int, maxWater);
    QFETCH(int, sent);
    Content c = quietContent();
    c.automaton.water.flowDivisor = std::uint8_t(flowDivisor);
    c.automaton.water.maxWater = std::uint8_t(maxWater);
    WorldState s = blankWorld(3);
    const CellId centre = quietHexagon(*s.sphere);
    const auto nbs = s.sphere->neighbours(centre);
    for (const CellId nb : nbs)
        s.elevation[nb] = 220;
    // Two equally low neighbours: the first in slot order gets the water.
    const CellId low = nbs[2];
    s.elevation[low] = std::uint8_t(lowElevation);
    s.elevation[nbs[4]] = std::uint8_t(lowElevation);
    s.water[centre] = std::uint8_t(water);
    s.water[low] = std::uint8_t(targetWater);
    s.water[nbs[4]] = std::uint8_t(targetWater);
    s.cellsHash = s.computeCellsHash();
    const std::uint64_t before = totalOf(s.water);
    run(s, c);
    QCOMPARE(int(s.water[centre]), water - sent);
    QCOMPARE(int(s.water[low]), targetWater + sent);
    QCOMPARE(int(s.water[nbs[4]]), targetWater);
    QCOMPARE(totalOf(s.water), before);
    QCOMPARE(s.cellsHash, s.computeCellsHash());
}

void tst_Automaton::waterIsConserved_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<int>("threads");
    QTest::newRow("n=8, through the table") << 8 << int(AutomatonKernel::Portable) << 1;
    QTest::newRow("n=32, vector kernel") << 32 << int(AutomatonKernel::Vector) << 1;
    QTest::newRow("n=32, vector kernel on three threads")
        << 32 << int(AutomatonKernel::Vector) << 3;
}

void tst_Automaton::waterIsConserved()
{
    QFETCH(int, subdivisions);
    QFETCH(int, kernel);
    QFETCH(int, threads);
    Content c = quietContent();
    c.automaton.water.maxWater = 60;
    WorldState s = blankWorld(subdivisions);
    // Hills and puddles, all land, no evaporation or rain: water only moves.
    for (CellId cell = 0; cell < s.cellCount(); ++cell) {
        s.elevation[cell] = std::uint8_t(120 + mix64(cell) % 80);
        s.water[cell] = std::uint8_t(mix64(cell ^ 0xABCDu) % 40);
    }
    s.cellsHash = s.computeCellsHash();
    const std::uint64_t before = totalOf(s.water);
    Automaton automaton(s.sphere, c, AutomatonKernel(kernel));
    StepPool pool(threads);
    ChangeSet changes;
    changes.reset(s.cellCount());
    std::uint32_t moved = 0;
    for (int t = 0; t < 100; ++t) {
        const CellArray<std::uint8_t> previous = s.water;
        automaton.step(s, pool, changes);
        ++s.tick;
        moved += s.water != previous;
        QCOMPARE(totalOf(s.water), before);
        QVERIFY(*std::max_element(s.water.begin(), s.water.end()) <= 60);
    }
    QVERIFY2(moved > 5, "the water should keep moving for a while");
    QCOMPARE(s.cellsHash, s.computeCellsHash());
}

void tst_Automaton::oceanSwallowsWater()
{
    Content c = quietContent();
    WorldState s = blankWorld(3);
    const CellId centre = quietHexagon(*s.sphere);
    const CellId sea = s.sphere->neighbours(centre)[1];
    s.terrain[sea] = std::uint8_t(Terrain::ShallowWater);
    s.elevation[sea] = 100;
    s.water[centre] = 12;
    s.cellsHash = s.computeCellsHash();
    run(s, c);
    QCOMPARE(int(s.water[centre]), 0);
    QCOMPARE(int(s.water[sea]), 0);
    QCOMPARE(totalOf(s.water), std::uint64_t(0));
}

void tst_Automaton::pollutionSpreads_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<int>("kernel");
    QTest::addColumn<bool>("chunkEdge");
    QTest::newRow("a hexagon, through the table") << 3 << int(AutomatonKernel::Portable) << false;
    QTest::newRow("a chunk's edge, vector kernel") << 32 << int(AutomatonKernel::Vector) << true;
    QTest::newRow("a chunk's edge, through the table")
        << 32 << int(AutomatonKernel::Portable) << true;
}

void tst_Automaton::pollutionSpreads()
{
    QFETCH(int, subdivisions);
    QFETCH(int, kernel);
    QFETCH(bool, chunkEdge);
    Content c = quietContent();
    WorldState s = blankWorld(subdivisions);
    CellId centre = quietHexagon(*s.sphere);
    if (chunkEdge) {
        // A cell of the first row of a chunk that holds no pentagon: its neighbours
        // above lie in another chunk.
        const geometry::HexSphere &sphere = *s.sphere;
        for (ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk) {
            const auto cells = sphere.chunkCells(chunk);
            if (cells.size() == 256 && cells.front() >= 12) {
                centre = cells[5];
                break;
            }
        }
        const auto nbs = s.sphere->neighbours(centre);
        QVERIFY(std::any_of(nbs.begin(), nbs.end(), [&](CellId n) {
            return s.sphere->chunkOf(n) != s.sphere->chunkOf(centre);
        }));
    }
    s.pollution[centre] = 120;
    s.cellsHash = s.computeCellsHash();
    run(s, c, 1, 1, AutomatonKernel(kernel));
    // Each neighbour takes (120 - 0) / 8 = 15.
    QCOMPARE(int(s.pollution[centre]), 120 - 6 * 15);
    for (const CellId nb : s.sphere->neighbours(centre))
        QCOMPARE(int(s.pollution[nb]), 15);
    QCOMPARE(totalOf(s.pollution), std::uint64_t(120));
    QCOMPARE(s.cellsHash, s.computeCellsHash());
}

void tst_Automaton::pollutionDecays()
{
    Content c = quietContent();
    c.automaton.pollution.decayChance = 65536;
    WorldState s = blankWorld(3);
    const CellId centre = quietHexagon(*s.sphere);
    s.pollution[centre] = 120;
    s.cellsHash = s.computeCellsHash();
    run(s, c);
    // Spread as above, then every polluted cell loses one.
    QCOMPARE(int(s.pollution[centre]), 120 - 6 * 15 - 1);
    QCOMPARE(totalOf(s.pollution), std::uint64_t(120 - 7));
    run(s, c, 400);
    QCOMPARE(totalOf(s.pollution), std::uint64_t(0));
}

void tst_Automaton::oreAccretes_data()
{
    QTest::addColumn<int>("deposits");
    QTest::addColumn<int>("ownKind");
    QTest::addColumn<int>("ownAmount");
    QTest::addColumn<int>("terrain");
    QTest::addColumn<int>("expectedKind");
    QTest::addColumn<int>("expectedAmount");
    const int grass = int(Terrain::Grassland);
    QTest::newRow("bare, next to one deposit: stays bare") << 1 << 0 << 0 << grass << 0 << 0;
    QTest::newRow("bare, next to two deposits: accretes") << 2 << 0 << 0 << grass << 1 << 10;
    QTest::newRow("bare, next to six deposits: accretes") << 6 << 0 << 0 << grass << 1 << 10;
    QTest::newRow("bare, but the wrong terrain for the kind")
        << 2 << 0 << 0 << int(Terrain::Rock) << 0 << 0;
    QTest::newRow("a deposit refills") << 2 << 1 << 50 << grass << 1 << 60;
    QTest::newRow("a deposit refills up to its maximum") << 2 << 1 << 95 << grass << 1 << 100;
    QTest::newRow("a full deposit stays full") << 2 << 1 << 100 << grass << 1 << 100;
    QTest::newRow("a mined-out deposit refills") << 3 << 1 << 0 << grass << 1 << 10;
    QTest::newRow("a deposit with too few of its kind around stays")
        << 1 << 1 << 50 << grass << 1 << 50;
}

void tst_Automaton::oreAccretes()
{
    QFETCH(int, deposits);
    QFETCH(int, ownKind);
    QFETCH(int, ownAmount);
    QFETCH(int, terrain);
    QFETCH(int, expectedKind);
    QFETCH(int, expectedAmount);
    Content c = quietContent();
    c.automaton.ore.accretionChance = 65536;
    c.resources[1].terrainMask = std::uint8_t(1u << int(Terrain::Grassland));
    WorldState s = blankWorld(3);
    const CellId centre = quietHexagon(*s.sphere);
    s.terrain[centre] = std::uint8_t(terrain);
    s.resourceKind[centre] = ResourceId(ownKind);
    s.resourceAmount[centre] = std::uint16_t(ownAmount);
    const auto nbs = s.sphere->neighbours(centre);
    for (int k = 0; k < deposits; ++k) {
        // Full deposits, so that they themselves do not change.
        s.resourceKind[nbs[std::size_t(k)]] = 1;
        s.resourceAmount[nbs[std::size_t(k)]] = 100;
    }
    s.cellsHash = s.computeCellsHash();
    run(s, c);
    QCOMPARE(int(s.resourceKind[centre]), expectedKind);
    QCOMPARE(int(s.resourceAmount[centre]), expectedAmount);
    QCOMPARE(s.cellsHash, s.computeCellsHash());
}

void tst_Automaton::diceHitTheirRate_data()
{
    QTest::addColumn<int>("rainChance");
    QTest::newRow("1 %") << 655;
    QTest::newRow("10 %") << 6554;
    QTest::newRow("50 %") << 32768;
    QTest::newRow("always") << 65536;
}

void tst_Automaton::diceHitTheirRate()
{
    QFETCH(int, rainChance);
    Content c = quietContent();
    c.automaton.water.rainChance = std::uint32_t(rainChance);
    WorldState s = blankWorld(32);
    run(s, c);
    // Flat land and nothing else going on: one tick of rain wets each cell by chance.
    const double wet = double(std::count(s.water.begin(), s.water.end(), 1)) / s.cellCount();
    const double expected = rainChance / 65536.0;
    QVERIFY2(std::abs(wet - expected) < 0.015,
             qPrintable(QStringLiteral("%1 of cells wet, expected %2").arg(wet).arg(expected)));
    // A second tick rolls new dice.
    const CellArray<std::uint8_t> first = s.water;
    run(s, c);
    if (rainChance < 65536)
        QVERIFY(s.water != first);
}

void tst_Automaton::kernelsAndThreadsAgree_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::newRow("n=16: every chunk holds a pentagon") << 16;
    QTest::newRow("n=32: mostly regular chunks") << 32;
    QTest::newRow("n=40: chunks 13 or 14 cells across, all through the table") << 40;
    QTest::newRow("n=64") << 64;
}

void tst_Automaton::kernelsAndThreadsAgree()
{
    QFETCH(int, subdivisions);
    const Content c = livelyContent();
    const WorldState start = busyWorld(subdivisions, c);
    struct Way
    {
        AutomatonKernel kernel;
        int threads;
    };
    const Way ways[] = {{AutomatonKernel::Portable, 1}, {AutomatonKernel::Vector, 1},
                        {AutomatonKernel::Vector, 2},   {AutomatonKernel::Vector, 3},
                        {AutomatonKernel::Vector, 4},   {AutomatonKernel::Portable, 4}};
    std::vector<WorldState> ends;
    for (const Way &way : ways) {
        WorldState s = start;
        run(s, c, 120, way.threads, way.kernel);
        QCOMPARE(s.cellsHash, s.computeCellsHash());
        ends.push_back(std::move(s));
    }
    // Something happened on every layer.
    const WorldState &end = ends.front();
    QVERIFY(end.flora != start.flora);
    QVERIFY(end.water != start.water);
    QVERIFY(end.pollution != start.pollution);
    QVERIFY(end.resourceAmount != start.resourceAmount);
    for (std::size_t i = 1; i < ends.size(); ++i) {
        QVERIFY2(ends[i] == end, qPrintable(QStringLiteral("way %1 differs").arg(i)));
    }
    // Deaths took part: without them the flora ends elsewhere.
    Content deathless = c;
    deathless.automaton.flora.deathChance = 0;
    WorldState s = start;
    run(s, deathless, 120);
    QVERIFY(s.flora != end.flora);
}

void tst_Automaton::changesAreMarkedExactly()
{
    const Content c = livelyContent();
    WorldState s = busyWorld(32, c);
    run(s, c, 20);
    const WorldState before = s;
    const ChangeSet changes = run(s, c, 1, 2);
    std::uint32_t changed = 0;
    for (CellId cell = 0; cell < s.cellCount(); ++cell) {
        const bool differs = s.flora[cell] != before.flora[cell]
                             || s.water[cell] != before.water[cell]
                             || s.pollution[cell] != before.pollution[cell]
                             || s.resourceKind[cell] != before.resourceKind[cell]
                             || s.resourceAmount[cell] != before.resourceAmount[cell];
        changed += differs;
        QVERIFY2(differs == changes.isMarked(cell), qPrintable(QString::number(cell)));
    }
    QVERIFY(changed > 0);
}

void tst_Automaton::regularChunksUseTheVectorKernel()
{
    // n=32: 40 chunks of 16×16, of which the ten holding a diamond's corner pentagon are
    // irregular.
    const auto sphere = std::make_shared<const geometry::HexSphere>(32);
    const Automaton vector(sphere, quietContent(), AutomatonKernel::Vector);
    const Automaton portable(sphere, quietContent(), AutomatonKernel::Portable);
#if defined(__SSE2__)
    QCOMPARE(vector.cellsInVectorChunks(), 30u * 256u);
#endif
    QCOMPARE(portable.cellsInVectorChunks(), 0u);
}

QTEST_GUILESS_MAIN(tst_Automaton)
#include "tst_automaton.moc"
