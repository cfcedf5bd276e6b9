#include "sim/content.h"

#include <QTest>

#include <algorithm>
#include <map>
#include <set>

using namespace hex;
using sim::Content;

namespace {

/// A tiny valid content set, one entry a line, so that each row of the error table can
/// change one thing by replacing a piece of text that occurs exactly once.
std::map<QString, QByteArray> fixture()
{
    return {
        {QStringLiteral("items.json"), R"({"items": [
    {"key": "ore", "name": "Ore"},
    {"key": "plate", "name": "Plate"},
    {"key": "gear", "name": "Gear"},
    {"key": "seeds", "name": "Seeds"}
]})"},
        {QStringLiteral("resources.json"), R"({"resources": [
    {"key": "ore_deposit", "name": "Ore deposit", "item": "ore", "maxAmount": 100, "abundance": 1000, "terrains": ["rock", "desert"]}
]})"},
        {QStringLiteral("prototypes.json"), R"({"prototypes": [
    {"key": "extractor", "name": "Extractor", "kind": "extractor", "inputSides": [], "outputSides": [0], "buildCost": {"plate": 2}, "capacity": 10, "ticksPerOperation": 30, "pollutionPerOperation": 1},
    {"key": "conveyor", "name": "Conveyor", "kind": "conveyor", "inputSides": [3], "outputSides": [0], "buildCost": {"plate": 1}, "capacity": 4, "ticksPerOperation": 8},
    {"key": "furnace", "name": "Furnace", "kind": "assembler", "inputSides": [2, 4], "outputSides": [1], "buildCost": {"plate": 5}, "capacity": 20, "ticksPerOperation": 1, "pollutionPerOperation": 3},
    {"key": "seeder", "name": "Seeder", "kind": "seeder", "inputSides": [5], "outputSides": [], "buildCost": {"gear": 2}, "capacity": 12, "ticksPerOperation": 60, "consumes": "seeds", "effect": 16}
]})"},
        {QStringLiteral("recipes.json"), R"({"recipes": [
    {"key": "plate", "name": "Smelt", "inputs": {"ore": 1}, "outputs": {"plate": 1}, "ticks": 32, "madeIn": ["furnace"]},
    {"key": "gear", "name": "Cut", "inputs": {"plate": 2}, "outputs": {"gear": 1}, "ticks": 20, "madeIn": ["furnace"]},
    {"key": "seeds", "name": "Sprout", "inputs": {"gear": 1}, "outputs": {"seeds": 2}, "ticks": 50, "madeIn": ["furnace"]}
]})"},
        {QStringLiteral("rules.json"), R"({"startingInventory": {"plate": 10}})"},
        {QStringLiteral("automaton.json"), R"({
    "flora": {"birthMin": 2, "birthMax": 3, "surviveMin": 1, "surviveMax": 4, "birthChance": 300, "deathChance": 40, "birthFlora": 1, "growth": 1, "wither": 2, "maxFlora": 200, "terrainMask": ["grassland", "forest"], "pollutionHarm": 100, "waterNeeded": 0},
    "ore": {"accretionChance": 5, "neighboursNeeded": 2, "accretionAmount": 1},
    "water": {"flowDivisor": 2, "evaporationChance": 100, "rainChance": 50, "maxWater": 255},
    "pollution": {"spreadDivisor": 8, "decayChance": 2000}
})"},
    };
}

/// The longest chain of recipes from mined items to each item, where each item counts
/// the shortest way to make it (so cycles cannot inflate it). Unmakeable items stay -1.
std::vector<int> recipeDepths(const Content &content)
{
    std::vector<int> depth(content.items.size(), -1);
    for (std::size_t r = 1; r < content.resources.size(); ++r)
        depth[content.resources[r].item] = 0;
    for (bool changed = true; changed;) {
        changed = false;
        for (const sim::RecipeDef &recipe : content.recipes) {
            int deepest = 0;
            bool runs = true;
            for (const sim::ItemStack &in : recipe.inputs) {
                runs = runs && depth[in.item] >= 0;
                deepest = std::max(deepest, depth[in.item]);
            }
            if (!runs)
                continue;
            for (const sim::ItemStack &out : recipe.outputs) {
                if (depth[out.item] < 0) {
                    depth[out.item] = deepest + 1;
                    changed = true;
                }
            }
        }
    }
    return depth;
}

} // namespace

