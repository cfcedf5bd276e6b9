#include "settings.h"

#include <algorithm>
#include <iterator>

namespace hex::client {

namespace {

const QString kPlayerName = QStringLiteral("player/name");
const QString kLanguage = QStringLiteral("interface/language");
const QString kMsaa = QStringLiteral("graphics/msaaSamples");
const QString kVsync = QStringLiteral("graphics/vsync");
const QString kDefaultServer = QStringLiteral("network/defaultServer");
const QString kKeysGroup = QStringLiteral("keys/");

constexpr int kDefaultMsaa = Settings::kMsaaAutomatic;
/// Samples of the automatic setting on a graphics card.
constexpr int kHardwareMsaa = 4;
constexpr int kMaxNameLength = 32;

} // namespace

Settings::Settings()
    : m_store(std::make_unique<QSettings>())
{}

Settings::Settings(const QString &fileName)
    : m_store(std::make_unique<QSettings>(fileName, QSettings::IniFormat))
{}

Settings::~Settings() = default;

QString Settings::playerName() const
{
    const QString name = m_store->value(kPlayerName).toString().trimmed();
    if (name.isEmpty() || name.size() > kMaxNameLength)
        return ClientOptions::defaultPlayerName();
    return name;
}

void Settings::setPlayerName(const QString &name)
{
    m_store->setValue(kPlayerName, name.trimmed());
}

Language Settings::language() const
{
    if (const auto language = i18n::languageFromCode(m_store->value(kLanguage).toString()))
        return *language;
    return i18n::languageFromArguments({});
}

void Settings::setLanguage(Language language)
{
    m_store->setValue(kLanguage, i18n::languageCode(language));
}

int Settings::msaaSamples() const
{
    bool ok = false;
    const int samples = m_store->value(kMsaa, kDefaultMsaa).toInt(&ok);
    if (!ok
        || std::find(std::begin(kMsaaChoices), std::end(kMsaaChoices), samples)
               == std::end(kMsaaChoices))
        return kDefaultMsaa;
    return samples;
}

void Settings::setMsaaSamples(int samples)
{
    m_store->setValue(kMsaa, samples);
}

int Settings::effectiveMsaaSamples(int samples, bool softwareRenderer)
{
    if (samples != kMsaaAutomatic)
        return samples;
    return softwareRenderer ? 0 : kHardwareMsaa;
}

bool Settings::vsync() const
{
    return m_store->value(kVsync, true).toBool();
}

void Settings::setVsync(bool on)
{
    m_store->setValue(kVsync, on);
}

QKeySequence Settings::keyBinding(KeyAction action) const
{
    const QString stored = m_store->value(kKeysGroup + actionId(action)).toString();
    const QKeySequence keys = QKeySequence::fromString(stored, QKeySequence::PortableText);
    return keys.isEmpty() ? defaultKeys(action) : keys;
}

void Settings::setKeyBinding(KeyAction action, const QKeySequence &keys)
{
    const QString key = kKeysGroup + actionId(action);
    if (keys.isEmpty() || keys == defaultKeys(action))
        m_store->remove(key);
    else
        m_store->setValue(key, keys.toString(QKeySequence::PortableText));
}

QString Settings::defaultServer() const
{
    return m_store->value(kDefaultServer).toString().trimmed();
}

void Settings::setDefaultServer(const QString &address)
{
    m_store->setValue(kDefaultServer, address.trimmed());
}

void Settings::sync()
{
    m_store->sync();
}

QList<KeyAction> Settings::keyActions()
{
    return {KeyAction::RotateStructure, KeyAction::CameraLeft, KeyAction::CameraRight,
            KeyAction::CameraUp,        KeyAction::CameraDown, KeyAction::ZoomIn,
            KeyAction::ZoomOut,         KeyAction::GameMenu,   KeyAction::Chat};
}

QKeySequence Settings::defaultKeys(KeyAction action)
{
    switch (action) {
    case KeyAction::RotateStructure:
        return QKeySequence(Qt::Key_R);
    case KeyAction::CameraLeft:
        return QKeySequence(Qt::Key_A);
    case KeyAction::CameraRight:
        return QKeySequence(Qt::Key_D);
    case KeyAction::CameraUp:
        return QKeySequence(Qt::Key_W);
    case KeyAction::CameraDown:
        return QKeySequence(Qt::Key_S);
    case KeyAction::ZoomIn:
        return QKeySequence(Qt::Key_Plus);
    case KeyAction::ZoomOut:
        return QKeySequence(Qt::Key_Minus);
    case KeyAction::GameMenu:
        return QKeySequence(Qt::Key_Escape);
    case KeyAction::Chat:
        return QKeySequence(Qt::Key_T);
    }
    return {};
}

QString Settings::actionLabel(KeyAction action)
{
    switch (action) {
    case KeyAction::RotateStructure:
        return tr("Rotate the structure under the mouse");
    case KeyAction::CameraLeft:
        return tr("Turn the camera left");
    case KeyAction::CameraRight:
        return tr("Turn the camera right");
    case KeyAction::CameraUp:
        return tr("Turn the camera up");
    case KeyAction::CameraDown:
        return tr("Turn the camera down");
    case KeyAction::ZoomIn:
        return tr("Zoom in");
    case KeyAction::ZoomOut:
        return tr("Zoom out");
    case KeyAction::GameMenu:
        return tr("Game menu");
    case KeyAction::Chat:
        return tr("Chat");
    }
    return {};
}

QString Settings::actionId(KeyAction action)
{
    switch (action) {
    case KeyAction::RotateStructure:
        return QStringLiteral("rotate");
    case KeyAction::CameraLeft:
        return QStringLiteral("cameraLeft");
    case KeyAction::CameraRight:
        return QStringLiteral("cameraRight");
    case KeyAction::CameraUp:
        return QStringLiteral("cameraUp");
    case KeyAction::CameraDown:
        return QStringLiteral("cameraDown");
    case KeyAction::ZoomIn:
        return QStringLiteral("zoomIn");
    case KeyAction::ZoomOut:
        return QStringLiteral("zoomOut");
    case KeyAction::GameMenu:
        return QStringLiteral("gameMenu");
    case KeyAction::Chat:
        return QStringLiteral("chat");
    }
    return {};
}

} // namespace hex::client
