#pragma once

#include "worldstate.h"

#include <QString>

#include <cstdint>
#include <span>
#include <vector>

namespace hex::sim {

enum class ActionKind : std::uint8_t {
    Claim,     ///< take an unowned cell (first claim anywhere, then adjacent to yours)
    Build,     ///< place `prototype` facing `orientation` on a cell you own
    Rotate,    ///< turn the structure on a cell you own to `orientation`
    Remove,    ///< remove the structure on a cell you own; its cost and items come back
    SetRecipe, ///< choose the recipe an assembler on a cell you own runs
    TakeItems, ///< move `items` from the structure on a cell you own into your inventory
    PutItems,  ///< move `items` from your inventory into the structure on a cell you own
};

/// One player's request. Which fields matter depends on `kind`.
struct Action
{
    ActionKind kind = ActionKind::Claim;
    PlayerId player = kNoPlayer;
    /// The client's own sequence number, echoed in the result.
    std::uint32_t clientSeq = 0;
    CellId cell = 0;
    PrototypeId prototype = kNoStructure; ///< Build
    std::uint8_t orientation = 0;         ///< Build, Rotate: 0..5 (0..4 on pentagons)
    RecipeId recipe = kNoRecipe;          ///< SetRecipe (kNoRecipe clears it)
    ItemStack items;                      ///< TakeItems, PutItems
    bool operator==(const Action &) const = default;
};

/// Why an action was refused. Values are stable: they travel on the wire.
enum class RejectReason : std::uint8_t {
    None = 0, ///< accepted
    UnknownPlayer,
    UnknownCell,
    CellTaken,    ///< claim: another player owns it
    AlreadyYours, ///< claim: you own it already
    NotAdjacent,  ///< claim: not next to a cell you own
    NotYourCell,  ///< build/rotate/remove/...: you do not own the cell
    CellOccupied, ///< build: a structure stands there
    NoStructure,  ///< rotate/remove/...: nothing stands there
    UnknownPrototype,
    BadOrientation,
    BadTerrain,     ///< build: not on water, or an extractor off a deposit
    CannotAfford,   ///< build: your inventory lacks the cost
    NotAnAssembler, ///< set recipe on something else
    UnknownRecipe,
    RecipeNotAllowed, ///< that assembler cannot run that recipe
    UnknownItem,
    BadCount,       ///< zero items
    NotEnoughItems, ///< take/put: the source lacks them
    NoRoom,         ///< put: the structure cannot hold them
    CellBusy,       ///< another action on this cell was applied earlier this tick
};

/// The answer to one action.
struct ActionResult
{
    PlayerId player = kNoPlayer;
    std::uint32_t clientSeq = 0;
    CellId cell = 0;
    RejectReason reason = RejectReason::None;
    bool accepted() const { return reason == RejectReason::None; }
    bool operator==(const ActionResult &) const = default;
};

/// One sentence for players and logs, e.g. "You do not own this cell."
QString describe(RejectReason reason);

/// Validates and applies `actions` in order: the first valid action on a cell wins,
/// later ones on that cell this tick get CellBusy. A rejected action changes nothing.
/// Changed cells are marked in `changes`. Single-threaded.
std::vector<ActionResult> applyActions(WorldState &state, const Content &content,
                                       std::span<const Action> actions, ChangeSet &changes);

} // namespace hex::sim
