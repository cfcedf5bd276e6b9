#include "machinefeed.h"

#include "protocol/codec.h"
#include "protocol/worldcodec.h"
#include "sim/content.h"

#include <algorithm>

namespace hex::server {

namespace {

/// What a MachineView shows of a machine, hashed: equal views hash equal, changes
/// nearly always differ. (The view's duration follows from the structure and recipe.)
std::uint64_t viewHash(sim::PrototypeId structure, const sim::MachineState &machine)
{
    std::uint64_t h = sim::mix64(std::uint64_t(structure) << 48 | std::uint64_t(machine.recipe) << 32
                                 | std::uint64_t(machine.progress) << 8
                                 | std::uint64_t(machine.running));
    for (int i = 0; i < machine.lane.count; ++i) {
        h = sim::mix64(h ^ (std::uint64_t(machine.lane.items[std::size_t(i)]) << 16
                            | machine.lane.progress[std::size_t(i)]));
    }
    return h;
}

} // namespace

void MachineFeed::beginTick(const sim::WorldState &state, const sim::Content &content)
{
    m_state = &state;
    m_content = &content;
    m_changed.clear();
    m_full.clear();
    m_active.clear();
    const geometry::HexSphere &sphere = *state.sphere;
    for (const auto &[cell, machine] : state.machines) {
        const geometry::ChunkId chunk = sphere.chunkOf(cell);
        if (m_active.empty() || m_active.back() != chunk)
            m_active.push_back(chunk);
    }
    // Chunks whose last machines went still owe their viewers a removal.
    for (const auto &[chunk, sent] : m_sent) {
        if (!sent.empty())
            m_active.push_back(chunk);
    }
    std::sort(m_active.begin(), m_active.end());
    m_active.erase(std::unique(m_active.begin(), m_active.end()), m_active.end());
}

const QByteArray &MachineFeed::changedPiece(geometry::ChunkId chunk)
{
    auto [piece, fresh] = m_changed.try_emplace(chunk);
    if (!fresh)
        return piece->second;
    protocol::Envelope envelope;
    protocol::ChunkMachines *machines = envelope.mutable_tick()->add_machines();
    machines->set_chunk(chunk);
    std::unordered_map<geometry::CellId, std::uint64_t> &sent = m_sent[chunk];
    std::unordered_map<geometry::CellId, std::uint64_t> now;
    // Only the machines that changed are encoded.
    protocol::forEachMachine(*m_state, chunk,
                             [&](geometry::CellId cell, const sim::MachineState &machine) {
                                 const std::uint64_t hash
                                     = viewHash(m_state->structure[cell], machine);
                                 now.emplace(cell, hash);
                                 const auto before = sent.find(cell);
                                 if (before == sent.end() || before->second != hash) {
                                     protocol::encodeMachineView(*m_state, *m_content, cell,
                                                                 machine,
                                                                 machines->add_machines());
                                 }
                             });
    for (const auto &[cell, hash] : sent) {
        if (!now.contains(cell))
            machines->add_removed(cell);
    }
    std::sort(machines->mutable_removed()->begin(), machines->mutable_removed()->end());
    sent = std::move(now);
    if (machines->machines_size() > 0 || machines->removed_size() > 0)
        piece->second = protocol::encodeEnvelope(envelope);
    return piece->second;
}

const QByteArray &MachineFeed::fullPiece(geometry::ChunkId chunk)
{
    auto [piece, fresh] = m_full.try_emplace(chunk);
    if (fresh) {
        protocol::Envelope envelope;
        protocol::encodeChunkMachines(*m_state, *m_content, chunk,
                                      envelope.mutable_tick()->add_machines());
        piece->second = protocol::encodeEnvelope(envelope);
    }
    return piece->second;
}

} // namespace hex::server
