#include "geometry/hexsphere.h"
#include "sim/terrain.h"
#include "sim/worldgen.h"

#include <QTest>

#include <array>

using namespace hex;

class tst_WorldGen : public QObject
{
    Q_OBJECT
private slots:
    void sameSeedSameWorld_data();
    void sameSeedSameWorld();
    void differentSeedsDiffer();
    void planetHasOceansAndLand_data();
    void planetHasOceansAndLand();
    void terrainColours();
};

void tst_WorldGen::sameSeedSameWorld_data()
{
    QTest::addColumn<int>("subdivisions");
    QTest::addColumn<quint64>("seed");
    QTest::newRow("n=16, seed 1") << 16 << quint64(1);
    QTest::newRow("n=64, seed 42") << 64 << quint64(42);
    QTest::newRow("n=64, largest seed") << 64 << quint64(~0ull);
}

void tst_WorldGen::sameSeedSameWorld()
{
    QFETCH(int, subdivisions);
    QFETCH(quint64, seed);
    const geometry::HexSphere sphere(subdivisions);
    const sim::GeneratedTerrain a = sim::generateTerrain(sphere, seed);
    const sim::GeneratedTerrain b = sim::generateTerrain(sphere, seed);
    QCOMPARE(a.terrain.size(), std::size_t(sphere.cellCount()));
    QCOMPARE(a.elevation.size(), std::size_t(sphere.cellCount()));
    QVERIFY(a.terrain == b.terrain);
    QVERIFY(a.elevation == b.elevation);
}

void tst_WorldGen::differentSeedsDiffer()
{
    const geometry::HexSphere sphere(32);
    const auto a = sim::generateTerrain(sphere, 1);
    const auto b = sim::generateTerrain(sphere, 2);
    std::size_t differing = 0;
    for (std::size_t i = 0; i < a.elevation.size(); ++i)
        differing += a.elevation[i] != b.elevation[i];
    // Unrelated worlds: most cells differ in elevation.
    QVERIFY2(differing > a.elevation.size() / 2,
             qPrintable(QStringLiteral("only %1 cells differ").arg(differing)));
}

void tst_WorldGen::planetHasOceansAndLand_data()
{
    QTest::addColumn<quint64>("seed");
    for (quint64 seed : {1ull, 2ull, 7ull, 1234567ull})
        QTest::addRow("seed %llu", seed) << seed;
}

void tst_WorldGen::planetHasOceansAndLand()
{
    QFETCH(quint64, seed);
    const geometry::HexSphere sphere(64);
    const auto ground = sim::generateTerrain(sphere, seed);
    std::array<std::size_t, sim::kTerrainCount> counts{};
    for (std::uint8_t t : ground.terrain) {
        QVERIFY(t < sim::kTerrainCount);
        ++counts[t];
    }
    const double cells = double(sphere.cellCount());
    const double water = double(counts[0] + counts[1]) / cells;
    // A planet, not a water world nor a desert rock: between 20 % and 85 % water,
    // and at least four kinds of ground.
    QVERIFY2(water > 0.20 && water < 0.85, qPrintable(QStringLiteral("water %1").arg(water)));
    int kinds = 0;
    for (std::size_t c : counts)
        kinds += c > 0;
    QVERIFY2(kinds >= 4, qPrintable(QStringLiteral("%1 kinds of terrain").arg(kinds)));
}

void tst_WorldGen::terrainColours()
{
    const sim::Rgb deep = sim::terrainColour(std::uint8_t(sim::Terrain::DeepWater), 0);
    const sim::Rgb grass = sim::terrainColour(std::uint8_t(sim::Terrain::Grassland), 150);
    QVERIFY(deep.b > deep.g && deep.b > deep.r);
    QVERIFY(grass.g > grass.r && grass.g > grass.b);
    const sim::Rgb unknown = sim::terrainColour(200, 0);
    QCOMPARE(unknown.r, std::uint8_t(255));
    QCOMPARE(unknown.g, std::uint8_t(0));
    QCOMPARE(unknown.b, std::uint8_t(255));
}

QTEST_APPLESS_MAIN(tst_WorldGen)
#include "tst_worldgen.moc"
