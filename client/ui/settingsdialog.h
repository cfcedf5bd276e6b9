#pragma once

#include "app/settings.h"

#include <QDialog>
#include <QMap>

class QCheckBox;
class QComboBox;
class QKeySequenceEdit;
class QLabel;
class QLineEdit;
class QTableWidget;

namespace hex::client {

/// Settings: the player's name, the interface language, graphics (MSAA, vsync), key
/// bindings and the default server. Shows `settings` when opened and writes them back
/// when accepted; Cancel changes nothing. The language applies when the client
/// restarts, the graphics when the next game window opens. GUI thread only.
class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    /// `settings` must outlive the dialog.
    explicit SettingsDialog(Settings *settings, QWidget *parent = nullptr);

    /// Writes the form into the settings (OK does this, then closes). Returns false,
    /// writing nothing, when the form has a problem (see problemText()).
    bool apply();

    QLineEdit *nameEdit() const { return m_name; }
    QComboBox *languageCombo() const { return m_language; }
    QComboBox *msaaCombo() const { return m_msaa; }
    QCheckBox *vsyncCheck() const { return m_vsync; }
    QLineEdit *defaultServerEdit() const { return m_defaultServer; }
    /// The editor of `action`'s key in the bindings table.
    QKeySequenceEdit *keyEdit(KeyAction action) const { return m_keyEdits.value(action); }
    QTableWidget *keyTable() const { return m_keys; }
    /// What stops the form from being applied; empty when nothing does.
    QString problemText() const;

private:
    void load();
    void restoreDefaultKeys();
    void validate();

    Settings *m_settings = nullptr;
    QLineEdit *m_name = nullptr;
    QComboBox *m_language = nullptr;
    QComboBox *m_msaa = nullptr;
    QCheckBox *m_vsync = nullptr;
    QTableWidget *m_keys = nullptr;
    QMap<KeyAction, QKeySequenceEdit *> m_keyEdits;
    QLineEdit *m_defaultServer = nullptr;
    QLabel *m_problems = nullptr;
};

} // namespace hex::client
