// EpollEventDispatcher: the server's event loop on epoll. The application object of this
// test runs on it, so every Qt facility used here goes through it.
#include "app/epolldispatcher.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <atomic>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

using hex::server::EpollEventDispatcher;

class tst_EpollDispatcher : public QObject
{
    Q_OBJECT
private slots:
    void isTheApplicationsDispatcher();
    void timersFireInOrderAndRepeat();
    void timersCanBeStoppedAndRestartedFromTheirHandler();
    void remainingTimeCountsDown();
    void socketNotifiersFireWhileDataWaits();
    void tcpEchoOverLoopback();
    void anotherThreadWakesTheLoop();
    void deleteLaterDeletes();
    void nestedLoopsQuit();
};

void tst_EpollDispatcher::isTheApplicationsDispatcher()
{
    QVERIFY(qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()));
}

void tst_EpollDispatcher::timersFireInOrderAndRepeat()
{
    std::vector<int> order;
    QTimer::singleShot(30, this, [&] { order.push_back(30); });
    QTimer::singleShot(5, this, [&] { order.push_back(5); });
    QTimer::singleShot(15, this, [&] { order.push_back(15); });
    QTimer repeating;
    int shots = 0;
    connect(&repeating, &QTimer::timeout, this, [&] { ++shots; });
    repeating.start(10);
    QElapsedTimer clock;
    clock.start();
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), std::size_t(3), 2'000);
    QCOMPARE(order, (std::vector<int>{5, 15, 30}));
    QTest::qWait(200);
    repeating.stop();
    // Every 10 ms over about 230 ms, give or take a slow machine.
    QVERIFY2(shots >= 10 && shots <= 30, qPrintable(QString::number(shots)));
    const int stopped = shots;
    QTest::qWait(50);
    QCOMPARE(shots, stopped);
}

void tst_EpollDispatcher::timersCanBeStoppedAndRestartedFromTheirHandler()
{
    QTimer timer;
    int shots = 0;
    connect(&timer, &QTimer::timeout, this, [&] {
        ++shots;
        if (shots == 1)
            timer.start(5); // restarted from its own handler
        else
            timer.stop();
    });
    timer.start(5);
    QTRY_COMPARE_WITH_TIMEOUT(shots, 2, 1'000);
    QTest::qWait(40);
    QCOMPARE(shots, 2);
    QVERIFY(!timer.isActive());
}

void tst_EpollDispatcher::remainingTimeCountsDown()
{
    QTimer timer;
    timer.setSingleShot(true);
    timer.start(500);
    const int first = timer.remainingTime();
    QVERIFY2(first > 400 && first <= 500, qPrintable(QString::number(first)));
    QTest::qWait(100);
    const int later = timer.remainingTime();
    QVERIFY2(later < first && later > 250, qPrintable(QString::number(later)));
    timer.stop();
    QCOMPARE(timer.remainingTime(), -1);
}

void tst_EpollDispatcher::socketNotifiersFireWhileDataWaits()
{
    int pair[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
    QSocketNotifier notifier(pair[0], QSocketNotifier::Read);
    int activations = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&] {
        ++activations;
        char byte = 0;
        // Read one byte per activation: level-triggered, it must fire again.
        [[maybe_unused]] const auto got = ::read(pair[0], &byte, 1);
    });
    QTest::qWait(30);
    QCOMPARE(activations, 0);
    QCOMPARE(::write(pair[1], "abc", 3), ssize_t(3));
    QTRY_COMPARE_WITH_TIMEOUT(activations, 3, 1'000);
    notifier.setEnabled(false);
    QCOMPARE(::write(pair[1], "d", 1), ssize_t(1));
    QTest::qWait(50);
    QCOMPARE(activations, 3);
    notifier.setEnabled(true);
    QTRY_COMPARE_WITH_TIMEOUT(activations, 4, 1'000);
    ::close(pair[0]);
    ::close(pair[1]);
}

void tst_EpollDispatcher::tcpEchoOverLoopback()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    connect(&server, &QTcpServer::newConnection, this, [&] {
        QTcpSocket *peer = server.nextPendingConnection();
        connect(peer, &QTcpSocket::readyRead, peer, [peer] { peer->write(peer->readAll()); });
        connect(peer, &QTcpSocket::disconnected, peer, &QObject::deleteLater);
    });
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QVERIFY(client.waitForConnected(2'000));
    // Large enough to need several turns of the loop on both sides.
    const QByteArray payload(4 * 1024 * 1024, 'x');
    client.write(payload);
    QByteArray echoed;
    QElapsedTimer clock;
    clock.start();
    while (echoed.size() < payload.size() && clock.elapsed() < 10'000) {
        QTest::qWait(5);
        echoed += client.readAll();
    }
    QCOMPARE(echoed.size(), payload.size());
    QCOMPARE(echoed, payload);
    client.disconnectFromHost();
    QTRY_VERIFY_WITH_TIMEOUT(client.state() == QAbstractSocket::UnconnectedState, 2'000);
}

void tst_EpollDispatcher::anotherThreadWakesTheLoop()
{
    // A queued call from another thread must not wait for some unrelated event.
    QElapsedTimer clock;
    std::atomic<qint64> delivered{-1};
    QEventLoop loop;
    std::thread poster([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        clock.start();
        QMetaObject::invokeMethod(
            this,
            [&] {
                delivered = clock.elapsed();
                loop.quit();
            },
            Qt::QueuedConnection);
    });
    QTimer::singleShot(5'000, &loop, &QEventLoop::quit); // a safety net only
    loop.exec();
    poster.join();
    QVERIFY(delivered >= 0);
    QVERIFY2(delivered < 100, qPrintable(QString::number(delivered.load())));
}

void tst_EpollDispatcher::deleteLaterDeletes()
{
    QPointer<QObject> doomed = new QObject;
    doomed->deleteLater();
    QTRY_VERIFY_WITH_TIMEOUT(doomed.isNull(), 1'000);
}

void tst_EpollDispatcher::nestedLoopsQuit()
{
    QEventLoop outer;
    bool innerDone = false;
    QTimer::singleShot(10, this, [&] {
        QEventLoop inner;
        QTimer::singleShot(10, &inner, &QEventLoop::quit);
        inner.exec();
        innerDone = true;
        outer.quit();
    });
    QTimer::singleShot(5'000, &outer, &QEventLoop::quit);
    QElapsedTimer clock;
    clock.start();
    outer.exec();
    QVERIFY(innerDone);
    QVERIFY(clock.elapsed() < 1'000);
}

int main(int argc, char **argv)
{
    // Installed before the application object, as hexsphere-server does.
    auto *dispatcher = new EpollEventDispatcher;
    if (!dispatcher->isValid())
        qFatal("epoll or eventfd is not available");
    QCoreApplication::setEventDispatcher(dispatcher);
    QCoreApplication app(argc, argv);
    tst_EpollDispatcher test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epolldispatcher.moc"
