#include "worldcodec.h"

#include <QCoreApplication>

#include <algorithm>
#include <cstring>
#include <span>

namespace hex::protocol {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("hex::protocol", text);
}

std::string bytesOf(std::span<const std::uint8_t> values)
{
    return std::string(reinterpret_cast<const char *>(values.data()), values.size());
}

std::string bytesOf(std::span<const std::uint16_t> values)
{
    std::string out(values.size() * 2, '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
        out[2 * i] = char(values[i] & 0xFF);
        out[2 * i + 1] = char(values[i] >> 8);
    }
    return out;
}

template<typename T>
void appendValue(std::string &out, T value)
{
    out.push_back(char(value & 0xFF));
    if constexpr (sizeof(T) == 2)
        out.push_back(char(value >> 8));
}

template<typename T>
T valueAt(const std::string &bytes, std::size_t index)
{
    if constexpr (sizeof(T) == 1)
        return T(std::uint8_t(bytes[index]));
    else
        return T(std::uint8_t(bytes[2 * index]) | std::uint8_t(bytes[2 * index + 1]) << 8);
}

template<typename T>
bool unpack(const std::string &bytes, std::uint32_t count, std::vector<T> &out)
{
    if (bytes.size() != std::size_t(count) * sizeof(T))
        return false;
    out.resize(count);
    for (std::uint32_t i = 0; i < count; ++i)
        out[i] = valueAt<T>(bytes, i);
    return true;
}

} // namespace

VisibleCells visibleCells(const sim::WorldState &state)
{
    const auto copy = [](const auto &array) {
        return std::vector<typename std::decay_t<decltype(array)>::value_type>(array.begin(),
                                                                               array.end());
    };
    return {copy(state.terrain),      copy(state.elevation), copy(state.flora),
            copy(state.water),        copy(state.pollution), copy(state.resourceKind),
            copy(state.structure),    copy(state.orientation), copy(state.owner)};
}

void encodeSnapshot(const sim::WorldState &state, Snapshot *out)
{
    out->set_tick(state.tick);
    out->set_terrain(bytesOf(state.terrain));
    out->set_elevation(bytesOf(state.elevation));
    out->set_flora(bytesOf(state.flora));
    out->set_water(bytesOf(state.water));
    out->set_pollution(bytesOf(state.pollution));
    out->set_resource(bytesOf(state.resourceKind));
    out->set_structure(bytesOf(state.structure));
    out->set_orientation(bytesOf(state.orientation));
    out->set_owner(bytesOf(state.owner));
}

namespace {

/// Writes `cells` and their current values into a ChunkDelta or a ChunkSnapshot: the
/// living layers and structures always, terrain and elevation where `Message` has them.
template<typename Message>
void encodeCells(const sim::WorldState &state, std::span<const geometry::CellId> cells,
                 Message *out)
{
    constexpr bool withGround = requires(Message m)
    {
        m.set_terrain(std::string());
    };
    const std::size_t n = cells.size();
    std::string terrain, elevation, flora, water, pollution, resource, structure, orientation,
        owner;
    for (std::string *field : {&flora, &water, &pollution, &resource, &orientation})
        field->reserve(n);
    if constexpr (withGround) {
        terrain.reserve(n);
        elevation.reserve(n);
    }
    structure.reserve(2 * n);
    owner.reserve(2 * n);
    out->mutable_cells()->Reserve(int(n));
    for (const geometry::CellId cell : cells) {
        out->add_cells(cell);
        if constexpr (withGround) {
            appendValue(terrain, state.terrain[cell]);
            appendValue(elevation, state.elevation[cell]);
        }
        appendValue(flora, state.flora[cell]);
        appendValue(water, state.water[cell]);
        appendValue(pollution, state.pollution[cell]);
        appendValue(resource, state.resourceKind[cell]);
        appendValue(structure, state.structure[cell]);
        appendValue(orientation, state.orientation[cell]);
        appendValue(owner, state.owner[cell]);
    }
    if constexpr (withGround) {
        out->set_terrain(std::move(terrain));
        out->set_elevation(std::move(elevation));
    }
    out->set_flora(std::move(flora));
    out->set_water(std::move(water));
    out->set_pollution(std::move(pollution));
    out->set_resource(std::move(resource));
    out->set_structure(std::move(structure));
    out->set_orientation(std::move(orientation));
    out->set_owner(std::move(owner));
}

} // namespace

void encodeChunkSnapshot(const sim::WorldState &state, geometry::ChunkId chunk, ChunkSnapshot *out)
{
    out->set_tick(state.tick);
    out->set_chunk(chunk);
    encodeCells(state, state.sphere->chunkCells(chunk), out);
}

void encodeChunkDelta(const sim::WorldState &state, const sim::ChunkDelta &delta, ChunkDelta *out)
{
    out->set_chunk(delta.chunk);
    encodeCells(state, delta.cells, out);
}

