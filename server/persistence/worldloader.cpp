#include "worldloader.h"

#include "statecodec.h"

#include "serverconfig.h"

#include "geometry/hexsphere.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>

#include <algorithm>
#include <span>
#include <vector>

namespace hex::server::persistence {

namespace {

Q_LOGGING_CATEGORY(lcLoader, "hex.db")

/// Chunk records per transaction in a whole save.
constexpr std::size_t kSaveBatch = 256;

QString tr(const char *text)
{
    return QCoreApplication::translate("hex::server::persistence", text);
}

} // namespace

QString stateHashText(std::uint64_t hash)
{
    return QStringLiteral("%1").arg(hash, 16, 16, QLatin1Char('0'));
}

tl::expected<RestoredWorld, QString>
restoreWorld(WorldStore &store, std::shared_ptr<const sim::Content> content, int threads,
             const std::function<bool(std::uint64_t, std::uint64_t)> &progress)
{
    auto loaded = store.load();
    if (!loaded)
        return tl::make_unexpected(loaded.error());
    const WorldSummary &summary = loaded->summary;
    if (summary.subdivisions < 1 || summary.subdivisions > kMaxSubdivisions) {
        return tl::make_unexpected(
            tr("it has size %1, outside 1..%2.").arg(summary.subdivisions).arg(kMaxSubdivisions));
    }
    if (summary.contentVersion != content->version) {
        qCWarning(lcLoader).nospace().noquote()
            << "tick " << summary.tick << ": world '" << summary.name << "' was saved with content "
            << summary.contentVersion << ", this is " << content->version
            << "; its replay is checked against the saved hash";
    }
    auto sphere = geometry::HexSphere::shared(summary.subdivisions);
    auto state = decodeSnapshotState(*loaded, sphere, *content, std::max(2, threads));
    if (!state)
        return tl::make_unexpected(state.error());
    RestoredWorld restored;
    restored.world = std::make_unique<sim::World>(std::move(*state), content, threads);
    sim::World &world = *restored.world;
    if (world.stateHash() != loaded->snapshot.stateHash) {
        return tl::make_unexpected(
            tr("its snapshot at tick %1 has state hash %2, not the %3 it was saved with.")
                .arg(loaded->snapshot.tick)
                .arg(stateHashText(world.stateHash()), stateHashText(loaded->snapshot.stateHash)));
    }
    QElapsedTimer replayTimer;
    replayTimer.start();
    auto hash = replayEvents(world, loaded->events, summary.tick, progress);
    const qint64 replayMs = replayTimer.elapsed();
    if (!hash && hash.error() == replayCancelledError())
        return tl::make_unexpected(hash.error());
    if (!hash) {
        return tl::make_unexpected(tr("the replay of its event log failed: %1").arg(hash.error()));
    }
    if (*hash != summary.stateHash || world.state().tick != summary.tick) {
        return tl::make_unexpected(tr("replayed to tick %1, its state hash is %2, but the world "
                                      "was saved at tick %3 with hash %4.")
                                       .arg(world.state().tick)
                                       .arg(stateHashText(*hash))
                                       .arg(summary.tick)
                                       .arg(stateHashText(summary.stateHash)));
    }
    restored.summary = summary;
    restored.snapshotTick = loaded->snapshot.tick;
    restored.eventsReplayed = loaded->events.size();
    restored.replayMs = replayMs;
    return restored;
}

tl::expected<void, QString> saveWholeWorld(WorldStore &store, const sim::World &world, int threads)
{
    const auto failed = [&store] {
        return tl::make_unexpected(store.errorString());
    };
    // The tick first (see the header): from here on, a load reaches this state whether
    // or not the snapshot below lands.
    TickRecord last;
    last.tick = world.state().tick;
    last.stateHash = world.stateHash();
    if (!store.appendTicks(std::span<const TickRecord>(&last, 1)))
        return failed();
    const FullSave save = encodeFullSave(world, std::max(1, threads));
    const std::span<const ChunkRecord> chunks(save.chunks);
    for (std::size_t i = 0; i < chunks.size(); i += kSaveBatch) {
        if (!store.writeChunks(chunks.subspan(i, std::min(kSaveBatch, chunks.size() - i))))
            return failed();
    }
    if (!store.commitSnapshot(save.snapshot))
        return failed();
    return {};
}

} // namespace hex::server::persistence
