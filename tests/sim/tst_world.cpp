#include "geometry/hexsphere.h"
#include "sim/parttimes.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>

using namespace hex;
using namespace hex::sim;

namespace {

constexpr std::uint64_t kSeed = 20240611;
constexpr int kSubdivisions = 32;

QString contentDirectory()
{
    return QStringLiteral(HEX_SOURCE_DIR "/resources/content");
}

std::shared_ptr<const Content> shippedContent()
{
    static std::shared_ptr<const Content> content = [] {
        auto loaded = loadContent(contentDirectory());
        if (!loaded) {
            qWarning("content: %s", qPrintable(loaded.error()));
            return std::shared_ptr<const Content>();
        }
        return std::make_shared<const Content>(std::move(*loaded));
    }();
    return content;
}

std::shared_ptr<const geometry::HexSphere> sphere()
{
    static const auto s = std::make_shared<const geometry::HexSphere>(kSubdivisions);
    return s;
}

bool isLand(const WorldState &s, CellId cell)
{
    return s.terrain[cell] != std::uint8_t(Terrain::DeepWater)
           && s.terrain[cell] != std::uint8_t(Terrain::ShallowWater);
}

int slotOf(const geometry::HexSphere &sphere, CellId cell, CellId other)
{
    const auto nbs = sphere.neighbours(cell);
    return int(std::find(nbs.begin(), nbs.end(), other) - nbs.begin());
}

/// Five land hexagons in a straight line, the first on a deposit of `kind`, none in
/// `taken`: extractor, conveyor, conveyor, furnace, chest.
std::optional<std::vector<CellId>> findLine(const WorldState &s, ResourceId kind,
                                            const std::set<CellId> &taken)
{
    const geometry::HexSphere &sphere = *s.sphere;
    for (CellId d = 12; d < s.cellCount(); ++d) {
        if (s.resourceKind[d] != kind || s.resourceAmount[d] == 0 || taken.count(d))
            continue;
        for (const CellId first : sphere.neighbours(d)) {
            std::vector<CellId> line{d, first};
            while (line.size() < 5 && !geometry::HexSphere::isPentagon(line.back())) {
                const CellId cur = line.back();
                const CellId prev = line[line.size() - 2];
                line.push_back(
                    sphere.neighbours(cur)[std::size_t((slotOf(sphere, cur, prev) + 3) % 6)]);
            }
            const bool usable
                = line.size() == 5 && std::all_of(line.begin(), line.end(), [&](CellId c) {
                      return !geometry::HexSphere::isPentagon(c) && isLand(s, c) && !taken.count(c);
                  });
            if (usable)
                return line;
        }
    }
    return std::nullopt;
}

/// Actions by tick: two players each claim a line and build a small factory on it,
/// later rotate, take items and remove things.
struct Script
{
    std::map<std::uint64_t, std::vector<Action>> byTick;
    std::vector<std::vector<CellId>> lines;

