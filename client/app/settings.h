#pragma once

#include "app/clientoptions.h"

#include <QKeySequence>
#include <QList>
#include <QSettings>
#include <QString>

#include <memory>

namespace hex::client {

/// The player's actions that have a key binding in the Settings dialog.
enum class KeyAction {
    RotateStructure,
    CameraLeft,
    CameraRight,
    CameraUp,
    CameraDown,
    ZoomIn,
    ZoomOut,
    GameMenu,
    Chat,
};

/// The client's per-user settings, kept by QSettings in the standard per-user place
/// (organization "Hexsphere", application "hexsphere"), with typed getters that fall
/// back to the defaults below. Every setter writes through at once. GUI thread only.
class Settings
{
    Q_DECLARE_TR_FUNCTIONS(hex::client::Settings)

public:
    /// msaaSamples() when the client chooses: see effectiveMsaaSamples().
    static constexpr int kMsaaAutomatic = -1;
    /// The MSAA settings the Settings dialog offers: automatic, then sample counts (0 is
    /// off).
    static constexpr int kMsaaChoices[] = {kMsaaAutomatic, 0, 2, 4, 8};

    /// Reads and writes the user's settings: call after the application's organization
    /// and name are set.
    Settings();
    /// Reads and writes the INI file `fileName` instead (tests use a temporary one).
    explicit Settings(const QString &fileName);
    ~Settings();

    /// The name to play under; default: the user's login name (see
    /// ClientOptions::defaultPlayerName()). 1 to 32 characters.
    QString playerName() const;
    void setPlayerName(const QString &name);

    /// The interface language; default: the system's if French, else English. Read at
    /// start, so a change takes effect when the client restarts.
    Language language() const;
    void setLanguage(Language language);

    /// Multisampling of the 3D view as the player set it: kMsaaAutomatic (the default),
    /// or 0 (off), 2, 4 or 8 samples. Read when a game window opens, through
    /// effectiveMsaaSamples().
    int msaaSamples() const;
    void setMsaaSamples(int samples);
    /// The samples a window gets for the setting `samples`: the setting itself, or for
    /// kMsaaAutomatic 4 on a graphics card and 0 on a software rasteriser (Mesa's
    /// llvmpipe under Xvfb or without a GPU driver), which would spend most of each
    /// frame clearing and resolving the extra samples.
    static int effectiveMsaaSamples(int samples, bool softwareRenderer);

    /// Wait for the display's vertical sync; default true. Read when a game window
    /// opens.
    bool vsync() const;
    void setVsync(bool on);

    /// The key for `action`; its default (defaultKeys()) until the player changes it.
    QKeySequence keyBinding(KeyAction action) const;
    /// Binds `action` to `keys`; an empty sequence restores the default.
    void setKeyBinding(KeyAction action, const QKeySequence &keys);

    /// The server the Join dialog proposes, as typed there ("host", "host:port" or a
    /// ws:// URL); empty by default.
    QString defaultServer() const;
    void setDefaultServer(const QString &address);

    /// Writes pending changes to storage now (they are written later anyway).
    void sync();

    /// Every bindable action, in the order the Settings dialog lists them.
    static QList<KeyAction> keyActions();
    /// The key `action` has until the player changes it.
    static QKeySequence defaultKeys(KeyAction action);
    /// The action's name as the Settings dialog shows it, translated.
    static QString actionLabel(KeyAction action);
    /// The action's stable name in storage, e.g. "rotate".
    static QString actionId(KeyAction action);

private:
    std::unique_ptr<QSettings> m_store;
};

} // namespace hex::client
