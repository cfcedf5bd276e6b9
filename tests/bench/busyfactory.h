// A busy factory for the benchmarks: the world bench_sim steps and bench_persistence
// saves, so that both measure the same load.
#pragma once

#include "geometry/hexsphere.h"
#include "sim/terrain.h"
#include "sim/world.h"

#include <QString>

#include <algorithm>
#include <optional>
#include <vector>

namespace hex::bench {

using namespace hex::sim;

inline int slotOf(const geometry::HexSphere &sphere, CellId cell, CellId other)
{
    const auto nbs = sphere.neighbours(cell);
    return int(std::find(nbs.begin(), nbs.end(), other) - nbs.begin());
}

inline bool isLand(const WorldState &s, CellId c)
{
    return s.terrain[c] > std::uint8_t(Terrain::ShallowWater);
}

/// A busy factory: `chains` lines of extractor → conveyor → conveyor → furnace → chest on
/// iron deposits spread over the planet, built by one player per 50 lines through
/// ordinary actions on cells handed to them up front.
struct Factory
{
    std::vector<Action> builds;  ///< tick 0
    std::vector<Action> recipes; ///< tick 1
    int structures = 0;
};

inline Factory planFactory(WorldState &s, const Content &content, int chains)
{
    Factory f;
    ResourceId iron = 0;
    PrototypeId extractor = 0, conveyor = 0, furnace = 0, chest = 0;
    RecipeId plate = kNoRecipe;
    content.findResource(QStringLiteral("iron"), &iron);
    content.findPrototype(QStringLiteral("extractor"), &extractor);
    content.findPrototype(QStringLiteral("conveyor"), &conveyor);
    content.findPrototype(QStringLiteral("furnace"), &furnace);
    content.findPrototype(QStringLiteral("chest"), &chest);
    content.findRecipe(QStringLiteral("iron_plate"), &plate);
    const geometry::HexSphere &sphere = *s.sphere;

    std::vector<CellId> deposits;
    for (CellId c = 12; c < s.cellCount(); ++c) {
        if (s.resourceKind[c] == iron && s.resourceAmount[c] > 0 && isLand(s, c))
            deposits.push_back(c);
    }
    std::vector<std::uint8_t> taken(s.cellCount(), 0);
    const std::size_t stride = std::max<std::size_t>(1, deposits.size() / std::size_t(chains * 2));
    const PrototypeId kinds[5] = {extractor, conveyor, conveyor, furnace, chest};
    int built = 0;
    for (std::size_t i = 0; i < deposits.size() && built < chains; i += stride) {
        const CellId d = deposits[i];
        std::optional<std::vector<CellId>> found;
        for (const CellId first : sphere.neighbours(d)) {
            std::vector<CellId> line{d, first};
            while (line.size() < 5 && !geometry::HexSphere::isPentagon(line.back())) {
                const CellId cur = line.back();
                const int back = slotOf(sphere, cur, line[line.size() - 2]);
                line.push_back(sphere.neighbours(cur)[std::size_t((back + 3) % 6)]);
            }
            if (line.size() == 5 && std::all_of(line.begin(), line.end(), [&](CellId c) {
                    return !geometry::HexSphere::isPentagon(c) && isLand(s, c) && !taken[c];
                })) {
                found = line;
                break;
            }
        }
        if (!found)
            continue;
        const auto player = PlayerId(built / 50);
        if (player >= s.players.size()) {
            Player p;
            p.name = QStringLiteral("builder %1").arg(player);
            for (ItemId item = 0; item < content.items.size(); ++item)
                p.inventory[item] = 1000000;
            s.players.push_back(p);
        }
        for (int k = 0; k < 5; ++k) {
            const CellId c = (*found)[std::size_t(k)];
            taken[c] = 1;
            for (const CellId n : sphere.neighbours(c))
                taken[n] = 1;
            s.owner[c] = player;
            ++s.players[player].cellsOwned;
            Action build;
            build.kind = ActionKind::Build;
            build.player = player;
            build.cell = c;
            build.prototype = kinds[k];
            build.orientation
                = k < 4 ? std::uint8_t(slotOf(sphere, c, (*found)[std::size_t(k) + 1])) : 0;
            f.builds.push_back(build);
        }
        Action recipe;
        recipe.kind = ActionKind::SetRecipe;
        recipe.player = player;
        recipe.cell = (*found)[3];
        recipe.recipe = plate;
        f.recipes.push_back(recipe);
        ++built;
    }
    s.cellsHash = s.computeCellsHash();
    return f;
}

} // namespace hex::bench
