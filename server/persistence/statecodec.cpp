#include "statecodec.h"

#include "sim/terrain.h"

#include <QCoreApplication>

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <type_traits>

namespace hex::server::persistence {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("hex::server::persistence", text);
}

/// The first byte of every blob: the layout that follows.
constexpr std::uint8_t kChunkFormat = 1;
constexpr std::uint8_t kMachinesFormat = 1;
constexpr std::uint8_t kPlayersFormat = 1;

/// Bytes per cell in rawChunk(): the sum of the layers' value sizes.
constexpr std::size_t kBytesPerCell = 1 + 1 + sizeof(sim::ResourceId) + 2 + 1 + 1 + 1
                                      + sizeof(sim::PrototypeId) + 1 + sizeof(sim::PlayerId);

/// Calls `f(begin, count)` for each run of consecutive ids in `cells` (ascending).
template<typename F>
void forEachRun(std::span<const sim::CellId> cells, F &&f)
{
    std::size_t i = 0;
    while (i < cells.size()) {
        std::size_t j = i + 1;
        while (j < cells.size() && cells[j] == cells[j - 1] + 1)
            ++j;
        f(cells[i], j - i);
        i = j;
    }
}

/// Appends the values of `array` at `cells` to `out` (little-endian: the machines we
/// run on are; a big-endian port would swap here).
template<typename T>
void appendLayer(QByteArray &out, const sim::CellArray<T> &array, std::span<const sim::CellId> cells)
{
    static_assert(std::is_trivially_copyable_v<T>);
    forEachRun(cells, [&](sim::CellId begin, std::size_t count) {
        out.append(reinterpret_cast<const char *>(array.data() + begin),
                   qsizetype(count * sizeof(T)));
    });
}

/// Reads `cells.size()` values of T from `*pos` into `values`.
template<typename T>
void readLayer(const char *&pos, std::size_t count, std::vector<T> &values)
{
    values.resize(count);
    std::memcpy(values.data(), pos, count * sizeof(T));
    pos += count * sizeof(T);
}

template<typename T>
void writeLayer(sim::CellArray<T> &array, std::span<const sim::CellId> cells,
                const std::vector<T> &values)
{
    for (std::size_t i = 0; i < cells.size(); ++i)
        array[cells[i]] = values[i];
}

QByteArray compressWithFormat(std::uint8_t format, QByteArrayView raw)
{
    const std::size_t bound = ZSTD_compressBound(std::size_t(raw.size()));
    QByteArray out(qsizetype(bound + 1), Qt::Uninitialized);
    out[0] = char(format);
    const std::size_t written
        = ZSTD_compress(out.data() + 1, bound, raw.data(), std::size_t(raw.size()), 1);
    // Compression only fails on a too small destination, and the bound rules that out.
    Q_ASSERT(!ZSTD_isError(written));
    out.resize(qsizetype(written + 1));
    return out;
}

/// Checks the format byte and decompresses the rest; `what` names the blob in errors.
/// `maxSize` bounds what a (possibly hostile) frame header may ask us to allocate.
tl::expected<QByteArray, QString> decompressWithFormat(QByteArrayView blob, std::uint8_t format,
                                                       const QString &what, std::size_t maxSize)
{
    if (blob.isEmpty())
        return tl::unexpected(tr("%1 is empty.").arg(what));
    if (std::uint8_t(blob[0]) != format) {
        return tl::unexpected(tr("%1 has format %2; this program reads format %3.")
                                  .arg(what)
                                  .arg(int(std::uint8_t(blob[0])))
                                  .arg(int(format)));
    }
    const char *frame = blob.data() + 1;
    const std::size_t frameSize = std::size_t(blob.size() - 1);
    const unsigned long long size = ZSTD_getFrameContentSize(frame, frameSize);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
        return tl::unexpected(tr("%1 is not a valid compressed block.").arg(what));
    if (size > maxSize) {
        return tl::unexpected(tr("%1 claims %2 bytes, more than the %3 it can hold.")
                                  .arg(what)
                                  .arg(size)
                                  .arg(maxSize));
    }
    QByteArray out(qsizetype(size), Qt::Uninitialized);
    const std::size_t got = ZSTD_decompress(out.data(), std::size_t(size), frame, frameSize);
    if (ZSTD_isError(got)) {
        return tl::unexpected(tr("%1 does not decompress: %2.")
                                  .arg(what, QString::fromLatin1(ZSTD_getErrorName(got))));
    }
    if (got != size)
        return tl::unexpected(tr("%1 is truncated.").arg(what));
    return out;
}

