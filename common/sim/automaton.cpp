#include "automaton.h"

#include "steppool.h"
#include "terrain.h"

#include <QtGlobal>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#define HEX_AUTOMATON_SSE2 1
#endif

// How a tick is computed
//
// Phase 0 notes which chunks hold pollution; phase 1 (read) only lists changes; phase 2
// (write) applies them. Each thread owns a range of whole chunks, so each writes only its
// own cells, and the cells-hash change is the XOR of per-thread shares: nothing depends on
// the thread count.
//
// The dense part of phase 1 is small on purpose: living flora must be checked against its
// neighbours every tick, and pollution and water found wherever they are. Everything that
// happens to a cell only by chance (a birth, a death, ore accreting, evaporation, rain) is
// found from the other end: "dice" roll which cells are lucky this tick, a handful per
// thousand cells, and only those cells are looked at. Dice are counter-based like everything
// else: segment g of 4096 cell ids draws random32(seed, tick, g, stream·65536 + k) for its
// k-th lucky cell, turning each draw into a geometric gap with an integer table, so a cell is
// lucky with probability per65536 / 65536 and independently of the others.
//
// Flora's two dice combine the same way in both paths: a cell hit by death ends the tick
// with no flora, whatever the rule computed for it, and death wins over birth (an empty cell
// hit by both stays empty). The vector kernel turns a chunk's births and deaths into one bit
// per cell and masks the rule's result with them; the table path lists the chunk's deaths
// first, so that the rule and the births can look each cell up in ascending order.
//
// Regular chunks (16×16 cells, row-major, away from the twelve pentagons) are read as tiles:
// a layer of the chunk (flora; pollution when there is some nearby; elevation and water
// when it has wet land) copied into an 18×18 tile with a one-cell halo gathered from the
// neighbouring chunks, so that every neighbour of the cell at (row, col) is at a
// fixed tile offset, and 16 cells are stepped per SSE2 instruction. Which chunks are regular,
// and where each halo cell comes from, is derived once from (and checked against) the
// sphere's neighbour table. Other chunks, and the pentagons, go through the table.

namespace hex::sim {

namespace {

using geometry::HexSphere;

/// Independent random streams within one tick (see rng.h).
enum RngStream : std::uint32_t {
    kBirthStream = 1,
    kOreStream = 2,
    kEvaporationStream = 3,
    kDecayStream = 4,
    kRainStream = 5,
    kDeathStream = 6,
};

/// Senders to one cell at most; each may fill a sixth of its free room.
constexpr int kMaxSenders = 6;

/// Whether any of `count` bytes from `bytes` is not zero.
bool anyNonZero(const std::uint8_t *bytes, std::size_t count)
{
    std::uint64_t any = 0;
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, bytes + i, 8);
        any |= word;
    }
    for (; i < count; ++i)
        any |= bytes[i];
    return any != 0;
}

enum TerrainFlag : std::uint8_t {
    kFloraSoil = 1, ///< flora may live here
    kOcean = 2,     ///< the sea: a sink for water, never holds standing water
};

// Tiles: 18 rows of kTileStride bytes; tile row r + 1 holds chunk row r, column c + 1 holds
// chunk column c, for r, c in -1 .. 16.
constexpr int kTileSide = 16;
constexpr int kTileStride = 32;
constexpr int kTileBytes = (kTileSide + 2) * kTileStride;
constexpr int tileAt(int row, int col)
{
    return (row + 1) * kTileStride + (col + 1);
}

/// The six lattice steps (row, column), in cyclic order around a cell.
constexpr std::array<int, 6> kStepRow = {0, -1, -1, 0, 1, 1};
constexpr std::array<int, 6> kStepCol = {1, 1, 0, -1, -1, 0};

/// Halo cells copied into a tile: `count` tile bytes from `tile`, `tileStep` apart, taken
/// from cells `source`, `sourceStep` apart.
struct HaloRun
{
    std::uint32_t source = 0;
    std::int32_t sourceStep = 0;
    std::uint16_t tile = 0;
    std::uint16_t tileStep = 0;
    std::uint16_t count = 0;
};

struct ChunkPlan
{
    CellId begin = 0; ///< the chunk's non-pentagon cells are [begin, end)
    CellId end = 0;
    std::uint32_t haloBegin = 0; ///< runs in Tables::halo; none: not a regular chunk
    std::uint32_t haloEnd = 0;
    std::uint32_t haloIds = 0; ///< the 66 halo cells in Tables::haloIds, see haloIndex()
    bool vector = false;
};

/// Where halo cell (row, col) is kept among a chunk's 66: above (17), below (17), left
/// (16), right (16).
constexpr int haloIndex(int row, int col)
{
    return row < 0 ? col : row >= 16 ? 17 + col + 1 : col < 0 ? 34 + row : 50 + row;
}
constexpr int kHaloCells = 66;
/// How many chunks ahead halos are prefetched.
constexpr std::uint32_t kPrefetchAhead = 4;

/// Which cells are lucky this tick, for one per65536 chance (see the top of the file).
struct Dice
{
    static constexpr std::uint32_t kSegment = 4096;
    std::uint32_t per65536 = 0;
    /// threshold[j] = 2³² (1 - p)^j, rounded down step by step: the chance that the gap
    /// to the next lucky cell is at least j, scaled to 32 bits.
    std::vector<std::uint64_t> threshold;

    void init(std::uint32_t chance)
    {
        per65536 = std::min<std::uint32_t>(chance, 65536);
        threshold.assign(kSegment + 1, 0);
        threshold[0] = std::uint64_t(1) << 32;
        for (std::uint32_t j = 1; j <= kSegment; ++j)
            threshold[j] = threshold[j - 1] * (65536 - per65536) >> 16;
    }

    /// The gap to the next lucky cell for a draw `u`, given `remaining` cells left in
    /// the segment; `remaining` or more: none left.
    std::uint32_t gap(std::uint32_t u, std::uint32_t remaining) const
    {
        if (u < threshold[remaining])
            return remaining;
        // The largest j < remaining with u < threshold[j] (threshold[0] exceeds any u),
        // by a binary search without branches: its steps are as good as coin tosses.
        const std::uint64_t *base = threshold.data();
        std::uint32_t count = remaining;
        while (count > 1) {
            const std::uint32_t half = count / 2;
            base = base[half] > u ? base + half : base;
            count -= half;
        }
        return std::uint32_t(base - threshold.data());
    }
};

/// Walks the lucky cells of one Dice in [begin, end), ascending. Every segment is rolled
/// from its start, so the cells found do not depend on where a walk begins.
class DiceCursor
{
public:
    void start(const Dice &dice, std::uint64_t seed, std::uint64_t tick, std::uint32_t stream,
               CellId begin, CellId end)
    {
        m_dice = &dice;
        m_seed = seed;
        m_tick = tick;
        m_stream = stream;
        m_end = end;
        m_segment = begin / Dice::kSegment;
        m_pos = 0;
        m_draw = 0;
        advance();
        while (m_next < begin)
            advance();
    }

    /// The current lucky cell; kNoCell once there are no more.
    CellId next() const { return m_next; }

    void advance()
    {
        for (;;) {
            const std::uint64_t base = std::uint64_t(m_segment) * Dice::kSegment;
            if (m_dice->per65536 == 0 || base >= m_end) {
                m_next = geometry::kNoCell;
                return;
            }
            if (m_pos >= Dice::kSegment) {
                ++m_segment;
                m_pos = 0;
                m_draw = 0;
                continue;
            }
            const std::uint32_t u = random32(m_seed, m_tick, m_segment, m_stream << 16 | m_draw++);
            m_pos += m_dice->gap(u, Dice::kSegment - m_pos);
            if (m_pos >= Dice::kSegment)
                continue;
            const std::uint64_t cell = base + m_pos++;
            m_next = cell < m_end ? CellId(cell) : geometry::kNoCell;
            return;
        }
    }

private:
    const Dice *m_dice = nullptr;
    std::uint64_t m_seed = 0;
    std::uint64_t m_tick = 0;
    std::uint32_t m_stream = 0;
    CellId m_end = 0;
    std::uint32_t m_segment = 0;
    std::uint32_t m_pos = 0;
    std::uint32_t m_draw = 0;
    CellId m_next = 0;
};

/// The dice of one part for one tick, walked along with its chunks.
struct PartDice
{
    DiceCursor birth;
    DiceCursor death;
    DiceCursor ore;
    DiceCursor evaporation;
    DiceCursor rain;
};

struct CellValue
{
    CellId cell = 0;
    std::uint8_t value = 0;
};

