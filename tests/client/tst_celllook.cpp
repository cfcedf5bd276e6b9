#include "render/celllook.h"

#include "protocol/worldcodec.h"
#include "sim/terrain.h"

#include <QTest>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <vector>

using hex::client::cellColour;
using hex::client::playerColour;
using hex::client::resourceColour;
using hex::client::structureColour;
using hex::protocol::VisibleCells;
using hex::sim::Rgb;
using hex::sim::Terrain;

namespace {

constexpr std::uint16_t kNoOwner = 0xFFFF;

/// A one-cell world of bare ground: no flora, water, pollution, deposit, structure or
/// owner.
VisibleCells bareCell(Terrain terrain, std::uint8_t elevation = 140)
{
    VisibleCells cells;
    cells.terrain = {std::uint8_t(terrain)};
    cells.elevation = {elevation};
    cells.flora = {0};
    cells.water = {0};
    cells.pollution = {0};
    cells.resource = {0};
    cells.structure = {0};
    cells.orientation = {0};
    cells.owner = {kNoOwner};
    return cells;
}

Rgb look(const VisibleCells &cells)
{
    return cellColour(cells, 0);
}

/// Sum of the channels' absolute differences, 0..765.
int distance(Rgb a, Rgb b)
{
    return std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b);
}

/// How much green stands out over red and blue.
int greenness(Rgb c)
{
    return 2 * c.g - c.r - c.b;
}

int blueness(Rgb c)
{
    return 2 * c.b - c.r - c.g;
}

/// Perceived brightness, ×1000 (Rec. 601 weights).
int luma(Rgb c)
{
    return 299 * c.r + 587 * c.g + 114 * c.b;
}

/// The closest any terrain comes to `colour`, over every terrain and elevation.
int distanceToNearestTerrain(Rgb colour)
{
    int nearest = 765;
    for (int terrain = 0; terrain < hex::sim::kTerrainCount; ++terrain) {
        for (int elevation = 0; elevation < 256; ++elevation) {
            const Rgb ground
                = hex::sim::terrainColour(std::uint8_t(terrain), std::uint8_t(elevation));
            nearest = std::min(nearest, distance(colour, ground));
        }
    }
    return nearest;
}

/// Changes one cell of a one-cell world.
using Change = std::function<void(VisibleCells &)>;

} // namespace

Q_DECLARE_METATYPE(Terrain)
Q_DECLARE_METATYPE(Change)
Q_DECLARE_METATYPE(Rgb)

class tst_CellLook : public QObject
{
    Q_OBJECT

private slots:
    void bareGroundIsTheTerrainColour_data();
    void bareGroundIsTheTerrainColour();
    void layersChangeTheLook_data();
    void layersChangeTheLook();
    void moreMeansStronger_data();
    void moreMeansStronger();
    void depositsHaveTheirPalette_data();
    void depositsHaveTheirPalette();
    void structuresStandOutFromEveryTerrain_data();
    void structuresStandOutFromEveryTerrain();
    void ownersCanBeToldApart_data();
    void ownersCanBeToldApart();
    void derivedColoursAreStable();
    void batchWritesWhatCellColourGives_data();
    void batchWritesWhatCellColourGives();
};

void tst_CellLook::bareGroundIsTheTerrainColour_data()
{
    QTest::addColumn<Terrain>("terrain");
    QTest::addColumn<int>("elevation");
    QTest::newRow("deep water") << Terrain::DeepWater << 20;
    QTest::newRow("grassland") << Terrain::Grassland << 140;
    QTest::newRow("snow on a peak") << Terrain::Snow << 255;
}

void tst_CellLook::bareGroundIsTheTerrainColour()
{
    QFETCH(Terrain, terrain);
    QFETCH(int, elevation);
    const Rgb expected = hex::sim::terrainColour(std::uint8_t(terrain), std::uint8_t(elevation));
    const Rgb actual = look(bareCell(terrain, std::uint8_t(elevation)));
    QCOMPARE(actual.r, expected.r);
    QCOMPARE(actual.g, expected.g);
    QCOMPARE(actual.b, expected.b);
}

