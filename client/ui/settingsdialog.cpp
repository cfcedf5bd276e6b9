#include "settingsdialog.h"

#include "ui/joindialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QKeySequenceEdit>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace hex::client {

namespace {

constexpr int kMaxNameLength = 32;

QLabel *noteLabel(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setEnabled(false); // Greyed: a remark, not a field.
    return label;
}

} // namespace

SettingsDialog::SettingsDialog(Settings *settings, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
{
    setWindowTitle(tr("Settings"));
    auto *tabs = new QTabWidget(this);

    auto *general = new QWidget(tabs);
    m_name = new QLineEdit(general);
    m_name->setMaxLength(kMaxNameLength + 1); // One more, so the message can show.
    m_language = new QComboBox(general);
    // Each language in its own name, so that anyone can find theirs.
    m_language->addItem(QStringLiteral("English"), QVariant::fromValue(int(Language::English)));
    m_language->addItem(QStringLiteral("Français"), QVariant::fromValue(int(Language::French)));
    m_defaultServer = new QLineEdit(general);
    m_defaultServer->setPlaceholderText(tr("host, host:port or ws://host:port/ws"));
    auto *generalForm = new QFormLayout(general);
    generalForm->addRow(tr("Player &name:"), m_name);
    generalForm->addRow(tr("&Language:"), m_language);
    generalForm->addRow(QString(), noteLabel(tr("Takes effect when Hexsphere restarts."), general));
    generalForm->addRow(tr("Default &server:"), m_defaultServer);
    tabs->addTab(general, tr("&General"));

    auto *graphics = new QWidget(tabs);
    m_msaa = new QComboBox(graphics);
    for (const int samples : Settings::kMsaaChoices) {
        if (samples == Settings::kMsaaAutomatic)
            m_msaa->addItem(tr("Automatic"), samples);
        else
            m_msaa->addItem(samples == 0 ? tr("Off") : tr("%1×").arg(samples), samples);
    }
    m_msaa->setToolTip(tr("Automatic: 4× on a graphics card, off when the computer draws "
                          "without one (software rendering), where smoothing edges would "
                          "cost most of each frame."));
    m_vsync = new QCheckBox(tr("Wait for the display’s vertical sync"), graphics);
    auto *graphicsForm = new QFormLayout(graphics);
    graphicsForm->addRow(tr("&Antialiasing (MSAA):"), m_msaa);
    graphicsForm->addRow(tr("&Vsync:"), m_vsync);
    graphicsForm->addRow(QString(),
                         noteLabel(tr("Takes effect when the next game starts."), graphics));
    tabs->addTab(graphics, tr("G&raphics"));

    auto *keys = new QWidget(tabs);
    const QList<KeyAction> actions = Settings::keyActions();
    m_keys = new QTableWidget(int(actions.size()), 2, keys);
    m_keys->setHorizontalHeaderLabels({tr("Action"), tr("Key")});
    m_keys->verticalHeader()->hide();
    m_keys->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_keys->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_keys->setSelectionMode(QAbstractItemView::NoSelection);
    for (int row = 0; row < actions.size(); ++row) {
        auto *label = new QTableWidgetItem(Settings::actionLabel(actions[row]));
        label->setFlags(Qt::ItemIsEnabled);
        m_keys->setItem(row, 0, label);
        auto *edit = new QKeySequenceEdit(m_keys);
        edit->setClearButtonEnabled(true);
        m_keys->setCellWidget(row, 1, edit);
        m_keyEdits.insert(actions[row], edit);
        connect(edit, &QKeySequenceEdit::keySequenceChanged, this, &SettingsDialog::validate);
    }
    auto *restore = new QPushButton(tr("Restore &defaults"), keys);
    connect(restore, &QPushButton::clicked, this, &SettingsDialog::restoreDefaultKeys);
    auto *keysLayout = new QVBoxLayout(keys);
    keysLayout->addWidget(m_keys, 1);
    keysLayout->addWidget(restore, 0, Qt::AlignRight);
    tabs->addTab(keys, tr("&Keys"));

    m_problems = new QLabel(this);
    m_problems->setTextFormat(Qt::PlainText);
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("color: #c0392b;"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (apply())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_name, &QLineEdit::textChanged, this, &SettingsDialog::validate);
    connect(m_defaultServer, &QLineEdit::textChanged, this, &SettingsDialog::validate);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(tabs, 1);
    layout->addWidget(m_problems);
    layout->addWidget(buttons);
    resize(520, 460);
    load();
}

bool SettingsDialog::apply()
{
    validate();
    if (!problemText().isEmpty())
        return false;
    m_settings->setPlayerName(m_name->text());
    m_settings->setLanguage(Language(m_language->currentData().toInt()));
    m_settings->setMsaaSamples(m_msaa->currentData().toInt());
    m_settings->setVsync(m_vsync->isChecked());
    for (auto it = m_keyEdits.cbegin(); it != m_keyEdits.cend(); ++it)
        m_settings->setKeyBinding(it.key(), it.value()->keySequence());
    m_settings->setDefaultServer(m_defaultServer->text());
    m_settings->sync();
    return true;
}

QString SettingsDialog::problemText() const
{
    return m_problems->text();
}

void SettingsDialog::load()
{
    m_name->setText(m_settings->playerName());
    m_language->setCurrentIndex(m_language->findData(int(m_settings->language())));
    m_msaa->setCurrentIndex(std::max(0, m_msaa->findData(m_settings->msaaSamples())));
    m_vsync->setChecked(m_settings->vsync());
    for (auto it = m_keyEdits.cbegin(); it != m_keyEdits.cend(); ++it)
        it.value()->setKeySequence(m_settings->keyBinding(it.key()));
    m_defaultServer->setText(m_settings->defaultServer());
    validate();
}

void SettingsDialog::restoreDefaultKeys()
{
    for (auto it = m_keyEdits.cbegin(); it != m_keyEdits.cend(); ++it)
        it.value()->setKeySequence(Settings::defaultKeys(it.key()));
}

void SettingsDialog::validate()
{
    QStringList problems;
    const QString name = m_name->text().trimmed();
    if (name.isEmpty() || name.size() > kMaxNameLength)
        problems << tr("The player name must be 1 to %1 characters.").arg(kMaxNameLength);
    QString error;
    if (!m_defaultServer->text().trimmed().isEmpty()
        && !JoinDialog::urlFromAddress(m_defaultServer->text(), &error))
        problems << error;
    QHash<QKeySequence, KeyAction> used;
    for (const KeyAction action : Settings::keyActions()) {
        const QKeySequence keys = m_keyEdits.value(action)->keySequence();
        if (keys.isEmpty())
            continue;
        if (const auto other = used.constFind(keys); other != used.cend()) {
            problems << tr("“%1” is bound to both “%2” and “%3”.")
                            .arg(keys.toString(QKeySequence::NativeText),
                                 Settings::actionLabel(*other), Settings::actionLabel(action));
            continue;
        }
        used.insert(keys, action);
    }
    m_problems->setText(problems.join(QLatin1Char('\n')));
    m_problems->setVisible(!problems.isEmpty());
}

} // namespace hex::client
