#pragma once

#include "worldstate.h"

#include <cstdint>

namespace hex::sim {

class StepPool;

/// Steps the living layers (flora, ore, water, pollution) of `state` by one tick with
/// the rules of `content`, over `pool`'s threads partitioned by cell ranges. The
/// result is bit-identical for any thread count. Updates state.cellsHash and marks
/// changed cells in `changes`.
void stepAutomaton(WorldState &state, const Content &content, StepPool &pool,
                   ChangeSet &changes);

} // namespace hex::sim
