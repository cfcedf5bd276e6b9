#pragma once

#include "geometry/hexsphere.h"
#include "hexsphere.pb.h"
#include "sim/content.h"

#include <QString>
#include <QtGlobal>

#include <tl/expected.hpp>

#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <vector>

namespace hex::client {

/// What to draw of one machine at a moment, between two server states.
struct MachineMotion
{
    geometry::CellId cell = 0;
    /// How far the machine's operation has come, 0..1; negative when it has none to
    /// show (idle, or a belt, whose items show it instead).
    float progress = -1.0f;
    struct Item
    {
        sim::ItemId item = 0;
        /// Along the belt: 0 at its back edge, 1 at its front edge.
        float along = 0.0f;
    };
    std::vector<Item> items;
};

/// The machines of the viewed chunks over time, as TickUpdate.machines brings them, and
/// their motion drawn between server states at a RenderClock's time.
///
/// A machine the server did not mention in a tick stood still in it. So each machine
/// keeps its states with the server times they were sent at, and a step from one state
/// to the next is drawn over the one tick interval before the newer state; before that
/// the older state stands. Items on a belt are matched between two states by their
/// order (items never overtake: some leave at the front, at most one enters at the
/// back); items that left slide to the front edge and vanish, a new one grows in from
/// the back edge. GUI thread only.
class MachineTracks
{
public:
    /// Applies one tick's machines, stamped `serverTimeMs`. Entries that do not fit
    /// `sphere` (a chunk or cell out of range, a cell outside its chunk, lanes of
    /// unequal lengths) are skipped; the first problem is returned as a sentence.
    tl::expected<void, QString>
    apply(std::span<const protocol::ChunkMachines *const> chunks, const geometry::HexSphere &sphere,
          qint64 serverTimeMs);
    /// A tick arrived at `serverTimeMs`: keeps the tick interval current.
    void onTick(qint64 serverTimeMs);
    /// Forgets the machines of `chunk` (it left the view).
    void dropChunk(geometry::ChunkId chunk, const geometry::HexSphere &sphere);
    /// Every machine at server time `time`.
    std::vector<MachineMotion> at(double time) const;
    /// Forgets everything (a new world).
    void clear();
    /// Machines known.
    std::size_t size() const { return m_tracks.size(); }
    /// The tick interval assumed, in ms (50 until two ticks came).
    double tickIntervalMs() const { return m_tickIntervalMs; }

    /// The state of one machine as sent.
    struct State
    {
        qint64 serverTimeMs = 0;
        std::uint32_t progress = 0;
        std::uint32_t duration = 0;
        bool running = false;
        std::vector<sim::ItemId> items;      ///< front first
        std::vector<std::uint32_t> along;    ///< ticks along the belt, same length
        bool removed = false;                ///< the machine went away at this time
    };
    /// The motion between `older` and `newer` at `alpha` (0 = older, 1 = newer).
    static MachineMotion between(geometry::CellId cell, const State &older, const State &newer,
                                 float alpha);

private:
    struct Track
    {
        /// Ascending server time; a few seconds' worth.
        std::deque<State> states;
    };
    void add(geometry::CellId cell, State state);

    std::unordered_map<geometry::CellId, Track> m_tracks;
    qint64 m_lastTickMs = -1;
    double m_tickIntervalMs = 50.0;
};

} // namespace hex::client
