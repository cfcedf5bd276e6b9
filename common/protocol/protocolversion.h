#pragma once

#include <cstdint>

namespace hex::protocol {

/// The version a client and server exchange in Hello / WorldInfo. Bump it on any
/// change a peer of the previous version could not read.
///
/// Changelog:
/// - 1: Hello, WorldInfo, Snapshot (terrain, elevation), TickUpdate, Error.
inline constexpr std::uint32_t kProtocolVersion = 1;

} // namespace hex::protocol