/// Little-endian writer for the machine and player blobs.
class Writer
{
public:
    template<typename T>
    void put(T value)
    {
        static_assert(std::is_integral_v<T>);
        for (std::size_t i = 0; i < sizeof(T); ++i)
            m_bytes.append(char((std::uint64_t(value) >> (8 * i)) & 0xFF));
    }
    void putBytes(const QByteArray &bytes)
    {
        put(std::uint32_t(bytes.size()));
        m_bytes.append(bytes);
    }
    QByteArray &bytes() { return m_bytes; }

private:
    QByteArray m_bytes;
};

/// The matching reader: every get() fails (and stays failed) past the end.
class Reader
{
public:
    explicit Reader(QByteArrayView bytes)
        : m_bytes(bytes)
    {}
    template<typename T>
    bool get(T &value)
    {
        static_assert(std::is_integral_v<T>);
        if (m_failed || m_pos + qsizetype(sizeof(T)) > m_bytes.size()) {
            m_failed = true;
            return false;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i)
            v |= std::uint64_t(std::uint8_t(m_bytes[m_pos + qsizetype(i)])) << (8 * i);
        m_pos += qsizetype(sizeof(T));
        value = T(v);
        return true;
    }
    bool getBytes(QByteArray &out)
    {
        std::uint32_t size = 0;
        if (!get(size) || m_pos + qsizetype(size) > m_bytes.size()) {
            m_failed = true;
            return false;
        }
        out = m_bytes.sliced(m_pos, qsizetype(size)).toByteArray();
        m_pos += qsizetype(size);
        return true;
    }
    /// How many bytes are left: bounds counts read from the blob before reserving.
    qsizetype remaining() const { return m_bytes.size() - m_pos; }
    bool atEnd() const { return m_pos == m_bytes.size(); }
    bool failed() const { return m_failed; }

private:
    QByteArrayView m_bytes;
    qsizetype m_pos = 0;
    bool m_failed = false;
};

void putStacks(Writer &w, const std::vector<sim::ItemStack> &stacks)
{
    w.put(std::uint16_t(stacks.size()));
    for (const sim::ItemStack &s : stacks) {
        w.put(s.item);
        w.put(s.count);
    }
}

bool getStacks(Reader &r, std::vector<sim::ItemStack> &stacks)
{
    std::uint16_t count = 0;
    if (!r.get(count) || qsizetype(count) * 4 > r.remaining())
        return false;
    stacks.resize(count);
    for (sim::ItemStack &s : stacks) {
        if (!r.get(s.item) || !r.get(s.count))
            return false;
    }
    return true;
}

/// Machines and players are small next to the cells, but a world of n=512 may still
/// hold millions of structures: 1 GiB bounds what a blob may claim.
constexpr std::size_t kMaxBlobSize = std::size_t(1) << 30;

} // namespace

QByteArray rawChunk(const sim::WorldState &state, geometry::ChunkId chunk)
{
    const std::span<const sim::CellId> cells = state.sphere->chunkCells(chunk);
    QByteArray out;
    out.reserve(qsizetype(cells.size() * kBytesPerCell));
    appendLayer(out, state.terrain, cells);
    appendLayer(out, state.elevation, cells);
    appendLayer(out, state.resourceKind, cells);
    appendLayer(out, state.resourceAmount, cells);
    appendLayer(out, state.flora, cells);
    appendLayer(out, state.water, cells);
    appendLayer(out, state.pollution, cells);
    appendLayer(out, state.structure, cells);
    appendLayer(out, state.orientation, cells);
    appendLayer(out, state.owner, cells);
    return out;
}

QByteArray packChunk(QByteArrayView raw)
{
    return compressWithFormat(kChunkFormat, raw);
}