class tst_Content : public QObject
{
    Q_OBJECT
private slots:
    void shippedContentLoads_data();
    void shippedContentLoads();
    void bothLoadersAgree();
    void shippedContentIsAGame();
    void startingInventoryBuildsAFirstFactory();
    void fixtureLoads();
    void findByKey_data();
    void findByKey();
    void versionFollowsTheBytes();
    void automatonEdgeValues_data();
    void automatonEdgeValues();
    void invalidContent_data();
    void invalidContent();
    void missingDirectory();
};

void tst_Content::shippedContentLoads_data()
{
    QTest::addColumn<bool>("embedded");
    QTest::newRow("from the source tree") << false;
    QTest::newRow("from the embedded resource") << true;
}

void tst_Content::shippedContentLoads()
{
    QFETCH(bool, embedded);
    const auto loaded = embedded
                            ? sim::loadDefaultContent()
                            : sim::loadContent(QStringLiteral(HEX_SOURCE_DIR "/resources/content"));
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error()));
    const Content &content = *loaded;

    QVERIFY(content.recipes.size() >= 8);
    QCOMPARE(content.version.size(), 16);

    // Every kind of machine is there.
    std::set<sim::MachineKind> kinds;
    for (std::size_t p = 1; p < content.prototypes.size(); ++p)
        kinds.insert(content.prototypes[p].kind);
    for (sim::MachineKind kind :
         {sim::MachineKind::Extractor, sim::MachineKind::Conveyor, sim::MachineKind::Assembler,
          sim::MachineKind::Storage, sim::MachineKind::Splitter, sim::MachineKind::Inserter,
          sim::MachineKind::Seeder, sim::MachineKind::Scrubber})
        QVERIFY2(kinds.count(kind), qPrintable(QStringLiteral("no kind %1").arg(int(kind))));

    // The "none" entries and every id in range.
    QCOMPARE(content.prototypes.at(0).kind, sim::MachineKind::None);
    QVERIFY(content.prototypes.at(0).key.isEmpty());
    QVERIFY(content.resources.at(0).key.isEmpty());
    const std::size_t itemCount = content.items.size();
    const auto inRange = [&](const std::vector<sim::ItemStack> &stacks) {
        return std::all_of(stacks.begin(), stacks.end(), [&](const sim::ItemStack &s) {
            return s.item < itemCount && s.count > 0;
        });
    };
    for (std::size_t r = 1; r < content.resources.size(); ++r) {
        QVERIFY(content.resources[r].item < itemCount);
        QVERIFY(content.resources[r].terrainMask != 0);
        QVERIFY(content.resources[r].abundance > 0);
    }
    for (std::size_t p = 1; p < content.prototypes.size(); ++p) {
        const sim::PrototypeDef &prototype = content.prototypes[p];
        QVERIFY(inRange(prototype.buildCost));
        QVERIFY(prototype.capacity > 0);
        QVERIFY(prototype.ticksPerOperation > 0);
        QVERIFY(!prototype.hasConsumes || prototype.consumes < itemCount);
    }
    for (const sim::RecipeDef &recipe : content.recipes) {
        QVERIFY(inRange(recipe.inputs));
        QVERIFY(inRange(recipe.outputs));
        QVERIFY(!recipe.outputs.empty());
        QVERIFY(!recipe.madeIn.empty());
        for (sim::PrototypeId p : recipe.madeIn) {
            QVERIFY(p > 0 && p < content.prototypes.size());
            QCOMPARE(content.prototypes[p].kind, sim::MachineKind::Assembler);
        }
    }
    QVERIFY(inRange(content.startingInventory));

    // Chains of three steps at least: gather, process, combine, produce.
    const std::vector<int> depth = recipeDepths(content);
    const int longest = *std::max_element(depth.begin(), depth.end());
    QVERIFY2(longest >= 3, qPrintable(QStringLiteral("longest chain %1").arg(longest)));
}

