#pragma once

#include "worldstate.h"

#include <cstdint>
#include <memory>

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