struct OreChange
{
    CellId cell = 0;
    ResourceId kind = kNoResource;
    std::uint16_t amount = 0;
};

struct Flow
{
    CellId cell = 0;
    std::uint8_t amount = 0;
};

/// How a water cell ends the tick: written by the write phase before it touches the water
/// layer, so that a write phase run again (after its worker died) applies the same values.
struct WaterChange
{
    CellId cell = 0;
    std::uint8_t old = 0;
    std::uint8_t now = 0;
};

/// A list of at most `capacity` items in memory the automaton does not own (the exchange).
/// The count lives here, in the runner's own memory, until the phase publishes it.
template<typename T>
struct FixedList
{
    T *items = nullptr;
    std::uint32_t count = 0;
    std::uint32_t capacity = 0;

    void clear() { count = 0; }
    void push_back(const T &value)
    {
        Q_ASSERT(count < capacity);
        items[count++] = value;
    }
    std::uint32_t size() const { return count; }
    const T *begin() const { return items; }
    const T *end() const { return items + count; }
};

/// The words of one part in the exchange, on cache lines of their own. Written by whoever
/// runs the part (a thread or a worker process); read by the others after the phase's
/// barrier, or by the server when it takes the part over.
struct alignas(64) PartHeader
{
    // Published at the end of the read phase.
    std::uint32_t floraCount;
    std::uint32_t pollutionCount;
    std::uint32_t oreCount;
    std::uint32_t outflowCount;
    std::uint32_t inflowCount;
    std::uint32_t evaporationCount;
    std::uint32_t rainCount;
    std::uint32_t waterCount;   ///< WaterChange entries; valid when waterStamp is the step's
    std::uint64_t readHash;     ///< the flora, pollution and ore share of the hash change
    std::uint64_t waterHash;    ///< the water share; valid with waterCount
    std::atomic<std::uint64_t> waterStamp; ///< AutomatonMemory::stamp of the valid water list
    std::uint32_t changedCount; ///< the collect phase's list; valid when changedStamp is the step's
    std::atomic<std::uint64_t> changedStamp;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

/// One part's findings in the read phase, applied by the write phase of the same part
/// (except inflows, which the part owning the receiving cell applies). The lists point into
/// the exchange; `hash` and the counts are the runner's until published.
struct PartScratch
{
    std::uint64_t hash = 0;
    FixedList<CellValue> flora;
    FixedList<CellValue> pollution;
    FixedList<OreChange> ore;
    FixedList<Flow> outflows;     ///< own cells sending water
    FixedList<Flow> inflows;      ///< water this part's cells send, by receiving cell
    FixedList<CellId> evaporations; ///< own cells losing one unit
    FixedList<CellId> rains;      ///< own land cells gaining one (up to the most)
    FixedList<WaterChange> water; ///< the write phase's result for the water layer
    FixedList<CellId> changed;    ///< the collect phase's marked cells, ascending
    /// The cells hit by death in the chunk (or the pentagons) being read, ascending; only
    /// for the path through the table. Private to the runner.
    std::vector<CellId> deaths;

    /// Lists a change of one byte layer and accounts for it in the hash share now, while
    /// the old value is at hand.
    void change(FixedList<CellValue> &list, Layer layer, CellId cell, std::uint8_t old,
                std::uint8_t value)
    {
        list.push_back(CellValue{cell, value});
        hash ^= cellValueHash(cell, layer, old) ^ cellValueHash(cell, layer, value);
    }
};

/// The write phase's running sum for one water cell, in the runner's own memory.
struct WaterSum
{
    CellId cell = 0;
    std::uint8_t value = 0; ///< the cell's water with the changes so far
    bool touched = false;   ///< something changed it (a change may sum to nothing)
};

/// The layers phase 1 reads, as raw pointers.
struct Layers
{
    std::uint64_t seed = 0;
    std::uint64_t tick = 0;
    const std::uint8_t *terrain = nullptr;
    const std::uint8_t *elevation = nullptr;
    const std::uint8_t *flora = nullptr;
    const std::uint8_t *water = nullptr;
    const std::uint8_t *pollution = nullptr;
    const ResourceId *kind = nullptr;
    const std::uint16_t *amount = nullptr;
};

/// How a tick is split into parts, and where each part's data lies in the exchange: a
/// function of the chunks' first cells and the part count only, so that a process that has
/// not built an automaton can size the exchange (Automaton::exchangeBytesFor()).
struct PartLayout
{
    // Partition: part p owns chunks [partChunk[p], partChunk[p + 1]) and the cells
    // [partCell[p], partCell[p + 1]); part 0 also owns the pentagons, cells 0..11.
    std::vector<std::uint32_t> partChunk;
    std::vector<CellId> partCell;

    // The exchange (see AutomatonMemory): PartHeaders, then two bytes per chunk (whether
    // its non-pentagon cells, and the pentagons in it, hold pollution; the survey phase
    // writes them), then each part's lists. Byte offsets, every one a multiple of 64.
    struct ListOffsets
    {
        std::size_t flora, pollution, ore, outflows, inflows, evaporations, rains, water, changed;
        std::uint32_t capacity;
    };
    std::size_t pollutedOffset = 0;
    std::size_t pentagonPollutedOffset = 0;
    std::vector<ListOffsets> lists;
    std::size_t exchangeSize = 0;

    /// `chunkBegin[c]`: the first non-pentagon cell of chunk c (ascending).
    void build(const std::vector<CellId> &chunkBegin, CellId cellCount, int count);
};

/// Everything an Automaton prepares once, and its scratch space.
struct Tables : PartLayout
{
    std::shared_ptr<const HexSphere> sphere;
    AutomatonKernel kernel = AutomatonKernel::Vector;

    // Rules.
    std::array<std::uint8_t, 256> terrainFlags{};
    std::uint8_t birthCounts = 0; ///< bit k: k live neighbours allow a birth
    std::uint8_t birthMin = 0, birthMax = 0;
    std::uint8_t surviveMin = 0, surviveMax = 0;
    std::uint8_t growth = 0, wither = 0, maxFlora = 0;
    std::uint8_t birthFlora = 1;
    std::uint8_t pollutionHarm = 255;
    std::uint8_t waterNeeded = 0;
    std::vector<std::uint8_t> soilTerrains; ///< terrain values flora may live on
    Dice birth;
    Dice death;

    Dice accretion;
    std::uint8_t neighboursNeeded = 1;
    std::uint16_t accretionAmount = 1;
    std::array<std::uint16_t, 256> oreMax{};
    std::array<std::uint8_t, 256> oreTerrainMask{};

    std::array<std::uint8_t, 512> flowShare{}; ///< surface difference -> amount sent
    std::array<std::uint8_t, 256> roomShare{}; ///< receiver's water -> most one sender gives
    std::uint8_t maxWater = 255;
    int flowDivisor = 1;
    Dice evaporation;
    Dice rain;

    std::array<std::int8_t, 511> spread{}; ///< neighbour's minus own pollution, +255 -> flow
    std::uint32_t decayChance = 0;

    // Layout.
    std::vector<ChunkPlan> chunks;
    std::vector<HaloRun> halo;
    std::vector<CellId> haloIds;
    /// For cells of vector chunks: neighbour slot s lies in lattice step (f + s) mod 6 for
    /// rotation f < 6, or (f - 6 - s) mod 6 for rotation f >= 6.
    std::vector<std::uint8_t> rotation;
    std::uint32_t vectorCells = 0;

    int parts = 0;
    std::vector<PartScratch> scratch;
    /// The write phase's water sums of each part, and where each cell's sum is (index + 1,
    /// by cell minus the part's first cell; 0: none yet). The runner's own memory.
    std::vector<std::vector<WaterSum>> waterSums;
    std::vector<std::vector<std::uint32_t>> waterSlot;

    /// Points `out`'s lists at `part`'s in `exchange`, with the counts in `header` (or
    /// empty).
    void bindLists(PartScratch &out, int part, std::byte *exchange, const PartHeader *header) const;

    // heapExchange().
    struct AlignedFree
    {
        void operator()(std::byte *p) const { ::operator delete[](p, std::align_val_t(64)); }
    };
    std::unique_ptr<std::byte[], AlignedFree> ownExchange;
    std::size_t ownExchangeSize = 0;
    std::uint64_t ownStamp = 0;

    void buildRules(const Content &content);
    void buildLayout();
    bool buildHalo(ChunkPlan &plan);
    void partition(int count);

