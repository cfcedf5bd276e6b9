// DecodingFrame: a frame decoded on a pool thread gives what decoding it in place
// gives; bad frames say why either way; a frame dropped while it decodes is safe.

#include "net/decodingframe.h"

#include "protocol/codec.h"

#include <QTest>
#include <QThreadPool>

#include <vector>

using hex::client::DecodingFrame;
namespace protocol = hex::protocol;

namespace {

/// A tick frame of `chunks` deltas, 40 cells each: tens of kilobytes, thousands of
/// sub-messages, as a large world's ticks are.
QByteArray tickFrame(int chunks)
{
    protocol::Envelope envelope;
    envelope.set_seq(7);
    protocol::TickUpdate *tick = envelope.mutable_tick();
    tick->set_tick(123);
    for (int c = 0; c < chunks; ++c) {
        protocol::ChunkDelta *delta = tick->add_deltas();
        delta->set_chunk(std::uint32_t(c));
        std::string bytes;
        for (int i = 0; i < 40; ++i) {
            delta->add_cells(std::uint32_t(c * 256 + i * 3));
            bytes.push_back(char((c + i) & 0xFF));
        }
        delta->set_flora(bytes);
        delta->set_pollution(bytes);
    }
    return protocol::encodeEnvelope(envelope);
}

} // namespace

class TestDecodingFrame : public QObject
{
    Q_OBJECT

private slots:
    void decodesAsInPlace_data();
    void decodesAsInPlace();
    void badFramesSayWhy_data();
    void badFramesSayWhy();
    void droppedWhileDecoding();
};

void TestDecodingFrame::decodesAsInPlace_data()
{
    QTest::addColumn<bool>("inBackground");
    QTest::newRow("on a pool thread") << true;
    QTest::newRow("in place") << false;
}

void TestDecodingFrame::decodesAsInPlace()
{
    QFETCH(bool, inBackground);
    const QByteArray bytes = tickFrame(500);
    QVERIFY(bytes.size() > 64 * 1024);
    const auto expected = protocol::decodeEnvelope(bytes);
    QVERIFY(expected);

    DecodingFrame frame(bytes, inBackground);
    QCOMPARE(frame.inBackground(), inBackground);
    const auto &envelope = frame.envelope();
    QVERIFY(envelope);
    QCOMPARE((*envelope)->tick().deltas_size(), 500);
    QCOMPARE((*envelope)->SerializeAsString(), expected->SerializeAsString());
    QVERIFY(frame.decodeMilliseconds() > 0.0);
    // Asked again: the same envelope, not a second decoding.
    QCOMPARE(frame.envelope().value(), envelope.value());
}

void TestDecodingFrame::badFramesSayWhy_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("inBackground");
    QTest::addColumn<protocol::DecodeError>("error");
    const QByteArray garbage(100000, '\xFF');
    QTest::newRow("empty, pool thread") << QByteArray() << true << protocol::DecodeError::Empty;
    QTest::newRow("empty, in place") << QByteArray() << false << protocol::DecodeError::Empty;
    QTest::newRow("garbage, pool thread") << garbage << true << protocol::DecodeError::Malformed;
    QTest::newRow("garbage, in place") << garbage << false << protocol::DecodeError::Malformed;
    QTest::newRow("cut short, pool thread")
        << tickFrame(100).left(5000) << true << protocol::DecodeError::Malformed;
}

void TestDecodingFrame::badFramesSayWhy()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, inBackground);
    QFETCH(protocol::DecodeError, error);
    DecodingFrame frame(bytes, inBackground);
    const auto &envelope = frame.envelope();
    QVERIFY(!envelope);
    QCOMPARE(envelope.error(), error);
}

void TestDecodingFrame::droppedWhileDecoding()
{
    // A connection that closes drops the frames it holds, decoded or not: each
    // decoding keeps its own frame and arena until it ends.
    const QByteArray bytes = tickFrame(2000);
    for (int i = 0; i < 20; ++i)
        DecodingFrame(bytes, true);
    QVERIFY(QThreadPool::globalInstance()->waitForDone(30000));

    // And the pool still decodes for the frames that stay.
    DecodingFrame kept(bytes, true);
    QVERIFY(kept.envelope());
    QCOMPARE((*kept.envelope())->tick().deltas_size(), 2000);
}

QTEST_GUILESS_MAIN(TestDecodingFrame)
#include "tst_decodingframe.moc"
