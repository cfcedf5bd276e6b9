#include "actionpredictor.h"

#include <algorithm>
#include <span>

namespace hex::client {

ActionPredictor::ActionPredictor(std::shared_ptr<const sim::Content> content)
    : m_content(std::move(content))
{}

void ActionPredictor::reset(std::shared_ptr<const geometry::HexSphere> sphere,
                            const protocol::VisibleCells &cells, sim::PlayerId player,
                            const std::map<sim::ItemId, std::uint32_t> &inventory)
{
    m_state = sim::WorldState::blank(std::move(sphere), 0);
    m_changes.reset(m_state.cellCount());
    m_cells = &cells;
    m_player = player;
    m_inventory = inventory;
    m_pending.clear();
    m_provisional.clear();
    m_touched.clear();
    m_cellsOwned = 0;
    if (cells.cellCount() != m_state.cellCount()) {
        m_state = {};
        return;
    }
    for (geometry::CellId cell = 0; cell < cells.cellCount(); ++cell) {
        copyFromMirror(cell);
        m_cellsOwned += cells.owner[cell] == player;
    }
    m_state.players.resize(std::size_t(player) + 1);
}

void ActionPredictor::copyFromMirror(geometry::CellId cell)
{
    const protocol::VisibleCells &c = *m_cells;
    m_state.terrain[cell] = c.terrain[cell];
    m_state.elevation[cell] = c.elevation[cell];
    m_state.flora[cell] = c.flora[cell];
    m_state.water[cell] = c.water[cell];
    m_state.pollution[cell] = c.pollution[cell];
    m_state.resourceKind[cell] = c.resource[cell];
    // Deposit amounts are not sent: a visible deposit is taken to have units left.
    m_state.resourceAmount[cell] = c.resource[cell] != 0 ? 1 : 0;
    m_state.structure[cell] = c.structure[cell];
    m_state.orientation[cell] = c.orientation[cell];
    m_state.owner[cell] = c.owner[cell];
    // Machine contents are not sent either: the scratch world keeps none.
    m_state.machines.erase(cell);
}

std::vector<geometry::CellId>
ActionPredictor::sync(const protocol::VisibleCells &cells,
                      const std::vector<geometry::CellId> &changed,
                      const std::map<sim::ItemId, std::uint32_t> &inventory)
{
    if (!isReady() || cells.cellCount() != m_state.cellCount())
        return {};
    m_cells = &cells;
    for (const geometry::CellId cell : changed) {
        // The owner before this tick: the mirror's as last seen, which the scratch world
        // holds except where a prediction changed it.
        const auto touched = m_touched.find(cell);
        const std::uint16_t before = touched != m_touched.end() ? touched->second
                                                                : m_state.owner[cell];
        m_cellsOwned -= before == m_player;
        m_cellsOwned += cells.owner[cell] == m_player;
        if (touched == m_touched.end())
            copyFromMirror(cell);
        else
            touched->second = cells.owner[cell];
    }
    m_inventory = inventory;
    return rebuild();
}

std::vector<geometry::CellId> ActionPredictor::rebuild()
{
    // Back to the mirror where predictions changed the scratch world...
    for (const auto &[cell, owner] : m_touched)
        copyFromMirror(cell);
    m_touched.clear();
    sim::Player &me = m_state.players[m_player];
    me.inventory = m_inventory;
    me.cellsOwned = m_cellsOwned;
    // ...then every pending action again, in the order it was sent.
    for (const sim::Action &action : m_pending) {
        if (action.cell < m_state.cellCount())
            m_touched.try_emplace(action.cell, m_cells->owner[action.cell]);
        const auto results = sim::applyActions(m_state, *m_content, std::span(&action, 1),
                                               m_changes);
        m_lastVerdict = results.empty() ? sim::RejectReason::UnknownPlayer : results.front().reason;
        if (action.cell < m_state.cellCount())
            m_changes.dirty[action.cell] = 0;
    }
    std::map<geometry::CellId, ProvisionalCell> provisional;
    for (const auto &[cell, owner] : m_touched) {
        const ProvisionalCell look{m_state.structure[cell], m_state.orientation[cell],
                                   m_state.owner[cell]};
        const ProvisionalCell server{m_cells->structure[cell], m_cells->orientation[cell],
                                     m_cells->owner[cell]};
        if (look != server)
            provisional.emplace(cell, look);
    }
    std::vector<geometry::CellId> redraw;
    for (const auto &[cell, look] : provisional) {
        const auto old = m_provisional.find(cell);
        if (old == m_provisional.end() || old->second != look)
            redraw.push_back(cell);
    }
    for (const auto &[cell, look] : m_provisional) {
        if (!provisional.contains(cell))
            redraw.push_back(cell);
    }
    std::sort(redraw.begin(), redraw.end());
    m_provisional = std::move(provisional);
    return redraw;
}

ActionPredictor::Prediction ActionPredictor::predict(const sim::Action &action)
{
    Prediction prediction;
    if (!isReady()) {
        prediction.reason = sim::RejectReason::UnknownCell;
        return prediction;
    }
    m_pending.push_back(action);
    prediction.cells = rebuild();
    // The verdict on the world as it stood with the earlier pending actions.
    prediction.reason = m_lastVerdict;
    return prediction;
}

std::vector<geometry::CellId> ActionPredictor::resolve(std::uint32_t clientSeq)
{
    const auto it = std::find_if(m_pending.begin(), m_pending.end(),
                                 [clientSeq](const sim::Action &a) { return a.clientSeq == clientSeq; });
    if (it == m_pending.end())
        return {};
    m_pending.erase(it);
    return rebuild();
}

std::optional<ProvisionalCell> ActionPredictor::provisional(geometry::CellId cell) const
{
    const auto it = m_provisional.find(cell);
    if (it == m_provisional.end())
        return std::nullopt;
    return it->second;
}

} // namespace hex::client