void tst_CellLook::layersChangeTheLook_data()
{
    QTest::addColumn<Terrain>("terrain");
    QTest::addColumn<Change>("change");
    QTest::addColumn<QString>("effect");

    QTest::newRow("flora makes grassland greener")
        << Terrain::Grassland << Change([](VisibleCells &c) { c.flora[0] = 200; }) << "greener";
    QTest::newRow("even a seedling makes desert greener")
        << Terrain::Desert << Change([](VisibleCells &c) { c.flora[0] = 1; }) << "greener";
    QTest::newRow("standing water makes sand bluer")
        << Terrain::Sand << Change([](VisibleCells &c) { c.water[0] = 120; }) << "bluer";
    QTest::newRow("standing water makes grassland bluer")
        << Terrain::Grassland << Change([](VisibleCells &c) { c.water[0] = 30; }) << "bluer";
    QTest::newRow("the sea's own water field changes nothing")
        << Terrain::ShallowWater << Change([](VisibleCells &c) { c.water[0] = 255; }) << "same";
    QTest::newRow("pollution darkens grassland")
        << Terrain::Grassland << Change([](VisibleCells &c) { c.pollution[0] = 100; }) << "darker";
    QTest::newRow("pollution darkens snow")
        << Terrain::Snow << Change([](VisibleCells &c) { c.pollution[0] = 60; }) << "darker";
    QTest::newRow("pollution greys out a forest")
        << Terrain::Forest << Change([](VisibleCells &c) { c.pollution[0] = 255; }) << "less green";
    QTest::newRow("a coal seam darkens grassland")
        << Terrain::Grassland << Change([](VisibleCells &c) { c.resource[0] = 3; }) << "darker";
    QTest::newRow("a deposit still shows under dense flora")
        << Terrain::Grassland << Change([](VisibleCells &c) {
               c.flora[0] = 255;
               c.resource[0] = 1;
           })
        << "less green";
    QTest::newRow("an owner tints the ground")
        << Terrain::Grassland << Change([](VisibleCells &c) { c.owner[0] = 0; }) << "different";
    QTest::newRow("orientation alone changes nothing")
        << Terrain::Rock << Change([](VisibleCells &c) { c.orientation[0] = 4; }) << "same";
}

