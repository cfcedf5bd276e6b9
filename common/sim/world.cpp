#include "world.h"

#include "automaton.h"
#include "factory.h"
#include "parttimes.h"
#include "steppool.h"

#include <QtGlobal>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <utility>

namespace hex::sim {

namespace {

/// A running hash of 64-bit words: one multiply per word, finished with mix64. Cheap
/// enough to run over every machine every tick; not meant to resist deliberate
/// collisions, only to tell diverging worlds apart.
class WordHash
{
public:
    explicit WordHash(std::uint64_t seed)
        : m_hash(mix64(seed))
    {}
    void add(std::uint64_t word)
    {
        m_hash = (m_hash ^ word) * 0x9E3779B97F4A7C15ull;
        m_hash ^= m_hash >> 29;
    }
    void addStacks(const std::vector<ItemStack> &stacks)
    {
        add(stacks.size());
        for (const ItemStack &s : stacks)
            add(std::uint64_t(s.item) << 16 | s.count);
    }
    std::uint64_t finish() const { return mix64(m_hash); }

private:
    std::uint64_t m_hash;
};

/// Every field of every machine, in cell order.
std::uint64_t machinesHash(const MachineMap &machines)
{
    WordHash hash(0x6D616368696E6573ull);
    hash.add(machines.size());
    for (const auto &[cell, m] : machines) {
        hash.add(std::uint64_t(cell) << 32 | std::uint64_t(m.recipe) << 16 | m.progress);
        hash.add(std::uint64_t(m.running) << 40 | std::uint64_t(m.nextSide) << 32 | m.lane.count);
        hash.add(m.lastReceivedTick);
        hash.addStacks(m.input);
        hash.addStacks(m.output);
        for (int s = 0; s < ConveyorLane::kLaneSlots; s += 2) {
            hash.add(std::uint64_t(m.lane.items[s]) << 48 | std::uint64_t(m.lane.progress[s]) << 32
                     | std::uint64_t(m.lane.items[s + 1]) << 16 | m.lane.progress[s + 1]);
        }
    }
    return hash.finish();
}

/// One player: name, inventory, cells owned.
std::uint64_t playerHash(const Player &p)
{
    WordHash hash(0x706C61796572ull);
    hash.add(std::uint64_t(p.name.size()));
    for (const QChar c : p.name)
        hash.add(c.unicode());
    hash.add(p.inventory.size());
    for (const auto &[item, count] : p.inventory)
        hash.add(std::uint64_t(item) << 32 | count);
    hash.add(p.cellsOwned);
    return hash.finish();
}

/// Every player, in order, from each one's playerHash().
std::uint64_t playersHash(const std::vector<std::uint64_t> &playerHashes)
{
    WordHash hash(0x706C6179657273ull);
    hash.add(playerHashes.size());
    for (const std::uint64_t h : playerHashes)
        hash.add(h);
    return hash.finish();
}

std::uint64_t playersHash(const std::vector<Player> &players)
{
    std::vector<std::uint64_t> hashes;
    hashes.reserve(players.size());
    for (const Player &p : players)
        hashes.push_back(playerHash(p));
    return playersHash(hashes);
}

/// Folds `value` into a running hash.
constexpr std::uint64_t fold(std::uint64_t hash, std::uint64_t value)
{
    return mix64(hash ^ mix64(value));
}

std::uint64_t combineHash(std::uint64_t cells, std::uint64_t machines, std::uint64_t players,
                          std::uint64_t tick)
{
    return fold(fold(fold(fold(0x68657873706865ull, tick), cells), machines), players);
}

} // namespace

namespace {

/// The World's own runner: the parts on the World's StepPool threads, with the
/// automaton's heap exchange. With more than one thread there are several parts per
/// thread, and each thread takes the next until none is left, the longest first (as
/// compute workers do): a thread that loses its core for a while takes fewer, and the
/// threads finish together.
class PoolRunner final : public StepRunner
{
public:
    static constexpr int kPartsPerThread = 4;

    PoolRunner(StepPool &pool, Automaton &automaton)
        : m_pool(pool)
        , m_automaton(automaton)
    {}

