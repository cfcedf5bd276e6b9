#pragma once

#include <QByteArray>
#include <QString>

#include <tl/expected.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <vector>

namespace hex::sim {

/// Index into Content::items.
using ItemId = std::uint16_t;
/// Index into Content::resources; 0 is "no resource".
using ResourceId = std::uint8_t;
/// Index into Content::prototypes; 0 is "no structure".
using PrototypeId = std::uint16_t;
/// Index into Content::recipes.
using RecipeId = std::uint16_t;

inline constexpr ResourceId kNoResource = 0;
inline constexpr PrototypeId kNoStructure = 0;
inline constexpr RecipeId kNoRecipe = 0xFFFF;

/// A count of one item.
struct ItemStack
{
    ItemId item = 0;
    std::uint16_t count = 0;
    bool operator==(const ItemStack &) const = default;
};

struct ItemDef
{
    QString key;  ///< stable identifier used in files and on the wire, e.g. "iron_ore"
    QString name; ///< shown to players (English; the client translates)
    bool operator==(const ItemDef &) const = default;
};

/// A kind of deposit in the ground (ore, coal, stone...). Resource 0 is the
/// placeholder "none" and has an empty key.
struct ResourceDef
{
    QString key;
    QString name;
    ItemId item = 0;             ///< what an extractor gets for one unit
    std::uint16_t maxAmount = 0; ///< units a cell holds at most
    /// Share of eligible cells that start as deposits, in 1/65536.
    std::uint32_t abundance = 0;
    /// Terrains (hex::sim::Terrain values) a deposit may lie under, as a bit mask.
    std::uint8_t terrainMask = 0;
    bool operator==(const ResourceDef &) const = default;
};

/// What a structure does; its numbers come from PrototypeDef.
enum class MachineKind : std::uint8_t {
    None,      ///< prototype 0: no structure
    Extractor, ///< mines the cell's resource into items
    Conveyor,  ///< carries items from its input sides to its output side
    Assembler, ///< runs a chosen recipe
    Storage,   ///< holds items; players take and put
    Splitter,  ///< alternates items between its output sides
    Inserter,  ///< moves items out of the machine behind it into the one in front
    Seeder,    ///< turns seed items into flora on neighbouring cells
    Scrubber,  ///< removes pollution around it, using filter items
};

/// Sides are counted from a structure's orientation: side s of a structure with
/// orientation o faces neighbour slot (o + s) mod d, d = 5 or 6 neighbours. Side 0 is
/// the front. Masks have bit s set for side s.
using SideMask = std::uint8_t;

/// A kind of structure players build. Footprint: one cell.
struct PrototypeDef
{
    QString key;
    QString name;
    MachineKind kind = MachineKind::None;
    SideMask inputSides = 0;
    SideMask outputSides = 0;
    std::vector<ItemStack> buildCost; ///< taken from the builder's inventory
    std::uint16_t capacity = 0;       ///< items held (per buffer), > 0 for item machines
    /// Ticks per operation: an extraction, an item crossing a conveyor, an insert,
    /// a seeding, a scrub. Assemblers use their recipe's ticks instead.
    std::uint16_t ticksPerOperation = 1;
    std::uint8_t pollutionPerOperation = 0; ///< added to the cell's pollution
    /// Seeder: the item it plants. Scrubber: the filter item it uses up. Else unused.
    ItemId consumes = 0;
    bool hasConsumes = false;
    /// Seeder: flora it plants per operation; scrubber: pollution it removes from each
    /// neighbour per operation. Else unused.
    std::uint8_t effect = 0;
    bool operator==(const PrototypeDef &) const = default;
};

struct RecipeDef
{
    QString key;
    QString name;
    std::vector<ItemStack> inputs;   ///< consumed when a cycle starts
    std::vector<ItemStack> outputs;  ///< produced when it completes
    std::uint16_t ticks = 1;         ///< duration of one cycle
    std::vector<PrototypeId> madeIn; ///< assembler prototypes that may run it
    bool operator==(const RecipeDef &) const = default;
};

/// Flora: a Game-of-Life-like rule on the 5 or 6 neighbours. A cell is alive when
/// its flora > 0. An empty cell is born (flora = birthFlora) when its live
/// neighbours are within [birthMin, birthMax] and a chance roll succeeds; a live cell
/// survives when its live neighbours are within [surviveMin, surviveMax], and then
/// grows by growth up to maxFlora, else it withers by wither (dying at 0). On top of
/// the rule, a cell hit by the death roll ends the tick with no flora.
struct FloraRules
{
    std::uint8_t birthMin = 2, birthMax = 3;
    std::uint8_t surviveMin = 1, surviveMax = 4;
    std::uint32_t birthChance = 0; ///< per65536, per tick
    /// Per 65536, per tick, per cell (0..65536): a cell hit ends the tick with flora 0,
    /// whatever the rule gave it. Death wins over birth: an empty cell hit by both stays
    /// empty, so births happen at birthChance · (1 - deathChance / 65536). Random deaths
    /// keep flora from freezing into still patterns.
    std::uint32_t deathChance = 0;
    std::uint8_t birthFlora = 1, growth = 1, wither = 1, maxFlora = 255;
    std::uint8_t terrainMask = 0; ///< terrains flora can live on
    /// Pollution at or above this withers flora regardless of neighbours.
    std::uint8_t pollutionHarm = 255;
    /// Water at or above this is needed to be born (0: no need).
    std::uint8_t waterNeeded = 0;
    bool operator==(const FloraRules &) const = default;
};

/// Ore: deposits slowly accrete on cells next to deposits of the same kind and
/// refill toward their maximum; mining takes units away.
struct OreRules
{
    std::uint32_t accretionChance = 0; ///< per65536, per tick, per eligible cell
    std::uint8_t neighboursNeeded = 2; ///< same-kind deposit neighbours to accrete
    std::uint16_t accretionAmount = 1;
    bool operator==(const OreRules &) const = default;
};

/// Water: each cell's water flows toward its lowest neighbour by surface height
/// (elevation + water); some evaporates, rain adds some.
struct WaterRules
{
    std::uint8_t flowDivisor = 2;        ///< a cell sends (difference / flowDivisor) per tick
    std::uint32_t evaporationChance = 0; ///< per65536: lose 1 unit
    std::uint32_t rainChance = 0;        ///< per65536: gain 1 unit (land only)
    std::uint8_t maxWater = 255;
    bool operator==(const WaterRules &) const = default;
};

/// Pollution: machines emit it; it spreads to neighbours, decays, and harms flora.
struct PollutionRules
{
    /// A neighbour with less takes (difference / spreadDivisor) per tick; 6..255, so that
    /// a cell never gives away more than it has to six neighbours.
    std::uint8_t spreadDivisor = 8;
    std::uint32_t decayChance = 0; ///< per65536: lose 1 unit
    bool operator==(const PollutionRules &) const = default;
};

struct AutomatonRules
{
    FloraRules flora;
    OreRules ore;
    WaterRules water;
    PollutionRules pollution;
    bool operator==(const AutomatonRules &) const = default;
};

/// Everything the simulation reads from resources/content/*.json. Immutable once
/// loaded, so any thread may read it.
struct Content
{
    std::vector<ItemDef> items;
    std::vector<ResourceDef> resources;   ///< [0] is "none"
    std::vector<PrototypeDef> prototypes; ///< [0] is "none"
    std::vector<RecipeDef> recipes;
    AutomatonRules automaton;
    std::vector<ItemStack> startingInventory; ///< what a new player gets
    /// A digest of the files, so saves and peers can tell content apart.
    QString version;