tl::expected<void, QString> unpackChunk(QByteArrayView packed, geometry::ChunkId chunk,
                                        const sim::Content &content, sim::WorldState &state)
{
    const geometry::HexSphere &sphere = *state.sphere;
    const QString what = tr("Chunk %1").arg(chunk);
    if (chunk >= sphere.chunkCount()) {
        return tl::unexpected(
            tr("%1 does not exist: the world has %2 chunks.").arg(what).arg(sphere.chunkCount()));
    }
    const std::span<const sim::CellId> cells = sphere.chunkCells(chunk);
    const std::size_t n = cells.size();
    const std::size_t expected = n * kBytesPerCell;
    auto raw = decompressWithFormat(packed, kChunkFormat, what, expected);
    if (!raw)
        return tl::unexpected(raw.error());
    if (std::size_t(raw->size()) != expected) {
        return tl::unexpected(tr("%1 holds %2 bytes; its %3 cells need %4.")
                                  .arg(what)
                                  .arg(raw->size())
                                  .arg(n)
                                  .arg(expected));
    }

    std::vector<std::uint8_t> terrain, elevation, flora, water, pollution, orientation;
    std::vector<sim::ResourceId> resourceKind;
    std::vector<std::uint16_t> resourceAmount;
    std::vector<sim::PrototypeId> structure;
    std::vector<sim::PlayerId> owner;
    const char *pos = raw->constData();
    readLayer(pos, n, terrain);
    readLayer(pos, n, elevation);
    readLayer(pos, n, resourceKind);
    readLayer(pos, n, resourceAmount);
    readLayer(pos, n, flora);
    readLayer(pos, n, water);
    readLayer(pos, n, pollution);
    readLayer(pos, n, structure);
    readLayer(pos, n, orientation);
    readLayer(pos, n, owner);

    for (std::size_t i = 0; i < n; ++i) {
        const sim::CellId cell = cells[i];
        if (terrain[i] >= sim::kTerrainCount)
            return tl::unexpected(
                tr("%1: cell %2 has an unknown terrain %3.").arg(what).arg(cell).arg(terrain[i]));
        if (resourceKind[i] >= content.resources.size())
            return tl::unexpected(tr("%1: cell %2 has an unknown resource %3.")
                                      .arg(what)
                                      .arg(cell)
                                      .arg(resourceKind[i]));
        if (structure[i] >= content.prototypes.size())
            return tl::unexpected(tr("%1: cell %2 has an unknown structure %3.")
                                      .arg(what)
                                      .arg(cell)
                                      .arg(structure[i]));
        const int sides = geometry::HexSphere::isPentagon(cell) ? 5 : 6;
        if (orientation[i] >= sides)
            return tl::unexpected(tr("%1: cell %2 has orientation %3; it has %4 sides.")
                                      .arg(what)
                                      .arg(cell)
                                      .arg(orientation[i])
                                      .arg(sides));
    }

    writeLayer(state.terrain, cells, terrain);
    writeLayer(state.elevation, cells, elevation);
    writeLayer(state.resourceKind, cells, resourceKind);
    writeLayer(state.resourceAmount, cells, resourceAmount);
    writeLayer(state.flora, cells, flora);
    writeLayer(state.water, cells, water);
    writeLayer(state.pollution, cells, pollution);
    writeLayer(state.structure, cells, structure);
    writeLayer(state.orientation, cells, orientation);
    writeLayer(state.owner, cells, owner);
    return {};
}

QByteArray encodeMachines(const sim::MachineMap &machines)
{
    Writer w;
    w.put(std::uint32_t(machines.size()));
    for (const auto &[cell, m] : machines) {
        w.put(cell);
        w.put(m.recipe);
        w.put(m.progress);
        w.put(std::uint8_t(m.running ? 1 : 0));
        w.put(m.nextSide);
        w.put(m.lastReceivedTick);
        putStacks(w, m.input);
        putStacks(w, m.output);
        w.put(m.lane.count);
        for (int s = 0; s < sim::ConveyorLane::kLaneSlots; ++s) {
            w.put(m.lane.items[std::size_t(s)]);
            w.put(m.lane.progress[std::size_t(s)]);
        }
    }
    return compressWithFormat(kMachinesFormat, w.bytes());
}

