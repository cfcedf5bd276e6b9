#pragma once

#include "protocol/codec.h"

#include <QByteArray>

#include <memory>

namespace hex::client {

/// A frame from the server and its decoding, which may run on a pool thread while the
/// frame waits to be handled. ServerConnection holds what the server sends until the
/// game window has drawn its next frame; a tick of a large world (1.8 MB at n=512, 4 ms
/// to decode) then decodes while Qt3D draws, instead of on the GUI thread after it.
///
/// The decoded messages live in the frame's own protobuf arena, as long as this object
/// (or the decoding still running, should this object go first). Make and use it in
/// one thread; only the decoding runs elsewhere.
class DecodingFrame
{
public:
    /// Starts decoding `frame` on QThreadPool::globalInstance() if `inBackground`;
    /// otherwise envelope() decodes it.
    DecodingFrame(QByteArray frame, bool inBackground);

    /// The decoded envelope, or why the frame does not decode. Waits for a decoding in
    /// the background to end.
    const tl::expected<protocol::Envelope *, protocol::DecodeError> &envelope();

    /// Whether the decoding was handed to a pool thread.
    bool inBackground() const;
    /// How long the decoding took, wherever it ran, in milliseconds; 0 until envelope().
    double decodeMilliseconds() const;

private:
    struct State;
    std::shared_ptr<State> m_state;
};

} // namespace hex::client
