#pragma once

#include "protocol/worldcodec.h"

#include <QString>

#include <tl/expected.hpp>

#include <cstddef>
#include <vector>

namespace hex::sim {
class StepPool;
}

namespace hex::client {

/// A tick of at least this many changed cells is checked and written on several
/// threads; a smaller one is not worth waking them for.
inline constexpr std::size_t kParallelTickCells = 16384;

/// Applies a tick's chunk deltas to the mirror `cells` of `sphere`, all or none: every
/// delta is checked first (protocol::checkChunkDelta()), and when one is bad, the first
/// in order, it says why and nothing has changed; else every delta is written. A tick
/// of kParallelTickCells cells or more is checked and written on `pool`'s threads
/// (when given), each a run of consecutive deltas, unless two deltas name one chunk:
/// those are written one after another, in the order sent. Appends the changed cells
/// to `changed`, delta by delta, in order. Call it from the thread that owns `pool`.
[[nodiscard]] tl::expected<void, QString>
applyChunkDeltas(const google::protobuf::RepeatedPtrField<protocol::ChunkDelta> &deltas,
                 const geometry::HexSphere &sphere, protocol::VisibleCells &cells,
                 std::vector<geometry::CellId> &changed, sim::StepPool *pool);

/// Threads for the GUI thread's large jobs (a big tick's deltas, its cells' looks): the
/// calling thread and up to three more, as many as the machine has cores up to four in
/// all, started on first use; one such pool for each thread that asks.
sim::StepPool &guiStepPool();

} // namespace hex::client
