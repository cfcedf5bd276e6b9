// A small world with players who build factories, for the persistence tests: a run with
// structures, machines holding items, joins and refused actions, the same every time.
#pragma once

#include "geometry/hexsphere.h"
#include "sim/content.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QString>
#include <QtGlobal>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace hex::test {

inline std::shared_ptr<const sim::Content> shippedContent()
{
    static std::shared_ptr<const sim::Content> content = [] {
        auto loaded = sim::loadContent(QStringLiteral(HEX_SOURCE_DIR "/resources/content"));
        if (!loaded) {
            qWarning("content: %s", qPrintable(loaded.error()));
            return std::shared_ptr<const sim::Content>();
        }
        return std::make_shared<const sim::Content>(std::move(*loaded));
    }();
    return content;
}

inline int slotOf(const geometry::HexSphere &sphere, sim::CellId cell, sim::CellId other)
{
    const auto nbs = sphere.neighbours(cell);
    return int(std::find(nbs.begin(), nbs.end(), other) - nbs.begin());
}

inline bool isLand(const sim::WorldState &s, sim::CellId cell)
{
    return s.terrain[cell] != std::uint8_t(sim::Terrain::DeepWater)
           && s.terrain[cell] != std::uint8_t(sim::Terrain::ShallowWater);
}

/// Five land hexagons in a straight line, the first on a deposit of `kind`, none in
/// `taken`.
inline std::optional<std::vector<sim::CellId>>
findLine(const sim::WorldState &s, sim::ResourceId kind, const std::set<sim::CellId> &taken)
{
    const geometry::HexSphere &sphere = *s.sphere;
    for (sim::CellId d = 12; d < s.cellCount(); ++d) {
        if (s.resourceKind[d] != kind || s.resourceAmount[d] == 0 || taken.count(d))
            continue;
        for (const sim::CellId first : sphere.neighbours(d)) {
            std::vector<sim::CellId> line{d, first};
            while (line.size() < 5 && !geometry::HexSphere::isPentagon(line.back())) {
                const sim::CellId cur = line.back();
                const sim::CellId prev = line[line.size() - 2];
                line.push_back(
                    sphere.neighbours(cur)[std::size_t((slotOf(sphere, cur, prev) + 3) % 6)]);
            }
            const bool usable
                = line.size() == 5 && std::all_of(line.begin(), line.end(), [&](sim::CellId c) {
                      return !geometry::HexSphere::isPentagon(c) && isLand(s, c) && !taken.count(c);
                  });
            if (usable)
                return line;
        }
    }
    return std::nullopt;
}

/// What players do, by tick (relative to the tick the script was made at): players 0 and
/// 1 claim a line each and build extractor, conveyors, furnace, chest; one steals a
/// claim (refused), takes plates out, turns a conveyor, removes one. Player 2 joins at
/// +40 and claims a cell at +41.
struct Script
{
    std::map<std::uint64_t, std::vector<sim::Action>> byTick;
    std::map<std::uint64_t, QString> joins;

    /// Joins and actions due before the step that completes tick world.tick + 1.
    void queue(sim::World &world) const
    {
        const std::uint64_t tick = world.state().tick;
        if (const auto j = joins.find(tick); j != joins.end())
            world.addPlayer(j->second);
        if (const auto it = byTick.find(tick); it != byTick.end()) {
            for (const sim::Action &a : it->second)
                world.queueAction(a);
        }
    }
};