    /// Ids by key; nullopt-like sentinel: returns false when unknown. The empty key
    /// of the "none" entries is never found. `id` may be null to test for presence;
    /// it is left alone when the key is unknown. Linear in the number of entries.
    bool findItem(const QString &key, ItemId *id) const;
    bool findPrototype(const QString &key, PrototypeId *id) const;
    bool findRecipe(const QString &key, RecipeId *id) const;
    bool findResource(const QString &key, ResourceId *id) const;

    /// Field by field, version included.
    bool operator==(const Content &) const = default;
};

/// Loads and validates every *.json file of `directory` (a path or a ":/..." resource
/// path). On failure the error names the file, the entry and the problem, e.g.
/// "recipes.json: recipe 'gear': input 'iron_plat' is not a known item.".
///
/// The files are items.json, resources.json, prototypes.json, recipes.json, rules.json
/// and automaton.json; each must be present and no other may be. They are checked in
/// that order, entries in file order, and the first problem found is the one reported,
/// so the same bad content always gives the same message. Unknown fields are errors,
/// so typos never pass silently. Once recipes.json is read, every recipe input and
/// every item a prototype consumes must be producible from resources through recipes
/// (starting inventory does not count). Never throws, never asserts on bad input.
[[nodiscard]] tl::expected<Content, QString> loadContent(const QString &directory);

/// As loadContent(), from file names and their bytes (for tests).
[[nodiscard]] tl::expected<Content, QString>
loadContentFromFiles(const std::map<QString, QByteArray> &files);

/// The content that ships with the game (embedded as the resource ":/content").
[[nodiscard]] tl::expected<Content, QString> loadDefaultContent();

} // namespace hex::sim