    /// Asks the caches for a chunk's halo cells ahead of time: some lie in chunks the
    /// stream has not reached yet (the chunk below is a chunk row ahead in memory).
    void prefetchHalo(const Layers &l, const ChunkPlan &plan) const
    {
#if HEX_AUTOMATON_SSE2
        for (std::uint32_t i = plan.haloBegin; i < plan.haloEnd; ++i) {
            const HaloRun &run = halo[i];
            const std::ptrdiff_t first = run.source;
            const std::ptrdiff_t last = first + std::ptrdiff_t(run.count - 1) * run.sourceStep;
            for (const std::uint8_t *layer : {l.flora, l.pollution, l.water, l.elevation}) {
                _mm_prefetch(reinterpret_cast<const char *>(layer + first), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char *>(layer + last), _MM_HINT_T0);
            }
        }
#else
        (void)l;
        (void)plan;
#endif
    }

    int partOf(CellId cell) const
    {
        return int(std::upper_bound(partCell.begin() + 1, partCell.end() - 1, cell)
                   - (partCell.begin() + 1));
    }

    // Phase 1 pieces.
    /// `pollutionNear`: the chunk or one next to it (or a pentagon next to it) holds
    /// pollution; if not, no cell of the chunk has any in reach.
    void readChunk(const Layers &l, const ChunkPlan &plan, bool pollutionNear, int part,
                   PartDice &dice, PartScratch &out) const;
    /// Also takes the chunk's births and deaths from `dice`.
    void readVectorChunk(const Layers &l, const ChunkPlan &plan, bool pollutionNear, int part,
                         PartDice &dice, PartScratch &out) const;
    /// Moves the cells hit by death below `end` from `death` to out.deaths (cleared
    /// first), for readCell() and luckyCells() to consult.
    static void takeDeaths(DiceCursor &death, CellId end, PartScratch &out);
    /// `dies`: the cell is hit by death this tick.
    void readCell(const Layers &l, CellId cell, bool pollutionNear, int part, bool dies,
                  PartScratch &out) const;
    void pollutionAt(const Layers &l, CellId cell, std::uint8_t p, const std::uint8_t *around,
                     int count, PartScratch &out) const;
    /// Where the water of wet land cell `cell` goes this tick, and how much (0: stays).
    Flow outflowOf(const Layers &l, CellId cell, const CellId *nbs, int count) const;
    void waterAt(const Layers &l, CellId cell, const CellId *nbs, int count, int part,
                 PartScratch &out) const;
    /// Handles the lucky cells below `end` (all in `plan`, or pentagons when null). Births
    /// on cells in out.deaths do not happen.
    void luckyCells(const Layers &l, const ChunkPlan *plan, CellId end, PartDice &dice,
                    PartScratch &out) const;
    void birthAt(const Layers &l, const ChunkPlan *plan, CellId cell, PartScratch &out) const;
    void oreAt(const Layers &l, const ChunkPlan *plan, CellId cell, PartScratch &out) const;
    /// Writes the neighbours of `cell` in table order to `out`, returns their count. For
    /// a cell of a vector chunk (`plan`) they come from the lattice, not the table.
    int neighboursOf(const ChunkPlan *plan, CellId cell, CellId *out) const;
};

void Tables::buildRules(const Content &content)
{
    const AutomatonRules &rules = content.automaton;
    const FloraRules &flora = rules.flora;
    for (int t = 0; t < 256; ++t) {
        std::uint8_t flags = 0;
        if (t < 8 && (flora.terrainMask >> t & 1)) {
            flags |= kFloraSoil;
            soilTerrains.push_back(std::uint8_t(t));
        }
        if (t == int(Terrain::DeepWater) || t == int(Terrain::ShallowWater))
            flags |= kOcean;
        terrainFlags[t] = flags;
    }
    for (int k = 0; k <= 6; ++k) {
        if (k >= flora.birthMin && k <= flora.birthMax)
            birthCounts |= std::uint8_t(1u << k);
    }
    birthMin = flora.birthMin;
    birthMax = flora.birthMax;
    surviveMin = flora.surviveMin;
    surviveMax = flora.surviveMax;
    growth = flora.growth;
    wither = flora.wither;
    maxFlora = flora.maxFlora;
    birthFlora = std::max<std::uint8_t>(flora.birthFlora, 1);
    pollutionHarm = flora.pollutionHarm;
    waterNeeded = flora.waterNeeded;
    birth.init(flora.birthChance);
    death.init(flora.deathChance);

    accretion.init(rules.ore.accretionChance);
    neighboursNeeded = std::max<std::uint8_t>(rules.ore.neighboursNeeded, 1);
    accretionAmount = rules.ore.accretionAmount;
    for (std::size_t r = 1; r < content.resources.size() && r < 256; ++r) {
        oreMax[r] = content.resources[r].maxAmount;
        oreTerrainMask[r] = content.resources[r].terrainMask;
    }

    const WaterRules &water = rules.water;
    flowDivisor = std::max<int>(water.flowDivisor, 1);
    for (int diff = 0; diff < 512; ++diff)
        flowShare[diff] = std::uint8_t(std::min(diff / flowDivisor, 255));
    maxWater = water.maxWater;
    for (int w = 0; w < 256; ++w)
        roomShare[w] = std::uint8_t(std::max(int(maxWater) - w, 0) / kMaxSenders);
    evaporation.init(water.evaporationChance);
    rain.init(water.rainChance);

    // Below 6 a cell could give away more than it has to six lower neighbours; the
    // content validator refuses that.
    const int spreadDivisor = rules.pollution.spreadDivisor;
    Q_ASSERT(spreadDivisor >= kMaxSenders);
    for (int diff = -255; diff <= 255; ++diff)
        spread[diff + 255] = std::int8_t(diff / spreadDivisor); // truncates toward zero
    decayChance = rules.pollution.decayChance;
}

bool Tables::buildHalo(ChunkPlan &plan)
{
    if (plan.end - plan.begin != kTileSide * kTileSide)
        return false;
    const HexSphere &s = *sphere;
    std::array<CellId, kTileBytes> ids;
    ids.fill(geometry::kNoCell);
    auto inside = [&](CellId cell) {
        return cell >= plan.begin && cell < plan.end;
    };

    for (int r = 0; r < kTileSide; ++r) {
        for (int c = 0; c < kTileSide; ++c) {
            const CellId cell = plan.begin + CellId(r * kTileSide + c);
            const auto nbs = s.neighbours(cell);
            if (nbs.size() != 6)
                return false;
            // The step each in-chunk neighbour lies in.
            std::array<int, 6> step;
            step.fill(-1);
            for (int slot = 0; slot < 6; ++slot) {
                if (!inside(nbs[slot]))
                    continue;
                const int dr = int(nbs[slot] - plan.begin) / kTileSide - r;
                const int dc = int(nbs[slot] - plan.begin) % kTileSide - c;
                for (int k = 0; k < 6; ++k) {
                    if (kStepRow[k] == dr && kStepCol[k] == dc)
                        step[slot] = k;
                }
                if (step[slot] < 0)
                    return false; // not laid out as a lattice
            }
            // The table lists neighbours in cyclic order, so slot s lies in step
            // (first + turn·s) mod 6 for one rotation and one sense of turning.
            int found = 0;
            int first = 0;
            int turn = 0;
            for (int f = 0; f < 6; ++f) {
                for (const int t : {1, -1}) {
                    bool fits = true;
                    for (int slot = 0; slot < 6; ++slot)
                        fits &= step[slot] < 0 || step[slot] == ((f + t * slot) % 6 + 6) % 6;
                    if (fits) {
                        ++found;
                        first = f;
                        turn = t;
                    }
                }
            }
            if (found != 1)
                return false;
            rotation[cell] = std::uint8_t(turn > 0 ? first : 6 + first);
            for (int slot = 0; slot < 6; ++slot) {
                const int k = ((first + turn * slot) % 6 + 6) % 6;
                const int rr = r + kStepRow[k];
                const int cc = c + kStepCol[k];
                if (rr >= 0 && rr < kTileSide && cc >= 0 && cc < kTileSide) {
                    if (plan.begin + CellId(rr * kTileSide + cc) != nbs[slot])
                        return false;
                    continue;
                }
                CellId &halo = ids[std::size_t(tileAt(rr, cc))];
                if (halo != geometry::kNoCell && halo != nbs[slot])
                    return false; // two cells disagree on what lies there
                halo = nbs[slot];
            }
        }
    }

    // The four sides of the halo, each as runs of cells a constant step apart.
    struct Side
    {
        int tile;
        int tileStep;
        int count;
    };
    const std::array<Side, 4> sides = {{
        {tileAt(-1, 0), 1, kTileSide + 1},              // above, including up-right of (0, 15)
        {tileAt(kTileSide, -1), 1, kTileSide + 1},      // below, including down-left of (15, 0)
        {tileAt(0, -1), kTileStride, kTileSide},        // left
        {tileAt(0, kTileSide), kTileStride, kTileSide}, // right
    }};
    plan.haloIds = std::uint32_t(haloIds.size());
    haloIds.resize(haloIds.size() + kHaloCells);
    for (int col = 0; col <= kTileSide; ++col) {
        haloIds[plan.haloIds + std::uint32_t(haloIndex(-1, col))]
            = ids[std::size_t(tileAt(-1, col))];
        haloIds[plan.haloIds + std::uint32_t(haloIndex(kTileSide, col - 1))]
            = ids[std::size_t(tileAt(kTileSide, col - 1))];
    }
    for (int row = 0; row < kTileSide; ++row) {
        haloIds[plan.haloIds + std::uint32_t(haloIndex(row, -1))]
            = ids[std::size_t(tileAt(row, -1))];
        haloIds[plan.haloIds + std::uint32_t(haloIndex(row, kTileSide))]
            = ids[std::size_t(tileAt(row, kTileSide))];
    }
    plan.haloBegin = std::uint32_t(halo.size());
    for (const Side &side : sides) {
        int i = 0;
        while (i < side.count) {
            HaloRun run;
            run.tile = std::uint16_t(side.tile + i * side.tileStep);
            run.tileStep = std::uint16_t(side.tileStep);
            run.source = ids[run.tile];
            if (run.source == geometry::kNoCell)
                return false;
            run.count = 1;
            if (i + 1 < side.count) {
                const CellId next = ids[std::size_t(run.tile + side.tileStep)];
                if (next == geometry::kNoCell)
                    return false;
                run.sourceStep = std::int32_t(std::int64_t(next) - std::int64_t(run.source));
                while (i + run.count < side.count) {
                    const CellId at = ids[std::size_t(side.tile + (i + run.count) * side.tileStep)];
                    if (at == geometry::kNoCell)
                        return false;
                    if (std::int64_t(at)
                        != std::int64_t(run.source) + std::int64_t(run.sourceStep) * run.count)
                        break;
                    ++run.count;
                }
            }
            halo.push_back(run);
            i += run.count;
        }
    }
    plan.haloEnd = std::uint32_t(halo.size());
    return true;
}

void Tables::buildLayout()
{
    const HexSphere &s = *sphere;
    const std::uint32_t count = s.chunkCount();
    chunks.assign(count, ChunkPlan{});
    rotation.assign(kernel == AutomatonKernel::Vector ? s.cellCount() : 0, 0);
    for (ChunkId chunk = 0; chunk < count; ++chunk) {
        ChunkPlan &plan = chunks[chunk];
        CellId first = s.cellCount();
        CellId last = 0;
        std::uint32_t cells = 0;
        for (const CellId cell : s.chunkCells(chunk)) {
            if (HexSphere::isPentagon(cell))
                continue;
            first = std::min(first, cell);
            last = std::max(last, cell);
            ++cells;
        }
        if (cells == 0) {
            plan.begin = plan.end = chunk == 0 ? 12 : chunks[chunk - 1].end;
            continue;
        }
        // Cell ids are grouped by chunk (see HexSphere).
        Q_ASSERT(last - first + 1 == cells);
        plan.begin = first;
        plan.end = last + 1;
#if HEX_AUTOMATON_SSE2
        if (kernel == AutomatonKernel::Vector) {
            const std::size_t runs = halo.size();
            const std::size_t ids = haloIds.size();
            plan.vector = buildHalo(plan);
            if (!plan.vector) {
                halo.resize(runs);
                haloIds.resize(ids);
                plan.haloBegin = plan.haloEnd = 0;
            } else {
                vectorCells += plan.end - plan.begin;
            }
        }
#endif
    }
    halo.shrink_to_fit();
    haloIds.shrink_to_fit();
}

void PartLayout::build(const std::vector<CellId> &chunkBegin, CellId cellCount, int count)
{
    const std::uint32_t chunkCount = std::uint32_t(chunkBegin.size());
    const std::uint64_t total = cellCount;
    partChunk.assign(std::size_t(count) + 1, chunkCount);
    partChunk[0] = 0;
    int part = 1;
    for (std::uint32_t chunk = 0; chunk < chunkCount && part < count; ++chunk) {
        // Cut before this chunk once the parts so far hold their share of the cells.
        while (part < count
               && chunkBegin[chunk] >= total * std::uint64_t(part) / std::uint64_t(count))
            partChunk[std::size_t(part++)] = chunk;
    }
    partCell.assign(std::size_t(count) + 1, cellCount);
    partCell[0] = 0;
    for (int p = 1; p < count; ++p) {
        partCell[std::size_t(p)] = partChunk[std::size_t(p)] < chunkCount
                                       ? chunkBegin[partChunk[std::size_t(p)]]
                                       : cellCount;
    }

    const auto align = [](std::size_t bytes) { return (bytes + 63) & ~std::size_t(63); };
    std::size_t at = align(sizeof(PartHeader) * std::size_t(count));
    pollutedOffset = at;
    at = align(at + chunkCount);
    pentagonPollutedOffset = at;
    at = align(at + chunkCount);
    lists.assign(std::size_t(count), ListOffsets{});
    for (int p = 0; p < count; ++p) {
        ListOffsets &o = lists[std::size_t(p)];
        // Each list holds at most one entry per cell of the part: a cell changes its flora,
        // its pollution or its ore once, sends water to one neighbour, evaporates or gets
        // rain once, ends the tick with one water value, and is marked or not.
        o.capacity = partCell[std::size_t(p) + 1] - partCell[std::size_t(p)];
        const auto take = [&](std::size_t itemBytes) {
            const std::size_t offset = at;
            at = align(at + itemBytes * o.capacity);
            return offset;
        };
        o.flora = take(sizeof(CellValue));
        o.pollution = take(sizeof(CellValue));
        o.ore = take(sizeof(OreChange));
        o.outflows = take(sizeof(Flow));
        o.inflows = take(sizeof(Flow));
        o.evaporations = take(sizeof(CellId));
        o.rains = take(sizeof(CellId));
        o.water = take(sizeof(WaterChange));
        o.changed = take(sizeof(CellId));
    }
    exchangeSize = at;
}

/// The first non-pentagon cell of every chunk of `sphere`.
std::vector<CellId> chunkBeginsOf(const HexSphere &sphere)
{
    std::vector<CellId> begins(sphere.chunkCount(), sphere.cellCount());
    for (ChunkId c = 0; c < sphere.chunkCount(); ++c) {
        for (const CellId cell : sphere.chunkCells(c)) {
            if (!HexSphere::isPentagon(cell))
                begins[c] = std::min(begins[c], cell);
        }
    }
    return begins;
}

void Tables::partition(int count)
{
    if (count == parts)
        return;
    parts = count;
    std::vector<CellId> begins(chunks.size());
    for (std::size_t c = 0; c < chunks.size(); ++c)
        begins[c] = chunks[c].begin;
    build(begins, sphere->cellCount(), count);
    scratch.assign(std::size_t(count), PartScratch{});
    waterSums.assign(std::size_t(count), {});
    waterSlot.assign(std::size_t(count), {});
}

void Tables::bindLists(PartScratch &out, int part, std::byte *exchange,
                       const PartHeader *header) const
{
    const ListOffsets &o = lists[std::size_t(part)];
    const auto bind = [&](auto &list, std::size_t offset, std::uint32_t count) {
        using Item = std::remove_reference_t<decltype(*list.items)>;
        list.items = reinterpret_cast<Item *>(exchange + offset);
        list.capacity = o.capacity;
        list.count = count;
    };
    const PartHeader none{};
    const PartHeader &h = header ? *header : none;
    bind(out.flora, o.flora, h.floraCount);
    bind(out.pollution, o.pollution, h.pollutionCount);
    bind(out.ore, o.ore, h.oreCount);
    bind(out.outflows, o.outflows, h.outflowCount);
    bind(out.inflows, o.inflows, h.inflowCount);
    bind(out.evaporations, o.evaporations, h.evaporationCount);
    bind(out.rains, o.rains, h.rainCount);
    bind(out.water, o.water, h.waterCount);
    bind(out.changed, o.changed, h.changedCount);
}

void Tables::pollutionAt(const Layers &l, CellId cell, std::uint8_t p, const std::uint8_t *around,
                         int count, PartScratch &out) const
{
    int v = p;
    for (int k = 0; k < count; ++k)
        v += spread[std::size_t(around[k] - p + 255)];
    if (v > 0 && chance(l.seed, l.tick, cell, kDecayStream, decayChance))
        --v;
    if (v != p)
        out.change(out.pollution, Layer::Pollution, cell, p, std::uint8_t(v));
}

Flow Tables::outflowOf(const Layers &l, CellId cell, const CellId *nbs, int count) const
{
    const std::uint8_t w = l.water[cell];
    const int surface = l.elevation[cell] + w;
    CellId target = nbs[0];
    int lowest = l.elevation[target] + l.water[target];
    for (int k = 1; k < count; ++k) {
        const int h = l.elevation[nbs[k]] + l.water[nbs[k]];
        if (h < lowest) {
            lowest = h;
            target = nbs[k];
        }
    }
    if (lowest >= surface)
        return Flow{target, 0};
    std::uint8_t amount = std::min(w, flowShare[std::size_t(surface - lowest)]);
    if (!(terrainFlags[l.terrain[target]] & kOcean))
        amount = std::min(amount, roomShare[l.water[target]]);
    return Flow{target, amount};
}

void Tables::waterAt(const Layers &l, CellId cell, const CellId *nbs, int count, int /*part*/,
                     PartScratch &out) const
{
    const Flow flow = outflowOf(l, cell, nbs, count);
    if (flow.amount == 0)
        return;
    out.outflows.push_back(Flow{cell, flow.amount});
    // Water reaching the sea is gone.
    if (terrainFlags[l.terrain[flow.cell]] & kOcean)
        return;
    out.inflows.push_back(flow);
}

void Tables::luckyCells(const Layers &l, const ChunkPlan *plan, CellId end, PartDice &dice,
                        PartScratch &out) const
{
    // Death wins over birth (births of vector chunks were taken with their deaths).
    auto dead = out.deaths.cbegin();
    for (; dice.birth.next() < end; dice.birth.advance()) {
        const CellId cell = dice.birth.next();
        while (dead != out.deaths.cend() && *dead < cell)
            ++dead;
        if (dead == out.deaths.cend() || *dead != cell)
            birthAt(l, plan, cell, out);
    }
    for (; dice.ore.next() < end; dice.ore.advance())
        oreAt(l, plan, dice.ore.next(), out);
    for (; dice.evaporation.next() < end; dice.evaporation.advance()) {
        // Evaporation takes from the water that stays.
        const CellId cell = dice.evaporation.next();
        const std::uint8_t w = l.water[cell];
        if (w == 0 || (terrainFlags[l.terrain[cell]] & kOcean))
            continue;
        CellId nbs[6];
        const int count = neighboursOf(plan, cell, nbs);
        if (w > outflowOf(l, cell, nbs, count).amount)
            out.evaporations.push_back(cell);
    }
    for (; dice.rain.next() < end; dice.rain.advance()) {
        if (!(terrainFlags[l.terrain[dice.rain.next()]] & kOcean))
            out.rains.push_back(dice.rain.next());
    }
}

int Tables::neighboursOf(const ChunkPlan *plan, CellId cell, CellId *out) const
{
    if (plan == nullptr || !plan->vector) {
        const auto nbs = sphere->neighbours(cell);
        std::copy(nbs.begin(), nbs.end(), out);
        return int(nbs.size());
    }
    const int r = int(cell - plan->begin) / kTileSide;
    const int c = int(cell - plan->begin) % kTileSide;
    const int f = rotation[cell];
    for (int slot = 0; slot < 6; ++slot) {
        const int k = f < 6 ? (f + slot) % 6 : (f - slot) % 6;
        const int rr = r + kStepRow[std::size_t(k)];
        const int cc = c + kStepCol[std::size_t(k)];
        out[slot] = rr >= 0 && rr < kTileSide && cc >= 0 && cc < kTileSide
                        ? plan->begin + CellId(rr * kTileSide + cc)
                        : haloIds[plan->haloIds + std::uint32_t(haloIndex(rr, cc))];
    }
    return 6;
}

void Tables::birthAt(const Layers &l, const ChunkPlan *plan, CellId cell, PartScratch &out) const
{
    if (l.flora[cell] != 0 || !(terrainFlags[l.terrain[cell]] & kFloraSoil)
        || l.pollution[cell] >= pollutionHarm || l.water[cell] < waterNeeded)
        return;
    CellId nbs[6];
    const int count = neighboursOf(plan, cell, nbs);
    int live = 0;
    for (int k = 0; k < count; ++k)
        live += l.flora[nbs[k]] != 0;
    if (birthCounts >> live & 1)
        out.change(out.flora, Layer::Flora, cell, 0, birthFlora);
}

void Tables::oreAt(const Layers &l, const ChunkPlan *plan, CellId cell, PartScratch &out) const
{
    const ResourceId k = l.kind[cell];
    if (k != 0 && l.amount[cell] >= oreMax[k])
        return;
    CellId nbs[6];
    const int count = neighboursOf(plan, cell, nbs);
    // Deposits around, by kind.
    std::array<ResourceId, 6> kinds{};
    std::array<int, 6> counts{};
    int distinct = 0;
    for (int n = 0; n < count; ++n) {
        const CellId nb = nbs[n];
        const ResourceId nk = l.kind[nb];
        if (nk == 0 || l.amount[nb] == 0)
            continue;
        int x = 0;
        while (x < distinct && kinds[std::size_t(x)] != nk)
            ++x;
        if (x == distinct)
            kinds[std::size_t(distinct++)] = nk;
        ++counts[std::size_t(x)];
    }
    // What grows here: our own kind, or on a bare cell the lowest kind with enough
    // deposits around that may lie under this terrain.
    ResourceId grow = 0;
    for (int x = 0; x < distinct; ++x) {
        const ResourceId nk = kinds[std::size_t(x)];
        if (counts[std::size_t(x)] < neighboursNeeded)
            continue;
        if (k != 0 ? nk == k
                   : (grow == 0 || nk < grow) && l.terrain[cell] < 8
                         && (oreTerrainMask[nk] >> l.terrain[cell] & 1))
            grow = nk;
    }
    if (grow == 0)
        return;
    const int amount
        = std::min(int(k == 0 ? 0 : l.amount[cell]) + accretionAmount, int(oreMax[grow]));
    if (grow == k && amount == l.amount[cell])
        return;
    out.ore.push_back(OreChange{cell, grow, std::uint16_t(amount)});
    out.hash ^= cellValueHash(cell, Layer::ResourceKind, k)
                ^ cellValueHash(cell, Layer::ResourceKind, grow)
                ^ cellValueHash(cell, Layer::ResourceAmount, l.amount[cell])
                ^ cellValueHash(cell, Layer::ResourceAmount, std::uint32_t(amount));
}

void Tables::takeDeaths(DiceCursor &death, CellId end, PartScratch &out)
{
    out.deaths.clear();
    for (; death.next() < end; death.advance())
        out.deaths.push_back(death.next());
}

void Tables::readCell(const Layers &l, CellId cell, bool pollutionNear, int part, bool dies,
                      PartScratch &out) const
{
    const auto nbs = sphere->neighbours(cell);
    const int count = int(nbs.size());

    const std::uint8_t f = l.flora[cell];
    const std::uint8_t p = l.pollution[cell];
    const std::uint8_t flags = terrainFlags[l.terrain[cell]];
    if (f != 0 && dies) {
        out.change(out.flora, Layer::Flora, cell, f, 0);
    } else if (f != 0) {
        int live = 0;
        for (const CellId nb : nbs)
            live += l.flora[nb] != 0;
        const bool ok
            = (flags & kFloraSoil) && p < pollutionHarm && live >= surviveMin && live <= surviveMax;
        const std::uint8_t nf
            = ok ? std::uint8_t(f + std::min<int>(growth, std::max(maxFlora, f) - f))
                 : std::uint8_t(std::max(f, wither) - wither);
        if (nf != f)
            out.change(out.flora, Layer::Flora, cell, f, nf);
    }

    std::array<std::uint8_t, 6> around{};
    std::uint8_t any = 0;
    for (int k = 0; pollutionNear && k < count; ++k) {
        around[std::size_t(k)] = l.pollution[nbs[std::size_t(k)]];
        any |= around[std::size_t(k)];
    }
    if ((any | p) != 0)
        pollutionAt(l, cell, p, around.data(), count, out);

    if (l.water[cell] != 0 && !(flags & kOcean))
        waterAt(l, cell, nbs.data(), count, part, out);
}

void Tables::readChunk(const Layers &l, const ChunkPlan &plan, bool pollutionNear, int part,
                       PartDice &dice, PartScratch &out) const
{
    out.deaths.clear();
#if HEX_AUTOMATON_SSE2
    if (plan.vector) {
        readVectorChunk(l, plan, pollutionNear, part, dice, out);
        return;
    }
#endif
    takeDeaths(dice.death, plan.end, out);
    auto dead = out.deaths.cbegin();
    for (CellId cell = plan.begin; cell < plan.end; ++cell) {
        const bool dies = dead != out.deaths.cend() && *dead == cell;
        dead += dies;
        readCell(l, cell, pollutionNear, part, dies, out);
    }
}

#if HEX_AUTOMATON_SSE2

inline __m128i load16(const std::uint8_t *p)
{
    return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
}

/// All ones where a >= b (unsigned).
inline __m128i atLeast(__m128i a, __m128i b)
{
    return _mm_cmpeq_epi8(_mm_max_epu8(a, b), a);
}

/// All ones where a <= b (unsigned).
inline __m128i atMost(__m128i a, __m128i b)
{
    return _mm_cmpeq_epi8(_mm_min_epu8(a, b), a);
}

void fillTile(std::uint8_t *tile, const std::uint8_t *layer, CellId begin, const HaloRun *run,
              const HaloRun *runEnd)
{
    for (int r = 0; r < kTileSide; ++r)
        std::memcpy(tile + tileAt(r, 0), layer + begin + CellId(r * kTileSide), kTileSide);
    for (; run != runEnd; ++run) {
        std::uint8_t *to = tile + run->tile;
        const std::uint8_t *from = layer + run->source;
        for (int i = 0; i < run->count; ++i)
            to[i * run->tileStep] = from[std::ptrdiff_t(i) * run->sourceStep];
    }
}

void Tables::readVectorChunk(const Layers &l, const ChunkPlan &plan, bool pollutionNear, int part,
                             PartDice &dice, PartScratch &out) const
{
    const __m128i zero = _mm_setzero_si128();
    const __m128i one = _mm_set1_epi8(1);

    // The lucky cells for births, and those hit by death, as one bit per cell.
    std::uint16_t luckyRows[kTileSide] = {};
    std::uint32_t anyLucky = 0;
    for (; dice.birth.next() < plan.end; dice.birth.advance()) {
        const CellId at = dice.birth.next() - plan.begin;
        luckyRows[at / kTileSide] |= std::uint16_t(1u << (at % kTileSide));
        anyLucky = 1;
    }
    std::uint16_t deadRows[kTileSide] = {};
    for (; dice.death.next() < plan.end; dice.death.advance()) {
        const CellId at = dice.death.next() - plan.begin;
        deadRows[at / kTileSide] |= std::uint16_t(1u << (at % kTileSide));
    }

    // What this chunk holds: flora, wet land.
    __m128i anyFlora = zero;
    std::uint16_t wetRows[kTileSide];
    std::uint32_t anyWet = 0;
    for (int r = 0; r < kTileSide; ++r) {
        const CellId rowBegin = plan.begin + CellId(r * kTileSide);
        anyFlora = _mm_or_si128(anyFlora, load16(l.flora + rowBegin));
        const __m128i ocean = atMost(load16(l.terrain + rowBegin), one);
        const __m128i dry = _mm_cmpeq_epi8(load16(l.water + rowBegin), zero);
        wetRows[r] = std::uint16_t(_mm_movemask_epi8(_mm_or_si128(dry, ocean)) ^ 0xFFFF);
        anyWet |= wetRows[r];
    }
    const HaloRun *runs = halo.data() + plan.haloBegin;
    const HaloRun *runsEnd = halo.data() + plan.haloEnd;

    // Flora: living cells grow or wither, lucky empty ones may be born.
    if (anyLucky || _mm_movemask_epi8(_mm_cmpeq_epi8(anyFlora, zero)) != 0xFFFF) {
        alignas(16) std::uint8_t floraTile[kTileBytes];
        fillTile(floraTile, l.flora, plan.begin, runs, runsEnd);
        const __m128i six = _mm_set1_epi8(6);
        const __m128i minLive = _mm_set1_epi8(char(surviveMin));
        const __m128i maxLive = _mm_set1_epi8(char(surviveMax));
        const __m128i grow = _mm_set1_epi8(char(growth));
        const __m128i withers = _mm_set1_epi8(char(wither));
        const __m128i full = _mm_set1_epi8(char(maxFlora));
        const __m128i harm = _mm_set1_epi8(char(pollutionHarm));
        const __m128i all = _mm_cmpeq_epi8(zero, zero);
        const __m128i minBirth = _mm_set1_epi8(char(birthMin));
        const __m128i maxBirth = _mm_set1_epi8(char(birthMax));
        const __m128i needed = _mm_set1_epi8(char(waterNeeded));
        const __m128i newborn = _mm_set1_epi8(char(birthFlora));
        // Lane i of a row tests bit i of a row mask.
        const __m128i laneBits
            = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, char(128), 1, 2, 4, 8, 16, 32, 64, char(128));
        auto lanes = [&](std::uint16_t bits) {
            const __m128i lowHigh = _mm_unpacklo_epi64(_mm_set1_epi8(char(bits & 0xFF)),
                                                       _mm_set1_epi8(char(bits >> 8)));
            return _mm_cmpeq_epi8(_mm_and_si128(lowHigh, laneBits), laneBits);
        };
        const bool everySoil = soilTerrains.size() == 8;
        for (int r = 0; r < kTileSide; ++r) {
            const CellId rowBegin = plan.begin + CellId(r * kTileSide);
            const std::uint8_t *fc = floraTile + tileAt(r, 0);
            const __m128i f = load16(fc);
            const __m128i alive = _mm_andnot_si128(_mm_cmpeq_epi8(f, zero), all);
            if (_mm_movemask_epi8(alive) == 0 && luckyRows[r] == 0)
                continue;
            // Live neighbours = 6 - (neighbours with none), over the six lattice steps.
            __m128i live = six;
            live = _mm_add_epi8(live, _mm_cmpeq_epi8(load16(fc + 1), zero));
            live = _mm_add_epi8(live, _mm_cmpeq_epi8(load16(fc - kTileStride + 1), zero));
            live = _mm_add_epi8(live, _mm_cmpeq_epi8(load16(fc - kTileStride), zero));
            live = _mm_add_epi8(live, _mm_cmpeq_epi8(load16(fc - 1), zero));
            live = _mm_add_epi8(live, _mm_cmpeq_epi8(load16(fc + kTileStride - 1), zero));
            live = _mm_add_epi8(live, _mm_cmpeq_epi8(load16(fc + kTileStride), zero));
            __m128i soil = everySoil ? all : zero;
            if (!everySoil) {
                const __m128i terrain = load16(l.terrain + rowBegin);
                for (const std::uint8_t t : soilTerrains)
                    soil = _mm_or_si128(soil, _mm_cmpeq_epi8(terrain, _mm_set1_epi8(char(t))));
            }
            const __m128i harmed = atLeast(load16(l.pollution + rowBegin), harm);
            const __m128i thrives = _mm_andnot_si128(
                harmed,
                _mm_and_si128(soil, _mm_and_si128(atLeast(live, minLive), atMost(live, maxLive))));
            const __m128i grown
                = _mm_add_epi8(f, _mm_min_epu8(grow, _mm_sub_epi8(_mm_max_epu8(full, f), f)));
            const __m128i withered = _mm_subs_epu8(f, withers);
            __m128i next = _mm_and_si128(alive, _mm_or_si128(_mm_and_si128(thrives, grown),
                                                             _mm_andnot_si128(thrives, withered)));
            if (luckyRows[r] != 0) {
                // Lucky empty soil cells with the right count of live neighbours, enough
                // water and not too much pollution.
                const __m128i lucky = lanes(luckyRows[r]);
                const __m128i born = _mm_andnot_si128(
                    _mm_or_si128(alive, harmed),
                    _mm_and_si128(_mm_and_si128(lucky, soil),
                                  _mm_and_si128(_mm_and_si128(atLeast(live, minBirth),
                                                              atMost(live, maxBirth)),
                                                atLeast(load16(l.water + rowBegin), needed))));
                next = _mm_or_si128(next, _mm_and_si128(born, newborn));
            }
            // Death wins over the rule and over a birth.
            if (deadRows[r] != 0)
                next = _mm_andnot_si128(lanes(deadRows[r]), next);
            std::uint32_t changed
                = std::uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(next, f))) ^ 0xFFFFu;
            if (changed == 0)
                continue;
            alignas(16) std::uint8_t values[16];
            _mm_store_si128(reinterpret_cast<__m128i *>(values), next);
            for (; changed != 0; changed &= changed - 1) {
                const int lane = __builtin_ctz(changed);
                out.change(out.flora, Layer::Flora, rowBegin + CellId(lane), fc[lane],
                           values[lane]);
            }
        }
    }

    // Pollution: cells with some in reach, when this chunk or one next to it has any.
    if (pollutionNear) {
        alignas(16) std::uint8_t pollutionTile[kTileBytes];
        fillTile(pollutionTile, l.pollution, plan.begin, runs, runsEnd);
        for (int r = 0; r < kTileSide; ++r) {
            const std::uint8_t *pc = pollutionTile + tileAt(r, 0);
            __m128i any = load16(pc);
            any = _mm_or_si128(any, load16(pc + 1));
            any = _mm_or_si128(any, load16(pc - kTileStride + 1));
            any = _mm_or_si128(any, load16(pc - kTileStride));
            any = _mm_or_si128(any, load16(pc - 1));
            any = _mm_or_si128(any, load16(pc + kTileStride - 1));
            any = _mm_or_si128(any, load16(pc + kTileStride));
            std::uint32_t polluted
                = std::uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(any, zero))) ^ 0xFFFFu;
            for (; polluted != 0; polluted &= polluted - 1) {
                const int lane = __builtin_ctz(polluted);
                const std::uint8_t *at = pc + lane;
                const std::uint8_t around[6] = {at[1],  at[1 - kTileStride], at[-kTileStride],
                                                at[-1], at[kTileStride - 1], at[kTileStride]};
                pollutionAt(l, plan.begin + CellId(r * kTileSide + lane), at[0], around, 6, out);
            }
        }
    }

    // Water: a wet land cell sends some downhill when a neighbour's surface (elevation
    // plus water, up to 510: 16-bit lanes) lies at least flowDivisor below its own. Only
    // those cells are worked out in full.
    if (anyWet == 0)
        return;
    alignas(16) std::uint8_t elevationTile[kTileBytes];
    alignas(16) std::uint8_t waterTile[kTileBytes];
    fillTile(elevationTile, l.elevation, plan.begin, runs, runsEnd);
    fillTile(waterTile, l.water, plan.begin, runs, runsEnd);
    const __m128i steep = _mm_set1_epi16(std::int16_t(flowDivisor - 1));
    for (int r = 0; r < kTileSide; ++r) {
        if (wetRows[r] == 0)
            continue;
        const std::uint8_t *ec = elevationTile + tileAt(r, 0);
        const std::uint8_t *wc = waterTile + tileAt(r, 0);
        auto surface = [&](int offset, __m128i &low, __m128i &high) {
            const __m128i e = load16(ec + offset);
            const __m128i w = load16(wc + offset);
            low = _mm_add_epi16(_mm_unpacklo_epi8(e, zero), _mm_unpacklo_epi8(w, zero));
            high = _mm_add_epi16(_mm_unpackhi_epi8(e, zero), _mm_unpackhi_epi8(w, zero));
        };
        __m128i ownLow, ownHigh, lowestLow, lowestHigh, low, high;
        surface(0, ownLow, ownHigh);
        surface(1, lowestLow, lowestHigh);
        for (const int offset : {1 - kTileStride, -kTileStride, -1, kTileStride - 1, kTileStride}) {
            surface(offset, low, high);
            lowestLow = _mm_min_epi16(lowestLow, low);
            lowestHigh = _mm_min_epi16(lowestHigh, high);
        }
        const __m128i sendsLow = _mm_cmpgt_epi16(_mm_sub_epi16(ownLow, lowestLow), steep);
        const __m128i sendsHigh = _mm_cmpgt_epi16(_mm_sub_epi16(ownHigh, lowestHigh), steep);
        std::uint32_t senders
            = std::uint32_t(_mm_movemask_epi8(_mm_packs_epi16(sendsLow, sendsHigh))) & wetRows[r];
        const CellId rowBegin = plan.begin + CellId(r * kTileSide);
        for (; senders != 0; senders &= senders - 1) {
            const CellId cell = rowBegin + CellId(__builtin_ctz(senders));
            CellId nbs[6];
            neighboursOf(&plan, cell, nbs);
            waterAt(l, cell, nbs, 6, part, out);
        }
    }
}

