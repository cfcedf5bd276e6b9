#include "session/auth.h"

#include <QMessageAuthenticationCode>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <sodium.h>

#include <atomic>
#include <latch>
#include <limits>
#include <thread>
#include <vector>

using namespace hex::server;

Q_DECLARE_METATYPE(TokenSigner::TokenError)
Q_DECLARE_METATYPE(AccountStore::Error)

class tst_Auth : public QObject
{
    Q_OBJECT
private slots:
    void passwordRoundTrip_data();
    void passwordRoundTrip();
    void saltMakesHashesDiffer();
    void malformedHashIsRejected_data();
    void malformedHashIsRejected();
    void interactiveCostUsesArgon2id();

    void tokenRoundTrip_data();
    void tokenRoundTrip();
    void tokenMatchesIndependentHmac();
    void otherKeyIsBadSignature();
    void everyOneCharacterChangeIsRejected();
    void expiry_data();
    void expiry();
    void badTokens_data();
    void badTokens();
    void tokenErrorsAreDescribed();
    void sessionIds();

    void registerThenVerify();
    void nameTakenIgnoresCase();
    void badNames_data();
    void badNames();
    void validNames_data();
    void validNames();
    void passwordLength_data();
    void passwordLength();
    void unknownNameAndWrongPassword();
    void concurrentRegistrationOfOneName();
    void accountErrorsAreDescribed();
};

