#include "auth.h"

#include <QCoreApplication>
#include <QMutexLocker>

#include <sodium.h>

#include <limits>

namespace hex::server {

namespace {

/// Initializes libsodium once per process; every entry point that uses it calls this.
void ensureSodium()
{
    static const bool ready = sodium_init() >= 0;
    if (!ready)
        qFatal("libsodium could not be initialized");
}

constexpr qsizetype kSessionIdBytes = 16;
constexpr auto kMacVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

/// True if `text` is 32 lowercase hex characters, as newSessionId() makes them.
bool isSessionId(QStringView text)
{
    if (text.size() != 2 * kSessionIdBytes)
        return false;
    for (const QChar c : text) {
        if (!(c >= u'0' && c <= u'9') && !(c >= u'a' && c <= u'f'))
            return false;
    }
    return true;
}

/// `text` as a number if it is 1..maxDigits decimal digits without a sign or a leading
/// zero (except "0" itself) and at most `max`. maxDigits <= 19, so nothing overflows.
std::optional<std::uint64_t> parseDecimal(QStringView text, int maxDigits, std::uint64_t max)
{
    if (text.isEmpty() || text.size() > maxDigits || (text.size() > 1 && text.front() == u'0'))
        return std::nullopt;
    std::uint64_t value = 0;
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return std::nullopt;
        value = value * 10 + (c.unicode() - u'0');
    }
    if (value > max)
        return std::nullopt;
    return value;
}

} // namespace

// --- PasswordHasher ------------------------------------------------------------------------

