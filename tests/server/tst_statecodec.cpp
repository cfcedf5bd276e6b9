#include "persistence/statecodec.h"

#include "scriptedworld.h"

#include <QTest>

#include <zstd.h>

using namespace hex;
using namespace hex::server::persistence;

class tst_StateCodec : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void fullSaveRestoresExactState();
    void chunkRoundTrip();
    void badChunk_data();
    void badChunk();
    void missingChunk();
    void badBlobs_data();
    void badBlobs();
    void tickRecordOrder();
    void replayReproducesHash();
    void replayStopsWhenAsked();
    void replayReportsTamperedEvent_data();
    void replayReportsTamperedEvent();

private:
    /// A world that ran 350 ticks of the script, and the tick records of every step.
    std::unique_ptr<sim::World> m_world;
    sim::WorldState m_start;
    std::vector<EventRecord> m_events;
};

namespace {

LoadedWorld asLoaded(const sim::World &world, const FullSave &save)
{
    LoadedWorld loaded;
    loaded.summary.seed = world.state().seed;
    loaded.summary.subdivisions = world.state().sphere->subdivisions();
    loaded.summary.tick = world.state().tick;
    loaded.snapshot = save.snapshot;
    loaded.chunks = save.chunks;
    return loaded;
}

/// `raw` with the 8- or 16-bit value of one cell in one layer replaced. `offset` is the
/// layer's start in cells-sized units (see rawChunk's layer order), `width` its bytes.
QByteArray patched(QByteArray raw, std::size_t cells, std::size_t layerOffsetBytesPerCell,
                   int width, std::size_t index, std::uint16_t value)
{
    const std::size_t at = cells * layerOffsetBytesPerCell + index * std::size_t(width);
    raw[qsizetype(at)] = char(value & 0xFF);
    if (width == 2)
        raw[qsizetype(at + 1)] = char(value >> 8);
    return raw;
}

} // namespace

void tst_StateCodec::initTestCase()
{
    QVERIFY(test::shippedContent());
    m_world = test::newWorld(16);
    m_start = m_world->state();
    const test::Script script = test::makeScript(m_world->state(), m_world->content());
    QVERIFY(!script.byTick.empty());
    while (m_world->state().tick < 350) {
        script.queue(*m_world);
        const sim::StepResult step = m_world->step();
        const TickRecord record = tickRecord(step, m_world->state());
        m_events.insert(m_events.end(), record.events.begin(), record.events.end());
    }
    QCOMPARE(m_world->state().players.size(), std::size_t(3));
    QVERIFY2(test::machinesHoldItems(m_world->state()), "the factories should hold items");
}

void tst_StateCodec::fullSaveRestoresExactState()
{
    const FullSave save = encodeFullSave(*m_world, 2);
    QCOMPARE(save.chunks.size(), std::size_t(m_world->state().sphere->chunkCount()));
    QCOMPARE(save.snapshot.tick, m_world->state().tick);
    QCOMPARE(save.snapshot.stateHash, m_world->stateHash());
    const LoadedWorld loaded = asLoaded(*m_world, save);
    auto restored = decodeSnapshotState(loaded, m_world->state().sphere, m_world->content(), 2);
    QVERIFY2(restored, qPrintable(restored ? QString() : restored.error()));
    QVERIFY(*restored == m_world->state());
    sim::World again(std::move(*restored), test::shippedContent());
    QCOMPARE(again.fullStateHash(), m_world->fullStateHash());
    QCOMPARE(again.stateHash(), m_world->stateHash());
}

void tst_StateCodec::chunkRoundTrip()
{
    const sim::WorldState &state = m_world->state();
    sim::WorldState blank = sim::WorldState::blank(state.sphere, state.seed);
    for (geometry::ChunkId c = 0; c < state.sphere->chunkCount(); ++c) {
        const QByteArray packed = packChunk(rawChunk(state, c));
        QCOMPARE(std::uint8_t(packed[0]), std::uint8_t(1));
        auto ok = unpackChunk(packed, c, m_world->content(), blank);
        QVERIFY2(ok, qPrintable(ok ? QString() : ok.error()));
    }
    QVERIFY(blank.terrain == state.terrain);
    QVERIFY(blank.structure == state.structure);
    QVERIFY(blank.owner == state.owner);
    QVERIFY(blank.resourceAmount == state.resourceAmount);
    QVERIFY(blank.pollution == state.pollution);
}

void tst_StateCodec::badChunk_data()
{
    // Layer starts in bytes per cell: terrain 0, elevation 1, resource kind 2, amount 3,
    // flora 5, water 6, pollution 7, structure 8, orientation 10, owner 11.
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("truncated blob") << 0 << "Chunk 5 ";
    QTest::newRow("wrong format byte") << 1 << "Chunk 5 has format 7; this program reads format 1.";
    QTest::newRow("unknown terrain") << 2 << "Chunk 5: cell";
    QTest::newRow("unknown structure") << 3 << "has an unknown structure 999";
    QTest::newRow("orientation past the sides") << 4 << "has orientation 6; it has 6 sides.";
    QTest::newRow("unknown resource") << 5 << "has an unknown resource 200";
    QTest::newRow("raw size wrong") << 6 << "Chunk 5 holds";
    QTest::newRow("empty blob") << 7 << "Chunk 5 is empty.";
    QTest::newRow("chunk past the last") << 8 << "does not exist";
}