namespace {

const QByteArray kKey(32, 'k');
const QString kSessionId = QStringLiteral("0123456789abcdef0123456789abcdef");
constexpr qint64 kExpiry = 1'800'000'000'000;
const QString kBase64Url
    = QStringLiteral("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

/// `payload` with a mac computed independently of TokenSigner: HMAC-SHA-512 truncated to
/// 32 bytes is HMAC-SHA-512-256, in unpadded base64url. Signs shapes issue() refuses to make.
QString sign(const QString &payload, const QByteArray &key = kKey)
{
    const QByteArray mac
        = QMessageAuthenticationCode::hash(payload.toLatin1(), key, QCryptographicHash::Sha512)
              .first(32);
    return payload + u'.'
           + QString::fromLatin1(
               mac.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

AccountStore cheapStore()
{
    return AccountStore(PasswordHasher(PasswordHasher::minimal()));
}

} // namespace

// --- PasswordHasher ------------------------------------------------------------------------

void tst_Auth::passwordRoundTrip_data()
{
    QTest::addColumn<QString>("password");
    QTest::newRow("ASCII") << QStringLiteral("correct horse battery staple");
    QTest::newRow("non-ASCII") << QStringLiteral("pässwörd✓");
    QTest::newRow("empty") << QString();
}

void tst_Auth::passwordRoundTrip()
{
    QFETCH(QString, password);
    const PasswordHasher hasher(PasswordHasher::minimal());
    const auto encoded = hasher.hash(password);
    if (!encoded)
        QFAIL(qPrintable(encoded.error()));
    QVERIFY2(encoded->starts_with("$argon2id$"), encoded->c_str());
    QVERIFY(hasher.verify(*encoded, password));
    QVERIFY(!hasher.verify(*encoded, password + u'x'));
    QVERIFY(!hasher.verify(*encoded, QStringLiteral("something else")));
}

void tst_Auth::saltMakesHashesDiffer()
{
    const PasswordHasher hasher(PasswordHasher::minimal());
    const QString password = QStringLiteral("same password");
    const auto first = hasher.hash(password);
    const auto second = hasher.hash(password);
    QVERIFY(first && second);
    QCOMPARE_NE(*first, *second);
    QVERIFY(hasher.verify(*first, password));
    QVERIFY(hasher.verify(*second, password));
}

void tst_Auth::malformedHashIsRejected_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::newRow("garbage") << QByteArray("xyz");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("argon2id prefix, no fields") << QByteArray("$argon2id$");
    QTest::newRow("bcrypt") << QByteArray(
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW");
}

void tst_Auth::malformedHashIsRejected()
{
    QFETCH(QByteArray, encoded);
    const PasswordHasher hasher(PasswordHasher::minimal());
    QVERIFY(!hasher.verify(encoded.toStdString(), QStringLiteral("xyz")));
    QVERIFY(!hasher.verify(encoded.toStdString(), QString()));
}

void tst_Auth::interactiveCostUsesArgon2id()
{
    const PasswordHasher hasher; // interactive() by default
    const auto encoded = hasher.hash(QStringLiteral("interactive"));
    if (!encoded)
        QFAIL(qPrintable(encoded.error()));
    const QString text = QString::fromStdString(*encoded);
    const auto match
        = QRegularExpression(QStringLiteral(R"(^\$argon2id\$v=19\$m=(\d+),t=(\d+),)")).match(text);
    QVERIFY2(match.hasMatch(), qPrintable(text));
    QCOMPARE(match.captured(1).toULongLong(),
             qulonglong(crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024));
    QCOMPARE(match.captured(2).toULongLong(), qulonglong(crypto_pwhash_OPSLIMIT_INTERACTIVE));
    QVERIFY(hasher.verify(*encoded, QStringLiteral("interactive")));
}

// --- TokenSigner ---------------------------------------------------------------------------

void tst_Auth::tokenRoundTrip_data()
{
    QTest::addColumn<quint32>("player");
    QTest::addColumn<qint64>("expiresAtMs");
    QTest::addColumn<qint64>("nowMs");
    QTest::newRow("typical") << quint32(42) << kExpiry << kExpiry - 60'000;
    QTest::newRow("player 0, expiry 0") << quint32(0) << qint64(0) << qint64(-1);
    QTest::newRow("largest numbers")
        << std::numeric_limits<quint32>::max() << std::numeric_limits<qint64>::max() << kExpiry;
}

void tst_Auth::tokenRoundTrip()
{
    QFETCH(quint32, player);
    QFETCH(qint64, expiresAtMs);
    QFETCH(qint64, nowMs);
    const TokenSigner signer;
    const TokenClaims claims{TokenSigner::newSessionId(), player, expiresAtMs};
    const QString token = signer.issue(claims);
    QVERIFY(token.startsWith(u"v1."));
    QCOMPARE_LE(token.size(), 110);
    const auto verified = signer.verify(token, nowMs);
    if (!verified)
        QFAIL(qPrintable(TokenSigner::describe(verified.error())));
    QCOMPARE(*verified, claims);
}

void tst_Auth::tokenMatchesIndependentHmac()
{
    const TokenSigner signer(kKey);
    const QString token = signer.issue({kSessionId, 7, kExpiry});
    QCOMPARE(token, sign(QStringLiteral("v1.%1.7.%2").arg(kSessionId).arg(kExpiry)));
}

void tst_Auth::otherKeyIsBadSignature()
{
    const TokenSigner issuer;
    const TokenSigner other;
    const QString token = issuer.issue({TokenSigner::newSessionId(), 1, kExpiry});
    QCOMPARE(other.verify(token, 0).error(), TokenSigner::TokenError::BadSignature);
    QCOMPARE(
        TokenSigner(kKey).verify(sign(token.section(u'.', 0, 3), QByteArray(32, 'x')), 0).error(),
        TokenSigner::TokenError::BadSignature);
}

void tst_Auth::everyOneCharacterChangeIsRejected()
{
    const TokenSigner signer(kKey);
    const QString token = signer.issue({kSessionId, 123456, kExpiry});
    QVERIFY(signer.verify(token, 0).has_value());
    int tried = 0;
    for (qsizetype i = 0; i < token.size(); ++i) {
        for (const QChar replacement : kBase64Url) {
            if (replacement == token[i])
                continue;
            QString changed = token;
            changed[i] = replacement;
            const auto result = signer.verify(changed, 0);
            QVERIFY2(!result.has_value(),
                     qPrintable(QStringLiteral("accepted %1 at %2").arg(replacement).arg(i)));
            QCOMPARE_NE(result.error(), TokenSigner::TokenError::Missing);
            ++tried;
        }
    }
    QCOMPARE(tried, token.size() * (kBase64Url.size() - 1) + 4); // the four dots
}

void tst_Auth::expiry_data()
{
    QTest::addColumn<qint64>("nowMs");
    QTest::addColumn<bool>("expired");
    QTest::newRow("1 ms before") << kExpiry - 1 << false;
    QTest::newRow("at the expiry") << kExpiry << true;
    QTest::newRow("1 ms after") << kExpiry + 1 << true;
    QTest::newRow("long after") << std::numeric_limits<qint64>::max() << true;
}

void tst_Auth::expiry()
{
    QFETCH(qint64, nowMs);
    QFETCH(bool, expired);
    const TokenSigner signer;
    const QString token = signer.issue({TokenSigner::newSessionId(), 9, kExpiry});
    const auto result = signer.verify(token, nowMs);
    QCOMPARE(!result.has_value(), expired);
    if (expired)
        QCOMPARE(result.error(), TokenSigner::TokenError::Expired);

    // An expired token from another key is a forgery first.
    if (expired)
        QCOMPARE(TokenSigner().verify(token, nowMs).error(), TokenSigner::TokenError::BadSignature);
}

void tst_Auth::badTokens_data()
{
    using E = TokenSigner::TokenError;
    QTest::addColumn<QString>("token");
    QTest::addColumn<E>("error");

    const QString valid = sign(QStringLiteral("v1.%1.5.%2").arg(kSessionId).arg(kExpiry));
    const auto fields = [](const QString &sessionId, const QString &player, const QString &expiry) {
        return sign(QStringLiteral("v1.%1.%2.%3").arg(sessionId, player, expiry));
    };

    QTest::newRow("empty") << QString() << E::Missing;
    QTest::newRow("just the version") << QStringLiteral("v1") << E::Malformed;
    QTest::newRow("five short fields, version 2") << QStringLiteral("v2.x.y.z.w") << E::Malformed;
    QTest::newRow("version 2, signed")
        << sign(QStringLiteral("v2.%1.5.%2").arg(kSessionId).arg(kExpiry)) << E::Malformed;
    QTest::newRow("a field too many") << valid + QStringLiteral(".x") << E::Malformed;
    QTest::newRow("a field too few")
        << sign(QStringLiteral("v1.%1.%2").arg(kSessionId).arg(kExpiry)) << E::Malformed;
    QTest::newRow("only dots") << QStringLiteral("....") << E::Malformed;
    QTest::newRow("300 characters") << valid + QString(300 - valid.size(), u'A') << E::Malformed;
    QTest::newRow("non-numeric player")
        << fields(kSessionId, QStringLiteral("five"), QString::number(kExpiry)) << E::Malformed;
    QTest::newRow("negative player")
        << fields(kSessionId, QStringLiteral("-5"), QString::number(kExpiry)) << E::Malformed;
    QTest::newRow("player with a plus")
        << fields(kSessionId, QStringLiteral("+5"), QString::number(kExpiry)) << E::Malformed;
    QTest::newRow("player with a leading zero")
        << fields(kSessionId, QStringLiteral("05"), QString::number(kExpiry)) << E::Malformed;
    QTest::newRow("player over 32 bits")
        << fields(kSessionId, QStringLiteral("4294967296"), QString::number(kExpiry))
        << E::Malformed;
    QTest::newRow("empty player") << fields(kSessionId, QString(), QString::number(kExpiry))
                                  << E::Malformed;
    QTest::newRow("negative expiry")
        << fields(kSessionId, QStringLiteral("5"), QStringLiteral("-1")) << E::Malformed;
    QTest::newRow("expiry over 63 bits")
        << fields(kSessionId, QStringLiteral("5"), QStringLiteral("9223372036854775808"))
        << E::Malformed;
    QTest::newRow("session id of 31 hex chars")
        << fields(kSessionId.first(31), QStringLiteral("5"), QString::number(kExpiry))
        << E::Malformed;
    QTest::newRow("session id of 33 hex chars")
        << fields(kSessionId + u'0', QStringLiteral("5"), QString::number(kExpiry)) << E::Malformed;
    QTest::newRow("session id in upper case")
        << fields(kSessionId.toUpper(), QStringLiteral("5"), QString::number(kExpiry))
        << E::Malformed;
    QTest::newRow("session id not hex")
        << fields(QString(32, u'g'), QStringLiteral("5"), QString::number(kExpiry)) << E::Malformed;
    QTest::newRow("mac with padding") << valid + u'=' << E::Malformed;
    QTest::newRow("mac one character short") << valid.chopped(1) << E::Malformed;
    QTest::newRow("mac of 30 bytes") << valid.chopped(3) << E::Malformed;
    QTest::newRow("mac in standard base64")
        << valid.section(u'.', 0, 3) + QStringLiteral(".") + QString(42, u'+') + u'A'
        << E::Malformed;
    QTest::newRow("mac not Latin-1") << valid.chopped(1) + QStringLiteral("✓") << E::Malformed;
    QTest::newRow("well formed, zero mac")
        << valid.section(u'.', 0, 3) + QStringLiteral(".") + QString(43, u'A') << E::BadSignature;
}

void tst_Auth::badTokens()
{
    QFETCH(QString, token);
    QFETCH(TokenSigner::TokenError, error);
    const auto result = TokenSigner(kKey).verify(token, 0);
    QVERIFY(!result.has_value());
    QCOMPARE(result.error(), error);
}

void tst_Auth::tokenErrorsAreDescribed()
{
    using E = TokenSigner::TokenError;
    QSet<QString> sentences;
    for (const E error : {E::Missing, E::Malformed, E::BadSignature, E::Expired}) {
        const QString sentence = TokenSigner::describe(error);
        QVERIFY(!sentence.isEmpty());
        QVERIFY2(sentence.endsWith(u'.'), qPrintable(sentence));
        sentences.insert(sentence);
    }
    QCOMPARE(sentences.size(), 4);
    QVERIFY(TokenSigner::describe(E::Expired).contains(u"expired"));
}

void tst_Auth::sessionIds()
{
    static const QRegularExpression lowerHex(QStringLiteral("^[0-9a-f]{32}$"));
    QSet<QString> seen;
    for (int i = 0; i < 100; ++i) {
        const QString id = TokenSigner::newSessionId();
        QVERIFY2(lowerHex.match(id).hasMatch(), qPrintable(id));
        seen.insert(id);
    }
    QCOMPARE(seen.size(), 100);
}

// --- AccountStore --------------------------------------------------------------------------

void tst_Auth::registerThenVerify()
{
    AccountStore store = cheapStore();
    QCOMPARE(store.size(), 0);
    QVERIFY(!store.contains(QStringLiteral("Alice")));
    QVERIFY(store.registerAccount(QStringLiteral("Alice"), QStringLiteral("wonderland")));
    QCOMPARE(store.size(), 1);
    QVERIFY(store.contains(QStringLiteral("Alice")));
    QVERIFY(store.contains(QStringLiteral("ALICE")));
    QVERIFY(store.contains(QStringLiteral("  alice ")));
    QVERIFY(!store.contains(QStringLiteral("Alicia")));
    QVERIFY(store.verify(QStringLiteral("Alice"), QStringLiteral("wonderland")));
    QVERIFY(store.verify(QStringLiteral(" aLiCe "), QStringLiteral("wonderland")));

    QVERIFY(store.registerAccount(QStringLiteral("Bob"), QStringLiteral("builder!")));
    QCOMPARE(store.size(), 2);
}

void tst_Auth::nameTakenIgnoresCase()
{
    AccountStore store = cheapStore();
    QVERIFY(store.registerAccount(QStringLiteral("Alice"), QStringLiteral("wonderland")));
    for (const QString &again :
         {QStringLiteral("Alice"), QStringLiteral("alice"), QStringLiteral(" ALICE ")}) {
        const auto result = store.registerAccount(again, QStringLiteral("other password"));
        QVERIFY2(!result.has_value(), qPrintable(again));
        QCOMPARE(result.error(), AccountStore::Error::NameTaken);
    }
    QCOMPARE(store.size(), 1);
    // The first password still holds.
    QVERIFY(store.verify(QStringLiteral("alice"), QStringLiteral("wonderland")));
}

void tst_Auth::badNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("empty") << QString();
    QTest::newRow("only spaces") << QStringLiteral("   ");
    QTest::newRow("33 characters") << QString(33, u'a');
    QTest::newRow("33 after trimming") << QStringLiteral("  ") + QString(33, u'a') + u' ';
    QTest::newRow("slash") << QStringLiteral("a/b");
    QTest::newRow("markup") << QStringLiteral("<script>");
    QTest::newRow("dot") << QStringLiteral("a.b");
    QTest::newRow("tab inside") << QStringLiteral("a\tb");
    QTest::newRow("newline inside") << QStringLiteral("a\nb");
    QTest::newRow("emoji") << QStringLiteral("cat🐈");
}

void tst_Auth::badNames()
{
    QFETCH(QString, name);
    QCOMPARE(AccountStore::normalizedName(name), std::nullopt);
    AccountStore store = cheapStore();
    const auto registered = store.registerAccount(name, QStringLiteral("long enough"));
    QVERIFY(!registered.has_value());
    QCOMPARE(registered.error(), AccountStore::Error::BadName);
    const auto verified = store.verify(name, QStringLiteral("long enough"));
    QVERIFY(!verified.has_value());
    QCOMPARE(verified.error(), AccountStore::Error::BadName);
    QCOMPARE(store.size(), 0);
}

void tst_Auth::validNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("normalized");
    QTest::newRow("plain") << QStringLiteral("Alice") << QStringLiteral("Alice");
    QTest::newRow("trimmed") << QStringLiteral("  Bob \t") << QStringLiteral("Bob");
    QTest::newRow("one character") << QStringLiteral("x") << QStringLiteral("x");
    QTest::newRow("32 characters") << QString(32, u'z') << QString(32, u'z');
    QTest::newRow("digits, space, '-' and '_'")
        << QStringLiteral("Player_1 of-9") << QStringLiteral("Player_1 of-9");
    QTest::newRow("precomposed Zoë") << QStringLiteral("Zo\u00EB") << QStringLiteral("Zo\u00EB");
    QTest::newRow("Zoë with a combining diaeresis")
        << QStringLiteral("Zoe\u0308") << QStringLiteral("Zo\u00EB");
    QTest::newRow("Cyrillic") << QStringLiteral("Борис") << QStringLiteral("Борис");
}

void tst_Auth::validNames()
{
    QFETCH(QString, name);
    QFETCH(QString, normalized);
    QCOMPARE(AccountStore::normalizedName(name), std::optional<QString>(normalized));
    AccountStore store = cheapStore();
    const auto registered = store.registerAccount(name, QStringLiteral("long enough"));
    if (!registered)
        QFAIL(qPrintable(AccountStore::describe(registered.error())));
    QVERIFY(store.contains(normalized));
    QVERIFY(store.verify(normalized, QStringLiteral("long enough")));
}

void tst_Auth::passwordLength_data()
{
    QTest::addColumn<int>("length");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("empty") << 0 << false;
    QTest::newRow("7 characters") << 7 << false;
    QTest::newRow("8 characters") << 8 << true;
    QTest::newRow("256 characters") << 256 << true;
    QTest::newRow("257 characters") << 257 << false;
}

void tst_Auth::passwordLength()
{
    QFETCH(int, length);
    QFETCH(bool, accepted);
    AccountStore store = cheapStore();
    const QString password(length, u'p');
    const auto result = store.registerAccount(QStringLiteral("Carol"), password);
    QCOMPARE(result.has_value(), accepted);
    if (!accepted)
        QCOMPARE(result.error(), AccountStore::Error::WeakPassword);
    QCOMPARE(store.size(), accepted ? 1 : 0);
}

void tst_Auth::unknownNameAndWrongPassword()
{
    AccountStore store = cheapStore();
    QVERIFY(store.registerAccount(QStringLiteral("Dave"), QStringLiteral("open the pod bay")));

    const auto unknown = store.verify(QStringLiteral("Hal"), QStringLiteral("open the pod bay"));
    QVERIFY(!unknown.has_value());
    QCOMPARE(unknown.error(), AccountStore::Error::UnknownName);

    const auto wrong = store.verify(QStringLiteral("Dave"), QStringLiteral("open the pod door"));
    QVERIFY(!wrong.has_value());
    QCOMPARE(wrong.error(), AccountStore::Error::WrongPassword);

    const auto empty = store.verify(QStringLiteral("Dave"), QString());
    QVERIFY(!empty.has_value());
    QCOMPARE(empty.error(), AccountStore::Error::WrongPassword);
}

void tst_Auth::concurrentRegistrationOfOneName()
{
    constexpr int kThreads = 8;
    // Slow enough (tens of ms) that every thread is past the early NameTaken check before the
    // first hash is done, so only the check under the lock can stop the other seven.
    AccountStore store(PasswordHasher({crypto_pwhash_OPSLIMIT_MIN, std::size_t(16) * 1024 * 1024}));
    std::latch start(kThreads);
    std::atomic<int> succeeded = 0;
    std::atomic<int> taken = 0;
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            // Differently cased spellings of one name, each with its own password.
            const QString name = i % 2 ? QStringLiteral("Racer") : QStringLiteral("racer");
            const auto result = store.registerAccount(name, QStringLiteral("password %1").arg(i));
            if (result)
                ++succeeded;
            else if (result.error() == AccountStore::Error::NameTaken)
                ++taken;
        });
    }
    for (std::thread &thread : threads)
        thread.join();

    QCOMPARE(succeeded.load(), 1);
    QCOMPARE(taken.load(), kThreads - 1);
    QCOMPARE(store.size(), 1);
    int matching = 0;
    for (int i = 0; i < kThreads; ++i)
        matching += store.verify(QStringLiteral("RACER"), QStringLiteral("password %1").arg(i))
                        .has_value();
    QCOMPARE(matching, 1);
}

void tst_Auth::accountErrorsAreDescribed()
{
    using E = AccountStore::Error;
    QSet<QString> sentences;
    for (const E error : {E::BadName, E::WeakPassword, E::NameTaken, E::UnknownName,
                          E::WrongPassword, E::HashFailed}) {
        const QString sentence = AccountStore::describe(error);
        QVERIFY(!sentence.isEmpty());
        QVERIFY2(!sentence.contains(u'%'), qPrintable(sentence));
        sentences.insert(sentence);
    }
    QCOMPARE(sentences.size(), 6);
    QVERIFY(AccountStore::describe(E::BadName).contains(u"32"));
    QVERIFY(AccountStore::describe(E::WeakPassword).contains(u"8 to 256"));
}

QTEST_GUILESS_MAIN(tst_Auth)
#include "tst_auth.moc"