void tst_Content::bothLoadersAgree()
{
    const auto fromTree = sim::loadContent(QStringLiteral(HEX_SOURCE_DIR "/resources/content"));
    const auto embedded = sim::loadDefaultContent();
    QVERIFY(fromTree);
    QVERIFY(embedded);
    QCOMPARE(embedded->version, fromTree->version);
    QVERIFY(*embedded == *fromTree);
}

void tst_Content::shippedContentIsAGame()
{
    const auto loaded = sim::loadDefaultContent();
    QVERIFY(loaded);
    const Content &content = *loaded;

    // Every item can be mined or made, so nothing in the files is dead weight, and
    // every building can be paid for from the factory's own output.
    const std::vector<int> depth = recipeDepths(content);
    for (std::size_t i = 0; i < content.items.size(); ++i)
        QVERIFY2(depth[i] >= 0, qPrintable(content.items[i].key));

    // The seeder plants seeds and the scrubber uses filters: both reachable.
    for (const char *key : {"seeder", "scrubber"}) {
        sim::PrototypeId id = 0;
        QVERIFY2(content.findPrototype(QLatin1String(key), &id), key);
        QVERIFY(content.prototypes[id].hasConsumes);
        QVERIFY(content.prototypes[id].effect > 0);
        QVERIFY(depth[content.prototypes[id].consumes] >= 1);
    }
    // Machines that burn or grind pollute; the scrubber does not.
    for (const char *key : {"extractor", "furnace", "assembler"}) {
        sim::PrototypeId id = 0;
        QVERIFY2(content.findPrototype(QLatin1String(key), &id), key);
        QVERIFY2(content.prototypes[id].pollutionPerOperation > 0, key);
    }
    sim::PrototypeId scrubber = 0;
    QVERIFY(content.findPrototype(QStringLiteral("scrubber"), &scrubber));
    QCOMPARE(content.prototypes[scrubber].pollutionPerOperation, std::uint8_t(0));
}

void tst_Content::startingInventoryBuildsAFirstFactory()
{
    const auto loaded = sim::loadDefaultContent();
    QVERIFY(loaded);
    const Content &content = *loaded;

    std::map<sim::ItemId, int> inventory;
    for (const sim::ItemStack &stack : content.startingInventory)
        inventory[stack.item] += stack.count;
    const auto build = [&](const char *key, int times) {
        sim::PrototypeId id = 0;
        if (!content.findPrototype(QLatin1String(key), &id))
            return false;
        for (const sim::ItemStack &cost : content.prototypes[id].buildCost)
            inventory[cost.item] -= cost.count * times;
        return true;
    };
    QVERIFY(build("extractor", 1));
    QVERIFY(build("furnace", 1));
    QVERIFY(build("conveyor", 10));
    QVERIFY(build("chest", 1));
    for (const auto &[item, left] : inventory)
        QVERIFY2(left >= 0, qPrintable(content.items[item].key));
}