void tst_StateCodec::badChunk()
{
    QFETCH(int, kind);
    QFETCH(QString, message);
    const sim::WorldState &state = m_world->state();
    const geometry::ChunkId chunk = 5;
    const std::size_t cells = state.sphere->chunkCells(chunk).size();
    const QByteArray raw = rawChunk(state, chunk);
    // The last cell of the chunk: never a pentagon, so it has six sides.
    const std::size_t last = cells - 1;
    QByteArray packed;
    geometry::ChunkId target = chunk;
    switch (kind) {
    case 0:
        packed = packChunk(raw).left(10);
        break;
    case 1:
        packed = packChunk(raw);
        packed[0] = 7;
        break;
    case 2:
        packed = packChunk(patched(raw, cells, 0, 1, last, 8));
        break;
    case 3:
        packed = packChunk(patched(raw, cells, 8, 2, last, 999));
        break;
    case 4:
        packed = packChunk(patched(raw, cells, 10, 1, last, 6));
        break;
    case 5:
        packed = packChunk(patched(raw, cells, 2, 1, last, 200));
        break;
    case 6:
        packed = packChunk(raw.left(raw.size() - 3));
        break;
    case 7:
        break;
    case 8:
        packed = packChunk(raw);
        target = state.sphere->chunkCount();
        break;
    }
    sim::WorldState copy = state;
    auto result = unpackChunk(packed, target, m_world->content(), copy);
    QVERIFY(!result);
    QVERIFY2(result.error().contains(message), qPrintable(result.error()));
    QVERIFY2(copy == state, "a refused chunk must change nothing");
}

void tst_StateCodec::missingChunk()
{
    FullSave save = encodeFullSave(*m_world, 2);
    save.chunks.erase(save.chunks.begin() + 3);
    auto restored = decodeSnapshotState(asLoaded(*m_world, save), m_world->state().sphere,
                                        m_world->content(), 2);
    QVERIFY(!restored);
    QCOMPARE(restored.error(), QStringLiteral("Chunk 3 is missing from the snapshot at tick 350."));
}

void tst_StateCodec::badBlobs_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("machines truncated") << 0 << "The machine state ";
    QTest::newRow("machines wrong format") << 1 << "The machine state has format 9";
    QTest::newRow("players truncated") << 2 << "The player list ";
    QTest::newRow("players wrong format") << 3 << "The player list has format 9";
    QTest::newRow("machine on a cell past the last") << 4 << "The machine state names cell";
    QTest::newRow("bad chunk inside a snapshot") << 5 << "Chunk 2: cell";
    QTest::newRow("machine count far past the blob")
        << 6 << "The machine state is truncated at machine 0 of 4294967295.";
}

void tst_StateCodec::badBlobs()
{
    QFETCH(int, kind);
    QFETCH(QString, message);
    FullSave save = encodeFullSave(*m_world, 2);
    switch (kind) {
    case 0:
        save.snapshot.machines.chop(5);
        break;
    case 1:
        save.snapshot.machines[0] = 9;
        break;
    case 2:
        save.snapshot.players.chop(3);
        break;
    case 3:
        save.snapshot.players[0] = 9;
        break;
    case 4: {
        sim::MachineMap machines = m_world->state().machines;
        machines[m_world->state().cellCount() + 5] = sim::MachineState{};
        save.snapshot.machines = encodeMachines(machines);
        break;
    }
    case 5: {
        const sim::WorldState &state = m_world->state();
        const std::size_t cells = state.sphere->chunkCells(2).size();
        save.chunks[2].cells = packChunk(patched(rawChunk(state, 2), cells, 0, 1, cells - 1, 77));
        break;
    }
    case 6: {
        // Format 1, then a count of 2^32 - 1 machines and none of them: the decoder must
        // answer, not try to make room for them all.
        const char raw[4] = {'\xff', '\xff', '\xff', '\xff'};
        QByteArray blob(qsizetype(1 + ZSTD_compressBound(sizeof raw)), Qt::Uninitialized);
        blob[0] = 1;
        const std::size_t written
            = ZSTD_compress(blob.data() + 1, std::size_t(blob.size() - 1), raw, sizeof raw, 1);
        QVERIFY(!ZSTD_isError(written));
        blob.resize(qsizetype(1 + written));
        save.snapshot.machines = blob;
        break;
    }
    }
    auto restored = decodeSnapshotState(asLoaded(*m_world, save), m_world->state().sphere,
                                        m_world->content(), 2);
    QVERIFY(!restored);
    QVERIFY2(restored.error().startsWith(message), qPrintable(restored.error()));
}