PasswordHasher::Cost PasswordHasher::interactive()
{
    return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordHasher::Cost PasswordHasher::minimal()
{
    return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

PasswordHasher::PasswordHasher(Cost cost)
    : m_cost(cost)
{
    ensureSodium();
}

tl::expected<std::string, QString> PasswordHasher::hash(const QString &password) const
{
    const QByteArray utf8 = password.toUtf8();
    char encoded[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(encoded, utf8.constData(), std::size_t(utf8.size()), m_cost.opsLimit,
                              m_cost.memLimit, crypto_pwhash_ALG_ARGON2ID13)
        != 0) {
        return tl::unexpected(QCoreApplication::translate(
            "hex::server::Auth", "Could not hash the password: the server is out of memory."));
    }
    return std::string(encoded);
}

bool PasswordHasher::verify(const std::string &encoded, const QString &password) const
{
    const QByteArray utf8 = password.toUtf8();
    return crypto_pwhash_str_verify(encoded.c_str(), utf8.constData(), std::size_t(utf8.size()))
           == 0;
}

// --- TokenSigner ---------------------------------------------------------------------------

TokenSigner::TokenSigner()
    : m_key(crypto_auth_KEYBYTES, Qt::Uninitialized)
{
    ensureSodium();
    randombytes_buf(m_key.data(), std::size_t(m_key.size()));
}

TokenSigner::TokenSigner(const QByteArray &key)
    : m_key(key)
{
    ensureSodium();
    if (m_key.size() != crypto_auth_KEYBYTES)
        qFatal("TokenSigner: the key has %lld bytes, not %d", static_cast<long long>(key.size()),
               int(crypto_auth_KEYBYTES));
}

QString TokenSigner::issue(const TokenClaims &claims) const
{
    Q_ASSERT(isSessionId(claims.sessionId));
    Q_ASSERT(claims.expiresAtMs >= 0);
    const QByteArray payload = "v1." + claims.sessionId.toLatin1() + '.'
                               + QByteArray::number(claims.player) + '.'
                               + QByteArray::number(claims.expiresAtMs);

    unsigned char mac[crypto_auth_BYTES];
    crypto_auth(mac, reinterpret_cast<const unsigned char *>(payload.constData()),
                std::size_t(payload.size()),
                reinterpret_cast<const unsigned char *>(m_key.constData()));
    char macBase64[sodium_base64_ENCODED_LEN(crypto_auth_BYTES, kMacVariant)];
    sodium_bin2base64(macBase64, sizeof macBase64, mac, sizeof mac, kMacVariant);
    return QString::fromLatin1(payload + '.' + macBase64);
}

tl::expected<TokenClaims, TokenSigner::TokenError> TokenSigner::verify(QStringView token,
                                                                       std::int64_t nowMs) const
{
    if (token.isEmpty())
        return tl::unexpected(TokenError::Missing);
    if (token.size() > kMaxTokenLength)
        return tl::unexpected(TokenError::Malformed);

    const QList<QStringView> parts = token.split(u'.');
    if (parts.size() != 5 || parts[0] != u"v1" || !isSessionId(parts[1]))
        return tl::unexpected(TokenError::Malformed);
    const auto player = parseDecimal(parts[2], 10, std::numeric_limits<std::uint32_t>::max());
    const auto expiresAtMs = parseDecimal(parts[3], 19, std::numeric_limits<std::int64_t>::max());
    if (!player || !expiresAtMs)
        return tl::unexpected(TokenError::Malformed);

    // Non-Latin-1 characters become '?', which is no base64url character either.
    const QByteArray macBase64 = parts[4].toLatin1();
    unsigned char mac[crypto_auth_BYTES];
    std::size_t macLength = 0;
    const char *macEnd = nullptr;
    if (sodium_base642bin(mac, sizeof mac, macBase64.constData(), std::size_t(macBase64.size()),
                          nullptr, &macLength, &macEnd, kMacVariant)
            != 0
        || macLength != sizeof mac || macEnd != macBase64.constData() + macBase64.size()) {
        return tl::unexpected(TokenError::Malformed);
    }

    // Everything before the last dot, already checked to be ASCII.
    const QByteArray payload = token.first(token.lastIndexOf(u'.')).toLatin1();
    if (crypto_auth_verify(mac, reinterpret_cast<const unsigned char *>(payload.constData()),
                           std::size_t(payload.size()),
                           reinterpret_cast<const unsigned char *>(m_key.constData()))
        != 0) {
        return tl::unexpected(TokenError::BadSignature);
    }

    TokenClaims claims;
    claims.sessionId = parts[1].toString();
    claims.player = std::uint32_t(*player);
    claims.expiresAtMs = std::int64_t(*expiresAtMs);
    if (claims.expiresAtMs <= nowMs)
        return tl::unexpected(TokenError::Expired);
    return claims;
}

QString TokenSigner::describe(TokenError error)
{
    switch (error) {
    case TokenError::Missing:
        return QCoreApplication::translate("hex::server::Auth",
                                           "The request carries no session token.");
    case TokenError::Malformed:
        return QCoreApplication::translate("hex::server::Auth",
                                           "The session token is not well formed.");
    case TokenError::BadSignature:
        return QCoreApplication::translate("hex::server::Auth",
                                           "The session token was not issued by this server.");
    case TokenError::Expired:
        return QCoreApplication::translate("hex::server::Auth",
                                           "The session token has expired; please log in again.");
    }
    return {};
}

QString TokenSigner::newSessionId()
{
    ensureSodium();
    QByteArray bytes(kSessionIdBytes, Qt::Uninitialized);
    randombytes_buf(bytes.data(), std::size_t(bytes.size()));
    return QString::fromLatin1(bytes.toHex());
}

// --- AccountStore --------------------------------------------------------------------------

namespace {

/// A hash nobody can match, at `hasher`'s cost: 32 random bytes as the password. Empty if
/// hashing failed (out of memory), which only makes unknown names answer faster.
std::string makeDummyHash(const PasswordHasher &hasher)
{
    QByteArray secret(32, Qt::Uninitialized);
    randombytes_buf(secret.data(), std::size_t(secret.size()));
    return hasher.hash(QString::fromLatin1(secret.toHex())).value_or(std::string());
}

/// The key of a normalized name in the account table.
QString accountKey(const QString &normalizedName)
{
    return normalizedName.toCaseFolded();
}

} // namespace

AccountStore::AccountStore(PasswordHasher hasher)
    : m_hasher(hasher)
    , m_dummyHash(makeDummyHash(m_hasher))
{}

tl::expected<void, AccountStore::Error> AccountStore::registerAccount(const QString &name,
                                                                      const QString &password)
{
    const std::optional<QString> normalized = normalizedName(name);
    if (!normalized)
        return tl::unexpected(Error::BadName);
    if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength)
        return tl::unexpected(Error::WeakPassword);
    const QString key = accountKey(*normalized);
    // A quick answer for a taken name; the insert below checks again under the lock.
    if (hashFor(key))
        return tl::unexpected(Error::NameTaken);

    const tl::expected<std::string, QString> encoded = m_hasher.hash(password);
    if (!encoded)
        return tl::unexpected(Error::HashFailed);

    const QMutexLocker locker(&m_mutex);
    if (m_hashes.contains(key))
        return tl::unexpected(Error::NameTaken);
    m_hashes.insert(key, *encoded);
    return {};
}

tl::expected<void, AccountStore::Error> AccountStore::verify(const QString &name,
                                                             const QString &password) const
{
    const std::optional<QString> normalized = normalizedName(name);
    if (!normalized)
        return tl::unexpected(Error::BadName);
    const std::optional<std::string> encoded = hashFor(accountKey(*normalized));
    if (!encoded) {
        // Spend the same time as for a known name; the answer is no either way.
        (void)m_hasher.verify(m_dummyHash, password);
        return tl::unexpected(Error::UnknownName);
    }
    if (!m_hasher.verify(*encoded, password))
        return tl::unexpected(Error::WrongPassword);
    return {};
}

bool AccountStore::contains(const QString &name) const
{
    const std::optional<QString> normalized = normalizedName(name);
    return normalized && hashFor(accountKey(*normalized)).has_value();
}

std::optional<QByteArray> AccountStore::passwordHash(const QString &name) const
{
    const std::optional<QString> normalized = normalizedName(name);
    if (!normalized)
        return std::nullopt;
    const std::optional<std::string> encoded = hashFor(accountKey(*normalized));
    if (!encoded)
        return std::nullopt;
    return QByteArray::fromStdString(*encoded);
}

bool AccountStore::restore(const QString &name, const QByteArray &encodedHash)
{
    const std::optional<QString> normalized = normalizedName(name);
    if (!normalized || encodedHash.isEmpty())
        return false;
    const QString key = accountKey(*normalized);
    const QMutexLocker locker(&m_mutex);
    if (m_hashes.contains(key))
        return false;
    m_hashes.insert(key, encodedHash.toStdString());
    return true;
}

int AccountStore::size() const
{
    const QMutexLocker locker(&m_mutex);
    return int(m_hashes.size());
}

std::optional<QString> AccountStore::normalizedName(const QString &name)
{
    // Form C first, so that "Zoë" typed with a combining diaeresis is the same name.
    const QString normalized = name.normalized(QString::NormalizationForm_C).trimmed();
    if (normalized.isEmpty() || normalized.size() > kMaxNameLength)
        return std::nullopt;
    for (const QChar c : normalized) {
        if (!c.isLetterOrNumber() && c != u' ' && c != u'-' && c != u'_')
            return std::nullopt;
    }
    return normalized;
}

QString AccountStore::describe(Error error)
{
    switch (error) {
    case Error::BadName:
        return QCoreApplication::translate(
                   "hex::server::Auth",
                   "A name has 1 to %1 characters: letters, digits, spaces, '-' and '_'.")
            .arg(kMaxNameLength);
    case Error::WeakPassword:
        return QCoreApplication::translate("hex::server::Auth",
                                           "A password has %1 to %2 characters.")
            .arg(kMinPasswordLength)
            .arg(kMaxPasswordLength);
    case Error::NameTaken:
        return QCoreApplication::translate("hex::server::Auth", "That name is already taken.");
    case Error::UnknownName:
        return QCoreApplication::translate("hex::server::Auth",
                                           "There is no account with that name.");
    case Error::WrongPassword:
        return QCoreApplication::translate("hex::server::Auth", "The password is wrong.");
    case Error::HashFailed:
        return QCoreApplication::translate(
            "hex::server::Auth", "The server could not process the password; try again later.");
    }
    return {};
}

std::optional<std::string> AccountStore::hashFor(const QString &key) const
{
    const QMutexLocker locker(&m_mutex);
    const auto it = m_hashes.constFind(key);
    if (it == m_hashes.constEnd())
        return std::nullopt;
    return *it;
}

} // namespace hex::server