void tst_Content::fixtureLoads()
{
    const auto loaded = sim::loadContentFromFiles(fixture());
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error()));
    const Content &content = *loaded;

    QCOMPARE(content.items.size(), std::size_t(4));
    QCOMPARE(content.resources.size(), std::size_t(2));
    QCOMPARE(content.prototypes.size(), std::size_t(5));
    QCOMPARE(content.recipes.size(), std::size_t(3));

    const sim::ResourceDef &deposit = content.resources[1];
    QCOMPARE(deposit.item, sim::ItemId(0));
    QCOMPARE(deposit.maxAmount, std::uint16_t(100));
    QCOMPARE(deposit.abundance, 1000u);
    QCOMPARE(deposit.terrainMask, std::uint8_t(1u << 6 | 1u << 5)); // rock, desert

    const sim::PrototypeDef &furnace = content.prototypes[3];
    QCOMPARE(furnace.kind, sim::MachineKind::Assembler);
    QCOMPARE(furnace.inputSides, sim::SideMask(0b10100));
    QCOMPARE(furnace.outputSides, sim::SideMask(0b00010));
    QCOMPARE(furnace.pollutionPerOperation, std::uint8_t(3));
    QCOMPARE(content.prototypes[2].pollutionPerOperation, std::uint8_t(0)); // optional

    const sim::PrototypeDef &seeder = content.prototypes[4];
    QVERIFY(seeder.hasConsumes);
    QCOMPARE(seeder.consumes, sim::ItemId(3));
    QCOMPARE(seeder.effect, std::uint8_t(16));
    QVERIFY(!content.prototypes[1].hasConsumes);

    const sim::RecipeDef &gear = content.recipes[1];
    QCOMPARE(gear.inputs, (std::vector<sim::ItemStack>{{1, 2}}));
    QCOMPARE(gear.outputs, (std::vector<sim::ItemStack>{{2, 1}}));
    QCOMPARE(gear.ticks, std::uint16_t(20));
    QCOMPARE(gear.madeIn, (std::vector<sim::PrototypeId>{3}));

    QCOMPARE(content.startingInventory, (std::vector<sim::ItemStack>{{1, 10}}));

    const sim::AutomatonRules &rules = content.automaton;
    QCOMPARE(rules.flora.birthChance, 300u);
    QCOMPARE(rules.flora.deathChance, 40u);
    QCOMPARE(rules.flora.wither, std::uint8_t(2));
    QCOMPARE(rules.flora.maxFlora, std::uint8_t(200));
    QCOMPARE(rules.flora.terrainMask, std::uint8_t(1u << 3 | 1u << 4)); // grassland, forest
    QCOMPARE(rules.flora.pollutionHarm, std::uint8_t(100));
    QCOMPARE(rules.ore.accretionChance, 5u);
    QCOMPARE(rules.water.evaporationChance, 100u);
    QCOMPARE(rules.water.rainChance, 50u);
    QCOMPARE(rules.pollution.spreadDivisor, std::uint8_t(8));
    QCOMPARE(rules.pollution.decayChance, 2000u);
}

void tst_Content::findByKey_data()
{
    QTest::addColumn<QString>("table");
    QTest::addColumn<QString>("key");
    QTest::addColumn<bool>("found");
    QTest::addColumn<int>("id");
    QTest::newRow("first item") << "item"
                                << "ore" << true << 0;
    QTest::newRow("last item") << "item"
                               << "seeds" << true << 3;
    QTest::newRow("unknown item") << "item"
                                  << "wood" << false << -1;
    QTest::newRow("prototype ids start after none") << "prototype"
                                                    << "extractor" << true << 1;
    QTest::newRow("none prototype is not found by its empty key") << "prototype"
                                                                  << "" << false << -1;
    QTest::newRow("recipe") << "recipe"
                            << "seeds" << true << 2;
    QTest::newRow("an item key is not a prototype key") << "prototype"
                                                        << "plate" << false << -1;
    QTest::newRow("resource ids start after none") << "resource"
                                                   << "ore_deposit" << true << 1;
    QTest::newRow("none resource is not found by its empty key") << "resource"
                                                                 << "" << false << -1;
}

void tst_Content::findByKey()
{
    QFETCH(QString, table);
    QFETCH(QString, key);
    QFETCH(bool, found);
    QFETCH(int, id);
    const auto loaded = sim::loadContentFromFiles(fixture());
    QVERIFY(loaded);
    const Content &content = *loaded;

    constexpr int kUntouched = 0x7777;
    bool result = false;
    int got = kUntouched;
    if (table == QLatin1String("item")) {
        sim::ItemId v = kUntouched;
        result = content.findItem(key, &v);
        got = v;
        QCOMPARE(content.findItem(key, nullptr), result);
    } else if (table == QLatin1String("prototype")) {
        sim::PrototypeId v = kUntouched;
        result = content.findPrototype(key, &v);
        got = v;
        QCOMPARE(content.findPrototype(key, nullptr), result);
    } else if (table == QLatin1String("recipe")) {
        sim::RecipeId v = kUntouched;
        result = content.findRecipe(key, &v);
        got = v;
        QCOMPARE(content.findRecipe(key, nullptr), result);
    } else {
        sim::ResourceId v = 0x77;
        result = content.findResource(key, &v);
        got = v == 0x77 ? kUntouched : v;
        QCOMPARE(content.findResource(key, nullptr), result);
    }
    QCOMPARE(result, found);
    QCOMPARE(got, found ? id : kUntouched);
}