tl::expected<sim::MachineMap, QString> decodeMachines(QByteArrayView blob, std::uint32_t cellCount)
{
    const QString what = tr("The machine state");
    auto raw = decompressWithFormat(blob, kMachinesFormat, what, kMaxBlobSize);
    if (!raw)
        return tl::unexpected(raw.error());
    Reader r(*raw);
    std::uint32_t count = 0;
    if (!r.get(count))
        return tl::unexpected(tr("%1 is truncated.").arg(what));
    // The fewest bytes a machine takes (cell, recipe, progress, running, next side, last
    // received tick, two empty stack lists, lane count, the lane's slots): a bound on the
    // count, so that a bad one cannot make reserve() ask for gigabytes.
    constexpr qsizetype kMinMachineBytes
        = 4 + 2 + 2 + 1 + 1 + 8 + 2 + 2 + 1 + sim::ConveyorLane::kLaneSlots * (2 + 2);
    sim::MachineMap machines;
    // Cells come in ascending order, so each emplace_hint() at the end appends.
    machines.reserve(std::min<std::size_t>(count, std::size_t(r.remaining() / kMinMachineBytes)));
    sim::CellId previous = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        sim::CellId cell = 0;
        sim::MachineState m;
        std::uint8_t running = 0;
        if (!r.get(cell) || !r.get(m.recipe) || !r.get(m.progress) || !r.get(running)
            || !r.get(m.nextSide) || !r.get(m.lastReceivedTick) || !getStacks(r, m.input)
            || !getStacks(r, m.output) || !r.get(m.lane.count)) {
            return tl::unexpected(
                tr("%1 is truncated at machine %2 of %3.").arg(what).arg(i).arg(count));
        }
        for (int s = 0; s < sim::ConveyorLane::kLaneSlots; ++s) {
            if (!r.get(m.lane.items[std::size_t(s)]) || !r.get(m.lane.progress[std::size_t(s)]))
                return tl::unexpected(
                    tr("%1 is truncated at machine %2 of %3.").arg(what).arg(i).arg(count));
        }
        if (cell >= cellCount)
            return tl::unexpected(
                tr("%1 names cell %2; the world has %3 cells.").arg(what).arg(cell).arg(cellCount));
        if (i > 0 && cell <= previous)
            return tl::unexpected(tr("%1 lists cell %2 out of order.").arg(what).arg(cell));
        if (running > 1 || m.lane.count > sim::ConveyorLane::kLaneSlots)
            return tl::unexpected(
                tr("%1 of cell %2 holds a value out of range.").arg(what).arg(cell));
        m.running = running != 0;
        previous = cell;
        machines.emplace_hint(machines.end(), cell, std::move(m));
    }
    if (!r.atEnd())
        return tl::unexpected(tr("%1 has bytes after its last machine.").arg(what));
    return machines;
}

QByteArray encodePlayers(std::span<const sim::Player> players)
{
    Writer w;
    w.put(std::uint32_t(players.size()));
    for (const sim::Player &p : players) {
        w.putBytes(p.name.toUtf8());
        w.put(std::uint32_t(p.inventory.size()));
        for (const auto &[item, count] : p.inventory) {
            w.put(item);
            w.put(count);
        }
        w.put(p.cellsOwned);
    }
    return compressWithFormat(kPlayersFormat, w.bytes());
}

tl::expected<std::vector<sim::Player>, QString> decodePlayers(QByteArrayView blob)
{
    const QString what = tr("The player list");
    auto raw = decompressWithFormat(blob, kPlayersFormat, what, kMaxBlobSize);
    if (!raw)
        return tl::unexpected(raw.error());
    Reader r(*raw);
    std::uint32_t count = 0;
    if (!r.get(count))
        return tl::unexpected(tr("%1 is truncated.").arg(what));
    if (count > sim::kNoPlayer)
        return tl::unexpected(
            tr("%1 holds %2 players, more than a world can.").arg(what).arg(count));
    std::vector<sim::Player> players(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        sim::Player &p = players[i];
        QByteArray name;
        std::uint32_t items = 0;
        if (!r.getBytes(name) || !r.get(items) || qsizetype(items) * 6 > r.remaining())
            return tl::unexpected(tr("%1 is truncated at player %2.").arg(what).arg(i));
        p.name = QString::fromUtf8(name);
        for (std::uint32_t k = 0; k < items; ++k) {
            sim::ItemId item = 0;
            std::uint32_t n = 0;
            if (!r.get(item) || !r.get(n))
                return tl::unexpected(tr("%1 is truncated at player %2.").arg(what).arg(i));
            if (n == 0)
                return tl::unexpected(
                    tr("%1: player %2 carries zero of item %3.").arg(what).arg(i).arg(item));
            p.inventory[item] = n;
        }
        if (!r.get(p.cellsOwned))
            return tl::unexpected(tr("%1 is truncated at player %2.").arg(what).arg(i));
    }
    if (!r.atEnd())
        return tl::unexpected(tr("%1 has bytes after its last player.").arg(what));
    return players;
}

