#include "net/decodingframe.h"

#include <QThreadPool>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace hex::client {

namespace {

/// An arena for one frame: blocks that grow from 64 KiB to 1 MiB.
google::protobuf::ArenaOptions frameArenaOptions()
{
    google::protobuf::ArenaOptions options;
    options.start_block_size = 64 * 1024;
    options.max_block_size = 1024 * 1024;
    return options;
}

} // namespace

struct DecodingFrame::State
{
    explicit State(QByteArray bytes, bool background)
        : frame(std::move(bytes))
        , arena(frameArenaOptions())
        , inBackground(background)
    {}

    /// Decodes the frame; in whichever thread, once.
    void decode()
    {
        const auto start = std::chrono::steady_clock::now();
        auto decoded = protocol::decodeEnvelope(frame, arena);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        {
            std::lock_guard lock(mutex);
            result = std::move(decoded);
            milliseconds = ms;
        }
        done.notify_all();
    }

    const QByteArray frame;
    google::protobuf::Arena arena;
    const bool inBackground;
    std::mutex mutex;
    std::condition_variable done;
    std::optional<tl::expected<protocol::Envelope *, protocol::DecodeError>> result; // by mutex
    double milliseconds = 0;                                                         // by mutex
};

DecodingFrame::DecodingFrame(QByteArray frame, bool inBackground)
    : m_state(std::make_shared<State>(std::move(frame), inBackground))
{
    if (inBackground) {
        // The task holds the state: the arena outlives a decoding this object abandons.
        QThreadPool::globalInstance()->start([state = m_state] { state->decode(); });
    }
}

const tl::expected<protocol::Envelope *, protocol::DecodeError> &DecodingFrame::envelope()
{
    if (!m_state->inBackground) {
        if (!m_state->result)
            m_state->decode();
        return *m_state->result;
    }
    std::unique_lock lock(m_state->mutex);
    m_state->done.wait(lock, [this] { return m_state->result.has_value(); });
    return *m_state->result;
}

bool DecodingFrame::inBackground() const
{
    return m_state->inBackground;
}

double DecodingFrame::decodeMilliseconds() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->milliseconds;
}

} // namespace hex::client
