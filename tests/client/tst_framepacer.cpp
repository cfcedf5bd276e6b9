// FramePacer: it drives the GUI thread's animations (Qt3D's frames among them), stops
// when none runs, queues at most one tick, and a tick waits behind work queued before
// it is handled.

#include "render/framepacer.h"

#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <QVariantAnimation>

#include <memory>

using hex::client::FramePacer;

class TestFramePacer : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void ticksDriveAnimations();
    void stopsWhenNoAnimationRuns();
    void queuesAtMostOneTick();
    void tickWaitsBehindQueuedWork();

private:
    std::unique_ptr<FramePacer> m_pacer;
};

void TestFramePacer::init()
{
    m_pacer = std::make_unique<FramePacer>();
    m_pacer->install();
}

void TestFramePacer::cleanup()
{
    m_pacer.reset(); // uninstalls it: Qt's own timer takes over
}

void TestFramePacer::ticksDriveAnimations()
{
    QCOMPARE(m_pacer->period(), FramePacer::kDefaultPeriod);
    QVariantAnimation animation;
    animation.setStartValue(0.0);
    animation.setEndValue(1.0);
    animation.setDuration(200);
    QSignalSpy finished(&animation, &QAbstractAnimation::finished);
    QSignalSpy values(&animation, &QVariantAnimation::valueChanged);
    animation.start();
    // Qt starts its driver from a queued call.
    QTRY_VERIFY_WITH_TIMEOUT(m_pacer->isRunning(), 2000);
    QVERIFY(finished.wait(5000));
    // 200 ms of 16 ms periods: the values came from the pacer's ticks, several of them.
    QVERIFY2(m_pacer->ticksHandled() >= 3, QByteArray::number(m_pacer->ticksHandled()));
    QVERIFY(values.count() >= 3);
    QCOMPARE(animation.currentValue().toDouble(), 1.0);
}

void TestFramePacer::stopsWhenNoAnimationRuns()
{
    QVariantAnimation animation;
    animation.setStartValue(0);
    animation.setEndValue(1);
    animation.setDuration(50);
    QSignalSpy finished(&animation, &QAbstractAnimation::finished);
    animation.start();
    QVERIFY(finished.wait(5000));
    // Qt stops its animation driver from a queued call once no animation runs.
    QTRY_VERIFY_WITH_TIMEOUT(!m_pacer->isRunning(), 2000);
    // A tick posted just before the stop may still come; no more after it.
    QTest::qWait(50);
    const quint64 ticks = m_pacer->ticksHandled();
    QTest::qWait(200);
    QCOMPARE(m_pacer->ticksHandled(), ticks);

    // And it starts again with the next animation.
    finished.clear();
    animation.start();
    QTRY_VERIFY_WITH_TIMEOUT(m_pacer->isRunning(), 2000);
    QVERIFY(finished.wait(5000));
    QVERIFY(m_pacer->ticksHandled() > ticks);
}

void TestFramePacer::queuesAtMostOneTick()
{
    QVariantAnimation animation;
    animation.setStartValue(0);
    animation.setEndValue(1);
    animation.setDuration(10000);
    animation.start();
    QTRY_VERIFY_WITH_TIMEOUT(m_pacer->ticksHandled() > 0, 2000);
    // The GUI thread busy for six periods and more: the ticks due meanwhile are one.
    const quint64 before = m_pacer->ticksHandled();
    QThread::msleep(120);
    QCoreApplication::sendPostedEvents(m_pacer.get());
    QCOMPARE(m_pacer->ticksHandled(), before + 1);
    animation.stop();
}

void TestFramePacer::tickWaitsBehindQueuedWork()
{
    QVariantAnimation animation;
    animation.setStartValue(0);
    animation.setEndValue(100000);
    animation.setDuration(100000);
    animation.start();
    QTRY_VERIFY_WITH_TIMEOUT(m_pacer->ticksHandled() > 0, 2000);

    // A tick comes due (and is posted) while the thread is busy, then work is queued
    // (as Qt3D queues the start of its next frame's animation): the work runs first.
    QStringList order;
    connect(&animation, &QVariantAnimation::valueChanged, this, [&] {
        order << QStringLiteral("tick");
    });
    const quint64 before = m_pacer->ticksHandled();
    QThread::msleep(40);
    QMetaObject::invokeMethod(
        this, [&] { order << QStringLiteral("queued"); }, Qt::QueuedConnection);
    QCoreApplication::sendPostedEvents();
    QCOMPARE(m_pacer->ticksHandled(), before + 1);
    QCOMPARE(order, QStringList({QStringLiteral("queued"), QStringLiteral("tick")}));
    animation.stop();
}

QTEST_GUILESS_MAIN(TestFramePacer)
#include "tst_framepacer.moc"