#else

void Tables::readVectorChunk(const Layers &, const ChunkPlan &, bool, int, PartDice &,
                             PartScratch &) const
{}

#endif

} // namespace

struct Automaton::Private : Tables
{
};

Automaton::Automaton(std::shared_ptr<const geometry::HexSphere> sphere, const Content &content,
                     AutomatonKernel kernel)
    : d(std::make_unique<Private>())
{
    d->sphere = std::move(sphere);
    d->kernel = kernel;
    d->buildRules(content);
    d->buildLayout();
    d->partition(1);
}

Automaton::~Automaton() = default;

int Automaton::bytesTouchedPerCell()
{
    return 5; // terrain, flora, pollution, water, elevation (where land is wet)
}

std::uint32_t Automaton::cellsInVectorChunks() const
{
    return d->vectorCells;
}

void Automaton::setPartCount(int parts)
{
    d->partition(std::clamp(parts, 1, 64));
}

int Automaton::partCount() const
{
    return d->parts;
}

std::size_t Automaton::exchangeBytes() const
{
    return d->exchangeSize;
}

std::size_t Automaton::exchangeBytesFor(const geometry::HexSphere &sphere, int parts)
{
    PartLayout layout;
    layout.build(chunkBeginsOf(sphere), sphere.cellCount(), std::clamp(parts, 1, 64));
    return layout.exchangeSize;
}