void tst_Content::versionFollowsTheBytes()
{
    const auto a = sim::loadContentFromFiles(fixture());
    const auto b = sim::loadContentFromFiles(fixture());
    auto files = fixture();
    // Same meaning, different bytes: a peer with this file is running other content.
    files[QStringLiteral("rules.json")] = R"({"startingInventory": {"plate": 10}} )";
    const auto c = sim::loadContentFromFiles(files);
    QVERIFY(a && b && c);
    QCOMPARE(a->version, b->version);
    QVERIFY(a->version != c->version);
    QCOMPARE(a->version.size(), 16);
    for (QChar ch : a->version)
        QVERIFY((ch >= u'0' && ch <= u'9') || (ch >= u'a' && ch <= u'f'));
}

void tst_Content::automatonEdgeValues_data()
{
    // The fixture's automaton.json with these two values, each at the edge of its range
    // in some row: it loads as written.
    QTest::addColumn<int>("deathChance");
    QTest::addColumn<int>("spreadDivisor");
    QTest::newRow("death chance 0: flora never dies at random") << 0 << 8;
    QTest::newRow("death chance 65536: every cell dies each tick") << 65536 << 8;
    QTest::newRow("spread divisor 6, the least") << 40 << 6;
    QTest::newRow("spread divisor 255, the most") << 40 << 255;
}

void tst_Content::automatonEdgeValues()
{
    QFETCH(int, deathChance);
    QFETCH(int, spreadDivisor);
    auto files = fixture();
    QString text = QString::fromUtf8(files.at(QStringLiteral("automaton.json")));
    const QString death = QStringLiteral(R"("deathChance": 40)");
    const QString spread = QStringLiteral(R"("spreadDivisor": 8)");
    QCOMPARE(text.count(death), 1);
    QCOMPARE(text.count(spread), 1);
    text.replace(death, QStringLiteral(R"("deathChance": %1)").arg(deathChance));
    text.replace(spread, QStringLiteral(R"("spreadDivisor": %1)").arg(spreadDivisor));
    files[QStringLiteral("automaton.json")] = text.toUtf8();
    const auto loaded = sim::loadContentFromFiles(files);
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error()));
    QCOMPARE(int(loaded->automaton.flora.deathChance), deathChance);
    QCOMPARE(int(loaded->automaton.pollution.spreadDivisor), spreadDivisor);
}

