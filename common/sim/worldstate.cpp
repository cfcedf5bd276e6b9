#include "worldstate.h"

namespace hex::sim {

namespace {

template<typename T>
std::uint64_t layerHash(const std::vector<T> &array, Layer layer)
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

} // namespace hex::sim