void forEachMachine(const sim::WorldState &state, geometry::ChunkId chunk,
                    const std::function<void(geometry::CellId, const sim::MachineState &)> &visit)
{
    const std::span<const geometry::CellId> cells = state.sphere->chunkCells(chunk);
    if (cells.empty() || state.machines.empty())
        return;
    // Pentagons come first and stand apart; the other cells of a chunk are consecutive.
    std::size_t first = 0;
    for (; first < cells.size() && geometry::HexSphere::isPentagon(cells[first]); ++first) {
        const auto found = state.machines.find(cells[first]);
        if (found != state.machines.end())
            visit(found->first, found->second);
    }
    if (first == cells.size())
        return;
    const geometry::CellId last = cells.back();
    for (auto it = state.machines.lower_bound(cells[first]);
         it != state.machines.end() && it->first <= last; ++it)
        visit(it->first, it->second);
}

void encodeMachineView(const sim::WorldState &state, const sim::Content &content,
                       geometry::CellId cell, const sim::MachineState &machine, MachineView *out)
{
    out->set_cell(cell);
    out->set_progress(machine.progress);
    out->set_running(machine.running);
    const sim::PrototypeId prototype = state.structure[cell];
    std::uint32_t duration = 0;
    if (prototype < content.prototypes.size()) {
        const sim::PrototypeDef &def = content.prototypes[prototype];
        duration = std::max<std::uint32_t>(1, def.ticksPerOperation);
        if (def.kind == sim::MachineKind::Assembler) {
            duration = machine.recipe < content.recipes.size()
                           ? std::max<std::uint32_t>(1, content.recipes[machine.recipe].ticks)
                           : 0;
        }
    }
    out->set_duration(duration);
    for (int i = 0; i < machine.lane.count; ++i) {
        out->add_lane_items(machine.lane.items[std::size_t(i)]);
        out->add_lane_progress(machine.lane.progress[std::size_t(i)]);
    }
}

void encodeChunkMachines(const sim::WorldState &state, const sim::Content &content,
                         geometry::ChunkId chunk, ChunkMachines *out)
{
    out->set_chunk(chunk);
    out->set_full(true);
    forEachMachine(state, chunk, [&](geometry::CellId cell, const sim::MachineState &machine) {
        encodeMachineView(state, content, cell, machine, out->add_machines());
    });
}

tl::expected<VisibleCells, QString> decodeSnapshot(const Snapshot &s, std::uint32_t cellCount)
{
    VisibleCells cells;
    const struct
    {
        const char *name;
        bool ok;
    } fields[] = {
        {"terrain", unpack(s.terrain(), cellCount, cells.terrain)},
        {"elevation", unpack(s.elevation(), cellCount, cells.elevation)},
        {"flora", unpack(s.flora(), cellCount, cells.flora)},
        {"water", unpack(s.water(), cellCount, cells.water)},
        {"pollution", unpack(s.pollution(), cellCount, cells.pollution)},
        {"resource", unpack(s.resource(), cellCount, cells.resource)},
        {"structure", unpack(s.structure(), cellCount, cells.structure)},
        {"orientation", unpack(s.orientation(), cellCount, cells.orientation)},
        {"owner", unpack(s.owner(), cellCount, cells.owner)},
    };
    for (const auto &field : fields) {
        if (!field.ok) {
            return tl::make_unexpected(
                tr("The snapshot's %1 field does not hold one value for each of the %2 cells.")
                    .arg(QLatin1String(field.name))
                    .arg(cellCount));
        }
    }
    return cells;
}

