#pragma once

#include "hexsphere.pb.h"

#include "sim/actions.h"

#include <QString>

#include <tl/expected.hpp>

#include <cstdint>

namespace hex::protocol {

/// Checks the fields of `action` against their ranges (known kind, cell below
/// `cellCount`, orientation 0..5, ids and counts that fit the simulation's types) and
/// converts it to a sim::Action for `player`. On failure says, in one translated
/// sentence naming the field, what is wrong. Does not check the content: unknown
/// prototypes, recipes and items are the simulation's to reject.
[[nodiscard]] tl::expected<sim::Action, QString>
decodeClientAction(const ClientAction &action, std::uint32_t cellCount, sim::PlayerId player);

/// Fills `out` with `action` (its player is not sent) under `clientSeq`.
void encodeClientAction(const sim::Action &action, std::uint32_t clientSeq, ClientAction *out);

/// Fills `out` with `result`, applied in `tick`; the message is describe(reason) for
/// refusals and empty for accepted actions.
void encodeActionResult(const sim::ActionResult &result, std::uint64_t tick, ActionResult *out);

} // namespace hex::protocol