    int partCount() const override
    {
        const int threads = m_pool.threadCount();
        return threads == 1 ? 1 : std::min(threads * kPartsPerThread, kMaxAutomatonParts);
    }
    std::byte *exchange() override { return m_automaton.heapExchange(); }
    std::uint64_t newStamp() override { return m_automaton.newHeapStamp(); }
    void runPhase(AutomatonPhase phase, const AutomatonMemory &memory,
                  Automaton &automaton) override
    {
        const int parts = partCount();
        if (parts == 1) {
            automaton.runPart(phase, 0, memory);
            return;
        }
        std::array<std::uint32_t, kMaxAutomatonParts> order{};
        std::array<std::uint64_t, kMaxAutomatonParts> nanos{};
        m_times.order(phase, parts, order);
        std::atomic<int> next{0};
        m_pool.run([&](int) {
            for (;;) {
                const int taken = next.fetch_add(1, std::memory_order_relaxed);
                if (taken >= parts)
                    return;
                const std::uint32_t part = order[std::size_t(taken)];
                const auto begin = std::chrono::steady_clock::now();
                automaton.runPart(phase, int(part), memory);
                nanos[part] = PartTimes::nanosSince(begin);
            }
        });
        for (int part = 0; part < parts; ++part)
            m_times.record(phase, parts, part, nanos[std::size_t(part)]);
    }

private:
    StepPool &m_pool;
    Automaton &m_automaton;
    PartTimes m_times;
};

} // namespace

struct World::Private
{
    explicit Private(const WorldState &state, const Content &content, int threads)
        : pool(threads)
        , automaton(state.sphere, content)
    {
        changes.reset(state.cellCount());
        const geometry::HexSphere &sphere = *state.sphere;
        const std::uint32_t chunks = sphere.chunkCount();
        chunkBegin.assign(chunks + 1, sphere.cellCount());
        for (ChunkId c = chunks; c-- > 0;) {
            chunkBegin[c] = chunkBegin[c + 1];
            for (const CellId cell : sphere.chunkCells(c)) {
                if (!geometry::HexSphere::isPentagon(cell))
                    chunkBegin[c] = std::min(chunkBegin[c], cell);
            }
        }
    }

    StepPool pool;
    Automaton automaton;
    PoolRunner poolRunner{pool, automaton};
    StepRunner *runner = nullptr;
    /// The current tick's memory, from stepAutomaton() to collectChanges().
    AutomatonMemory memory;
    ChangeSet changes;
    std::vector<Action> queued;
    /// Players added since the last step().
    std::vector<PlayerId> joined;
    /// First non-pentagon cell of each chunk, plus the cell count at the end: the
    /// non-pentagon cells of chunk c are [chunkBegin[c], chunkBegin[c + 1]).
    std::vector<CellId> chunkBegin;
    mutable std::uint64_t hash = 0;
    mutable bool hashValid = false;
    /// playerHash() of each player, kept current for the players whose actions ran
    /// (only its own actions change a player), so that the state hash does not walk
    /// every inventory every tick. Invalid after addPlayer().
    mutable std::vector<std::uint64_t> playerHashes;
    mutable std::vector<PlayerId> dirtyPlayers;
    mutable bool playerHashesValid = false;

