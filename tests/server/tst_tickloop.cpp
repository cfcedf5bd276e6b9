#include "tick/tickloop.h"

#include <QElapsedTimer>
#include <QTest>
#include <QThread>

#include <vector>

using hex::server::TickLoop;

class tst_TickLoop : public QObject
{
    Q_OBJECT
private slots:
    void ticksAreConsecutive_data();
    void ticksAreConsecutive();
    void overrunCatchesUpThenDrops();
    void stopFromAHandler();
};

void tst_TickLoop::ticksAreConsecutive_data()
{
    QTest::addColumn<int>("ups");
    QTest::addColumn<quint64>("firstTick");
    QTest::newRow("fresh world at 60 UPS") << 60 << quint64(0);
    QTest::newRow("resumed world at 30 UPS") << 30 << quint64(123456);
}

void tst_TickLoop::ticksAreConsecutive()
{
    QFETCH(int, ups);
    QFETCH(quint64, firstTick);
    TickLoop loop(ups);
    std::vector<std::uint64_t> seen;
    connect(&loop, &TickLoop::ticked, this, [&](std::uint64_t t) { seen.push_back(t); });
    loop.start(firstTick);
    QTRY_VERIFY_WITH_TIMEOUT(seen.size() >= 10, 5000);
    loop.stop();
    for (std::size_t i = 0; i < seen.size(); ++i)
        QCOMPARE(seen[i], firstTick + 1 + i);
    QCOMPARE(loop.tick(), seen.back());
}

void tst_TickLoop::overrunCatchesUpThenDrops()
{
    // At 20 UPS a handler that blocks for 0.6 s (12 periods) puts the loop more than
    // kMaxCatchUp ticks behind: it runs a short burst, then drops the rest.
    TickLoop loop(20);
    std::vector<std::uint64_t> seen;
    connect(&loop, &TickLoop::ticked, this, [&](std::uint64_t t) {
        seen.push_back(t);
        if (t == 2)
            QThread::msleep(600);
    });
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(seen.size() >= 15, 5000);
    loop.stop();
    QVERIFY2(loop.droppedTicks() >= 1, qPrintable(QString::number(loop.droppedTicks())));
    QVERIFY(loop.longestTickUs() >= 600'000);
    for (std::size_t i = 0; i < seen.size(); ++i)
        QCOMPARE(seen[i], std::uint64_t(i + 1));
}

void tst_TickLoop::stopFromAHandler()
{
    TickLoop loop(60);
    int calls = 0;
    connect(&loop, &TickLoop::ticked, this, [&](std::uint64_t t) {
        ++calls;
        if (t == 3)
            loop.stop();
    });
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(!loop.isRunning(), 5000);
    QTest::qWait(200);
    QCOMPARE(calls, 3);
    QCOMPARE(loop.tick(), std::uint64_t(3));
}

QTEST_GUILESS_MAIN(tst_TickLoop)
#include "tst_tickloop.moc"
