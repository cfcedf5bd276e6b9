#include "worldstate.h"

namespace hex::sim {

namespace {

template<typename T>
std::uint64_t layerHash(const CellArray<T> &array, Layer layer)
{
    std::uint64_t hash = 0;
    for (std::size_t cell = 0; cell < array.size(); ++cell)
        hash ^= cellValueHash(CellId(cell), layer, std::uint32_t(array[cell]));
    return hash;
}

} // namespace

std::uint64_t WorldState::computeCellsHash() const
{
    return layerHash(terrain, Layer::Terrain) ^ layerHash(elevation, Layer::Elevation)
           ^ layerHash(resourceKind, Layer::ResourceKind)
           ^ layerHash(resourceAmount, Layer::ResourceAmount) ^ layerHash(flora, Layer::Flora)
           ^ layerHash(water, Layer::Water) ^ layerHash(pollution, Layer::Pollution)
           ^ layerHash(structure, Layer::Structure) ^ layerHash(orientation, Layer::Orientation)
           ^ layerHash(owner, Layer::Owner);
}

WorldState WorldState::blank(std::shared_ptr<const geometry::HexSphere> sphere, std::uint64_t seed)
{
    WorldState state;
    const std::uint32_t count = sphere->cellCount();
    state.sphere = std::move(sphere);
    state.seed = seed;
    state.terrain.assign(count, 0);
    state.elevation.assign(count, 0);
    state.resourceKind.assign(count, kNoResource);
    state.resourceAmount.assign(count, 0);
    state.flora.assign(count, 0);
    state.water.assign(count, 0);
    state.pollution.assign(count, 0);
    state.structure.assign(count, kNoStructure);
    state.orientation.assign(count, 0);
    state.owner.assign(count, kNoPlayer);
    state.cellsHash = state.computeCellsHash();
    return state;
}

} // namespace hex::sim
