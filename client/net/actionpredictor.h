#pragma once

#include "protocol/worldcodec.h"
#include "sim/actions.h"
#include "sim/content.h"
#include "sim/worldstate.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace hex::client {

/// What the player's pending actions make a cell look like before the server answers.
struct ProvisionalCell
{
    std::uint16_t structure = 0;
    std::uint8_t orientation = 0;
    std::uint16_t owner = 0xFFFF;
    bool operator==(const ProvisionalCell &) const = default;
};

/// Optimistic updates: the player's own actions show at once. Each action is applied by
/// the simulation's own rules (sim::applyActions) to a scratch world built from what
/// the client knows: the mirror of the visible cells and the player's inventory. What
/// it changes is held as a provisional overlay until the server answers: on an ack the
/// real change arrives as a delta and the overlay goes; on a refusal the overlay goes
/// and the cell shows the server's state again (rollback).
///
/// After every server tick the scratch world is rebuilt as the mirror plus the pending
/// actions, re-applied in order, so later predictions build on earlier ones (claim a
/// cell, then its neighbour) and on the server's latest state. What the client does not
/// know (deposit amounts, machine contents, other players' inventories) is assumed
/// permissive; the server's answer settles it. GUI thread only.
class ActionPredictor
{
public:
    explicit ActionPredictor(std::shared_ptr<const sim::Content> content);

    /// Starts over from `cells` (a new snapshot) for `player`, whose inventory the server
    /// last said is `inventory`. Drops every pending action.
    void reset(std::shared_ptr<const geometry::HexSphere> sphere,
               const protocol::VisibleCells &cells, sim::PlayerId player,
               const std::map<sim::ItemId, std::uint32_t> &inventory);
    /// The mirror changed in `changed` (a tick) and the inventory may have: takes them,
    /// then re-applies the pending actions. Returns the cells whose provisional look
    /// changed (to redraw).
    std::vector<geometry::CellId> sync(const protocol::VisibleCells &cells,
                                       const std::vector<geometry::CellId> &changed,
                                       const std::map<sim::ItemId, std::uint32_t> &inventory);

    /// The outcome of predicting one action.
    struct Prediction
    {
        /// The rules' verdict here: None if it should succeed.
        sim::RejectReason reason = sim::RejectReason::None;
        /// Cells whose provisional look changed.
        std::vector<geometry::CellId> cells;
    };
    /// Predicts `action` (numbered, for this player) and keeps it pending until
    /// resolve(action.clientSeq). A prediction of refusal shows nothing.
    Prediction predict(const sim::Action &action);
    /// The server answered `clientSeq`: the action is no longer pending. Returns the
    /// cells whose provisional look changed.
    std::vector<geometry::CellId> resolve(std::uint32_t clientSeq);

    /// The provisional look of `cell`, if a pending action changes it.
    std::optional<ProvisionalCell> provisional(geometry::CellId cell) const;
    /// Actions sent and not yet answered.
    std::size_t pendingCount() const { return m_pending.size(); }
    bool isReady() const { return m_state.cellCount() > 0; }

private:
    /// Copies the mirror's values of `cell` into the scratch world.
    void copyFromMirror(geometry::CellId cell);
    /// Rebuilds the scratch world (mirror + pending actions); returns the cells whose
    /// provisional look changed.
    std::vector<geometry::CellId> rebuild();

    std::shared_ptr<const sim::Content> m_content;
    const protocol::VisibleCells *m_cells = nullptr;
    sim::WorldState m_state;
    sim::ChangeSet m_changes;
    sim::PlayerId m_player = sim::kNoPlayer;
    std::map<sim::ItemId, std::uint32_t> m_inventory;
    /// Cells the player owns in the mirror.
    std::uint32_t m_cellsOwned = 0;
    /// Pending actions in the order they were sent.
    std::vector<sim::Action> m_pending;
    /// The provisional look of the cells pending actions change.
    std::map<geometry::CellId, ProvisionalCell> m_provisional;
    /// Cells the pending actions were applied to in the scratch world, with the
    /// mirror's owner of each when they were (to count the player's cells).
    std::map<geometry::CellId, std::uint16_t> m_touched;
    /// The rules' verdict on the last pending action in the last rebuild().
    sim::RejectReason m_lastVerdict = sim::RejectReason::None;
};

} // namespace hex::client