    void queue(World &world) const
    {
        const auto it = byTick.find(world.state().tick);
        if (it == byTick.end())
            return;
        for (const Action &a : it->second)
            world.queueAction(a);
    }
};

Script makeScript(const WorldState &s, const Content &content)
{
    Script script;
    ResourceId iron = 0;
    PrototypeId extractor = 0, conveyor = 0, furnace = 0, chest = 0;
    RecipeId plate = kNoRecipe;
    ItemId plateItem = 0;
    content.findResource(QStringLiteral("iron"), &iron);
    content.findPrototype(QStringLiteral("extractor"), &extractor);
    content.findPrototype(QStringLiteral("conveyor"), &conveyor);
    content.findPrototype(QStringLiteral("furnace"), &furnace);
    content.findPrototype(QStringLiteral("chest"), &chest);
    content.findRecipe(QStringLiteral("iron_plate"), &plate);
    content.findItem(QStringLiteral("iron_plate"), &plateItem);
    const geometry::HexSphere &sphere = *s.sphere;
    std::set<CellId> taken;
    for (PlayerId player = 0; player < 2; ++player) {
        const auto line = findLine(s, iron, taken);
        if (!line)
            break;
        script.lines.push_back(*line);
        const std::vector<CellId> &l = *line;
        for (CellId c : l) {
            taken.insert(c);
            for (CellId n : sphere.neighbours(c))
                taken.insert(n);
        }
        const std::uint64_t start = 2 + player * 3;
        auto action = [&](ActionKind kind, CellId cell) {
            Action a;
            a.kind = kind;
            a.player = player;
            a.cell = cell;
            a.clientSeq = std::uint32_t(script.byTick.size() * 100 + cell % 100);
            return a;
        };
        for (CellId c : l)
            script.byTick[start].push_back(action(ActionKind::Claim, c));
        const PrototypeId kinds[5] = {extractor, conveyor, conveyor, furnace, chest};
        for (int i = 0; i < 5; ++i) {
            Action build = action(ActionKind::Build, l[std::size_t(i)]);
            build.prototype = kinds[i];
            build.orientation
                = i < 4 ? std::uint8_t(slotOf(sphere, l[std::size_t(i)], l[std::size_t(i) + 1]))
                        : 0;
            script.byTick[start + 1].push_back(build);
        }
        Action recipe = action(ActionKind::SetRecipe, l[3]);
        recipe.recipe = plate;
        script.byTick[start + 2].push_back(recipe);
        // A conflict: the other player claims the same cell in the same tick, later.
        Action steal = action(ActionKind::Claim, l[0]);
        steal.player = PlayerId(1 - player);
        script.byTick[start].push_back(steal);
        // Later: take plates out of the chest, turn a conveyor away and back, remove it.
        Action take = action(ActionKind::TakeItems, l[4]);
        take.items = ItemStack{plateItem, 1};
        script.byTick[600 + player].push_back(take);
        Action rotate = action(ActionKind::Rotate, l[1]);
        rotate.orientation = std::uint8_t((slotOf(sphere, l[1], l[2]) + 1) % 6);
        script.byTick[700].push_back(rotate);
        rotate.orientation = std::uint8_t(slotOf(sphere, l[1], l[2]));
        script.byTick[720].push_back(rotate);
        script.byTick[900].push_back(action(ActionKind::Remove, l[2]));
    }
    return script;
}

/// A fresh world with two players and the script, run from its tick to `to`.
std::unique_ptr<World> newWorld(int threads)
{
    auto world = std::make_unique<World>(sphere(), shippedContent(), kSeed, threads);
    world->addPlayer(QStringLiteral("Ada"));
    world->addPlayer(QStringLiteral("Bo"));
    return world;
}

void runTo(World &world, const Script &script, std::uint64_t to)
{
    while (world.state().tick < to) {
        script.queue(world);
        world.step();
    }
}

std::uint64_t scriptedHash(int threads, std::uint64_t ticks)
{
    auto world = newWorld(threads);
    const Script script = makeScript(world->state(), world->content());
    runTo(*world, script, ticks);
    return world->stateHash();
}

/// Cells whose per-cell layers differ between two states.
std::set<CellId> changedCells(const WorldState &a, const WorldState &b)
{
    std::set<CellId> cells;
    for (CellId c = 0; c < a.cellCount(); ++c) {
        if (a.terrain[c] != b.terrain[c] || a.elevation[c] != b.elevation[c]
            || a.resourceKind[c] != b.resourceKind[c] || a.resourceAmount[c] != b.resourceAmount[c]
            || a.flora[c] != b.flora[c] || a.water[c] != b.water[c]
            || a.pollution[c] != b.pollution[c] || a.structure[c] != b.structure[c]
            || a.orientation[c] != b.orientation[c] || a.owner[c] != b.owner[c])
            cells.insert(c);
    }
    return cells;
}

double aliveShare(const WorldState &s, const Content &content, std::uint32_t *eligible)
{
    std::uint32_t soil = 0;
    std::uint32_t alive = 0;
    for (CellId c = 0; c < s.cellCount(); ++c) {
        if (!(content.automaton.flora.terrainMask >> s.terrain[c] & 1))
            continue;
        ++soil;
        alive += s.flora[c] != 0;
    }
    *eligible = soil;
    return soil == 0 ? 0.0 : double(alive) / soil;
}

} // namespace