void Automaton::resetExchange(std::byte *exchange) const
{
    std::memset(exchange, 0, d->pollutedOffset);
}

std::vector<CellId> Automaton::partCellsFor(const geometry::HexSphere &sphere, int parts)
{
    PartLayout layout;
    layout.build(chunkBeginsOf(sphere), sphere.cellCount(), std::clamp(parts, 1, 64));
    return layout.partCell;
}

std::vector<CellId> Automaton::partCells() const
{
    return d->partCell;
}

AutomatonMemory automatonMemory(WorldState &state, ChangeSet &changes, std::byte *exchange,
                                std::uint64_t stamp)
{
    AutomatonMemory memory;
    memory.seed = state.seed;
    memory.tick = state.tick;
    memory.stamp = stamp;
    memory.terrain = state.terrain.data();
    memory.elevation = state.elevation.data();
    memory.flora = state.flora.data();
    memory.water = state.water.data();
    memory.pollution = state.pollution.data();
    memory.resourceKind = state.resourceKind.data();
    memory.resourceAmount = state.resourceAmount.data();
    memory.dirty = changes.dirty.data();
    memory.exchange = exchange;
    return memory;
}

std::byte *Automaton::heapExchange()
{
    if (d->ownExchangeSize < d->exchangeSize) {
        d->ownExchange.reset(
            static_cast<std::byte *>(::operator new[](d->exchangeSize, std::align_val_t(64))));
        d->ownExchangeSize = d->exchangeSize;
        resetExchange(d->ownExchange.get());
    }
    return d->ownExchange.get();
}

