#include "startscreen.h"

#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace hex::client {

StartScreen::StartScreen(QWidget *parent)
    : QWidget(parent)
{
    setWindowTitle(tr("Hexsphere"));

    auto *title = new QLabel(tr("Hexsphere"), this);
    QFont titleFont = title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 3.0);
    titleFont.setBold(true);
    title->setFont(titleFont);
    title->setAlignment(Qt::AlignCenter);
    auto *tagline = new QLabel(tr("Build factories on a living hexagonal planet."), this);
    tagline->setAlignment(Qt::AlignCenter);

    m_host = new QPushButton(tr("&Host game"), this);
    m_join = new QPushButton(tr("&Join game"), this);
    m_settings = new QPushButton(tr("&Settings"), this);
    m_quit = new QPushButton(tr("&Quit"), this);
    m_host->setToolTip(tr("Start a world on this computer and play in it; others may join."));
    m_join->setToolTip(tr("Play in a world that another computer hosts."));
    for (QPushButton *button : {m_host, m_join, m_settings, m_quit}) {
        button->setMinimumSize(240, 40);
        button->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    }
    m_host->setDefault(true);

    auto *layout = new QVBoxLayout(this);
    layout->addStretch(2);
    layout->addWidget(title);
    layout->addWidget(tagline);
    layout->addSpacing(32);
    for (QPushButton *button : {m_host, m_join, m_settings, m_quit})
        layout->addWidget(button, 0, Qt::AlignHCenter);
    layout->addStretch(3);

    connect(m_host, &QPushButton::clicked, this, &StartScreen::hostRequested);
    connect(m_join, &QPushButton::clicked, this, &StartScreen::joinRequested);
    connect(m_settings, &QPushButton::clicked, this, &StartScreen::settingsRequested);
    connect(m_quit, &QPushButton::clicked, this, &StartScreen::quitRequested);
    resize(1280, 800);
}

} // namespace hex::client
