#include "tickdeltas.h"

#include "sim/steppool.h"

#include <QThread>

#include <algorithm>
#include <optional>

namespace hex::client {

namespace {

/// Where part `part` of `parts` begins among `deltas`, so that each part holds about
/// as many cells as the others.
std::vector<int> splitByCells(const google::protobuf::RepeatedPtrField<protocol::ChunkDelta> &deltas,
                              std::size_t totalCells, int parts)
{
    std::vector<int> begin(std::size_t(parts) + 1, deltas.size());
    begin[0] = 0;
    std::size_t seen = 0;
    int part = 1;
    for (int i = 0; i < deltas.size() && part < parts; ++i) {
        while (part < parts && seen >= totalCells * std::size_t(part) / std::size_t(parts))
            begin[std::size_t(part++)] = i;
        seen += std::size_t(deltas[i].cells_size());
    }
    return begin;
}

} // namespace

tl::expected<void, QString>
applyChunkDeltas(const google::protobuf::RepeatedPtrField<protocol::ChunkDelta> &deltas,
                 const geometry::HexSphere &sphere, protocol::VisibleCells &cells,
                 std::vector<geometry::CellId> &changed, sim::StepPool *pool)
{
    std::size_t totalCells = 0;
    for (const protocol::ChunkDelta &delta : deltas)
        totalCells += std::size_t(delta.cells_size());
    const int parts = pool && totalCells >= kParallelTickCells ? pool->threadCount() : 1;
    const std::uint32_t mirrorCells = cells.cellCount();

    if (parts == 1) {
        for (const protocol::ChunkDelta &delta : deltas) {
            if (auto checked = protocol::checkChunkDelta(delta, sphere, mirrorCells); !checked)
                return checked;
        }
        changed.reserve(changed.size() + totalCells);
        for (const protocol::ChunkDelta &delta : deltas)
            protocol::writeChunkDelta(delta, cells, &changed);
        return {};
    }

    const std::vector<int> begin = splitByCells(deltas, totalCells, parts);
    // Each part's first bad delta; the first of those in order is the tick's.
    std::vector<std::optional<std::pair<int, QString>>> bad(static_cast<std::size_t>(parts));
    pool->run([&](int part) {
        for (int i = begin[std::size_t(part)]; i < begin[std::size_t(part) + 1]; ++i) {
            if (auto checked = protocol::checkChunkDelta(deltas[i], sphere, mirrorCells); !checked) {
                bad[std::size_t(part)] = std::pair{i, checked.error()};
                return;
            }
        }
    });
    for (const auto &first : bad) {
        if (first)
            return tl::make_unexpected(first->second);
    }

    // Two deltas of one chunk (never sent by a server that works) would write the same
    // cells from two threads: then one thread writes them all, in order.
    std::vector<bool> seen(sphere.chunkCount(), false);
    bool repeated = false;
    for (const protocol::ChunkDelta &delta : deltas) {
        repeated = repeated || seen[delta.chunk()];
        seen[delta.chunk()] = true;
    }
    changed.reserve(changed.size() + totalCells);
    if (repeated) {
        for (const protocol::ChunkDelta &delta : deltas)
            protocol::writeChunkDelta(delta, cells, &changed);
        return {};
    }
    std::vector<std::vector<geometry::CellId>> written(static_cast<std::size_t>(parts));
    pool->run([&](int part) {
        std::vector<geometry::CellId> &mine = written[std::size_t(part)];
        for (int i = begin[std::size_t(part)]; i < begin[std::size_t(part) + 1]; ++i)
            protocol::writeChunkDelta(deltas[i], cells, &mine);
    });
    for (const std::vector<geometry::CellId> &part : written)
        changed.insert(changed.end(), part.begin(), part.end());
    return {};
}

sim::StepPool &guiStepPool()
{
    // One per thread that asks (StepPool::run() is for one thread): in practice the GUI
    // thread's.
    static thread_local sim::StepPool pool(std::clamp(QThread::idealThreadCount(), 1, 4));
    return pool;
}

} // namespace hex::client