class tst_World : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void scriptBuildsAFactory();
    void sameActionsSameHash_data();
    void sameActionsSameHash();
    void threadCountMayChangeMidway();
    void saveAndRestore();
    void incrementalHashMatchesFull();
    void simulateMatchesSteps();
    void deltasListChangedCells();
    void playersStartWithTheContentInventory();
    void floraLivesOnAnUntouchedWorld_data();
    void floraLivesOnAnUntouchedWorld();
    void rulesComeFromAutomatonJson_data();
    void rulesComeFromAutomatonJson();
    void changedRulesChangeTheWorld();
    void generatedWorldIsComplete();
    void partTimesHandOutLongestFirst();

private:
    std::uint64_t m_referenceHash = 0;
};

void tst_World::initTestCase()
{
    QVERIFY2(shippedContent(), "the shipped content must load");
    m_referenceHash = scriptedHash(1, 1000);
}

void tst_World::scriptBuildsAFactory()
{
    auto world = newWorld(2);
    const Script script = makeScript(world->state(), world->content());
    QCOMPARE(script.lines.size(), std::size_t(2));
    std::vector<ActionResult> results;
    while (world->state().tick < 20) {
        script.queue(*world);
        const StepResult r = world->step();
        results.insert(results.end(), r.actions.begin(), r.actions.end());
    }
    const int accepted = int(std::count_if(results.begin(), results.end(),
                                           [](const ActionResult &r) { return r.accepted(); }));
    // Per player: five claims, five builds, one recipe; the rival claim is refused.
    QCOMPARE(accepted, 2 * 11);
    QCOMPARE(results.size(), std::size_t(2 * 12));
    for (const auto &line : script.lines) {
        for (const CellId c : line)
            QVERIFY(world->state().structure[c] != kNoStructure);
    }
    runTo(*world, script, 500);
    // The extractors have been mining.
    for (const auto &line : script.lines) {
        QVERIFY(world->state().resourceAmount[line[0]]
                < generateWorld(sphere(), world->content(), kSeed).resourceAmount[line[0]]);
    }
}

void tst_World::sameActionsSameHash_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("one thread, run again") << 1;
    QTest::newRow("two threads") << 2;
    QTest::newRow("three threads") << 3;
    QTest::newRow("four threads") << 4;
}

void tst_World::sameActionsSameHash()
{
    QFETCH(int, threads);
    QCOMPARE(scriptedHash(threads, 1000), m_referenceHash);
}

void tst_World::threadCountMayChangeMidway()
{
    auto world = newWorld(1);
    const Script script = makeScript(world->state(), world->content());
    runTo(*world, script, 300);
    world->setThreadCount(4);
    QCOMPARE(world->threadCount(), 4);
    runTo(*world, script, 700);
    world->setThreadCount(2);
    runTo(*world, script, 1000);
    QCOMPARE(world->stateHash(), m_referenceHash);
}

void tst_World::saveAndRestore()
{
    auto world = newWorld(2);
    const Script script = makeScript(world->state(), world->content());
    runTo(*world, script, 500);
    WorldState saved = world->state();
    // A save holds no cached hash worth trusting: the restored world recomputes it.
    saved.cellsHash = 0;
    World restored(std::move(saved), shippedContent(), 2);
    QCOMPARE(restored.stateHash(), world->stateHash());
    runTo(restored, script, 1000);
    QCOMPARE(restored.stateHash(), m_referenceHash);
    runTo(*world, script, 1000);
    QVERIFY(restored.state() == world->state());
}

void tst_World::incrementalHashMatchesFull()
{
    auto world = newWorld(2);
    const Script script = makeScript(world->state(), world->content());
    QCOMPARE(world->stateHash(), world->fullStateHash());
    for (const std::uint64_t at : {1u, 10u, 100u, 500u, 1000u}) {
        runTo(*world, script, at);
        QCOMPARE(world->stateHash(), world->fullStateHash());
        QCOMPARE(world->state().cellsHash, world->state().computeCellsHash());
    }
}

void tst_World::simulateMatchesSteps()
{
    auto stepped = newWorld(1);
    auto simulated = newWorld(2);
    for (int t = 0; t < 200; ++t)
        stepped->step();
    QCOMPARE(simulated->simulate(200), stepped->stateHash());
    QCOMPARE(simulated->state().tick, std::uint64_t(200));
    QVERIFY(simulated->state() == stepped->state());
}