FullSave encodeFullSave(const sim::World &world, int threads)
{
    const sim::WorldState &state = world.state();
    const std::uint32_t chunkCount = state.sphere->chunkCount();
    FullSave save;
    save.chunks.resize(chunkCount);
    const int workers = std::clamp(threads, 1, 64);
    const auto work = [&](int part) {
        for (geometry::ChunkId c = geometry::ChunkId(part); c < chunkCount;
             c += geometry::ChunkId(workers)) {
            ChunkRecord &record = save.chunks[c];
            record.chunk = c;
            record.tick = state.tick;
            record.cells = packChunk(rawChunk(state, c));
        }
    };
    std::vector<std::thread> pool;
    for (int part = 1; part < workers; ++part)
        pool.emplace_back(work, part);
    work(0);
    for (std::thread &t : pool)
        t.join();
    save.snapshot.tick = state.tick;
    save.snapshot.stateHash = world.stateHash();
    save.snapshot.machines = encodeMachines(state.machines);
    save.snapshot.players = encodePlayers(state.players);
    return save;
}

tl::expected<sim::WorldState, QString>
decodeSnapshotState(const LoadedWorld &loaded, std::shared_ptr<const geometry::HexSphere> sphere,
                    const sim::Content &content, int threads)
{
    sim::WorldState state = sim::WorldState::blank(sphere, loaded.summary.seed);
    state.tick = loaded.snapshot.tick;
    auto players = decodePlayers(loaded.snapshot.players);
    if (!players)
        return tl::unexpected(players.error());
    state.players = std::move(*players);
    auto machines = decodeMachines(loaded.snapshot.machines, state.cellCount());
    if (!machines)
        return tl::unexpected(machines.error());
    state.machines = std::move(*machines);

    // Which record holds each chunk: the newest with a tick <= the snapshot's.
    const std::uint32_t chunkCount = sphere->chunkCount();
    std::vector<const ChunkRecord *> records(chunkCount, nullptr);
    for (const ChunkRecord &record : loaded.chunks) {
        if (record.chunk >= chunkCount) {
            return tl::unexpected(tr("Chunk %1 does not exist: the world has %2 chunks.")
                                      .arg(record.chunk)
                                      .arg(chunkCount));
        }
        if (record.tick > loaded.snapshot.tick)
            continue;
        const ChunkRecord *&slot = records[record.chunk];
        if (!slot || slot->tick < record.tick)
            slot = &record;
    }
    for (geometry::ChunkId c = 0; c < chunkCount; ++c) {
        if (!records[c]) {
            return tl::unexpected(tr("Chunk %1 is missing from the snapshot at tick %2.")
                                      .arg(c)
                                      .arg(loaded.snapshot.tick));
        }
    }

    // Chunks own disjoint cells, so threads may unpack different chunks at once.
    const int workers = std::clamp(threads, 1, 64);
    std::vector<QString> errors(static_cast<std::size_t>(workers));
    std::vector<geometry::ChunkId> firstBad(static_cast<std::size_t>(workers), chunkCount);
    const auto work = [&](int part) {
        for (geometry::ChunkId c = geometry::ChunkId(part); c < chunkCount;
             c += geometry::ChunkId(workers)) {
            auto ok = unpackChunk(records[c]->cells, c, content, state);
            if (!ok) {
                errors[std::size_t(part)] = ok.error();
                firstBad[std::size_t(part)] = c;
                return;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int part = 1; part < workers; ++part)
        pool.emplace_back(work, part);
    work(0);
    for (std::thread &t : pool)
        t.join();
    const auto bad = std::min_element(firstBad.begin(), firstBad.end());
    if (*bad < chunkCount)
        return tl::unexpected(errors[std::size_t(bad - firstBad.begin())]);

    // What the cells say must agree with the blobs.
    const std::uint32_t cells = state.cellCount();
    for (sim::CellId cell = 0; cell < cells; ++cell) {
        if (state.owner[cell] != sim::kNoPlayer && state.owner[cell] >= state.players.size()) {
            return tl::unexpected(tr("Chunk %1: cell %2 is owned by player %3, who does not exist.")
                                      .arg(sphere->chunkOf(cell))
                                      .arg(cell)
                                      .arg(state.owner[cell]));
        }
        const bool hasStructure = state.structure[cell] != sim::kNoStructure;
        if (hasStructure != state.machines.contains(cell)) {
            return tl::unexpected(
                tr("Chunk %1: cell %2 %3 but the machine state %4.")
                    .arg(sphere->chunkOf(cell))
                    .arg(cell)
                    .arg(hasStructure ? tr("has a structure") : tr("has no structure"),
                         hasStructure ? tr("has no entry for it") : tr("has one")));
        }
    }
    state.cellsHash = state.computeCellsHash();
    return state;
}

tl::expected<std::uint64_t, QString>
replayEvents(sim::World &world, std::span<const EventRecord> events, std::uint64_t untilTick,
             const std::function<bool(std::uint64_t, std::uint64_t)> &progress)
{
    // Ticks between progress reports, and the most fast-forwarded at once, so that a
    // long replay can be watched and stopped.
    constexpr std::uint64_t kReportEvery = 32;
    const std::uint64_t startTick = world.state().tick;
    const std::uint64_t total = untilTick > startTick ? untilTick - startTick : 0;
    std::size_t next = 0;
    if (!events.empty() && events.front().tick <= startTick) {
        return tl::unexpected(tr("The event log has an event at tick %1, at or before the "
                                 "snapshot's tick %2.")
                                  .arg(events.front().tick)
                                  .arg(startTick));
    }
    std::uint64_t lastReport = 0;
    while (world.state().tick < untilTick) {
        const std::uint64_t tick = world.state().tick + 1;
        // Ticks without events: fast-forward to the next tick that has some.
        const std::uint64_t nextEventTick
            = next < events.size() ? events[next].tick : untilTick + 1;
        if (nextEventTick > tick) {
            const std::uint64_t target
                = std::min({nextEventTick - 1, untilTick, world.state().tick + kReportEvery});
            world.simulate(target - world.state().tick);
        } else {
            std::size_t end = next;
            while (end < events.size() && events[end].tick == tick)
                ++end;
            std::vector<const EventRecord *> actions;
            for (std::size_t i = next; i < end; ++i) {
                const EventRecord &e = events[i];
                if (e.kind == EventRecord::Kind::Join) {
                    if (!actions.empty()) {
                        return tl::unexpected(
                            tr("Tick %1, event %2: a join after an action.").arg(tick).arg(e.seq));
                    }
                    const sim::PlayerId id = world.addPlayer(e.name);
                    if (id != e.player) {
                        return tl::unexpected(
                            tr("Tick %1, event %2: '%3' joined as player %4 in the log but as "
                               "player %5 in the replay.")
                                .arg(tick)
                                .arg(e.seq)
                                .arg(e.name)
                                .arg(e.player)
                                .arg(id));
                    }
                } else {
                    world.queueAction(e.action);
                    actions.push_back(&e);
                }
            }
            const sim::StepResult step = world.step();
            for (std::size_t i = 0; i < actions.size(); ++i) {
                if (step.actions[i].reason != actions[i]->result) {
                    return tl::unexpected(
                        tr("Tick %1, event %2: the log says %3 but the replay says %4.")
                            .arg(tick)
                            .arg(actions[i]->seq)
                            .arg(sim::describe(actions[i]->result),
                                 sim::describe(step.actions[i].reason)));
                }
            }
            next = end;
        }
        if (progress && world.state().tick - lastReport >= kReportEvery) {
            lastReport = world.state().tick;
            if (!progress(world.state().tick - startTick, total))
                return tl::unexpected(replayCancelledError());
        }
    }
    if (progress && !progress(total, total))
        return tl::unexpected(replayCancelledError());
    return world.stateHash();
}

QString replayCancelledError()
{
    return tr("The replay was cancelled.");
}

TickRecord tickRecord(const sim::StepResult &step, const sim::WorldState &state)
{
    TickRecord record;
    record.tick = step.tick;
    record.stateHash = step.stateHash;
    record.events.reserve(step.joined.size() + step.applied.size());
    std::uint32_t seq = 0;
    for (const sim::PlayerId id : step.joined) {
        EventRecord e;
        e.tick = step.tick;
        e.seq = seq++;
        e.kind = EventRecord::Kind::Join;
        e.player = id;
        e.name = id < state.players.size() ? state.players[id].name : QString();
        record.events.push_back(std::move(e));
    }
    for (std::size_t i = 0; i < step.applied.size(); ++i) {
        EventRecord e;
        e.tick = step.tick;
        e.seq = seq++;
        e.kind = EventRecord::Kind::Action;
        e.player = step.applied[i].player;
        e.action = step.applied[i];
        e.result = i < step.actions.size() ? step.actions[i].reason : sim::RejectReason::None;
        record.events.push_back(std::move(e));
    }
    return record;
}

} // namespace hex::server::persistence
