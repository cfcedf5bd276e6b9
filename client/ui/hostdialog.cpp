#include "hostdialog.h"

#include "geometry/hexsphere.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QVBoxLayout>

namespace hex::client {

namespace {

/// Ports below this need privileges; 0 lets the system choose.
constexpr int kFirstUserPort = 1024;
constexpr int kDefaultSize = 64;
constexpr int kDefaultUps = 20;

} // namespace

HostDialog::HostDialog(const QString &hostName, QWidget *parent)
    : QDialog(parent)
    , m_hostName(hostName)
{
    setWindowTitle(tr("Host a game"));

    auto *worldBox = new QGroupBox(tr("World"), this);
    m_newWorld = new QRadioButton(tr("New world"), worldBox);
    m_newWorld->setChecked(true);
    m_continueWorld = new QRadioButton(tr("Continue an existing world"), worldBox);
    m_continueWorld->setEnabled(false);
    m_continueWorld->setToolTip(
        tr("Saved worlds come with persistence, in a later version of Hexsphere."));

    m_worldName = new QLineEdit(tr("New world"), worldBox);
    m_worldName->setMaxLength(kMaxWorldNameLength + 1); // One more, so the message can show.
    m_seed = new QLineEdit(QString::number(QRandomGenerator::global()->bounded(1, 1'000'000)),
                           worldBox);
    m_seed->setToolTip(tr("The same seed and size always give the same planet."));
    m_size = new QSpinBox(worldBox);
    m_size->setRange(1, server::kMaxSubdivisions);
    m_size->setValue(kDefaultSize);
    m_cellCount = new QLabel(worldBox);
    m_ups = new QSpinBox(worldBox);
    m_ups->setRange(server::kMinUps, server::kMaxUps);
    m_ups->setValue(kDefaultUps);
    m_ups->setSuffix(tr(" updates/s"));

    auto *sizeRow = new QHBoxLayout;
    sizeRow->addWidget(m_size);
    sizeRow->addWidget(m_cellCount, 1);
    auto *worldForm = new QFormLayout;
    worldForm->addRow(tr("&Name:"), m_worldName);
    worldForm->addRow(tr("S&eed:"), m_seed);
    auto *sizeLabel = new QLabel(tr("&Size:"), worldBox);
    sizeLabel->setBuddy(m_size); // A row holding a layout gets no buddy of its own.
    worldForm->addRow(sizeLabel, sizeRow);
    worldForm->addRow(tr("&Speed:"), m_ups);
    auto *worldLayout = new QVBoxLayout(worldBox);
    worldLayout->addWidget(m_newWorld);
    worldLayout->addLayout(worldForm);
    worldLayout->addWidget(m_continueWorld);

    auto *networkBox = new QGroupBox(tr("Network"), this);
    m_port = new QSpinBox(networkBox);
    m_port->setRange(0, 65535);
    m_port->setValue(kDefaultPort);
    m_port->setSpecialValueText(tr("any free port"));
    m_lan = new QCheckBox(tr("Visible on the local network"), networkBox);
    m_lan->setToolTip(tr("Players on your network see the game in their server list and can "
                         "join it. Otherwise only this computer can."));
    m_password = new QLineEdit(networkBox);
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setPlaceholderText(tr("none"));
    auto *networkForm = new QFormLayout(networkBox);
    networkForm->addRow(tr("&Port:"), m_port);
    networkForm->addRow(QString(), m_lan);
    networkForm->addRow(tr("Pass&word:"), m_password);

    m_problems = new QLabel(this);
    m_problems->setTextFormat(Qt::PlainText);
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("color: #c0392b;"));

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Host"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (canHost())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(worldBox);
    layout->addWidget(networkBox);
    layout->addWidget(m_problems);
    layout->addStretch(1);
    layout->addWidget(m_buttons);

    connect(m_worldName, &QLineEdit::textChanged, this, &HostDialog::validate);
    connect(m_seed, &QLineEdit::textChanged, this, &HostDialog::validate);
    connect(m_port, &QSpinBox::valueChanged, this, &HostDialog::validate);
    connect(m_size, &QSpinBox::valueChanged, this, &HostDialog::updateCellCount);
    updateCellCount();
    validate();
}

QStringList HostDialog::problems() const
{
    QStringList problems;
    const QString name = m_worldName->text().trimmed();
    if (name.isEmpty() || name.size() > kMaxWorldNameLength)
        problems << tr("The world name must be 1 to %1 characters.").arg(kMaxWorldNameLength);
    bool seedOk = false;
    m_seed->text().trimmed().toULongLong(&seedOk);
    if (!seedOk)
        problems << tr("The seed must be a whole number from 0 to 18446744073709551615.");
    const int port = m_port->value();
    if (port != 0 && port < kFirstUserPort)
        problems << tr("The port must be 0 (any free port) or 1024 to 65535.");
    return problems;
}

server::ServerConfig HostDialog::config() const
{
    server::ServerConfig config;
    config.worldName = m_worldName->text().trimmed();
    config.seed = m_seed->text().trimmed().toULongLong();
    config.subdivisions = m_size->value();
    config.ups = m_ups->value();
    config.port = quint16(m_port->value());
    const bool lan = m_lan->isChecked();
    config.bindAddress = QHostAddress(lan ? QHostAddress::Any : QHostAddress::LocalHost);
    config.announceOnLan = lan;
    config.hostName = m_hostName;
    config.joinPassword = m_password->text();
    return config;
}

QString HostDialog::problemText() const
{
    return m_problems->text();
}

bool HostDialog::canHost() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

void HostDialog::validate()
{
    const QStringList list = problems();
    m_problems->setText(list.join(QLatin1Char('\n')));
    m_problems->setVisible(!list.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(list.isEmpty());
}

void HostDialog::updateCellCount()
{
    const auto cells = qulonglong(geometry::HexSphere::cellCountFor(m_size->value()));
    m_cellCount->setText(tr("%1 cells").arg(QLocale().toString(cells)));
}

} // namespace hex::client