void tst_World::deltasListChangedCells()
{
    auto world = newWorld(2);
    const Script script = makeScript(world->state(), world->content());
    const geometry::HexSphere &s = *sphere();
    std::size_t seen = 0;
    std::size_t pentagonsListed = 0; // they are listed apart (first in their chunks)
    while (world->state().tick < 60) {
        script.queue(*world);
        const WorldState before = world->state();
        const StepResult r = world->step();
        QCOMPARE(r.tick, world->state().tick);
        QCOMPARE(r.stateHash, world->stateHash());
        const std::set<CellId> expected = changedCells(before, world->state());
        std::set<CellId> listed;
        for (std::size_t i = 0; i < r.deltas.size(); ++i) {
            const ChunkDelta &d = r.deltas[i];
            if (i > 0)
                QVERIFY(r.deltas[i - 1].chunk < d.chunk);
            QVERIFY(!d.cells.empty());
            QVERIFY(std::is_sorted(d.cells.begin(), d.cells.end()));
            for (const CellId c : d.cells) {
                QCOMPARE(s.chunkOf(c), d.chunk);
                QVERIFY(listed.insert(c).second);
                pentagonsListed += geometry::HexSphere::isPentagon(c) ? 1 : 0;
            }
        }
        // Every changed cell is listed; a listed cell whose layers did not change holds a
        // machine that did.
        for (const CellId c : expected)
            QVERIFY2(listed.count(c), qPrintable(QStringLiteral("cell %1").arg(c)));
        for (const CellId c : listed) {
            if (expected.count(c))
                continue;
            const auto was = before.machines.find(c);
            const auto now = world->state().machines.find(c);
            QVERIFY2(was != before.machines.end() && now != world->state().machines.end()
                         && !(was->second == now->second),
                     qPrintable(QStringLiteral("cell %1 listed but unchanged").arg(c)));
        }
        seen += expected.size();
    }
    QVERIFY(seen > 100);
    QVERIFY(pentagonsListed > 0);
}

void tst_World::playersStartWithTheContentInventory()
{
    World world(sphere(), shippedContent(), kSeed);
    const std::uint64_t before = world.stateHash();
    QCOMPARE(world.addPlayer(QStringLiteral("Ada")), PlayerId(0));
    QCOMPARE(world.addPlayer(QStringLiteral("Bo")), PlayerId(1));
    QVERIFY(world.stateHash() != before);
    const Player &bo = world.state().players[1];
    QCOMPARE(bo.name, QStringLiteral("Bo"));
    QCOMPARE(bo.cellsOwned, 0u);
    QVERIFY(!world.content().startingInventory.empty());
    for (const ItemStack &stack : world.content().startingInventory)
        QCOMPARE(bo.inventory.at(stack.item), std::uint32_t(stack.count));
}

void tst_World::floraLivesOnAnUntouchedWorld_data()
{
    QTest::addColumn<int>("ticks");
    QTest::addColumn<int>("window");
    QTest::addColumn<double>("minFlips");
    // Without random deaths the flora settles into still patterns after some 5,000
    // ticks, and late windows see well under 1 % of the cells come or go.
    QTest::newRow("after 1,000 ticks: alive and changing") << 1000 << 100 << 0.005;
    QTest::newRow("after 20,000 ticks: still alive and changing") << 20000 << 2000 << 0.05;
}

void tst_World::floraLivesOnAnUntouchedWorld()
{
    QFETCH(int, ticks);
    QFETCH(int, window);
    QFETCH(double, minFlips);
    World world(sphere(), shippedContent(), kSeed, 2);
    std::uint32_t eligible = 0;
    const double start = aliveShare(world.state(), world.content(), &eligible);
    QVERIFY(eligible > 1000);
    QVERIFY(start > 0.0);
    world.simulate(std::uint64_t(ticks - window));
    const CellArray<std::uint8_t> before = world.state().flora;
    world.simulate(std::uint64_t(window));
    const double end = aliveShare(world.state(), world.content(), &eligible);
    QVERIFY2(
        end > 0.10 && end < 0.60,
        qPrintable(
            QStringLiteral("%1 of flora-eligible cells alive after %2 ticks").arg(end).arg(ticks)));
    std::uint32_t flips = 0;
    for (CellId c = 0; c < world.state().cellCount(); ++c)
        flips += (before[c] != 0) != (world.state().flora[c] != 0);
    QVERIFY2(flips > eligible * minFlips,
             qPrintable(QStringLiteral("only %1 of %2 flora-eligible cells came or went in the "
                                       "last %3 ticks")
                            .arg(flips)
                            .arg(eligible)
                            .arg(window)));
}

