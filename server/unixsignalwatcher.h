#pragma once

#include <QObject>

#include <initializer_list>
#include <vector>

class QSocketNotifier;

namespace hex::server {

/// Turns Unix signals (SIGINT, SIGTERM, ...) into a Qt signal delivered in the
/// event loop, through a self-pipe, so handlers may do anything a slot may do.
/// Create at most one, in the main thread.
class UnixSignalWatcher : public QObject
{
    Q_OBJECT
public:
    UnixSignalWatcher(std::initializer_list<int> signalNumbers, QObject *parent = nullptr);
    ~UnixSignalWatcher() override;

signals:
    void signalled(int signalNumber);

private:
    QSocketNotifier *m_notifier = nullptr;
    std::vector<int> m_signals;
};

} // namespace hex::server