/// The script for a world at its current tick, whose players 0 and 1 exist.
inline Script makeScript(const sim::WorldState &s, const sim::Content &content)
{
    Script script;
    const std::uint64_t base = s.tick;
    sim::ResourceId iron = 0;
    sim::PrototypeId extractor = 0, conveyor = 0, furnace = 0, chest = 0;
    sim::RecipeId plate = sim::kNoRecipe;
    sim::ItemId plateItem = 0;
    content.findResource(QStringLiteral("iron"), &iron);
    content.findPrototype(QStringLiteral("extractor"), &extractor);
    content.findPrototype(QStringLiteral("conveyor"), &conveyor);
    content.findPrototype(QStringLiteral("furnace"), &furnace);
    content.findPrototype(QStringLiteral("chest"), &chest);
    content.findRecipe(QStringLiteral("iron_plate"), &plate);
    content.findItem(QStringLiteral("iron_plate"), &plateItem);
    const geometry::HexSphere &sphere = *s.sphere;
    std::set<sim::CellId> taken;
    std::uint32_t seq = 0;
    for (sim::PlayerId player = 0; player < 2; ++player) {
        const auto line = findLine(s, iron, taken);
        if (!line)
            break;
        const std::vector<sim::CellId> &l = *line;
        for (sim::CellId c : l) {
            taken.insert(c);
            for (sim::CellId n : sphere.neighbours(c))
                taken.insert(n);
        }
        const std::uint64_t start = base + 2 + player * 3;
        auto action = [&](sim::ActionKind kind, sim::CellId cell) {
            sim::Action a;
            a.kind = kind;
            a.player = player;
            a.cell = cell;
            a.clientSeq = ++seq;
            return a;
        };
        for (sim::CellId c : l)
            script.byTick[start].push_back(action(sim::ActionKind::Claim, c));
        const sim::PrototypeId kinds[5] = {extractor, conveyor, conveyor, furnace, chest};
        for (int i = 0; i < 5; ++i) {
            sim::Action build = action(sim::ActionKind::Build, l[std::size_t(i)]);
            build.prototype = kinds[i];
            build.orientation
                = i < 4 ? std::uint8_t(slotOf(sphere, l[std::size_t(i)], l[std::size_t(i) + 1]))
                        : 0;
            script.byTick[start + 1].push_back(build);
        }
        sim::Action recipe = action(sim::ActionKind::SetRecipe, l[3]);
        recipe.recipe = plate;
        script.byTick[start + 2].push_back(recipe);
        sim::Action steal = action(sim::ActionKind::Claim, l[0]);
        steal.player = sim::PlayerId(1 - player);
        script.byTick[start].push_back(steal);
        sim::Action take = action(sim::ActionKind::TakeItems, l[4]);
        take.items = sim::ItemStack{plateItem, 1};
        script.byTick[base + 200 + player].push_back(take);
        sim::Action rotate = action(sim::ActionKind::Rotate, l[1]);
        rotate.orientation = std::uint8_t((slotOf(sphere, l[1], l[2]) + 1) % 6);
        script.byTick[base + 230].push_back(rotate);
        rotate.orientation = std::uint8_t(slotOf(sphere, l[1], l[2]));
        script.byTick[base + 240].push_back(rotate);
        script.byTick[base + 280].push_back(action(sim::ActionKind::Remove, l[2]));
    }
    script.joins[base + 40] = QStringLiteral("Cy");
    for (sim::CellId c = 12; c < s.cellCount(); ++c) {
        if (!taken.count(c) && isLand(s, c)) {
            sim::Action claim;
            claim.kind = sim::ActionKind::Claim;
            claim.player = 2;
            claim.cell = c;
            claim.clientSeq = ++seq;
            script.byTick[base + 41].push_back(claim);
            break;
        }
    }
    return script;
}

/// A new world of n = `subdivisions` with players Ada and Bo.
inline std::unique_ptr<sim::World> newWorld(int subdivisions = 16, std::uint64_t seed = 20240611)
{
    auto world = std::make_unique<sim::World>(
        std::make_shared<const geometry::HexSphere>(subdivisions), shippedContent(), seed, 1);
    world->addPlayer(QStringLiteral("Ada"));
    world->addPlayer(QStringLiteral("Bo"));
    return world;
}

/// Whether some machine holds items (in a buffer or on a belt).
inline bool machinesHoldItems(const sim::WorldState &s)
{
    return std::any_of(s.machines.begin(), s.machines.end(), [](const auto &entry) {
        const sim::MachineState &m = entry.second;
        return !m.input.empty() || !m.output.empty() || m.lane.count > 0;
    });
}

} // namespace hex::test
