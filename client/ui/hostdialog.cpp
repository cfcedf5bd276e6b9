#include "hostdialog.h"

#include "geometry/hexsphere.h"

#include <QCheckBox>
#include <QHeaderView>
#include <QLocale>
#include <QTreeWidget>
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

#include <algorithm>

namespace hex::client {

namespace {

/// Ports below this need privileges; 0 lets the system choose.
constexpr int kFirstUserPort = 1024;
constexpr int kDefaultSize = 64;
constexpr int kDefaultUps = 20;

} // namespace

server::persistence::StoreLocation HostDialog::defaultWorlds()
{
    // An empty text is the default location; it always parses.
    return server::persistence::StoreLocation::parse(QString()).value_or(
        server::persistence::StoreLocation{});
}

HostDialog::HostDialog(const QString &hostName, server::persistence::StoreLocation worlds,
                       QWidget *parent)
    : QDialog(parent)
    , m_hostName(hostName)
    , m_worlds(std::move(worlds))
{
    setWindowTitle(tr("Host a game"));

    auto *worldBox = new QGroupBox(tr("World"), this);
    m_newWorld = new QRadioButton(tr("New world"), worldBox);
    m_newWorld->setChecked(true);
    m_continueWorld = new QRadioButton(tr("Continue a saved world"), worldBox);
    m_savedWorlds = new QTreeWidget(worldBox);
    m_savedWorlds->setRootIsDecorated(false);
    m_savedWorlds->setHeaderLabels(
        {tr("World"), tr("Size"), tr("Played"), tr("Players"), tr("Last played")});
    m_savedWorlds->header()->setStretchLastSection(false);
    m_savedWorlds->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_savedWorlds->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_savedWorlds->setMinimumSize(520, 120);

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
    worldLayout->addWidget(m_savedWorlds);

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

    connect(m_newWorld, &QRadioButton::toggled, this, &HostDialog::validate);
    connect(m_savedWorlds, &QTreeWidget::itemSelectionChanged, this, [this] {
        if (!m_savedWorlds->selectedItems().isEmpty())
            m_continueWorld->setChecked(true);
        validate();
    });
    connect(m_savedWorlds, &QTreeWidget::itemDoubleClicked, this, [this] {
        if (canHost())
            accept();
    });
    connect(m_worldName, &QLineEdit::textChanged, this, &HostDialog::validate);
    connect(m_seed, &QLineEdit::textChanged, this, &HostDialog::validate);
    connect(m_port, &QSpinBox::valueChanged, this, &HostDialog::validate);
    connect(m_size, &QSpinBox::valueChanged, this, &HostDialog::updateCellCount);
    updateCellCount();
    listSavedWorlds();
    // Offer a name no saved world has.
    const QString base = m_worldName->text();
    QString offered = base;
    for (int n = 2; isSaved(offered) && n < 1000; ++n)
        offered = tr("%1 %2", "a world name and a number").arg(base).arg(n);
    m_worldName->setText(offered);
    validate();
}

bool HostDialog::isSaved(const QString &name) const
{
    return std::any_of(m_saved.cbegin(), m_saved.cend(), [&name](const auto &world) {
        return world.name.compare(name, Qt::CaseInsensitive) == 0;
    });
}

void HostDialog::listSavedWorlds()
{
    m_saved.clear();
    m_savedWorlds->clear();
    m_listError.clear();
    if (m_worlds.kind == server::persistence::StoreLocation::Kind::None) {
        m_continueWorld->setEnabled(false);
        m_savedWorlds->setEnabled(false);
        m_continueWorld->setToolTip(tr("This game keeps no worlds."));
        return;
    }
    auto listed = server::persistence::WorldCatalog(m_worlds).list();
    if (!listed) {
        m_listError = listed.error();
    } else {
        m_saved = std::move(*listed);
        // The most recently played first.
        std::stable_sort(m_saved.begin(), m_saved.end(), [](const auto &a, const auto &b) {
            return a.updatedAt > b.updatedAt;
        });
    }
    const QLocale locale;
    for (const server::persistence::WorldSummary &world : m_saved) {
        auto *item = new QTreeWidgetItem(m_savedWorlds);
        item->setText(0, world.name);
        item->setText(1, tr("n=%1 (%2 cells)")
                             .arg(world.subdivisions)
                             .arg(locale.toString(qulonglong(
                                 geometry::HexSphere::cellCountFor(world.subdivisions)))));
        item->setText(2, tr("%1 ticks").arg(locale.toString(qulonglong(world.tick))));
        item->setText(3, locale.toString(world.players));
        item->setText(4, locale.toString(world.updatedAt.toLocalTime(), QLocale::ShortFormat));
        item->setToolTip(0, tr("Seed %1, saved in %2").arg(world.seed).arg(m_worlds.describe()));
        if (!world.problem.isEmpty()) {
            // Listed, so that the player knows it is there, but it cannot be continued.
            item->setText(1, tr("cannot be opened"));
            for (int column = 2; column < 5; ++column)
                item->setText(column, QString());
            item->setToolTip(0, world.problem);
            item->setToolTip(1, world.problem);
            item->setFlags(item->flags() & ~(Qt::ItemIsSelectable | Qt::ItemIsEnabled));
        }
    }
    const bool any = std::any_of(m_saved.cbegin(), m_saved.cend(),
                                 [](const auto &world) { return world.problem.isEmpty(); });
    m_continueWorld->setEnabled(any);
    m_continueWorld->setToolTip(any ? QString() : tr("No saved worlds yet in %1.")
                                                      .arg(m_worlds.describe()));
    m_savedWorlds->setEnabled(!m_saved.empty());
}

bool HostDialog::continuing() const
{
    return m_continueWorld->isChecked();
}

const server::persistence::WorldSummary *HostDialog::chosenWorld() const
{
    const QList<QTreeWidgetItem *> selected = m_savedWorlds->selectedItems();
    if (selected.isEmpty())
        return nullptr;
    const int row = m_savedWorlds->indexOfTopLevelItem(selected.first());
    return row >= 0 && std::size_t(row) < m_saved.size() ? &m_saved[std::size_t(row)] : nullptr;
}

QStringList HostDialog::problems() const
{
    QStringList problems;
    if (!m_listError.isEmpty())
        problems << tr("The saved worlds cannot be listed: %1").arg(m_listError);
    if (continuing()) {
        if (!chosenWorld())
            problems << tr("Choose the saved world to continue.");
    } else {
        const QString name = m_worldName->text().trimmed();
        if (name.isEmpty() || name.size() > kMaxWorldNameLength) {
            problems << tr("The world name must be 1 to %1 characters.").arg(kMaxWorldNameLength);
        } else if (!server::persistence::WorldCatalog::isValidName(name)) {
            problems << tr("The world name may hold letters, digits, spaces, '-', '_' and '.', "
                           "and may not start with '.'.");
        } else if (isSaved(name)) {
            problems << tr("A saved world is called %1 already: continue it, or choose another "
                           "name.")
                            .arg(name);
        }
        bool seedOk = false;
        m_seed->text().trimmed().toULongLong(&seedOk);
        if (!seedOk)
            problems << tr("The seed must be a whole number from 0 to 18446744073709551615.");
    }
    const int port = m_port->value();
    if (port != 0 && port < kFirstUserPort)
        problems << tr("The port must be 0 (any free port) or 1024 to 65535.");
    return problems;
}

server::ServerConfig HostDialog::config() const
{
    server::ServerConfig config;
    config.store = m_worlds;
    if (const server::persistence::WorldSummary *world = continuing() ? chosenWorld() : nullptr) {
        // The server loads these from the save; they are set for the messages shown
        // while it starts.
        config.worldName = world->name;
        config.seed = world->seed;
        config.subdivisions = world->subdivisions;
    } else {
        config.worldName = m_worldName->text().trimmed();
        config.seed = m_seed->text().trimmed().toULongLong();
        config.subdivisions = m_size->value();
    }
    config.ups = m_ups->value();
    config.port = quint16(m_port->value());
    const bool lan = m_lan->isChecked();
    config.bindAddress = QHostAddress(lan ? QHostAddress::Any : QHostAddress::LocalHost);
    config.announceOnLan = lan;
    config.hostName = m_hostName;
    config.joinPassword = m_password->text();
    // Large worlds step on compute workers beside the game, as on a dedicated server.
    config.workers = server::kAutoWorkers;
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
    const bool fresh = !continuing();
    for (QWidget *field : {static_cast<QWidget *>(m_worldName), static_cast<QWidget *>(m_seed),
                           static_cast<QWidget *>(m_size)})
        field->setEnabled(fresh);
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
