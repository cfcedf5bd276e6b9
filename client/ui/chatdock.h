#pragma once

#include <QDockWidget>

class QLineEdit;
class QPlainTextEdit;

namespace hex::client {

class ServerConnection;

/// The "Chat" dock: the world's chat as lines "[hh:mm] Name: text" (the server's time
/// shown in local time), newest at the bottom, at most kMaxLines of them; and a line
/// edit with a Send button. Enter or Send says the line through
/// ServerConnection::sendChat(); the server's refusals (too long, too fast) arrive as
/// errorOccurred(), which the main window shows, so the dock does not repeat them.
/// The log follows new lines unless the player scrolled up. Lives in the GUI thread.
class ChatDock : public QDockWidget
{
    Q_OBJECT
public:
    /// Lines kept in the log; older ones are dropped.
    static constexpr int kMaxLines = 500;
    /// Characters the input takes, as many as the server accepts in one line.
    static constexpr int kMaxInputLength = 280;

    /// `connection` must outlive the dock.
    explicit ChatDock(ServerConnection *connection, QWidget *parent = nullptr);

    /// One log line: "[hh:mm] name: text", `serverTimeMs` (ms since the Unix epoch)
    /// shown in local time.
    static QString formatLine(const QString &name, const QString &text, qint64 serverTimeMs);

    /// Appends `line` to the log, dropping the oldest beyond kMaxLines.
    void appendLine(const QString &line);
    /// The lines in the log, oldest first.
    QStringList lines() const;

    QPlainTextEdit *log() const { return m_log; }
    QLineEdit *input() const { return m_input; }

public slots:
    /// Shows the dock and puts the keyboard focus in the input.
    void focusInput();
    /// Says the input's text; clears the input when it went out. Returns false when
    /// nothing was sent (empty text, or not joined).
    bool send();

private:
    ServerConnection *m_connection = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QLineEdit *m_input = nullptr;
};

} // namespace hex::client
