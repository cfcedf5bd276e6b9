#pragma once

#include "worldstate.h"

namespace hex::sim {

/// Steps every structure once, in ascending cell order: extractors mine, assemblers
/// run recipes, conveyors, splitters and inserters move items, storage holds them,
/// seeders plant flora, scrubbers clean pollution. Items are conserved: they are
/// only created by extraction and recipe outputs and destroyed by recipe inputs and
/// by seeders and scrubbers using them up. Single-threaded, deterministic.
void stepMachines(WorldState &state, const Content &content, ChangeSet &changes);

} // namespace hex::sim
