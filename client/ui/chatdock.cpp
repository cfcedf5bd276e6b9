#include "chatdock.h"

#include "net/serverconnection.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QTextBlock>
#include <QVBoxLayout>

namespace hex::client {

ChatDock::ChatDock(ServerConnection *connection, QWidget *parent)
    : QDockWidget(tr("Chat"), parent)
    , m_connection(connection)
{
    setObjectName(QStringLiteral("chatDock"));
    setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                | QDockWidget::DockWidgetClosable);

    auto *body = new QWidget(this);
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    m_log = new QPlainTextEdit(body);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(kMaxLines);
    m_log->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_log->setPlaceholderText(tr("No messages yet."));
    layout->addWidget(m_log, 1);

    auto *row = new QHBoxLayout;
    row->setSpacing(4);
    m_input = new QLineEdit(body);
    m_input->setMaxLength(kMaxInputLength);
    m_input->setPlaceholderText(tr("Say something (T)"));
    m_input->setClearButtonEnabled(true);
    auto *sendButton = new QPushButton(tr("Send"), body);
    row->addWidget(m_input, 1);
    row->addWidget(sendButton);
    layout->addLayout(row);
    setWidget(body);

    connect(m_input, &QLineEdit::returnPressed, this, &ChatDock::send);
    connect(sendButton, &QPushButton::clicked, this, &ChatDock::send);
    connect(m_connection, &ServerConnection::chatReceived, this,
            [this](quint32, const QString &name, const QString &text, qint64 serverTimeMs) {
                appendLine(formatLine(name, text, serverTimeMs));
            });
}

QString ChatDock::formatLine(const QString &name, const QString &text, qint64 serverTimeMs)
{
    const QString time = QDateTime::fromMSecsSinceEpoch(serverTimeMs)
                             .toLocalTime()
                             .toString(QStringLiteral("HH:mm"));
    return tr("[%1] %2: %3").arg(time, name, text);
}

void ChatDock::appendLine(const QString &line)
{
    QScrollBar *bar = m_log->verticalScrollBar();
    const bool atBottom = bar->value() >= bar->maximum();
    const int scrolledTo = bar->value();
    m_log->appendPlainText(line);
    // Follow new lines, unless the player scrolled up to read.
    bar->setValue(atBottom ? bar->maximum() : scrolledTo);
}

QStringList ChatDock::lines() const
{
    QStringList result;
    for (QTextBlock block = m_log->document()->begin(); block.isValid(); block = block.next())
        result << block.text();
    if (result.size() == 1 && result.first().isEmpty())
        return {};
    return result;
}

void ChatDock::focusInput()
{
    show();
    raise();
    m_input->setFocus(Qt::ShortcutFocusReason);
}

bool ChatDock::send()
{
    if (!m_connection->sendChat(m_input->text()))
        return false;
    m_input->clear();
    return true;
}

} // namespace hex::client
