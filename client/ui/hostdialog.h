#pragma once

#include "persistence/worldstore.h"
#include "serverconfig.h"

#include <QDialog>
#include <QStringList>

#include <vector>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;
class QTreeWidget;

namespace hex::client {

/// Host game: a new world (name, seed, size, UPS) or one of the worlds saved in
/// `worlds` to continue; the port, whether players on the LAN may join and see it, and
/// an optional join password. Problems are listed under the form, and Host stays
/// disabled while there are any. GUI thread only.
class HostDialog : public QDialog
{
    Q_OBJECT
public:
    /// The default port offered: the one dedicated servers use.
    static constexpr int kDefaultPort = 7357;
    /// Longest world name accepted.
    static constexpr int kMaxWorldNameLength = 64;

    /// `hostName` is the player's name, shown in LAN announcements. The saved worlds
    /// are listed from `worlds` (the default: SQLite files under the standard data
    /// directory), and the hosted server keeps its world there.
    explicit HostDialog(const QString &hostName,
                        server::persistence::StoreLocation worlds = defaultWorlds(),
                        QWidget *parent = nullptr);

    /// Where hosted worlds are kept: StoreLocation::parse("").
    static server::persistence::StoreLocation defaultWorlds();

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
    QRadioButton *newWorldButton() const { return m_newWorld; }
    QRadioButton *continueWorldButton() const { return m_continueWorld; }
    /// The saved worlds, one row each (name, size, ticks, last played).
    QTreeWidget *savedWorldList() const { return m_savedWorlds; }
    /// The problems as shown under the form.
    QString problemText() const;
    /// True when the Host button may be pressed.
    bool canHost() const;

private:
    void validate();
    void updateCellCount();
    void listSavedWorlds();
    bool continuing() const;
    /// True when a saved world has `name` (case-insensitive).
    bool isSaved(const QString &name) const;
    /// The saved world chosen in the list, or null.
    const server::persistence::WorldSummary *chosenWorld() const;

    QString m_hostName;
    server::persistence::StoreLocation m_worlds;
    std::vector<server::persistence::WorldSummary> m_saved;
    QString m_listError;
    QTreeWidget *m_savedWorlds = nullptr;
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
