#pragma once

#include "sim/content.h"

#include <QString>

#include <span>

namespace hex::client {

/// The names of the shipped content (items, resources, prototypes, recipes) are English
/// in resources/content/*.json. These are their translations' source texts, in the
/// "hex::content" context, so that lupdate finds them: a test checks that every name
/// of the shipped content is listed.
std::span<const char *const> contentNameSources();

/// `content` with every name translated for the installed language (names without a
/// translation stay as they are).
sim::Content translatedContent(sim::Content content);

} // namespace hex::client
