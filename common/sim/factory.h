#pragma once

#include "worldstate.h"

#include <cstdint>
#include <map>

namespace hex::sim {

/// Items the machines created and destroyed during steps, by item id: creation is
/// extraction and recipe outputs; destruction is recipe inputs, seeds planted and
/// filters used up. Across any step, countItems() after == countItems() before +
/// created - destroyed (player actions aside).
struct ItemLedger
{
    std::map<ItemId, std::uint64_t> created;
    std::map<ItemId, std::uint64_t> destroyed;
    bool operator==(const ItemLedger &) const = default;
};

/// Steps every structure once, in ascending cell order: extractors mine, assemblers
/// run recipes, conveyors, splitters and inserters move items, storage holds them,
/// seeders plant flora, scrubbers clean pollution. Items are conserved: they are
/// only created by extraction and recipe outputs and destroyed by recipe inputs and
/// by seeders and scrubbers using them up; when `ledger` is given, those are added to
/// it. Writes cell layers through WorldState::set() and marks cells whose machine
/// gained or lost items. Reads state.tick, which must differ from one call to the
/// next. Single-threaded, deterministic. See docs/GAMEPLAY.md, "Factory".
void stepMachines(WorldState &state, const Content &content, ChangeSet &changes,
                  ItemLedger *ledger = nullptr);

/// Every item in the world, by item id: machines' buffers and lanes and players'
/// inventories. The inputs of a running assembler cycle are already consumed and not
/// counted. Items whose count is 0 are absent.
std::map<ItemId, std::uint64_t> countItems(const WorldState &state);

/// How many more of `item` the input buffer of `machine`, a `prototype`, accepts: the
/// room a neighbour's push or a player's put may use. Storage: capacity minus all it
/// holds. Assembler: only its recipe's inputs, each up to twice the recipe amount
/// (bounded by capacity, but never below one recipe amount). Seeder and scrubber: only
/// their `consumes` item, up to capacity. Anything else: 0 (conveyor lanes take items
/// only from neighbours, one at a time).
std::uint32_t inputRoom(const MachineState &machine, const PrototypeDef &prototype,
                        const Content &content, ItemId item);

/// Every item a machine holds (input and output buffers and lane), by item id, counts
/// > 0. Does not include a running cycle's consumed inputs.
std::map<ItemId, std::uint32_t> heldItems(const MachineState &machine);

} // namespace hex::sim
