// RenderClock and CursorTracks: continuous things drawn between server states, a
// render delay behind, the delay growing with jitter.
#include "net/interpolation.h"

#include <QTest>

#include <cmath>
#include <random>

using namespace hex;
using client::CursorTracks;
using client::RenderClock;

class tst_Interpolation : public QObject
{
    Q_OBJECT
private slots:
    void steadyArrivalsKeepTheDefaultDelay();
    void jitterGrowsTheDelayUpToItsCap();
    void renderTimeIsTheNewestStateLessTheDelay();
    void cursorsMoveAlongTheGreatCircle();
    void hiddenAndUnknownCursorsAreNotDrawn();
};

void tst_Interpolation::steadyArrivalsKeepTheDefaultDelay()
{
    RenderClock clock;
    QVERIFY(!clock.renderTime(0));
    for (int i = 0; i < 100; ++i)
        clock.onState(1'000'000 + i * 50, 5'000 + i * 50 + 20); // 20 ms on the way
    QCOMPARE(clock.delayMs(), RenderClock::kDefaultDelayMs);
    QVERIFY(clock.jitterMs() < 0.5);
}

void tst_Interpolation::jitterGrowsTheDelayUpToItsCap()
{
    RenderClock clock;
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> wait(0, 120);
    for (int i = 0; i < 200; ++i)
        clock.onState(i * 50, i * 50 + wait(rng));
    QVERIFY2(clock.jitterMs() > 20.0, qPrintable(QString::number(clock.jitterMs())));
    QVERIFY(clock.delayMs() > RenderClock::kDefaultDelayMs);
    QVERIFY(clock.delayMs() <= RenderClock::kMaxDelayMs);
    // Wild arrivals: the delay stops at its cap.
    std::uniform_int_distribution<int> wild(0, 2'000);
    for (int i = 200; i < 400; ++i)
        clock.onState(i * 50, i * 50 + wild(rng));
    QCOMPARE(clock.delayMs(), RenderClock::kMaxDelayMs);
}

void tst_Interpolation::renderTimeIsTheNewestStateLessTheDelay()
{
    // The clocks differ by an offset, and arrivals wait 10 to 40 ms: the render time
    // follows the server's clock from the least-delayed arrival, less the delay.
    RenderClock clock;
    const qint64 offset = 1'700'000'000'000;
    for (int i = 0; i < 20; ++i)
        clock.onState(offset + i * 50, i * 50 + 10 + (i % 4) * 10);
    const qint64 now = 19 * 50 + 25;
    const auto time = clock.renderTime(now);
    QVERIFY(time);
    QCOMPARE(*time, double(offset + now - 10 - clock.delayMs()));
}

void tst_Interpolation::cursorsMoveAlongTheGreatCircle()
{
    CursorTracks tracks;
    const geometry::Vec3 a{1.0f, 0.0f, 0.0f};
    const geometry::Vec3 b{0.0f, 1.0f, 0.0f};
    tracks.add(3, 1'000, a);
    tracks.add(3, 1'100, b);
    // Halfway in time: halfway along the arc, on the sphere.
    const auto half = tracks.at(1'050.0);
    QCOMPARE(half.size(), std::size_t(1));
    QCOMPARE(half[0].first, sim::PlayerId(3));
    const geometry::Vec3 p = half[0].second;
    QVERIFY(std::abs(geometry::length(p) - 1.0f) < 1e-5f);
    QVERIFY(std::abs(p.x - p.y) < 1e-5f);
    // A quarter of the way: 22.5° from a.
    const geometry::Vec3 q = tracks.at(1'025.0)[0].second;
    QVERIFY(std::abs(std::acos(q.x) - float(M_PI / 8)) < 1e-4f);
    // Past the newest sample it stays there; out-of-order samples are ignored.
    QCOMPARE(tracks.at(5'000.0)[0].second, b);
    tracks.add(3, 900, geometry::Vec3{0.0f, 0.0f, 1.0f});
    QCOMPARE(tracks.at(5'000.0)[0].second, b);
}

void tst_Interpolation::hiddenAndUnknownCursorsAreNotDrawn()
{
    CursorTracks tracks;
    tracks.add(1, 1'000, geometry::Vec3{1.0f, 0.0f, 0.0f});
    tracks.add(1, 1'100, std::nullopt);
    tracks.add(2, 2'000, geometry::Vec3{0.0f, 0.0f, 1.0f});
    // Before anything is known of player 2, and while player 1 still shows.
    auto drawn = tracks.at(1'050.0);
    QCOMPARE(drawn.size(), std::size_t(1));
    QCOMPARE(drawn[0].first, sim::PlayerId(1));
    // Player 1's pointer went at 1,100: gone from then on.
    drawn = tracks.at(2'500.0);
    QCOMPARE(drawn.size(), std::size_t(1));
    QCOMPARE(drawn[0].first, sim::PlayerId(2));
    tracks.clear();
    QVERIFY(tracks.at(2'500.0).empty());
}

QTEST_GUILESS_MAIN(tst_Interpolation)
#include "tst_interpolation.moc"
