// ChunkCover: which chunks a view of the planet reaches, with hysteresis.
#include "geometry/chunkcover.h"
#include "geometry/hexsphere.h"

#include <QTest>

#include <cmath>
#include <numbers>
#include <random>

using namespace hex::geometry;

namespace {

constexpr double kDegree = std::numbers::pi / 180.0;

double angleBetween(const Vec3 &a, const Vec3 &b)
{
    return std::atan2(double(length(cross(a, b))), double(dot(a, b)));
}

Vec3 randomDirection(std::mt19937 &rng)
{
    std::normal_distribution<float> normal;
    Vec3 v;
    do {
        v = {normal(rng), normal(rng), normal(rng)};
    } while (length(v) < 1e-3f);
    return normalized(v);
}

/// A direction `angle` radians from `from`, turned towards `towards`.
Vec3 rotatedTowards(const Vec3 &from, const Vec3 &towards, double angle)
{
    const Vec3 axis = normalized(cross(from, towards));
    const Vec3 perpendicular = cross(axis, from);
    return normalized(from * float(std::cos(angle)) + perpendicular * float(std::sin(angle)));
}

} // namespace

class tst_ChunkCover : public QObject
{
    Q_OBJECT
private slots:
    void everyCellInTheCapIsCovered_data();
    void everyCellInTheCapIsCovered();
    void wholePlanetAndNothing();
    void hysteresisKeepsJitterFromChurning();
    void movingFarDropsWhatLeft();
};

void tst_ChunkCover::everyCellInTheCapIsCovered_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<double>("radiusDegrees");
    QTest::newRow("n=16, 10°") << 16 << 10.0;
    QTest::newRow("n=64, 25°") << 64 << 25.0;
    QTest::newRow("n=64, 2°") << 64 << 2.0;
    QTest::newRow("n=128, 60°") << 128 << 60.0;
}

void tst_ChunkCover::everyCellInTheCapIsCovered()
{
    // Complete: any cell whose centre lies in the cap belongs to a covered chunk.
    // Tight: a covered chunk has a cell within the cap widened by the chunk's size.
    QFETCH(int, n);
    QFETCH(double, radiusDegrees);
    const HexSphere sphere(n);
    const ChunkCover cover(sphere);
    QCOMPARE(cover.chunkCount(), sphere.chunkCount());
    std::mt19937 rng(std::uint32_t(n * 1000 + int(radiusDegrees)));
    const double radius = radiusDegrees * kDegree;
    for (int trial = 0; trial < 20; ++trial) {
        const Vec3 view = randomDirection(rng);
        const ChunkSet covered = cover.covered(view, radius);
        int coveredCount = 0;
        for (ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk)
            coveredCount += covered[chunk];
        QVERIFY(coveredCount > 0);
        QVERIFY(coveredCount < int(sphere.chunkCount()));
        for (CellId cell = 0; cell < sphere.cellCount(); ++cell) {
            if (angleBetween(sphere.centre(cell), view) <= radius)
                QVERIFY2(covered[sphere.chunkOf(cell)],
                         qPrintable(QStringLiteral("cell %1 in the cap, its chunk %2 not covered")
                                        .arg(cell)
                                        .arg(sphere.chunkOf(cell))));
        }
        for (ChunkId chunk = 0; chunk < sphere.chunkCount(); ++chunk) {
            if (!covered[chunk])
                continue;
            double nearest = std::numbers::pi;
            for (const CellId cell : sphere.chunkCells(chunk))
                nearest = std::min(nearest, angleBetween(sphere.centre(cell), view));
            QVERIFY2(nearest <= radius + 2.0 * cover.radius(chunk),
                     qPrintable(QStringLiteral("chunk %1 covered but %2° away")
                                    .arg(chunk)
                                    .arg(nearest / kDegree)));
        }
    }
}

void tst_ChunkCover::wholePlanetAndNothing()
{
    const HexSphere sphere(32);
    const ChunkCover cover(sphere);
    const ChunkSet all = cover.covered({0.0f, 0.0f, 1.0f}, std::numbers::pi);
    QCOMPARE(std::count(all.begin(), all.end(), true), qsizetype(sphere.chunkCount()));
    const ChunkSet none = cover.covered({0.0f, 0.0f, 1.0f}, 0.0);
    QCOMPARE(std::count(none.begin(), none.end(), true), 0);
    const ChunkSet zeroDirection = cover.covered({0.0f, 0.0f, 0.0f}, 0.5);
    QCOMPARE(std::count(zeroDirection.begin(), zeroDirection.end(), true), 0);
}

void tst_ChunkCover::hysteresisKeepsJitterFromChurning()
{
    // A view jittering by 0.2° around a spot joins chunks once and drops none, while
    // the same jitter without a margin does churn at some border.
    const HexSphere sphere(64);
    const ChunkCover cover(sphere);
    const double radius = 20.0 * kDegree;
    const double margin = cover.largestRadius() * 0.5;
    std::mt19937 rng(7);
    int churnWithoutMargin = 0;
    for (int trial = 0; trial < 30; ++trial) {
        const Vec3 centre = randomDirection(rng);
        const Vec3 other = randomDirection(rng);
        ChunkSet withMargin(cover.chunkCount(), false);
        ChunkSet without(cover.chunkCount(), false);
        cover.update(centre, radius, margin, withMargin);
        cover.update(centre, radius, 0.0, without);
        for (int step = 0; step < 50; ++step) {
            const Vec3 jittered = rotatedTowards(centre, other, (step % 2 ? 0.2 : -0.2) * kDegree);
            std::vector<ChunkId> added;
            std::vector<ChunkId> removed;
            cover.update(jittered, radius, margin, withMargin, &added, &removed);
            QVERIFY2(removed.empty(), "a chunk was dropped by a 0.2° jitter");
            QVERIFY2(step < 2 || added.empty(), "a chunk was re-added by a 0.2° jitter");
            std::vector<ChunkId> removedWithout;
            cover.update(jittered, radius, 0.0, without, nullptr, &removedWithout);
            churnWithoutMargin += int(removedWithout.size());
        }
    }
    QVERIFY2(churnWithoutMargin > 0, "the jitter never crossed a border: the test proves nothing");
}

void tst_ChunkCover::movingFarDropsWhatLeft()
{
    // Turning the view around drops every chunk that is beyond radius + margin and
    // reports each change once.
    const HexSphere sphere(64);
    const ChunkCover cover(sphere);
    const double radius = 15.0 * kDegree;
    const double margin = cover.largestRadius() * 0.5;
    ChunkSet subscribed(cover.chunkCount(), false);
    std::vector<ChunkId> added;
    cover.update({0.0f, 0.0f, 1.0f}, radius, margin, subscribed, &added);
    const std::size_t first = added.size();
    QVERIFY(first > 0);
    std::vector<ChunkId> addedAgain;
    std::vector<ChunkId> removed;
    cover.update({0.0f, 0.0f, -1.0f}, radius, margin, subscribed, &addedAgain, &removed);
    QCOMPARE(removed.size(), first);
    QVERIFY(std::is_sorted(removed.begin(), removed.end()));
    QVERIFY(!addedAgain.empty());
    for (const ChunkId chunk : addedAgain)
        QVERIFY(angleBetween(cover.centre(chunk), {0.0f, 0.0f, -1.0f}) - cover.radius(chunk) <= radius);
    QCOMPARE(std::count(subscribed.begin(), subscribed.end(), true), qsizetype(addedAgain.size()));
}

QTEST_GUILESS_MAIN(tst_ChunkCover)
#include "tst_chunkcover.moc"
