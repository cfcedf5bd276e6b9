#include "codec.h"

#include <QCoreApplication>

#include <optional>

namespace hex::protocol {

QString describe(DecodeError error)
{
    switch (error) {
    case DecodeError::Empty:
        return QCoreApplication::translate("hex::protocol", "The frame is empty.");
    case DecodeError::TooLarge:
        return QCoreApplication::translate("hex::protocol", "The frame is larger than %1 bytes.")
            .arg(kMaxFrameBytes);
    case DecodeError::Malformed:
        return QCoreApplication::translate("hex::protocol",
                                           "The frame is not a valid Hexsphere envelope.");
    }
    return {};
}

namespace {

std::optional<DecodeError> parseFrame(QByteArrayView frame, Envelope &envelope)
{
    if (frame.isEmpty())
        return DecodeError::Empty;
    if (frame.size() > kMaxFrameBytes)
        return DecodeError::TooLarge;
    if (!envelope.ParseFromArray(frame.data(), int(frame.size()))
        || envelope.body_case() == Envelope::BODY_NOT_SET)
        return DecodeError::Malformed;
    return std::nullopt;
}

} // namespace

tl::expected<Envelope, DecodeError> decodeEnvelope(QByteArrayView frame)
{
    Envelope envelope;
    if (const auto error = parseFrame(frame, envelope))
        return tl::make_unexpected(*error);
    return envelope;
}

tl::expected<Envelope *, DecodeError> decodeEnvelope(QByteArrayView frame,
                                                     google::protobuf::Arena &arena)
{
    auto *envelope = google::protobuf::Arena::CreateMessage<Envelope>(&arena);
    if (const auto error = parseFrame(frame, *envelope))
        return tl::make_unexpected(*error);
    return envelope;
}

QByteArray encodeEnvelope(const Envelope &envelope)
{
    QByteArray bytes(qsizetype(envelope.ByteSizeLong()), Qt::Uninitialized);
    envelope.SerializeToArray(bytes.data(), int(bytes.size()));
    return bytes;
}

} // namespace hex::protocol
