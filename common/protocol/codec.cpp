#include "codec.h"

#include <QCoreApplication>

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

tl::expected<Envelope, DecodeError> decodeEnvelope(QByteArrayView frame)
{
    if (frame.isEmpty())
        return tl::make_unexpected(DecodeError::Empty);
    if (frame.size() > kMaxFrameBytes)
        return tl::make_unexpected(DecodeError::TooLarge);
    Envelope envelope;
    if (!envelope.ParseFromArray(frame.data(), int(frame.size()))
        || envelope.body_case() == Envelope::BODY_NOT_SET)
        return tl::make_unexpected(DecodeError::Malformed);
    return envelope;
}

QByteArray encodeEnvelope(const Envelope &envelope)
{
    QByteArray bytes(qsizetype(envelope.ByteSizeLong()), Qt::Uninitialized);
    envelope.SerializeToArray(bytes.data(), int(bytes.size()));
    return bytes;
}

} // namespace hex::protocol