std::uint64_t Automaton::newHeapStamp()
{
    return ++d->ownStamp;
}

void Automaton::step(WorldState &state, StepPool &pool, ChangeSet &changes)
{
    Q_ASSERT(state.cellCount() == d->sphere->cellCount());
    Q_ASSERT(changes.dirty.size() == state.cellCount());
    setPartCount(pool.threadCount());
    const std::uint64_t stamp = newHeapStamp();
    const AutomatonMemory memory = automatonMemory(state, changes, heapExchange(), stamp);
    for (const AutomatonPhase phase :
         {AutomatonPhase::Survey, AutomatonPhase::Read, AutomatonPhase::Write})
        pool.run([&](int part) { runPart(phase, part, memory); });
    state.cellsHash ^= hashChange(memory);
}

std::span<const CellId> Automaton::changedCells(const AutomatonMemory &memory, int part) const
{
    Q_ASSERT(part >= 0 && part < d->parts);
    const auto *headers = reinterpret_cast<const PartHeader *>(memory.exchange);
    const auto *cells = reinterpret_cast<const CellId *>(memory.exchange
                                                         + d->lists[std::size_t(part)].changed);
    return {cells, headers[part].changedCount};
}

std::uint64_t Automaton::hashChange(const AutomatonMemory &memory) const
{
    const auto *headers = reinterpret_cast<const PartHeader *>(memory.exchange);
    std::uint64_t hash = 0;
    for (int part = 0; part < d->parts; ++part)
        hash ^= headers[part].readHash ^ headers[part].waterHash;
    return hash;
}

