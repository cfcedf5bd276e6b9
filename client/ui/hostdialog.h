#pragma once

#include "serverconfig.h"

#include <QDialog>
#include <QStringList>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace hex::client {

/// Host game: a new world (name, seed, size, UPS), the port, whether players on the
/// LAN may join and see it, and an optional join password. "Continue an existing
/// world" is shown but disabled until worlds can be saved. Problems are listed under
/// the form, and Host stays disabled while there are any. GUI thread only.
class HostDialog : public QDialog
{
    Q_OBJECT
public:
    /// The default port offered: the one dedicated servers use.
    static constexpr int kDefaultPort = 7357;
    /// Longest world name accepted.
    static constexpr int kMaxWorldNameLength = 64;

    /// `hostName` is the player's name, shown in LAN announcements.
    explicit HostDialog(const QString &hostName, QWidget *parent = nullptr);

    /// What is wrong with the form, one sentence each; empty when it can be hosted.
    QStringList problems() const;
    /// The server the form describes; meaningful when problems() is empty.
    server::ServerConfig config() const;

    QLineEdit *worldNameEdit() const { return m_worldName; }
    QLineEdit *seedEdit() const { return m_seed; }
    QSpinBox *sizeSpin() const { return m_size; }
    QSpinBox *upsSpin() const { return m_ups; }
    QSpinBox *portSpin() const { return m_port; }
    QCheckBox *lanCheck() const { return m_lan; }
    QLineEdit *passwordEdit() const { return m_password; }
    QRadioButton *continueWorldButton() const { return m_continueWorld; }
    /// The problems as shown under the form.
    QString problemText() const;
    /// True when the Host button may be pressed.
    bool canHost() const;

private:
    void validate();
    void updateCellCount();

    QString m_hostName;
    QRadioButton *m_newWorld = nullptr;
    QRadioButton *m_continueWorld = nullptr;
    QLineEdit *m_worldName = nullptr;
    QLineEdit *m_seed = nullptr;
    QSpinBox *m_size = nullptr;
    QLabel *m_cellCount = nullptr;
    QSpinBox *m_ups = nullptr;
    QSpinBox *m_port = nullptr;
    QCheckBox *m_lan = nullptr;
    QLineEdit *m_password = nullptr;
    QLabel *m_problems = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace hex::client