void tst_Content::invalidContent_data()
{
    // Each row changes the fixture once: in `file`, the text `from` (which must occur
    // exactly once) becomes `to`. An empty `from` replaces the whole file with `to`, or
    // removes the file when `to` is empty too.
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("error");

    QTest::newRow("recipe input is not a known item")
        << "recipes.json"
        << R"("inputs": {"plate": 2})"
        << R"("inputs": {"plat": 2})"
        << "recipes.json: recipe 'gear': input 'plat' is not a known item.";
    QTest::newRow("recipe cycle with no source")
        << "recipes.json"
        << R"("inputs": {"plate": 2})"
        << R"("inputs": {"seeds": 1})"
        << "recipes.json: recipe 'gear': input 'seeds' can never be made: no extractor or "
           "recipe produces it from a source (a cycle with no source).";
    QTest::newRow("consumed item nothing makes")
        << "recipes.json"
        << R"("outputs": {"seeds": 2})"
        << R"("outputs": {"gear": 2})"
        << "prototypes.json: prototype 'seeder': consumed item 'seeds' can never be made: no "
           "extractor or recipe produces it.";
    QTest::newRow("smelting fed by its own product")
        << "recipes.json"
        << R"("inputs": {"ore": 1})"
        << R"("inputs": {"seeds": 1})"
        << "recipes.json: recipe 'plate': input 'seeds' can never be made: no extractor or "
           "recipe produces it from a source (a cycle with no source).";
    QTest::newRow("negative ticks per operation")
        << "prototypes.json"
        << R"("ticksPerOperation": 8)"
        << R"("ticksPerOperation": -3)"
        << "prototypes.json: prototype 'conveyor': field 'ticksPerOperation' must be a whole "
           "number from 1 to 65535, not -3.";
    QTest::newRow("fractional recipe ticks")
        << "recipes.json"
        << R"("ticks": 20)"
        << R"("ticks": 2.5)"
        << "recipes.json: recipe 'gear': field 'ticks' must be a whole number from 1 to 65535, "
           "not 2.5.";
    QTest::newRow("ticks as a string")
        << "recipes.json"
        << R"("ticks": 20)"
        << R"("ticks": "20")"
        << "recipes.json: recipe 'gear': field 'ticks' must be a whole number from 1 to 65535, "
           "not \"20\".";
    QTest::newRow("zero count of an input")
        << "recipes.json"
        << R"("inputs": {"plate": 2})"
        << R"("inputs": {"plate": 0})"
        << "recipes.json: recipe 'gear': the count of input 'plate' must be a whole number from "
           "1 to 65535, not 0.";
    QTest::newRow("typo in a field name")
        << "prototypes.json"
        << R"("ticksPerOperation": 8)"
        << R"("tickPerOperation": 8)"
        << "prototypes.json: prototype 'conveyor': unknown field 'tickPerOperation'.";
    QTest::newRow("typo in the top-level field") << "items.json"
                                                 << R"({"items": [)"
                                                 << R"({"item": [)"
                                                 << "items.json: unknown field 'item'.";
    QTest::newRow("duplicate item key")
        << "items.json"
        << R"("key": "gear")"
        << R"("key": "plate")"
        << "items.json: item 'plate': the key is already used by item #2.";
    QTest::newRow("key with capitals")
        << "items.json"
        << R"("key": "ore")"
        << R"("key": "Ore")"
        << "items.json: item 'Ore': field 'key' must be 1 to 64 lowercase letters, digits or "
           "underscores, not \"Ore\".";
    QTest::newRow("missing name") << "items.json"
                                  << R"({"key": "gear", "name": "Gear"})"
                                  << R"({"key": "gear"})"
                                  << "items.json: item 'gear': missing required field 'name'.";
    QTest::newRow("entry without a key is named by position")
        << "items.json"
        << R"({"key": "gear", "name": "Gear"})"
        << R"({"name": "Gear"})"
        << "items.json: item #3: missing required field 'key'.";
    QTest::newRow("entry that is not an object")
        << "items.json"
        << R"({"key": "gear", "name": "Gear"})"
        << R"("gear")"
        << "items.json: item #3 must be an object, not \"gear\".";
    QTest::newRow("malformed JSON")
        << "items.json"
        << R"({"key": "gear", "name": "Gear"})"
        << R"({"key": "gear", "name")"
        << "items.json: not valid JSON: missing name separator at offset 113.";
    QTest::newRow("top level is an array")
        << "rules.json"
        << ""
        << "[]"
        << "rules.json: the top level must be a JSON object, not an array.";
    QTest::newRow("missing file") << "rules.json"
                                  << ""
                                  << ""
                                  << "rules.json: the file is missing.";
    QTest::newRow("unknown extra file")
        << "recipe.json"
        << ""
        << "{}"
        << "recipe.json: not a content file (expected items.json, resources.json, "
           "prototypes.json, recipes.json, rules.json, automaton.json).";
    QTest::newRow("unknown terrain")
        << "resources.json"
        << R"("desert")"
        << R"("swamp")"
        << "resources.json: resource 'ore_deposit': terrain 'swamp' is unknown (expected one of "
           "deep_water, shallow_water, sand, grassland, forest, desert, rock, snow).";
    QTest::newRow("resource mines an unknown item")
        << "resources.json"
        << R"("item": "ore")"
        << R"("item": "gold")"
        << "resources.json: resource 'ore_deposit': item 'gold' is not a known item.";
    QTest::newRow("abundance above one in one")
        << "resources.json"
        << R"("abundance": 1000)"
        << R"("abundance": 65537)"
        << "resources.json: resource 'ore_deposit': field 'abundance' must be a whole number "
           "from 0 to 65536, not 65537.";
    QTest::newRow("side out of range")
        << "prototypes.json"
        << R"("inputSides": [3])"
        << R"("inputSides": [6])"
        << "prototypes.json: prototype 'conveyor': field 'inputSides' must list whole numbers "
           "from 0 to 5, not 6.";
    QTest::newRow("side listed twice")
        << "prototypes.json"
        << R"("inputSides": [2, 4])"
        << R"("inputSides": [2, 2])"
        << "prototypes.json: prototype 'furnace': field 'inputSides' lists side 2 twice.";
    QTest::newRow("side both input and output")
        << "prototypes.json"
        << R"("inputSides": [3])"
        << R"("inputSides": [0])"
        << "prototypes.json: prototype 'conveyor': side 0 is both an input and an output side.";
    QTest::newRow("conveyor with two outputs")
        << "prototypes.json"
        << R"("inputSides": [3], "outputSides": [0])"
        << R"("inputSides": [3], "outputSides": [0, 1])"
        << "prototypes.json: prototype 'conveyor': field 'outputSides' must list exactly 1 side "
           "for kind 'conveyor', not 2.";
    QTest::newRow("extractor with an input side")
        << "prototypes.json"
        << R"("inputSides": [], "outputSides": [0])"
        << R"("inputSides": [3], "outputSides": [0])"
        << "prototypes.json: prototype 'extractor': field 'inputSides' must list no sides for "
           "kind 'extractor', not 1.";
    QTest::newRow("conveyor holding more than a lane")
        << "prototypes.json"
        << R"("capacity": 4)"
        << R"("capacity": 9)"
        << "prototypes.json: prototype 'conveyor': field 'capacity' must be a whole number from "
           "1 to 8 for kind 'conveyor', not 9.";
    QTest::newRow("unknown kind")
        << "prototypes.json"
        << R"("kind": "conveyor")"
        << R"("kind": "belt")"
        << "prototypes.json: prototype 'conveyor': kind 'belt' is unknown (expected one of "
           "extractor, conveyor, assembler, storage, splitter, inserter, seeder, scrubber).";
    QTest::newRow("build cost in an unknown item")
        << "prototypes.json"
        << R"("buildCost": {"gear": 2})"
        << R"("buildCost": {"gears": 2})"
        << "prototypes.json: prototype 'seeder': build cost 'gears' is not a known item.";
    QTest::newRow("consumes on a conveyor")
        << "prototypes.json"
        << R"("ticksPerOperation": 8)"
        << R"("ticksPerOperation": 8, "consumes": "seeds")"
        << "prototypes.json: prototype 'conveyor': field 'consumes' is only for kinds 'seeder' "
           "and 'scrubber'.";
    QTest::newRow("seeder without consumes")
        << "prototypes.json"
        << R"("consumes": "seeds", )"
        << ""
        << "prototypes.json: prototype 'seeder': missing required field 'consumes'.";
    QTest::newRow("made in a conveyor")
        << "recipes.json"
        << R"("ticks": 20, "madeIn": ["furnace"])"
        << R"("ticks": 20, "madeIn": ["conveyor"])"
        << "recipes.json: recipe 'gear': made in 'conveyor', which is of kind 'conveyor', not "
           "'assembler'.";
    QTest::newRow("made in an unknown prototype")
        << "recipes.json"
        << R"("ticks": 20, "madeIn": ["furnace"])"
        << R"("ticks": 20, "madeIn": ["forge"])"
        << "recipes.json: recipe 'gear': made in 'forge', which is not a known prototype.";
    QTest::newRow("recipe with no outputs")
        << "recipes.json"
        << R"("outputs": {"gear": 1})"
        << R"("outputs": {})"
        << "recipes.json: recipe 'gear': field 'outputs' must list at least one item.";
    QTest::newRow("recipe outputs as an array")
        << "recipes.json"
        << R"("outputs": {"gear": 1})"
        << R"("outputs": ["gear"])"
        << "recipes.json: recipe 'gear': field 'outputs' must be an object of item counts, not "
           "an array.";
    QTest::newRow("duplicate recipe key")
        << "recipes.json"
        << R"("key": "seeds")"
        << R"("key": "gear")"
        << "recipes.json: recipe 'gear': the key is already used by recipe #2.";
    QTest::newRow("starting inventory of an unknown item")
        << "rules.json"
        << R"({"plate": 10})"
        << R"({"plates": 10})"
        << "rules.json: starting item 'plates' is not a known item.";
    QTest::newRow("flora birth chance above one in one")
        << "automaton.json"
        << R"("birthChance": 300)"
        << R"("birthChance": 70000)"
        << "automaton.json: flora: field 'birthChance' must be a whole number from 0 to 65536, "
           "not 70000.";
    QTest::newRow("flora without a death chance")
        << "automaton.json"
        << R"("deathChance": 40, )"
        << ""
        << "automaton.json: flora: missing required field 'deathChance'.";
    QTest::newRow("flora death chance above one in one")
        << "automaton.json"
        << R"("deathChance": 40)"
        << R"("deathChance": 65537)"
        << "automaton.json: flora: field 'deathChance' must be a whole number from 0 to 65536, "
           "not 65537.";
    QTest::newRow("negative flora death chance")
        << "automaton.json"
        << R"("deathChance": 40)"
        << R"("deathChance": -1)"
        << "automaton.json: flora: field 'deathChance' must be a whole number from 0 to 65536, "
           "not -1.";
    QTest::newRow("fractional flora death chance")
        << "automaton.json"
        << R"("deathChance": 40)"
        << R"("deathChance": 0.5)"
        << "automaton.json: flora: field 'deathChance' must be a whole number from 0 to 65536, "
           "not 0.5.";
    QTest::newRow("flora birth range upside down")
        << "automaton.json"
        << R"("birthMin": 2)"
        << R"("birthMin": 5)"
        << "automaton.json: flora: field 'birthMin' (5) must not be greater than field "
           "'birthMax' (3).";
    QTest::newRow("missing automaton section")
        << "automaton.json"
        << R"("ore": {"accretionChance": 5, "neighboursNeeded": 2, "accretionAmount": 1},)"
        << ""
        << "automaton.json: missing required field 'ore'.";
    QTest::newRow("typo in an automaton field")
        << "automaton.json"
        << R"("decayChance")"
        << R"("decayChanse")"
        << "automaton.json: pollution: unknown field 'decayChanse'.";
    QTest::newRow("pollution spread divisor that gives away more than a cell has")
        << "automaton.json"
        << R"("spreadDivisor": 8)"
        << R"("spreadDivisor": 5)"
        << "automaton.json: pollution: field 'spreadDivisor' must be a whole number from 6 to "
           "255, not 5.";
    QTest::newRow("pollution spread divisor above a byte")
        << "automaton.json"
        << R"("spreadDivisor": 8)"
        << R"("spreadDivisor": 256)"
        << "automaton.json: pollution: field 'spreadDivisor' must be a whole number from 6 to "
           "255, not 256.";
    QTest::newRow("zero flow divisor")
        << "automaton.json"
        << R"("flowDivisor": 2)"
        << R"("flowDivisor": 0)"
        << "automaton.json: water: field 'flowDivisor' must be a whole number from 1 to 255, "
           "not 0.";
}

void tst_Content::invalidContent()
{
    QFETCH(QString, file);
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(QString, error);

    auto files = fixture();
    if (from.isEmpty() && to.isEmpty()) {
        QVERIFY(files.erase(file) == 1);
    } else if (from.isEmpty()) {
        files[file] = to.toUtf8();
    } else {
        QString text = QString::fromUtf8(files.at(file));
        QCOMPARE(text.count(from), 1);
        files[file] = text.replace(from, to).toUtf8();
    }

    const auto loaded = sim::loadContentFromFiles(files);
    QVERIFY(!loaded);
    QCOMPARE(loaded.error(), error);
}

void tst_Content::missingDirectory()
{
    const QString dir = QStringLiteral(HEX_SOURCE_DIR "/resources/no-such-content");
    const auto loaded = sim::loadContent(dir);
    QVERIFY(!loaded);
    QCOMPARE(loaded.error(), dir + QStringLiteral(": the content directory does not exist."));
}

QTEST_APPLESS_MAIN(tst_Content)
#include "tst_content.moc"