tl::expected<void, QString> checkChunkDelta(const ChunkDelta &delta,
                                            const geometry::HexSphere &sphere,
                                            std::uint32_t mirrorCells)
{
    if (delta.chunk() >= sphere.chunkCount())
        return tl::make_unexpected(tr("A delta names chunk %1, but the world has %2 chunks.")
                                       .arg(delta.chunk())
                                       .arg(sphere.chunkCount()));
    if (mirrorCells != sphere.cellCount())
        return tl::make_unexpected(tr("A delta arrived before the snapshot."));
    const std::size_t n = std::size_t(delta.cells_size());
    const struct
    {
        const char *name;
        std::size_t size;
        std::size_t width;
    } fields[] = {
        {"flora", delta.flora().size(), 1},         {"water", delta.water().size(), 1},
        {"pollution", delta.pollution().size(), 1}, {"resource", delta.resource().size(), 1},
        {"structure", delta.structure().size(), 2}, {"orientation", delta.orientation().size(), 1},
        {"owner", delta.owner().size(), 2},
    };
    for (const auto &field : fields) {
        if (field.size != n * field.width) {
            return tl::make_unexpected(
                tr("The delta of chunk %1 lists %2 cells but its %3 field does not match.")
                    .arg(delta.chunk())
                    .arg(n)
                    .arg(QLatin1String(field.name)));
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        const geometry::CellId cell = delta.cells(int(i));
        if (cell >= sphere.cellCount() || sphere.chunkOf(cell) != delta.chunk()
            || (i > 0 && cell <= delta.cells(int(i - 1)))) {
            return tl::make_unexpected(
                tr("The delta of chunk %1 lists cell %2, which is out of order or not in "
                   "that chunk.")
                    .arg(delta.chunk())
                    .arg(cell));
        }
    }
    return {};
}

void writeChunkDelta(const ChunkDelta &delta, VisibleCells &cells,
                     std::vector<geometry::CellId> *changed)
{
    const std::size_t n = std::size_t(delta.cells_size());
    for (std::size_t i = 0; i < n; ++i) {
        const geometry::CellId cell = delta.cells(int(i));
        Q_ASSERT(cell < cells.cellCount());
        cells.flora[cell] = valueAt<std::uint8_t>(delta.flora(), i);
        cells.water[cell] = valueAt<std::uint8_t>(delta.water(), i);
        cells.pollution[cell] = valueAt<std::uint8_t>(delta.pollution(), i);
        cells.resource[cell] = valueAt<std::uint8_t>(delta.resource(), i);
        cells.structure[cell] = valueAt<std::uint16_t>(delta.structure(), i);
        cells.orientation[cell] = valueAt<std::uint8_t>(delta.orientation(), i);
        cells.owner[cell] = valueAt<std::uint16_t>(delta.owner(), i);
        if (changed)
            changed->push_back(cell);
    }
}

tl::expected<void, QString> applyChunkDelta(const ChunkDelta &delta,
                                            const geometry::HexSphere &sphere, VisibleCells &cells,
                                            std::vector<geometry::CellId> *changed)
{
    if (auto checked = checkChunkDelta(delta, sphere, cells.cellCount()); !checked)
        return checked;
    writeChunkDelta(delta, cells, changed);
    return {};
}

tl::expected<void, QString> applyChunkSnapshot(const ChunkSnapshot &snapshot,
                                               const geometry::HexSphere &sphere,
                                               VisibleCells &cells,
                                               std::vector<geometry::CellId> *changed)
{
    if (snapshot.chunk() >= sphere.chunkCount())
        return tl::make_unexpected(tr("A chunk snapshot names chunk %1, but the world has %2 "
                                      "chunks.")
                                       .arg(snapshot.chunk())
                                       .arg(sphere.chunkCount()));
    if (cells.cellCount() != sphere.cellCount())
        return tl::make_unexpected(tr("A chunk snapshot arrived for a mirror of another size."));
    const std::span<const geometry::CellId> expected = sphere.chunkCells(snapshot.chunk());
    const std::size_t n = expected.size();
    bool sameCells = std::size_t(snapshot.cells_size()) == n;
    for (std::size_t i = 0; sameCells && i < n; ++i)
        sameCells = snapshot.cells(int(i)) == expected[i];
    if (!sameCells) {
        return tl::make_unexpected(
            tr("The snapshot of chunk %1 does not list exactly the chunk's %2 cells in order.")
                .arg(snapshot.chunk())
                .arg(n));
    }
    const struct
    {
        const char *name;
        std::size_t size;
        std::size_t width;
    } fields[] = {
        {"terrain", snapshot.terrain().size(), 1},
        {"elevation", snapshot.elevation().size(), 1},
        {"flora", snapshot.flora().size(), 1},
        {"water", snapshot.water().size(), 1},
        {"pollution", snapshot.pollution().size(), 1},
        {"resource", snapshot.resource().size(), 1},
        {"structure", snapshot.structure().size(), 2},
        {"orientation", snapshot.orientation().size(), 1},
        {"owner", snapshot.owner().size(), 2},
    };
    for (const auto &field : fields) {
        if (field.size != n * field.width) {
            return tl::make_unexpected(
                tr("The snapshot of chunk %1 lists %2 cells but its %3 field does not match.")
                    .arg(snapshot.chunk())
                    .arg(n)
                    .arg(QLatin1String(field.name)));
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        const geometry::CellId cell = expected[i];
        cells.terrain[cell] = valueAt<std::uint8_t>(snapshot.terrain(), i);
        cells.elevation[cell] = valueAt<std::uint8_t>(snapshot.elevation(), i);
        cells.flora[cell] = valueAt<std::uint8_t>(snapshot.flora(), i);
        cells.water[cell] = valueAt<std::uint8_t>(snapshot.water(), i);
        cells.pollution[cell] = valueAt<std::uint8_t>(snapshot.pollution(), i);
        cells.resource[cell] = valueAt<std::uint8_t>(snapshot.resource(), i);
        cells.structure[cell] = valueAt<std::uint16_t>(snapshot.structure(), i);
        cells.orientation[cell] = valueAt<std::uint8_t>(snapshot.orientation(), i);
        cells.owner[cell] = valueAt<std::uint16_t>(snapshot.owner(), i);
        if (changed)
            changed->push_back(cell);
    }
    return {};
}

void VisibleCells::resize(std::uint32_t cellCount)
{
    terrain.assign(cellCount, 0);
    elevation.assign(cellCount, 0);
    flora.assign(cellCount, 0);
    water.assign(cellCount, 0);
    pollution.assign(cellCount, 0);
    resource.assign(cellCount, 0);
    structure.assign(cellCount, 0);
    orientation.assign(cellCount, 0);
    owner.assign(cellCount, 0xFFFF);
}

} // namespace hex::protocol
