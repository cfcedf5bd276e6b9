#pragma once

#include "sim/content.h"

#include <QDockWidget>

class QListWidget;
class QListWidgetItem;

namespace hex::client {

/// What a left click on the planet does.
struct BuildTool
{
    enum class Kind {
        /// Nothing: clicks only orbit and inspect.
        None,
        /// Claim the clicked cell.
        Claim,
        /// Build `prototype` on the clicked cell.
        Build,
        /// Remove the structure on the clicked cell.
        Remove,
    };
    Kind kind = Kind::None;
    /// The prototype to build; sim::kNoStructure unless kind is Build.
    sim::PrototypeId prototype = sim::kNoStructure;
    bool operator==(const BuildTool &) const = default;
};

/// The "Build" dock: a list of the tools a player acts with, Claim, one entry per
/// structure prototype of the content (its name and build cost), and Remove. The tool
/// chosen applies to the next clicks on the planet until it is cleared. Lives in the
/// GUI thread.
class BuildDock : public QDockWidget
{
    Q_OBJECT
public:
    /// `content` must outlive the dock.
    explicit BuildDock(const sim::Content &content, QWidget *parent = nullptr);

    /// The tool chosen; Kind::None when none is.
    BuildTool currentTool() const;
    /// Chooses `tool`; an unknown tool clears the choice. Emits toolChanged() on change.
    void selectTool(const BuildTool &tool);
    /// Chooses no tool.
    void clearTool() { selectTool(BuildTool{}); }

    /// The list shown, one row per tool in the order described above.
    QListWidget *list() const { return m_list; }
    /// The row text for prototype `prototype`: its name, then its cost on a second
    /// line, e.g. "Furnace\ncost: 12 × Stone".
    QString prototypeText(sim::PrototypeId prototype) const;

signals:
    /// Another tool was chosen, or the choice was cleared.
    void toolChanged(const hex::client::BuildTool &tool);
    /// The player picked a row with the mouse: the view may take the focus back.
    void toolPicked();

private:
    void addTool(const QString &text, const BuildTool &tool, const QString &toolTip);
    static BuildTool toolOf(const QListWidgetItem *item);

    const sim::Content &m_content;
    QListWidget *m_list = nullptr;
    BuildTool m_current;
};

} // namespace hex::client