void Automaton::runPart(AutomatonPhase phase, int part, const AutomatonMemory &memory)
{
    Tables &t = *d;
    Q_ASSERT(part >= 0 && part < t.parts);
    Q_ASSERT(reinterpret_cast<std::uintptr_t>(memory.exchange) % 64 == 0);
    auto *headers = reinterpret_cast<PartHeader *>(memory.exchange);
    PartHeader &header = headers[part];
    auto *polluted = reinterpret_cast<std::uint8_t *>(memory.exchange + t.pollutedOffset);
    auto *pentagonPolluted
        = reinterpret_cast<std::uint8_t *>(memory.exchange + t.pentagonPollutedOffset);
    const std::uint32_t firstChunk = t.partChunk[std::size_t(part)];
    const std::uint32_t lastChunk = t.partChunk[std::size_t(part) + 1];
    const CellId begin = t.partCell[std::size_t(part)];
    const CellId end = t.partCell[std::size_t(part) + 1];
    PartScratch &out = t.scratch[std::size_t(part)];

    if (phase == AutomatonPhase::Survey) {
        // Which chunks hold pollution (part 0 also looks at the pentagons).
        for (std::uint32_t c = firstChunk; c < lastChunk; ++c) {
            const ChunkPlan &plan = t.chunks[c];
            polluted[c] = anyNonZero(memory.pollution + plan.begin, plan.end - plan.begin);
        }
        if (part == 0) {
            std::fill(pentagonPolluted, pentagonPolluted + t.chunks.size(), std::uint8_t(0));
            for (CellId p = 0; p < 12; ++p)
                pentagonPolluted[t.sphere->chunkOf(p)] |= memory.pollution[p] != 0;
        }
        return;
    }

    if (phase == AutomatonPhase::Collect) {
        // List first, stamp, then clear: a rerun finds either no stamp and every mark still
        // there, or the stamped list.
        t.bindLists(out, part, memory.exchange, &header);
        std::uint8_t *dirty = memory.dirty;
        if (header.changedStamp.load(std::memory_order_acquire) != memory.stamp) {
            out.changed.clear();
            CellId cell = begin;
            while (cell < end) {
                // Skip eight clean cells at a time.
                if (cell + 8 <= end) {
                    std::uint64_t word;
                    std::memcpy(&word, dirty + cell, 8);
                    if (word == 0) {
                        cell += 8;
                        continue;
                    }
                }
                if (dirty[cell] != 0)
                    out.changed.push_back(cell);
                ++cell;
            }
            header.changedCount = out.changed.count;
            header.changedStamp.store(memory.stamp, std::memory_order_release);
        }
        for (const CellId cell : out.changed)
            dirty[cell] = 0;
        return;
    }

    if (phase == AutomatonPhase::Read) {
        Layers l;
        l.seed = memory.seed;
        l.tick = memory.tick;
        l.terrain = memory.terrain;
        l.elevation = memory.elevation;
        l.flora = memory.flora;
        l.water = memory.water;
        l.pollution = memory.pollution;
        l.kind = memory.resourceKind;
        l.amount = memory.resourceAmount;
        auto pollutionNear = [&](ChunkId chunk) {
            bool near = polluted[chunk] | pentagonPolluted[chunk];
            for (const ChunkId other : t.sphere->chunkNeighbours(chunk))
                near |= polluted[other] | pentagonPolluted[other];
            return near;
        };

        t.bindLists(out, part, memory.exchange, nullptr);
        out.hash = 0;
        PartDice dice;
        dice.birth.start(t.birth, l.seed, l.tick, kBirthStream, begin, end);
        dice.death.start(t.death, l.seed, l.tick, kDeathStream, begin, end);
        dice.ore.start(t.accretion, l.seed, l.tick, kOreStream, begin, end);
        dice.evaporation.start(t.evaporation, l.seed, l.tick, kEvaporationStream, begin, end);
        dice.rain.start(t.rain, l.seed, l.tick, kRainStream, begin, end);
        if (part == 0) {
            Tables::takeDeaths(dice.death, 12, out);
            for (CellId p = 0; p < 12; ++p) {
                const bool dies = std::binary_search(out.deaths.begin(), out.deaths.end(), p);
                t.readCell(l, p, pollutionNear(t.sphere->chunkOf(p)), part, dies, out);
            }
            t.luckyCells(l, nullptr, 12, dice, out);
        }
        for (std::uint32_t c = firstChunk; c < lastChunk; ++c) {
            const ChunkPlan &plan = t.chunks[c];
            if (c + kPrefetchAhead < lastChunk)
                t.prefetchHalo(l, t.chunks[c + kPrefetchAhead]);
            t.readChunk(l, plan, pollutionNear(c), part, dice, out);
            t.luckyCells(l, &plan, plan.end, dice, out);
        }
        header.floraCount = out.flora.count;
        header.pollutionCount = out.pollution.count;
        header.oreCount = out.ore.count;
        header.outflowCount = out.outflows.count;
        header.inflowCount = out.inflows.count;
        header.evaporationCount = out.evaporations.count;
        header.rainCount = out.rains.count;
        header.readHash = out.hash;
        return;
    }

    // Write: every value written is absolute, so running this again changes nothing more.
    t.bindLists(out, part, memory.exchange, &header);
    std::uint8_t *dirty = memory.dirty;
    // Flora, pollution and ore: the read phase has already accounted for them in the hash.
    for (const CellValue &c : out.flora) {
        memory.flora[c.cell] = c.value;
        dirty[c.cell] = 1;
    }
    for (const CellValue &c : out.pollution) {
        memory.pollution[c.cell] = c.value;
        dirty[c.cell] = 1;
    }
    for (const OreChange &c : out.ore) {
        memory.resourceKind[c.cell] = c.kind;
        memory.resourceAmount[c.cell] = c.amount;
        dirty[c.cell] = 1;
    }

    // Water: the changes are relative (outflows, evaporation, inflows from any part, then
    // rain up to the most), so they are summed per cell first, into absolute results in the
    // exchange, and only then written. Until the results are stamped the water layer is
    // untouched, so a rerun can sum again; after, a rerun writes the same results again.
    if (header.waterStamp.load(std::memory_order_acquire) != memory.stamp) {
        std::vector<WaterSum> &sums = t.waterSums[std::size_t(part)];
        std::vector<std::uint32_t> &slot = t.waterSlot[std::size_t(part)];
        if (slot.size() != end - begin)
            slot.assign(end - begin, 0);
        sums.clear();
        auto sumOf = [&](CellId cell) -> WaterSum & {
            std::uint32_t &index = slot[cell - begin];
            if (index == 0) {
                sums.push_back(WaterSum{cell, memory.water[cell], false});
                index = std::uint32_t(sums.size());
            }
            return sums[index - 1];
        };
        for (const Flow &f : out.outflows) {
            WaterSum &w = sumOf(f.cell);
            w.value = std::uint8_t(w.value - f.amount);
            w.touched = true;
        }
        for (const CellId cell : out.evaporations) {
            WaterSum &w = sumOf(cell);
            w.value = std::uint8_t(w.value - 1);
            w.touched = true;
        }
        PartScratch from;
        for (int p = 0; p < t.parts; ++p) {
            t.bindLists(from, p, memory.exchange, &headers[p]);
            for (const Flow &f : from.inflows) {
                if (f.cell < begin || f.cell >= end)
                    continue;
                WaterSum &w = sumOf(f.cell);
                w.value = std::uint8_t(w.value + f.amount);
                w.touched = true;
            }
        }
        for (const CellId cell : out.rains) {
            WaterSum &w = sumOf(cell);
            if (w.value < t.maxWater) {
                ++w.value;
                w.touched = true;
            }
        }
        std::uint64_t hash = 0;
        out.water.clear();
        for (const WaterSum &w : sums) {
            slot[w.cell - begin] = 0;
            if (!w.touched)
                continue;
            const std::uint8_t old = memory.water[w.cell];
            out.water.push_back(WaterChange{w.cell, old, w.value});
            hash ^= cellValueHash(w.cell, Layer::Water, old)
                    ^ cellValueHash(w.cell, Layer::Water, w.value);
        }
        header.waterCount = out.water.count;
        header.waterHash = hash;
        header.waterStamp.store(memory.stamp, std::memory_order_release);
        out.water.count = header.waterCount;
    }
    for (const WaterChange &c : out.water) {
        memory.water[c.cell] = c.now;
        dirty[c.cell] = 1;
    }
}

void stepAutomaton(WorldState &state, const Content &content, StepPool &pool, ChangeSet &changes)
{
    Automaton automaton(state.sphere, content);
    automaton.step(state, pool, changes);
}

} // namespace hex::sim
