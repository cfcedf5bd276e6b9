#include "machinetracks.h"

#include <QCoreApplication>

#include <algorithm>

namespace hex::client {

namespace {

/// States older than this behind the newest are dropped.
constexpr qint64 kKeepMs = 3000;

QString tr(const char *text)
{
    return QCoreApplication::translate("hex::client::MachineTracks", text);
}

float fraction(double value, std::uint32_t duration)
{
    return duration == 0 ? 0.0f : float(std::clamp(value / double(duration), 0.0, 1.0));
}

} // namespace

tl::expected<void, QString>
MachineTracks::apply(std::span<const protocol::ChunkMachines *const> chunks,
                     const geometry::HexSphere &sphere, qint64 serverTimeMs)
{
    QString problem;
    auto note = [&problem](const QString &text) {
        if (problem.isEmpty())
            problem = text;
    };
    for (const protocol::ChunkMachines *chunk : chunks) {
        if (chunk->chunk() >= sphere.chunkCount()) {
            note(tr("Machines came for chunk %1, which the world does not have.")
                     .arg(chunk->chunk()));
            continue;
        }
        const geometry::ChunkId id = chunk->chunk();
        if (chunk->full()) {
            // Every machine of the chunk is listed: the others went.
            for (auto &[cell, track] : m_tracks) {
                if (sphere.chunkOf(cell) == id && !track.states.back().removed) {
                    State gone = track.states.back();
                    gone.serverTimeMs = serverTimeMs;
                    gone.removed = true;
                    track.states.push_back(std::move(gone));
                }
            }
        }
        for (const std::uint32_t cell : chunk->removed()) {
            if (cell >= sphere.cellCount() || sphere.chunkOf(cell) != id) {
                note(tr("A machine of chunk %1 was removed from cell %2, outside it.")
                         .arg(id)
                         .arg(cell));
                continue;
            }
            State gone;
            gone.serverTimeMs = serverTimeMs;
            gone.removed = true;
            add(cell, std::move(gone));
        }
        for (const protocol::MachineView &view : chunk->machines()) {
            if (view.cell() >= sphere.cellCount() || sphere.chunkOf(view.cell()) != id) {
                note(tr("A machine of chunk %1 stands on cell %2, outside it.")
                         .arg(id)
                         .arg(view.cell()));
                continue;
            }
            if (view.lane_items_size() != view.lane_progress_size()) {
                note(tr("The belt on cell %1 lists %2 items but %3 positions.")
                         .arg(view.cell())
                         .arg(view.lane_items_size())
                         .arg(view.lane_progress_size()));
                continue;
            }
            State state;
            state.serverTimeMs = serverTimeMs;
            state.progress = view.progress();
            state.duration = view.duration();
            state.running = view.running();
            state.items.reserve(std::size_t(view.lane_items_size()));
            for (const std::uint32_t item : view.lane_items())
                state.items.push_back(sim::ItemId(std::min<std::uint32_t>(item, 0xFFFF)));
            state.along.assign(view.lane_progress().begin(), view.lane_progress().end());
            add(view.cell(), std::move(state));
        }
    }
    // Forget machines that went long enough ago.
    for (auto it = m_tracks.begin(); it != m_tracks.end();) {
        std::deque<State> &states = it->second.states;
        while (states.size() > 2 && states[1].serverTimeMs < serverTimeMs - kKeepMs)
            states.pop_front();
        const bool goneLongAgo = states.back().removed
                                 && states.back().serverTimeMs < serverTimeMs - kKeepMs;
        it = goneLongAgo ? m_tracks.erase(it) : std::next(it);
    }
    if (!problem.isEmpty())
        return tl::make_unexpected(problem);
    return {};
}

void MachineTracks::add(geometry::CellId cell, State state)
{
    std::deque<State> &states = m_tracks[cell].states;
    // A state for the same time replaces the one there (a full chunk then an update).
    if (!states.empty() && states.back().serverTimeMs >= state.serverTimeMs)
        states.back() = std::move(state);
    else
        states.push_back(std::move(state));
}

void MachineTracks::onTick(qint64 serverTimeMs)
{
    if (m_lastTickMs >= 0 && serverTimeMs > m_lastTickMs) {
        const double interval = double(serverTimeMs - m_lastTickMs);
        // Ticks may bunch up on the way; the server's own pace changes slowly.
        if (interval < 1000.0)
            m_tickIntervalMs += (interval - m_tickIntervalMs) * 0.1;
    }
    m_lastTickMs = serverTimeMs;
}

void MachineTracks::dropChunk(geometry::ChunkId chunk, const geometry::HexSphere &sphere)
{
    for (auto it = m_tracks.begin(); it != m_tracks.end();)
        it = sphere.chunkOf(it->first) == chunk ? m_tracks.erase(it) : std::next(it);
}

void MachineTracks::clear()
{
    m_tracks.clear();
    m_lastTickMs = -1;
}

MachineMotion MachineTracks::between(geometry::CellId cell, const State &older, const State &newer,
                                     float alpha)
{
    MachineMotion motion;
    motion.cell = cell;
    const float a = std::clamp(alpha, 0.0f, 1.0f);

    // The operation: from the older progress to the newer one, through the end of the
    // cycle when a new one started in between.
    const bool shows = newer.duration > 1 && newer.items.empty() && older.items.empty()
                       && (newer.running || newer.progress > 0 || older.progress > 0);
    if (shows) {
        const double from = older.progress;
        const double to = newer.progress;
        double at = to;
        if (older.duration == newer.duration && to >= from) {
            at = from + (to - from) * a;
        } else if (older.duration == newer.duration) {
            const double rest = double(newer.duration) - from;
            const double x = (rest + to) * a;
            at = x < rest ? from + x : x - rest;
        }
        motion.progress = fraction(at, newer.duration);
    }

    // The belt. Items enter at the back (at most one a tick) and leave at the front.
    const std::size_t m = newer.items.size();
    const std::size_t k = older.items.size();
    const std::uint32_t length = std::max<std::uint32_t>(1, newer.duration);
    const bool entered = m > 0 && (k == 0 || newer.along[m - 1] < older.along[k - 1]);
    const std::size_t kept = m - (entered ? 1 : 0);
    const std::size_t left = k >= kept ? k - kept : 0;
    for (std::size_t i = 0; i < left; ++i) {
        // Slides on to the front edge, then is the next machine's.
        const double along = older.along[i] + (double(length) - older.along[i]) * a;
        if (a < 1.0f)
            motion.items.push_back({older.items[i], fraction(along, length)});
    }
    for (std::size_t i = 0; i < kept; ++i) {
        const std::size_t j = i + left;
        const double from = j < k ? older.along[j] : newer.along[i];
        const double along = from + (double(newer.along[i]) - from) * a;
        motion.items.push_back({newer.items[i], fraction(along, length)});
    }
    if (entered)
        motion.items.push_back({newer.items[m - 1], fraction(newer.along[m - 1] * a, length)});
    return motion;
}

std::vector<MachineMotion> MachineTracks::at(double time) const
{
    std::vector<MachineMotion> motions;
    motions.reserve(m_tracks.size());
    for (const auto &[cell, track] : m_tracks) {
        const std::deque<State> &states = track.states;
        // The newest state at or before `time`, and the one after it.
        auto after = std::upper_bound(states.begin(), states.end(), time,
                                      [](double t, const State &s) { return t < double(s.serverTimeMs); });
        if (after == states.begin()) {
            // Before anything known: the oldest state stands (unless it says gone).
            if (!states.front().removed)
                motions.push_back(between(cell, states.front(), states.front(), 1.0f));
            continue;
        }
        const State &older = *std::prev(after);
        if (after == states.end()) {
            if (!older.removed)
                motions.push_back(between(cell, older, older, 1.0f));
            continue;
        }
        const State &newer = *after;
        if (older.removed)
            continue;
        if (newer.removed) {
            motions.push_back(between(cell, older, older, 1.0f));
            continue;
        }
        // The change happened in the tick interval before the newer state.
        const double start = std::max(double(older.serverTimeMs),
                                      double(newer.serverTimeMs) - m_tickIntervalMs);
        const double span = double(newer.serverTimeMs) - start;
        const float alpha = span <= 0.0 ? 1.0f : float(std::clamp((time - start) / span, 0.0, 1.0));
        motions.push_back(between(cell, older, newer, alpha));
    }
    std::sort(motions.begin(), motions.end(),
              [](const MachineMotion &a, const MachineMotion &b) { return a.cell < b.cell; });
    return motions;
}

} // namespace hex::client