void tst_World::rulesComeFromAutomatonJson_data()
{
    QTest::addColumn<QString>("group");
    QTest::addColumn<QString>("field");
    const char *const fields[][2] = {
        {"flora", "birthMin"},
        {"flora", "birthMax"},
        {"flora", "surviveMin"},
        {"flora", "surviveMax"},
        {"flora", "birthChance"},
        {"flora", "deathChance"},
        {"flora", "birthFlora"},
        {"flora", "growth"},
        {"flora", "wither"},
        {"flora", "maxFlora"},
        {"flora", "pollutionHarm"},
        {"flora", "waterNeeded"},
        {"ore", "accretionChance"},
        {"ore", "neighboursNeeded"},
        {"ore", "accretionAmount"},
        {"water", "flowDivisor"},
        {"water", "evaporationChance"},
        {"water", "rainChance"},
        {"water", "maxWater"},
        {"pollution", "spreadDivisor"},
        {"pollution", "decayChance"},
    };
    for (const auto &f : fields)
        QTest::newRow(
            qPrintable(QStringLiteral("%1.%2").arg(QLatin1String(f[0]), QLatin1String(f[1]))))
            << QString::fromLatin1(f[0]) << QString::fromLatin1(f[1]);
}

void tst_World::rulesComeFromAutomatonJson()
{
    QFETCH(QString, group);
    QFETCH(QString, field);
    QFile file(contentDirectory() + QStringLiteral("/automaton.json"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    const qint64 inFile = json.value(group).toObject().value(field).toInteger(-1);
    QVERIFY2(inFile >= 0, "every rule is spelled out in the file");

    const AutomatonRules &r = shippedContent()->automaton;
    const std::map<QString, qint64> loaded = {
        {"flora.birthMin", r.flora.birthMin},
        {"flora.birthMax", r.flora.birthMax},
        {"flora.surviveMin", r.flora.surviveMin},
        {"flora.surviveMax", r.flora.surviveMax},
        {"flora.birthChance", r.flora.birthChance},
        {"flora.deathChance", r.flora.deathChance},
        {"flora.birthFlora", r.flora.birthFlora},
        {"flora.growth", r.flora.growth},
        {"flora.wither", r.flora.wither},
        {"flora.maxFlora", r.flora.maxFlora},
        {"flora.pollutionHarm", r.flora.pollutionHarm},
        {"flora.waterNeeded", r.flora.waterNeeded},
        {"ore.accretionChance", r.ore.accretionChance},
        {"ore.neighboursNeeded", r.ore.neighboursNeeded},
        {"ore.accretionAmount", r.ore.accretionAmount},
        {"water.flowDivisor", r.water.flowDivisor},
        {"water.evaporationChance", r.water.evaporationChance},
        {"water.rainChance", r.water.rainChance},
        {"water.maxWater", r.water.maxWater},
        {"pollution.spreadDivisor", r.pollution.spreadDivisor},
        {"pollution.decayChance", r.pollution.decayChance},
    };
    QCOMPARE(loaded.at(group + QLatin1Char('.') + field), inFile);
}

void tst_World::changedRulesChangeTheWorld()
{
    // The same files with flora never born: the planet evolves differently.
    std::map<QString, QByteArray> files;
    for (const QString &name : {QStringLiteral("items.json"), QStringLiteral("resources.json"),
                                QStringLiteral("prototypes.json"), QStringLiteral("recipes.json"),
                                QStringLiteral("rules.json"), QStringLiteral("automaton.json")}) {
        QFile f(contentDirectory() + QLatin1Char('/') + name);
        QVERIFY(f.open(QIODevice::ReadOnly));
        files[name] = f.readAll();
    }
    QJsonObject automaton = QJsonDocument::fromJson(files["automaton.json"]).object();
    QJsonObject flora = automaton.value("flora").toObject();
    QVERIFY(flora.value("birthChance").toInt() > 0);
    flora.insert("birthChance", 0);
    automaton.insert("flora", flora);
    files["automaton.json"] = QJsonDocument(automaton).toJson();
    auto barren = loadContentFromFiles(files);
    QVERIFY2(barren, barren ? "" : qPrintable(barren.error()));

    World shipped(sphere(), shippedContent(), kSeed);
    World changed(sphere(), std::make_shared<const Content>(*barren), kSeed);
    QCOMPARE(changed.stateHash(), shipped.stateHash()); // the same planet at tick 0
    shipped.simulate(100);
    changed.simulate(100);
    std::uint32_t eligible = 0;
    QVERIFY(aliveShare(changed.state(), *barren, &eligible)
            < aliveShare(shipped.state(), *shippedContent(), &eligible));
}

void tst_World::generatedWorldIsComplete()
{
    const Content &content = *shippedContent();
    const WorldState a = generateWorld(sphere(), content, kSeed);
    const WorldState b = generateWorld(sphere(), content, kSeed);
    QVERIFY(a == b);
    QVERIFY(!(a == generateWorld(sphere(), content, kSeed + 1)));
    const std::uint32_t n = sphere()->cellCount();
    QCOMPARE(a.cellCount(), n);
    for (const auto *layer : {&a.flora, &a.water, &a.pollution, &a.orientation})
        QCOMPARE(layer->size(), std::size_t(n));
    QCOMPARE(a.cellsHash, a.computeCellsHash());
    QVERIFY(std::all_of(a.owner.begin(), a.owner.end(), [](PlayerId p) { return p == kNoPlayer; }));
    QVERIFY(std::all_of(a.structure.begin(), a.structure.end(),
                        [](PrototypeId p) { return p == kNoStructure; }));
    QVERIFY(a.machines.empty() && a.players.empty());
    // Every resource has deposits, only on its terrains; lakes only on land.
    std::vector<std::uint32_t> deposits(content.resources.size(), 0);
    std::uint32_t wet = 0;
    for (CellId c = 0; c < n; ++c) {
        const ResourceId kind = a.resourceKind[c];
        if (kind != kNoResource) {
            ++deposits[kind];
            QVERIFY(content.resources[kind].terrainMask >> a.terrain[c] & 1);
            QVERIFY(a.resourceAmount[c] > 0
                    && a.resourceAmount[c] <= content.resources[kind].maxAmount);
        }
        if (a.water[c] != 0) {
            ++wet;
            QVERIFY(isLand(a, c));
        }
    }
    for (std::size_t r = 1; r < deposits.size(); ++r)
        QVERIFY2(deposits[r] > 0, qPrintable(content.resources[r].key));
    QVERIFY(wet > 0);
}

void tst_World::partTimesHandOutLongestFirst()
{
    PartTimes times;
    std::array<std::uint32_t, kMaxAutomatonParts> order{};
    const auto orderOf = [&](AutomatonPhase phase, int parts) {
        times.order(phase, parts, order);
        return std::vector<std::uint32_t>(order.begin(), order.begin() + parts);
    };
    using Order = std::vector<std::uint32_t>;
    // Nothing measured: part order.
    QCOMPARE(orderOf(AutomatonPhase::Read, 4), (Order{0, 1, 2, 3}));
    times.record(AutomatonPhase::Read, 4, 0, 100);
    times.record(AutomatonPhase::Read, 4, 1, 400);
    times.record(AutomatonPhase::Read, 4, 2, 0); // not run: ignored
    times.record(AutomatonPhase::Read, 4, 3, 200);
    QCOMPARE(orderOf(AutomatonPhase::Read, 4), (Order{1, 3, 0, 2}));
    // Each phase keeps its own times.
    QCOMPARE(orderOf(AutomatonPhase::Write, 4), (Order{0, 1, 2, 3}));
    // A quarter of each new time: one slow run of part 0 moves it up, not to the front.
    times.record(AutomatonPhase::Read, 4, 0, 500); // 100 + 400 / 4 = 200: ties part 3
    QCOMPARE(times.times(AutomatonPhase::Read, 4), (std::vector<double>{200, 400, 0, 200}));
    QCOMPARE(orderOf(AutomatonPhase::Read, 4), (Order{1, 0, 3, 2}));
    // Another part count: the old times say nothing about the new parts.
    QCOMPARE(orderOf(AutomatonPhase::Read, 8), (Order{0, 1, 2, 3, 4, 5, 6, 7}));
    QCOMPARE(times.times(AutomatonPhase::Read, 8), std::vector<double>(8, 0.0));
}

QTEST_GUILESS_MAIN(tst_World)
#include "tst_world.moc"