void tst_CellLook::layersChangeTheLook()
{
    QFETCH(Terrain, terrain);
    QFETCH(Change, change);
    QFETCH(QString, effect);

    const VisibleCells before = bareCell(terrain);
    VisibleCells after = before;
    change(after);
    const Rgb was = look(before);
    const Rgb now = look(after);
    const QByteArray detail = QStringLiteral("(%1,%2,%3) -> (%4,%5,%6)")
                                  .arg(was.r)
                                  .arg(was.g)
                                  .arg(was.b)
                                  .arg(now.r)
                                  .arg(now.g)
                                  .arg(now.b)
                                  .toUtf8();
    if (effect == QLatin1String("greener"))
        QVERIFY2(greenness(now) > greenness(was) + 20, detail);
    else if (effect == QLatin1String("less green"))
        QVERIFY2(greenness(now) < greenness(was) - 20, detail);
    else if (effect == QLatin1String("bluer"))
        QVERIFY2(blueness(now) > blueness(was) + 40, detail);
    else if (effect == QLatin1String("darker"))
        QVERIFY2(luma(now) < luma(was) - 20'000, detail);
    else if (effect == QLatin1String("different"))
        QVERIFY2(distance(now, was) >= 24, detail);
    else if (effect == QLatin1String("same"))
        QVERIFY2(distance(now, was) == 0, detail);
    else
        QFAIL("unknown effect");
}

void tst_CellLook::moreMeansStronger_data()
{
    QTest::addColumn<Change>("little");
    QTest::addColumn<Change>("much");
    QTest::addColumn<Rgb>("toward");

    QTest::newRow("denser flora is greener")
        << Change([](VisibleCells &c) { c.flora[0] = 10; })
        << Change([](VisibleCells &c) { c.flora[0] = 250; }) << Rgb{18, 118, 26};
    QTest::newRow("more water is bluer")
        << Change([](VisibleCells &c) { c.water[0] = 5; })
        << Change([](VisibleCells &c) { c.water[0] = 200; }) << Rgb{40, 100, 200};
    QTest::newRow("more pollution is smoggier")
        << Change([](VisibleCells &c) { c.pollution[0] = 5; })
        << Change([](VisibleCells &c) { c.pollution[0] = 200; }) << Rgb{76, 69, 60};
}

void tst_CellLook::moreMeansStronger()
{
    QFETCH(Change, little);
    QFETCH(Change, much);
    QFETCH(Rgb, toward);
    VisibleCells a = bareCell(Terrain::Desert);
    VisibleCells b = a;
    little(a);
    much(b);
    QVERIFY(distance(look(b), toward) < distance(look(a), toward));
}

void tst_CellLook::depositsHaveTheirPalette_data()
{
    QTest::addColumn<int>("resource");
    QTest::addColumn<QString>("kind");
    QTest::newRow("1 iron is rust red-brown") << 1 << "rust";
    QTest::newRow("2 copper is orange") << 2 << "orange";
    QTest::newRow("3 coal is near black") << 3 << "black";
    QTest::newRow("4 stone is light grey") << 4 << "grey";
}

void tst_CellLook::depositsHaveTheirPalette()
{
    QFETCH(int, resource);
    QFETCH(QString, kind);
    const Rgb c = resourceColour(std::uint8_t(resource));
    if (kind == QLatin1String("rust"))
        QVERIFY(c.r > c.g + 50 && c.g >= c.b && c.r < 200);
    else if (kind == QLatin1String("orange"))
        QVERIFY(c.r > 200 && c.g > 90 && c.g < 160 && c.b < 80);
    else if (kind == QLatin1String("black"))
        QVERIFY(std::max({c.r, c.g, c.b}) < 40);
    else
        QVERIFY(std::min({c.r, c.g, c.b}) > 180
                && std::max({c.r, c.g, c.b}) - std::min({c.r, c.g, c.b}) < 16);

    // On the ground it tints, and every kind tints differently.
    VisibleCells cells = bareCell(Terrain::Rock);
    const Rgb bare = look(cells);
    cells.resource[0] = std::uint8_t(resource);
    QVERIFY(distance(look(cells), bare) >= 40);
    for (int other = 1; other <= 4; ++other) {
        if (other == resource)
            continue;
        VisibleCells elsewhere = bareCell(Terrain::Rock);
        elsewhere.resource[0] = std::uint8_t(other);
        QVERIFY2(distance(look(cells), look(elsewhere)) >= 40, qPrintable(QString::number(other)));
    }
}

void tst_CellLook::structuresStandOutFromEveryTerrain_data()
{
    QTest::addColumn<int>("prototype");
    QTest::newRow("1 extractor") << 1;
    QTest::newRow("2 conveyor") << 2;
    QTest::newRow("3 furnace") << 3;
    QTest::newRow("4 assembler") << 4;
    QTest::newRow("5 chest") << 5;
    QTest::newRow("6 splitter") << 6;
    QTest::newRow("7 inserter") << 7;
    QTest::newRow("8 seeder") << 8;
    QTest::newRow("9 scrubber") << 9;
    QTest::newRow("40, past the palette") << 40;
}

void tst_CellLook::structuresStandOutFromEveryTerrain()
{
    QFETCH(int, prototype);

    VisibleCells cells = bareCell(Terrain::Grassland);
    cells.flora[0] = 255;
    cells.resource[0] = 2;
    cells.pollution[0] = 90;
    cells.structure[0] = std::uint16_t(prototype);
    const Rgb built = look(cells);
    const Rgb palette = structureColour(std::uint16_t(prototype));
    QVERIFY2(distance(built, palette) == 0, "a structure replaces the ground's look");
    QVERIFY2(distanceToNearestTerrain(built) >= 90,
             qPrintable(QString::number(distanceToNearestTerrain(built))));

    // Unlike every other structure too.
    for (int other = 1; other <= 9; ++other) {
        if (other != prototype)
            QVERIFY2(distance(built, structureColour(std::uint16_t(other))) >= 60,
                     qPrintable(QString::number(other)));
    }

    // An owner's colour mixes in, but the structure still stands out.
    cells.owner[0] = 1;
    const Rgb owned = look(cells);
    QVERIFY(distance(owned, built) > 0);
    QVERIFY2(distanceToNearestTerrain(owned) >= 50,
             qPrintable(QString::number(distanceToNearestTerrain(owned))));
}

void tst_CellLook::ownersCanBeToldApart_data()
{
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("second");
    QTest::addColumn<Terrain>("terrain");
    QTest::addColumn<int>("structure");
    QTest::newRow("players 0 and 1 on grassland") << 0 << 1 << Terrain::Grassland << 0;
    QTest::newRow("players 2 and 5 on desert") << 2 << 5 << Terrain::Desert << 0;
    QTest::newRow("players 3 and 7 on snow") << 3 << 7 << Terrain::Snow << 0;
    QTest::newRow("players 0 and 1 on a conveyor") << 0 << 1 << Terrain::Rock << 2;
    QTest::newRow("players 4 and 6 on an assembler") << 4 << 6 << Terrain::Rock << 4;
    QTest::newRow("players 8 and 9, past the palette") << 8 << 9 << Terrain::Grassland << 0;
}

void tst_CellLook::ownersCanBeToldApart()
{
    QFETCH(int, first);
    QFETCH(int, second);
    QFETCH(Terrain, terrain);
    QFETCH(int, structure);

    VisibleCells a = bareCell(terrain);
    a.structure[0] = std::uint16_t(structure);
    VisibleCells b = a;
    a.owner[0] = std::uint16_t(first);
    b.owner[0] = std::uint16_t(second);
    QVERIFY2(distance(playerColour(std::uint16_t(first)), playerColour(std::uint16_t(second)))
                 >= 120,
             "the players' own colours are far apart");
    QVERIFY2(distance(look(a), look(b)) >= 24,
             qPrintable(QString::number(distance(look(a), look(b)))));
}

void tst_CellLook::derivedColoursAreStable()
{
    // Colours past the palettes come from the index alone: the same on every call.
    QCOMPARE(distance(resourceColour(77), resourceColour(77)), 0);
    QCOMPARE(distance(playerColour(300), playerColour(300)), 0);
    QVERIFY(distance(playerColour(300), playerColour(301)) > 0);
    QCOMPARE(distance(playerColour(kNoOwner), Rgb{}), 0);
    QVERIFY(distance(resourceColour(77), resourceColour(78)) > 0);
}

void tst_CellLook::batchWritesWhatCellColourGives_data()
{
    QTest::addColumn<int>("bytesPerCell");
    QTest::newRow("the look texture's 4 bytes") << 4;
    QTest::newRow("packed RGB") << 3;
}

void tst_CellLook::batchWritesWhatCellColourGives()
{
    // Every layer at random, with owners past the palette, structures and a terrain no
    // content has: the batch takes other paths than cellColour() (a ground table, blends
    // of weight 0 for what is absent) and must give the same colours.
    QFETCH(int, bytesPerCell);
    constexpr std::uint32_t count = 5000;
    VisibleCells cells;
    cells.resize(count);
    std::srand(7);
    auto random = [](int below) { return std::rand() % below; };
    for (std::uint32_t c = 0; c < count; ++c) {
        cells.terrain[c] = std::uint8_t(random(10));
        cells.elevation[c] = std::uint8_t(random(256));
        cells.flora[c] = std::uint8_t(random(256));
        cells.water[c] = std::uint8_t(random(256));
        cells.pollution[c] = std::uint8_t(random(256));
        cells.resource[c] = random(3) == 0 ? std::uint8_t(random(8)) : 0;
        cells.structure[c] = random(10) == 0 ? std::uint16_t(random(14)) : 0;
        cells.owner[c] = random(4) == 0 ? 0xFFFF : std::uint16_t(random(12));
    }
    // Every third cell, unsorted, with ids past the end mixed in.
    std::vector<hex::geometry::CellId> ids;
    for (std::uint32_t c = 0; c < count; c += 3)
        ids.push_back(c);
    std::reverse(ids.begin(), ids.begin() + 500);
    ids.insert(ids.begin() + 100, count);
    ids.push_back(count + 7);
    ids.push_back(~0u);

    const auto width = std::size_t(bytesPerCell);
    // A guard of 16 cells past the end: nothing may be written there.
    std::vector<std::uint8_t> out((count + 16) * width, 0xAB);
    hex::client::writeCellColours(cells, ids, out.data(), width);
    for (std::uint32_t c = 0; c < count + 16; ++c) {
        const std::uint8_t *texel = out.data() + c * width;
        const bool listed = c < count && c % 3 == 0;
        if (!listed) {
            for (std::size_t b = 0; b < width; ++b)
                QCOMPARE(int(texel[b]), 0xAB);
            continue;
        }
        const Rgb expected = cellColour(cells, c);
        QCOMPARE(int(texel[0]), int(expected.r));
        QCOMPARE(int(texel[1]), int(expected.g));
        QCOMPARE(int(texel[2]), int(expected.b));
        for (std::size_t b = 3; b < width; ++b)
            QCOMPARE(int(texel[b]), 255);
    }
}

QTEST_GUILESS_MAIN(tst_CellLook)
#include "tst_celllook.moc"
