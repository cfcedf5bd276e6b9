#pragma once

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>
#include <QStringView>

#include <tl/expected.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace hex::server {

/// Hashes and checks passwords with libsodium's argon2id (crypto_pwhash_str_alg with
/// crypto_pwhash_ALG_ARGON2ID13). Thread-safe: hash() and verify() are slow on purpose
/// (tens to hundreds of ms, tens of MiB) and are meant to run on a worker thread.
class PasswordHasher
{
public:
    /// How much work one hash takes: argon2 passes and memory in bytes.
    struct Cost
    {
        unsigned long long opsLimit;
        std::size_t memLimit;
    };

    /// crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE (64 MiB per hash).
    static Cost interactive();
    /// crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: for tests only.
    static Cost minimal();

    /// Hashes new passwords at `cost`; verify() reads the cost from each encoded hash.
    explicit PasswordHasher(Cost cost = interactive());

    /// The encoded hash ("$argon2id$v=19$m=...") of `password` (UTF-8), or an error
    /// sentence (out of memory).
    [[nodiscard]] tl::expected<std::string, QString> hash(const QString &password) const;
    /// True if `password` matches `encoded`. False for a malformed `encoded`.
    bool verify(const std::string &encoded, const QString &password) const;

private:
    Cost m_cost;
};

/// What a session token says.
struct TokenClaims
{
    /// 32 lowercase hex characters, as made by TokenSigner::newSessionId().
    QString sessionId;
    std::uint32_t player = 0;
    /// Milliseconds since the Unix epoch; never negative.
    std::int64_t expiresAtMs = 0;

    bool operator==(const TokenClaims &) const = default;
};

/// Issues and checks bearer tokens: "v1.<sessionId>.<player>.<expiresAtMs>.<mac>", where mac
/// is HMAC-SHA-512-256 (libsodium crypto_auth) under the signer's 32-byte key over every
/// character before the last dot, in unpadded base64url (sodium_bin2base64 with
/// sodium_base64_VARIANT_URLSAFE_NO_PADDING). Numbers are plain decimal without sign or
/// leading zeros. Verification uses crypto_auth_verify (constant time). Thread-safe after
/// construction.
class TokenSigner
{
public:
    enum class TokenError { Missing, Malformed, BadSignature, Expired };

    /// The longest token verify() looks at, in characters; issued tokens are at most 110.
    static constexpr int kMaxTokenLength = 256;

    /// A fresh random key (randombytes_buf): tokens die with this signer.
    TokenSigner();
    /// `key` must be crypto_auth_KEYBYTES (32) bytes; anything else aborts with qFatal.
    explicit TokenSigner(const QByteArray &key);

    /// The signed token for `claims`. The session id must be 32 lowercase hex characters
    /// and expiresAtMs not negative (asserted: the caller makes both).
    QString issue(const TokenClaims &claims) const;
    /// The claims of `token` if it is well formed, signed by this key, and expires after
    /// `nowMs`. Empty -> Missing; wrong shape, fields or more than kMaxTokenLength characters
    /// -> Malformed; bad mac -> BadSignature; expiresAtMs <= nowMs -> Expired (checked only
    /// after the signature is good).
    [[nodiscard]] tl::expected<TokenClaims, TokenError> verify(QStringView token,
                                                               std::int64_t nowMs) const;

    /// One translated sentence per error, for the 401 body / protocol Error.
    static QString describe(TokenError error);
    /// A new random session id: 16 random bytes as 32 lowercase hex chars.
    static QString newSessionId();

private:
    QByteArray m_key;
};

/// Player accounts: name -> argon2id hash. Kept in memory for now (persistence comes with
/// the world store). Names compare case-insensitively ("Alice" and "alice" are one account).
/// Thread-safe (a QMutex): registration and verification run on worker threads because
/// hashing is slow; the lookup itself is quick.
class AccountStore
{
public:
    enum class Error { BadName, WeakPassword, NameTaken, UnknownName, WrongPassword, HashFailed };

    /// Names: after trimming, 1..32 characters, each a letter, digit, space, '-' or '_'
    /// (QChar::isLetterOrNumber, so "Zoë" is a valid name). Passwords: 8..256 characters.
    static constexpr int kMaxNameLength = 32;
    static constexpr int kMinPasswordLength = 8;
    static constexpr int kMaxPasswordLength = 256;

    /// Hashes one dummy password at once (slow, see verify()), so construct it off the
    /// event loop or early at start-up.
    explicit AccountStore(PasswordHasher hasher = PasswordHasher());

    /// Validates, hashes (slow) and stores. NameTaken if the name exists (case-insensitive);
    /// the check-and-insert after hashing is atomic, so of two concurrent registrations of
    /// one name only one succeeds.
    [[nodiscard]] tl::expected<void, Error> registerAccount(const QString &name,
                                                            const QString &password);
    /// Slow. BadName at once for a name no account can have; for a valid but unknown name
    /// it still hashes against a dummy hash so the time does not reveal which names exist,
    /// then returns UnknownName.
    [[nodiscard]] tl::expected<void, Error> verify(const QString &name,
                                                   const QString &password) const;
    /// True if `name` (trimmed, case-insensitive) is an account.
    bool contains(const QString &name) const;
    /// The encoded argon2id hash of the account `name`, or nullopt: what the world store
    /// keeps so the account survives a restart.
    std::optional<QByteArray> passwordHash(const QString &name) const;
    /// Brings back an account saved earlier, with its encoded hash (at start-up, from the
    /// world store). False, changing nothing, for an invalid name, an empty hash or a
    /// name that is an account already.
    bool restore(const QString &name, const QByteArray &encodedHash);
    /// The number of accounts.
    int size() const;

    /// The trimmed name in Unicode normal form C if it is valid, else nullopt (also used
    /// for guest names).
    static std::optional<QString> normalizedName(const QString &name);
    /// One translated sentence per error.
    static QString describe(Error error);

private:
    /// The stored hash for the case-folded name `key`, or nullopt. Takes the lock.
    std::optional<std::string> hashFor(const QString &key) const;

    const PasswordHasher m_hasher;
    /// A hash of a random password at the hasher's cost, checked for unknown names.
    const std::string m_dummyHash;
    mutable QMutex m_mutex;
    /// Case-folded normalized name -> encoded hash. Guarded by m_mutex.
    QHash<QString, std::string> m_hashes;
};

} // namespace hex::server
