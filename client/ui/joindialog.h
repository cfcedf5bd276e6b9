#pragma once

#include "net/serverconnection.h"

#include <QDialog>
#include <QString>
#include <QUrl>

#include <optional>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace hex::client {

class ServerListModel;

/// Where to join and as whom: what the Join dialog produces.
struct JoinRequest
{
    /// ws://HOST:PORT/ws or the URL typed in.
    QUrl url;
    JoinOptions join;
};

/// Join game: the server browser (servers found on the LAN, one row each), an address
/// field for any other server, the player's name and optional account and server
/// passwords. Choosing a row puts its address in the field; double-clicking it joins.
/// Problems are listed under the form, and Join stays disabled while there are any.
/// GUI thread only.
class JoinDialog : public QDialog
{
    Q_OBJECT
public:
    /// The port an address without one gets.
    static constexpr quint16 kDefaultPort = 7357;

    /// Shows `servers`, which LanDiscovery fills (it must outlive the dialog). The name
    /// and address fields start with `playerName` and `address`.
    JoinDialog(ServerListModel *servers, const QString &playerName, const QString &address,
               QWidget *parent = nullptr);

    /// The server `text` names: "host", "host:port" (port 7357 by default) or a ws://
    /// or wss:// URL (path /ws by default). Returns nullopt, with the reason in `error`
    /// when given, for anything else.
    static std::optional<QUrl> urlFromAddress(const QString &text, QString *error = nullptr);

    /// What is wrong with the form, one sentence each; empty when it can join.
    QStringList problems() const;
    /// The join the form describes; meaningful when problems() is empty.
    JoinRequest request() const;

    QTableView *serverView() const { return m_view; }
    QLineEdit *addressEdit() const { return m_address; }
    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *accountPasswordEdit() const { return m_accountPassword; }
    QLineEdit *serverPasswordEdit() const { return m_serverPassword; }
    /// Chooses the server of `row` in the list, as a click on it does.
    void chooseRow(int row);
    /// The problems as shown under the form.
    QString problemText() const;
    /// True when the Join button may be pressed.
    bool canJoin() const;

private:
    void validate();

    ServerListModel *m_servers = nullptr;
    QTableView *m_view = nullptr;
    QLineEdit *m_address = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_accountPassword = nullptr;
    QLineEdit *m_serverPassword = nullptr;
    QLabel *m_problems = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace hex::client