void tst_StateCodec::tickRecordOrder()
{
    auto world = test::newWorld(8);
    world->addPlayer(QStringLiteral("Di"));
    sim::Action claim;
    claim.kind = sim::ActionKind::Claim;
    claim.player = 0;
    claim.cell = 40;
    claim.clientSeq = 7;
    world->queueAction(claim);
    claim.player = 1; // the same cell: refused, CellBusy or CellTaken
    world->queueAction(claim);
    const sim::StepResult step = world->step();
    const TickRecord record = tickRecord(step, world->state());
    QCOMPARE(record.tick, std::uint64_t(1));
    QCOMPARE(record.stateHash, step.stateHash);
    // Ada, Bo and Di joined before this first step, then two actions.
    QCOMPARE(record.events.size(), std::size_t(5));
    for (std::uint32_t i = 0; i < 5; ++i)
        QCOMPARE(record.events[i].seq, i);
    QCOMPARE(record.events[2].kind, EventRecord::Kind::Join);
    QCOMPARE(record.events[2].name, QStringLiteral("Di"));
    QCOMPARE(record.events[2].player, sim::PlayerId(2));
    QCOMPARE(record.events[3].kind, EventRecord::Kind::Action);
    QCOMPARE(record.events[3].action, step.applied[0]);
    QCOMPARE(record.events[3].result, step.actions[0].reason);
    QCOMPARE(record.events[4].player, sim::PlayerId(1));
    QVERIFY(record.events[4].result != sim::RejectReason::None);
}

void tst_StateCodec::replayReproducesHash()
{
    // The events after the start (players 0 and 1 joined before tick 1: they are events
    // of tick 1 too), replayed into the start state without them.
    sim::WorldState start = m_start;
    start.players.clear();
    sim::World replay(std::move(start), test::shippedContent());
    int progressCalls = 0;
    auto hash = replayEvents(replay, m_events, 350, [&](std::uint64_t, std::uint64_t total) {
        ++progressCalls;
        return total == 350;
    });
    QVERIFY2(hash, qPrintable(hash ? QString() : hash.error()));
    QCOMPARE(*hash, m_world->stateHash());
    QCOMPARE(replay.state().tick, std::uint64_t(350));
    QVERIFY(replay.state() == m_world->state());
    QVERIFY(progressCalls > 0);
}

void tst_StateCodec::replayStopsWhenAsked()
{
    sim::WorldState start = m_start;
    start.players.clear();
    sim::World replay(std::move(start), test::shippedContent());
    std::uint64_t stoppedAt = 0;
    auto hash = replayEvents(replay, m_events, 350, [&](std::uint64_t done, std::uint64_t) {
        stoppedAt = done;
        return done < 64; // The host pressed Cancel.
    });
    QVERIFY(!hash);
    QCOMPARE(hash.error(), replayCancelledError());
    QVERIFY(stoppedAt >= 64);
    QVERIFY2(replay.state().tick < 350, "it stopped well before the end");
}

void tst_StateCodec::replayReportsTamperedEvent_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("an accepted action logged as refused") << 0 << "the log says";
    QTest::newRow("a join with another id") << 1 << "joined as player 9 in the log";
    QTest::newRow("an event before the snapshot") << 2 << "at or before the snapshot";
}

void tst_StateCodec::replayReportsTamperedEvent()
{
    QFETCH(int, kind);
    QFETCH(QString, message);
    std::vector<EventRecord> events = m_events;
    std::uint64_t tamperedTick = 0;
    if (kind == 0) {
        const auto accepted = std::find_if(events.begin(), events.end(), [](const EventRecord &e) {
            return e.kind == EventRecord::Kind::Action && e.result == sim::RejectReason::None;
        });
        QVERIFY(accepted != events.end());
        accepted->result = sim::RejectReason::NotYourCell;
        tamperedTick = accepted->tick;
    } else if (kind == 1) {
        const auto join = std::find_if(events.begin(), events.end(), [](const EventRecord &e) {
            return e.kind == EventRecord::Kind::Join && e.name == QStringLiteral("Cy");
        });
        QVERIFY(join != events.end());
        join->player = 9;
        tamperedTick = join->tick;
    }
    sim::WorldState start = m_start;
    start.players.clear();
    if (kind == 2)
        start.tick = 5;
    sim::World replay(std::move(start), test::shippedContent());
    auto hash = replayEvents(replay, events, 350);
    QVERIFY(!hash);
    QVERIFY2(hash.error().contains(message), qPrintable(hash.error()));
    if (tamperedTick > 0) {
        QVERIFY2(hash.error().startsWith(QStringLiteral("Tick %1,").arg(tamperedTick)),
                 qPrintable(hash.error()));
    }
}

QTEST_GUILESS_MAIN(tst_StateCodec)
#include "tst_statecodec.moc"
