#pragma once

#include "hexsphere.pb.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <tl/expected.hpp>

namespace hex::protocol {

/// Largest frame either side accepts, in bytes: room for a full snapshot of an
/// n=512 world (12 bytes per cell) with headroom.
inline constexpr qsizetype kMaxFrameBytes = qsizetype(64) * 1024 * 1024;

enum class DecodeError { Empty, TooLarge, Malformed };

/// A sentence for logs and Error frames.
QString describe(DecodeError error);

/// Decodes one binary frame into an Envelope. Never throws; on failure says why.
[[nodiscard]] tl::expected<Envelope, DecodeError> decodeEnvelope(QByteArrayView frame);

/// The same, into an Envelope made on `arena`, which owns it (it lives until the arena
/// goes). A tick of a large world holds tens of thousands of sub-messages: an arena
/// makes them from a few large blocks, and frees them at once.
[[nodiscard]] tl::expected<Envelope *, DecodeError> decodeEnvelope(QByteArrayView frame,
                                                                  google::protobuf::Arena &arena);

/// Encodes an Envelope as one binary frame.
QByteArray encodeEnvelope(const Envelope &envelope);

} // namespace hex::protocol
