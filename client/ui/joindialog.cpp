#include "joindialog.h"

#include "net/serverlistmodel.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QHostAddress>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace hex::client {

namespace {

constexpr int kMaxNameLength = 32;

/// "HOST:PORT" for a server of the list, with brackets around an IPv6 address.
QString addressText(const ServerEntry &entry)
{
    QHostAddress address = entry.address;
    // A LAN sender often shows as ::ffff:a.b.c.d: show the IPv4 address.
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4)
        address = QHostAddress(v4);
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
                             ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
                             : address.toString();
    return host + QLatin1Char(':') + QString::number(entry.port);
}

} // namespace

JoinDialog::JoinDialog(ServerListModel *servers, const QString &playerName, const QString &address,
                       QWidget *parent)
    : QDialog(parent)
    , m_servers(servers)
{
    setWindowTitle(tr("Join a game"));

    auto *found = new QLabel(tr("Games on your local network:"), this);
    m_view = new QTableView(this);
    m_view->setModel(m_servers);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setMinimumHeight(160);
    found->setBuddy(m_view);

    m_address = new QLineEdit(address, this);
    m_address->setPlaceholderText(tr("host, host:port or ws://host:port/ws"));
    m_name = new QLineEdit(playerName, this);
    m_name->setMaxLength(kMaxNameLength + 1); // One more, so the message can show.
    m_accountPassword = new QLineEdit(this);
    m_accountPassword->setEchoMode(QLineEdit::Password);
    m_accountPassword->setPlaceholderText(tr("empty: play as a guest"));
    m_serverPassword = new QLineEdit(this);
    m_serverPassword->setEchoMode(QLineEdit::Password);
    m_serverPassword->setPlaceholderText(tr("only if the server asks for one"));

    auto *form = new QFormLayout;
    form->addRow(tr("&Address:"), m_address);
    form->addRow(tr("Your &name:"), m_name);
    form->addRow(tr("Account pass&word:"), m_accountPassword);
    form->addRow(tr("&Server password:"), m_serverPassword);

    m_problems = new QLabel(this);
    m_problems->setTextFormat(Qt::PlainText);
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("color: #c0392b;"));

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Join"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (canJoin())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(found);
    layout->addWidget(m_view, 1);
    layout->addLayout(form);
    layout->addWidget(m_problems);
    layout->addWidget(m_buttons);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    chooseRow(current.row());
            });
    connect(m_view, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &index) {
        chooseRow(index.row());
        if (canJoin())
            accept();
    });
    connect(m_address, &QLineEdit::textChanged, this, &JoinDialog::validate);
    // A typed address is no longer the server chosen in the list.
    connect(m_address, &QLineEdit::textEdited, m_view, &QAbstractItemView::clearSelection);
    connect(m_name, &QLineEdit::textChanged, this, &JoinDialog::validate);
    resize(640, 480);
    validate();
}

std::optional<QUrl> JoinDialog::urlFromAddress(const QString &text, QString *error)
{
    const QString trimmed = text.trimmed();
    const auto fail = [&](const QString &reason) -> std::optional<QUrl> {
        if (error)
            *error = reason;
        return std::nullopt;
    };
    if (trimmed.isEmpty())
        return fail(tr("Choose a server in the list or type its address."));

    QUrl url;
    if (trimmed.contains(QLatin1String("://"))) {
        url = QUrl(trimmed, QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        if (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))
            return fail(tr("A server address is host, host:port or a ws:// or wss:// URL, not "
                           "“%1”.")
                            .arg(trimmed));
    } else if (QHostAddress bare;
               bare.setAddress(trimmed) && bare.protocol() == QAbstractSocket::IPv6Protocol) {
        url.setScheme(QStringLiteral("ws"));
        url.setHost(bare.toString());
    } else {
        url = QUrl(QStringLiteral("ws://") + trimmed, QUrl::StrictMode);
        if (url.isValid() && (!url.path().isEmpty() || !url.userInfo().isEmpty()))
            url = QUrl();
    }
    if (!url.isValid() || url.host().isEmpty())
        return fail(tr("A server address is host, host:port or a ws:// or wss:// URL, not "
                       "“%1”.")
                        .arg(trimmed));
    if (url.port() == 0)
        return fail(tr("The port in “%1” must be 1 to 65535.").arg(trimmed));
    if (url.port() == -1 && url.scheme() == QLatin1String("ws"))
        url.setPort(kDefaultPort);
    if (url.path().isEmpty())
        url.setPath(QStringLiteral("/ws"));
    return url;
}

QStringList JoinDialog::problems() const
{
    QStringList problems;
    QString error;
    if (!urlFromAddress(m_address->text(), &error))
        problems << error;
    const QString name = m_name->text().trimmed();
    if (name.isEmpty() || name.size() > kMaxNameLength)
        problems << tr("Your name must be 1 to %1 characters.").arg(kMaxNameLength);
    return problems;
}

JoinRequest JoinDialog::request() const
{
    JoinRequest request;
    request.url = urlFromAddress(m_address->text()).value_or(QUrl());
    request.join.playerName = m_name->text().trimmed();
    request.join.accountPassword = m_accountPassword->text();
    request.join.serverPassword = m_serverPassword->text();
    return request;
}

void JoinDialog::chooseRow(int row)
{
    if (!m_servers || row < 0 || row >= m_servers->rowCount())
        return;
    if (m_view->currentIndex().row() != row)
        m_view->selectRow(row);
    m_address->setText(addressText(m_servers->entry(row)));
}

QString JoinDialog::problemText() const
{
    return m_problems->text();
}

bool JoinDialog::canJoin() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

void JoinDialog::validate()
{
    const QStringList list = problems();
    m_problems->setText(list.join(QLatin1Char('\n')));
    m_problems->setVisible(!list.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(list.isEmpty());
}

} // namespace hex::client
