#pragma once

#include "geometry/hexsphere.h"
#include "sim/actions.h"
#include "sim/content.h"

#include <QDockWidget>

#include <functional>
#include <map>
#include <optional>

class QLabel;
class QListWidget;

namespace hex::client {

class ServerConnection;

/// The "Recipe" dock: for the selected machine (an own cell whose structure runs
/// recipes, chosen by a click with no build tool), its prototype's name and the
/// recipes it can run, each with inputs → outputs and duration, and "None". Clicking a
/// row sends SetRecipe for the cell (recipe sim::kNoRecipe for "None"). The client's
/// mirror holds no machine state, so the current recipe shows as unknown until a
/// SetRecipe the dock sent is accepted; from then on, for the rest of the session, the
/// recipe set is shown as current for that cell. Lives in the GUI thread.
class RecipeDock : public QDockWidget
{
    Q_OBJECT
public:
    /// Sends `action` and returns its client sequence number (0 when nothing was sent);
    /// `what` names it for messages, e.g. "Set recipe Smelt iron".
    using ActionSender = std::function<quint32(const sim::Action &action, const QString &what)>;

    /// `content` and `connection` must outlive the dock.
    RecipeDock(const sim::Content &content, ServerConnection *connection,
               QWidget *parent = nullptr);

    /// Sends actions through `sender` instead of ServerConnection::sendAction().
    void setActionSender(ActionSender sender);

    /// The recipes prototype `prototype` can run, in content order.
    std::vector<sim::RecipeId> recipesFor(sim::PrototypeId prototype) const;
    /// True when `cell` is the local player's and holds a structure that runs recipes.
    bool canSelect(geometry::CellId cell) const;
    /// The machine shown; nullopt when none.
    std::optional<geometry::CellId> selectedCell() const { return m_cell; }
    /// The recipe known to run on `cell`: the last one set this session with an accepted
    /// SetRecipe (sim::kNoRecipe after "None"); nullopt when unknown.
    std::optional<sim::RecipeId> knownRecipe(geometry::CellId cell) const;
    /// The row text for `recipe`: its name, then "inputs → outputs · time" on a second
    /// line.
    QString recipeText(sim::RecipeId recipe) const;
    /// The line about the current recipe as shown.
    QString currentText() const;

    /// The list shown: "None", then one row per recipe of recipesFor().
    QListWidget *list() const { return m_list; }

public slots:
    /// Shows `cell` when canSelect() says so and returns true; else leaves the shown
    /// machine as it is and returns false.
    bool selectCell(hex::geometry::CellId cell);
    /// Shows no machine.
    void clearSelection();
    /// Sends SetRecipe `recipe` (sim::kNoRecipe clears) for the selected machine.
    /// Returns the client sequence number, 0 when nothing was sent.
    quint32 chooseRecipe(sim::RecipeId recipe);

private:
    void rebuild();
    void updateCurrent();
    void onCellsChanged();
    void onActionResult(quint32 clientSeq, quint32 cell, int reason);
    QString stacksText(const std::vector<sim::ItemStack> &stacks) const;

    /// What a sent SetRecipe was: for which machine, which recipe.
    struct Pending
    {
        geometry::CellId cell = 0;
        sim::PrototypeId prototype = sim::kNoStructure;
        sim::RecipeId recipe = sim::kNoRecipe;
    };
    /// A recipe known to run on a cell, while the same prototype stands there.
    struct Known
    {
        sim::PrototypeId prototype = sim::kNoStructure;
        sim::RecipeId recipe = sim::kNoRecipe;
    };

    const sim::Content &m_content;
    ServerConnection *m_connection = nullptr;
    ActionSender m_sender;
    std::optional<geometry::CellId> m_cell;
    sim::PrototypeId m_prototype = sim::kNoStructure;
    std::map<quint32, Pending> m_pending;
    std::map<geometry::CellId, Known> m_known;
    QLabel *m_title = nullptr;
    QLabel *m_current = nullptr;
    QListWidget *m_list = nullptr;
};

} // namespace hex::client
