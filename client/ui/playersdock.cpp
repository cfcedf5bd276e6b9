#include "playersdock.h"

#include "net/serverconnection.h"

#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <vector>

namespace hex::client {

namespace {

/// A small filled circle of `colour`, for the state column.
QIcon dot(const QColor &colour)
{
    QPixmap pixmap(12, 12);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(colour.darker(130));
    painter.setBrush(colour);
    painter.drawEllipse(QRectF(1.5, 1.5, 9, 9));
    return QIcon(pixmap);
}

} // namespace

PlayersDock::PlayersDock(ServerConnection *connection, QWidget *parent)
    : QDockWidget(tr("Players"), parent)
    , m_connection(connection)
{
    setObjectName(QStringLiteral("playersDock"));
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                | QDockWidget::DockWidgetClosable);
    auto *body = new QWidget(this);
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    m_header = new QLabel(body);
    m_header->setTextFormat(Qt::PlainText);
    layout->addWidget(m_header);
    m_table = new QTreeWidget(body);
    m_table->setColumnCount(3);
    m_table->setHeaderLabels({tr("Name"), tr("State"), tr("Cells")});
    m_table->setRootIsDecorated(false);
    m_table->setUniformRowHeights(true);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->header()->setStretchLastSection(false);
    m_table->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_table->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    layout->addWidget(m_table, 1);
    setWidget(body);

    connect(m_connection, &ServerConnection::playersChanged, this, &PlayersDock::refresh);
    refresh();
}

QString PlayersDock::headerText() const
{
    return m_header->text();
}

void PlayersDock::refresh()
{
    const std::map<sim::PlayerId, PlayerEntry> &players = m_connection->players();
    std::vector<std::pair<sim::PlayerId, const PlayerEntry *>> sorted;
    sorted.reserve(players.size());
    int online = 0;
    for (const auto &[id, entry] : players) {
        sorted.emplace_back(id, &entry);
        if (entry.online)
            ++online;
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) {
        if (a.second->online != b.second->online)
            return a.second->online;
        const int byName = QString::localeAwareCompare(a.second->name, b.second->name);
        return byName != 0 ? byName < 0 : a.first < b.first;
    });

    const int total = std::max(m_connection->playerTotal(), int(players.size()));
    m_header->setText(tr("Players: %1 online of %2").arg(online).arg(total));

    const QIcon onlineDot = dot(QColor(0x2e, 0xb8, 0x4b));
    const QIcon offlineDot = dot(QColor(0x9a, 0x9a, 0x9a));
    m_table->clear();
    for (const auto &[id, entry] : sorted) {
        auto *row = new QTreeWidgetItem(m_table,
                                        {entry->name, entry->online ? tr("online") : tr("offline"),
                                         QString::number(entry->cellsOwned)});
        row->setIcon(1, entry->online ? onlineDot : offlineDot);
        row->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
        if (id == m_connection->playerId()) {
            QFont bold = row->font(0);
            bold.setBold(true);
            for (int column = 0; column < 3; ++column)
                row->setFont(column, bold);
            row->setToolTip(0, tr("You"));
        }
    }
}

} // namespace hex::client