    /// Marks the players of the queued actions for rehashing.
    void markActingPlayers(std::size_t playerCount)
    {
        for (const Action &action : queued) {
            if (action.player < playerCount)
                dirtyPlayers.push_back(action.player);
        }
    }
};

namespace {

/// Every per-cell array of `state`, in one order, for placeArrays() and arrayBytes().
template<typename State, typename Dirty, typename Fn>
void forEachArray(State &state, Dirty &dirty, Fn &&fn)
{
    fn(state.terrain);
    fn(state.elevation);
    fn(state.resourceKind);
    fn(state.resourceAmount);
    fn(state.flora);
    fn(state.water);
    fn(state.pollution);
    fn(state.structure);
    fn(state.orientation);
    fn(state.owner);
    fn(dirty);
}

} // namespace

World::World(std::shared_ptr<const geometry::HexSphere> sphere,
             std::shared_ptr<const Content> content, std::uint64_t seed, int threads)
    : m_state(generateWorld(std::move(sphere), *content, seed))
    , m_content(std::move(content))
    , d(std::make_unique<Private>(m_state, *m_content, threads))
{}

World::World(WorldState state, std::shared_ptr<const Content> content, int threads)
    : m_state(std::move(state))
    , m_content(std::move(content))
{
    Q_ASSERT(m_state.sphere);
    Q_ASSERT(m_state.cellCount() == m_state.sphere->cellCount());
    m_state.cellsHash = m_state.computeCellsHash();
    d = std::make_unique<Private>(m_state, *m_content, threads);
}

World::~World() = default;

PlayerId World::addPlayer(const QString &name)
{
    Player player;
    player.name = name;
    for (const ItemStack &stack : m_content->startingInventory) {
        if (stack.count > 0)
            player.inventory[stack.item] += stack.count;
    }
    m_state.players.push_back(std::move(player));
    d->hashValid = false;
    d->playerHashesValid = false;
    const auto id = PlayerId(m_state.players.size() - 1);
    d->joined.push_back(id);
    return id;
}

void World::queueAction(const Action &action)
{
    d->queued.push_back(action);
}

StepResult World::step()
{
    StepResult result;
    result.joined = std::exchange(d->joined, {});
    ChangeSet &changes = d->changes;
    if (!d->queued.empty()) {
        d->markActingPlayers(m_state.players.size());
        result.actions = applyActions(m_state, *m_content, d->queued, changes);
        result.applied = std::exchange(d->queued, {});
    }
    stepAutomaton();
    stepMachines(m_state, *m_content, changes);
    ++m_state.tick;
    d->hashValid = false;
    result.tick = m_state.tick;

    // Deltas: each part lists its marked cells and clears the marks (in parallel, or in
    // the workers); here they only become per-chunk lists.
    collectChanges(&result.deltas);
    result.stateHash = stateHash();
    return result;
}

void World::stepAutomaton()
{
    StepRunner &runner = d->runner ? *d->runner : d->poolRunner;
    d->automaton.setPartCount(runner.partCount());
    const std::uint64_t stamp = runner.newStamp();
    AutomatonMemory &memory = d->memory;
    memory = automatonMemory(m_state, d->changes, runner.exchange(), stamp);
    for (const AutomatonPhase phase :
         {AutomatonPhase::Survey, AutomatonPhase::Read, AutomatonPhase::Write})
        runner.runPhase(phase, memory, d->automaton);
    m_state.cellsHash ^= d->automaton.hashChange(memory);
}

void World::collectChanges(ChunkDeltas *deltas)
{
    StepRunner &runner = d->runner ? *d->runner : d->poolRunner;
    runner.runPhase(AutomatonPhase::Collect, d->memory, d->automaton);
    if (!deltas)
        return;
    const std::vector<CellId> &chunkBegin = d->chunkBegin;
    const geometry::HexSphere &sphere = *m_state.sphere;
    std::size_t changed = 0;
    for (int part = 0; part < d->automaton.partCount(); ++part)
        changed += d->automaton.changedCells(d->memory, part).size();
    *deltas = ChunkDeltas();
    deltas->reserve(std::min<std::size_t>(changed, sphere.chunkCount()), changed);

    // Part 0's list starts with the pentagons (their ids are below every other cell's).
    // They come first in their chunks, which lie anywhere: by chunk, then by id.
    std::array<std::pair<ChunkId, CellId>, 12> pentagons;
    std::size_t pentagonCount = 0;
    for (const CellId cell : d->automaton.changedCells(d->memory, 0)) {
        if (cell >= 12)
            break;
        pentagons[pentagonCount++] = {sphere.chunkOf(cell), cell};
    }
    std::sort(pentagons.begin(), pentagons.begin() + std::ptrdiff_t(pentagonCount));
    std::size_t nextPentagon = 0;
    const auto pentagonsBefore = [&](std::uint64_t limit) {
        for (; nextPentagon < pentagonCount && pentagons[nextPentagon].first < limit;
             ++nextPentagon)
            deltas->append(pentagons[nextPentagon].first,
                           std::span<const CellId>(&pentagons[nextPentagon].second, 1));
    };

    for (int part = 0; part < d->automaton.partCount(); ++part) {
        std::span<const CellId> cells = d->automaton.changedCells(d->memory, part);
        if (part == 0)
            cells = cells.subspan(pentagonCount);
        if (cells.empty())
            continue;
        ChunkId chunk = ChunkId(std::upper_bound(chunkBegin.begin(), chunkBegin.end(), cells[0])
                                - chunkBegin.begin() - 1);
        // One run of cells per chunk, after the chunk's pentagon if it changed.
        for (auto run = cells.begin(); run != cells.end();) {
            while (*run >= chunkBegin[chunk + 1])
                ++chunk;
            auto end = run;
            while (end != cells.end() && *end < chunkBegin[chunk + 1])
                ++end;
            pentagonsBefore(std::uint64_t(chunk) + 1);
            deltas->append(chunk, std::span<const CellId>(run, end));
            run = end;
        }
    }
    pentagonsBefore(std::numeric_limits<std::uint64_t>::max());
}

std::uint64_t World::simulate(std::uint64_t ticks)
{
    return simulate(ticks, 0, {});
}

std::uint64_t World::simulate(std::uint64_t ticks, std::uint64_t every,
                              const std::function<bool(std::uint64_t, std::uint64_t)> &progress)
{
    for (std::uint64_t t = 0; t < ticks; ++t) {
        if (progress && t > 0 && every > 0 && t % every == 0 && !progress(t, ticks))
            return stateHash();
        ChangeSet &changes = d->changes;
        d->joined.clear();
        if (!d->queued.empty()) {
            d->markActingPlayers(m_state.players.size());
            applyActions(m_state, *m_content, d->queued, changes);
            d->queued.clear();
        }
        stepAutomaton();
        stepMachines(m_state, *m_content, changes);
        ++m_state.tick;
        d->hashValid = false;
        collectChanges(nullptr);
    }
    if (progress)
        progress(ticks, ticks);
    return stateHash();
}

std::uint64_t World::stateHash() const
{
    if (!d->hashValid) {
        if (!d->playerHashesValid) {
            d->playerHashes.clear();
            for (const Player &p : m_state.players)
                d->playerHashes.push_back(playerHash(p));
            d->playerHashesValid = true;
        } else {
            for (const PlayerId p : d->dirtyPlayers)
                d->playerHashes[p] = playerHash(m_state.players[p]);
        }
        d->dirtyPlayers.clear();
        d->hash = combineHash(m_state.cellsHash, machinesHash(m_state.machines),
                              playersHash(d->playerHashes), m_state.tick);
        d->hashValid = true;
    }
    return d->hash;
}

std::uint64_t World::fullStateHash() const
{
    return combineHash(m_state.computeCellsHash(), machinesHash(m_state.machines),
                       playersHash(m_state.players), m_state.tick);
}

int World::threadCount() const
{
    return d->pool.threadCount();
}

void World::setThreadCount(int threads)
{
    d->pool.setThreadCount(threads);
}

void World::setStepRunner(StepRunner *runner)
{
    d->runner = runner;
}

StepRunner *World::stepRunner() const
{
    return d->runner;
}

std::size_t World::exchangeBytes(int parts)
{
    d->automaton.setPartCount(parts);
    return d->automaton.exchangeBytes();
}

std::vector<CellId> World::partCells(int parts)
{
    d->automaton.setPartCount(parts);
    return d->automaton.partCells();
}

std::size_t World::placeArrays(std::pmr::memory_resource *resource)
{
    std::size_t copied = 0;
    forEachArray(m_state, d->changes.dirty, [&](auto &array) {
        using Array = std::decay_t<decltype(array)>;
        Array placed(array.begin(), array.end(), typename Array::allocator_type(resource));
        copied += array.size() * sizeof(typename Array::value_type);
        // Polymorphic allocators never propagate on swap or assignment: rebuild the array
        // by moving, which takes the new allocator along.
        std::destroy_at(&array);
        std::construct_at(&array, std::move(placed));
    });
    return copied;
}

std::size_t World::arrayBytes() const
{
    return arrayBytesFor(m_state.cellCount());
}

std::size_t World::arrayBytesFor(std::uint32_t cellCount)
{
    // Only the arrays' types matter here.
    WorldState types;
    CellArray<std::uint8_t> dirty;
    std::size_t bytes = 0;
    forEachArray(types, dirty, [&](auto &array) {
        bytes += (cellCount * sizeof(typename std::decay_t<decltype(array)>::value_type) + 63)
                 & ~std::size_t(63);
    });
    return bytes;
}

const std::uint8_t *World::dirtyMarks() const
{
    return d->changes.dirty.data();
}

} // namespace hex::sim
