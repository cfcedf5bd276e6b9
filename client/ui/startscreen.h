#pragma once

#include <QWidget>

class QPushButton;

namespace hex::client {

/// The window the client opens with when no --host or --connect was given: the
/// game's title and four choices, Host game, Join game, Settings and Quit. It only
/// reports the choice; the Shell acts on it. GUI thread only.
class StartScreen : public QWidget
{
    Q_OBJECT
public:
    explicit StartScreen(QWidget *parent = nullptr);

    QPushButton *hostButton() const { return m_host; }
    QPushButton *joinButton() const { return m_join; }
    QPushButton *settingsButton() const { return m_settings; }
    QPushButton *quitButton() const { return m_quit; }

signals:
    void hostRequested();
    void joinRequested();
    void settingsRequested();
    void quitRequested();

private:
    QPushButton *m_host = nullptr;
    QPushButton *m_join = nullptr;
    QPushButton *m_settings = nullptr;
    QPushButton *m_quit = nullptr;
};

} // namespace hex::client
