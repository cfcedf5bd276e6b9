#pragma once

#include "worldstate.h"

#include <cstdint>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace hex::sim {

class StepPool;

/// Steps the living layers (flora, ore, water, pollution) of `state` by one tick with
/// the rules of `content`, over `pool`'s threads partitioned by cell ranges. The
/// result is bit-identical for any thread count. Updates state.cellsHash and marks
/// changed cells in `changes`.
///
/// Convenience for tests and one-off use: it prepares an Automaton for the state's
/// sphere on every call. A world that steps repeatedly keeps an Automaton instead.
void stepAutomaton(WorldState &state, const Content &content, StepPool &pool, ChangeSet &changes);

/// How the automaton reads the dense layers. Both give bit-identical results; the
/// choice only changes speed (tests compare the two).
enum class AutomatonKernel : std::uint8_t {
    Vector,   ///< 16×16 chunks as tiles with a one-cell halo, 16 cells per instruction
    Portable, ///< every cell through the neighbour table, one at a time
};

/// The phases a tick runs over the automaton's parts, in order; every part finishes a phase
/// before any part starts the next. Survey, Read and Write step the living layers;
/// Collect comes after everything else of the tick (actions, machines) has marked its
/// changes.
enum class AutomatonPhase : std::uint8_t {
    Survey = 0,  ///< note which chunks hold pollution
    Read = 1,    ///< read the layers, list this part's changes in the exchange
    Write = 2,   ///< apply this part's changes to its own cells
    Collect = 3, ///< list this part's marked cells (ascending) and clear their marks
};
inline constexpr int kAutomatonPhaseCount = 4;

/// The memory one automaton tick works in, as raw pointers: the world's cell arrays, the
/// dirty marks and the exchange, where each part leaves what other parts need (and what
/// whoever takes a part over needs). Threads of one process share one AutomatonMemory;
/// a worker process that maps the same memory at other addresses builds its own.
struct AutomatonMemory
{
    std::uint64_t seed = 0;
    std::uint64_t tick = 0; ///< the RNG counter: the ticks completed before this one
    /// Different for every tick run over one exchange: it tells a write phase whether the
    /// part's water results in the exchange are this tick's (see runPart()).
    std::uint64_t stamp = 0;
    const std::uint8_t *terrain = nullptr;
    const std::uint8_t *elevation = nullptr;
    std::uint8_t *flora = nullptr;
    std::uint8_t *water = nullptr;
    std::uint8_t *pollution = nullptr;
    ResourceId *resourceKind = nullptr;
    std::uint16_t *resourceAmount = nullptr;
    std::uint8_t *dirty = nullptr; ///< ChangeSet::dirty
    /// exchangeBytes() bytes, aligned to 64; need not be initialised.
    std::byte *exchange = nullptr;
};

/// The memory of one tick over `state`'s arrays and `changes`' marks, with `exchange`.
AutomatonMemory automatonMemory(WorldState &state, ChangeSet &changes, std::byte *exchange,
                                std::uint64_t stamp);

/// The automaton of one sphere and one set of rules, kept from tick to tick: it holds
/// what can be prepared once (each chunk's halo, lookup tables for the rules, the
/// partition over threads) and per-thread scratch lists.
///
/// A tick has two phases over `pool`'s threads, each thread owning a range of whole
/// chunks (a barrier between them):
/// 1. read: every thread reads the current layers (its cells and their neighbours) and
///    lists the changes of its own cells: flora growing or withering, births, pollution
///    spreading and decaying, ore accreting, and where each wet cell's water flows;
/// 2. write: every thread applies its own cells' changes, gathers the water sent to its
///    cells, applies evaporation and rain, and keeps its share of the cells-hash change.
/// Reads never see a write of the same tick, so this is the double-buffered rule with
/// only the changed cells written. Not thread-safe: one thread calls step().
class Automaton
{
public:
    /// Prepares the automaton for worlds on `sphere` under `content`'s rules (both are
    /// copied as needed; the sphere is kept alive).
    Automaton(std::shared_ptr<const geometry::HexSphere> sphere, const Content &content,
              AutomatonKernel kernel = AutomatonKernel::Vector);
    ~Automaton();
    Automaton(const Automaton &) = delete;
    Automaton &operator=(const Automaton &) = delete;

    /// Steps `state` (which must be on this automaton's sphere) by one tick, using the
    /// RNG counter state.tick; does not advance the tick. Updates state.cellsHash and
    /// marks changed cells in `changes`.
    void step(WorldState &state, StepPool &pool, ChangeSet &changes);

    /// Parts a tick is split into from now on (1..64): whole chunks, about the same number
    /// of cells each, the same for every automaton of the same sphere. step() sets it to
    /// its pool's thread count.
    void setPartCount(int parts);
    int partCount() const;
    /// Bytes the exchange of the current part count needs (see AutomatonMemory). Mostly
    /// lists sized for the worst case: pages that are never written cost nothing.
    std::size_t exchangeBytes() const;
    /// exchangeBytes() of any automaton on `sphere` split into `parts` parts, without
    /// building one.
    static std::size_t exchangeBytesFor(const geometry::HexSphere &sphere, int parts);
    /// partCells() of any automaton on `sphere` split into `parts` parts.
    static std::vector<CellId> partCellsFor(const geometry::HexSphere &sphere, int parts);
    /// Prepares new exchange memory of the current part count for its first tick (zeros
    /// the stamps; the rest is written before it is read).
    void resetExchange(std::byte *exchange) const;
    /// An exchange in this automaton's own heap memory, grown (and prepared) as the part
    /// count needs: what step() and a runner on threads use. With newHeapStamp(), the
    /// stamps for it.
    std::byte *heapExchange();
    std::uint64_t newHeapStamp();
    /// The first cell of each part and the cell count at the end (partCount() + 1 values).
    std::vector<CellId> partCells() const;

    /// Runs `phase` of `part` over `memory`. Parts of one phase may run at the same time, on
    /// threads or in processes each with its own Automaton. A part whose runner died at any
    /// point of a phase may simply be run again, here or elsewhere, before the next phase
    /// starts: the survey and read phases only read the layers; the write phase writes
    /// absolute values, and fixes the water results in the exchange before it writes any;
    /// the collect phase lists the marked cells before it clears any mark.
    void runPart(AutomatonPhase phase, int part, const AutomatonMemory &memory);
    /// After every part's write phase: the change of WorldState::cellsHash the tick made.
    std::uint64_t hashChange(const AutomatonMemory &memory) const;
    /// After `part`'s collect phase: its cells that were marked, ascending (part 0's start
    /// with the pentagons, cells 0..11).
    std::span<const CellId> changedCells(const AutomatonMemory &memory, int part) const;

    /// Bytes of per-cell arrays one step must stream, per cell: the dense reads of
    /// terrain, flora, water, pollution and (in chunks with wet land) elevation. Changed
    /// cells add a few bytes each. For benchmarks.
    static int bytesTouchedPerCell();

    /// Cells stepped by the vector kernel (in regular 16×16 chunks), out of all cells;
    /// the rest go through the neighbour table. For benchmarks and tests.
    std::uint32_t cellsInVectorChunks() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace hex::sim
