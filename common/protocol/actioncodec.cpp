#include "actioncodec.h"

#include <QCoreApplication>

#include <limits>

namespace hex::protocol {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("hex::protocol", text);
}

constexpr std::uint32_t kMaxId = std::numeric_limits<std::uint16_t>::max();

/// The field's sentence when `value` exceeds `limit`.
QString tooLarge(const char *field, std::uint32_t value, std::uint32_t limit)
{
    return tr("The action's %1 is %2, but it must be at most %3.")
        .arg(QLatin1String(field))
        .arg(value)
        .arg(limit);
}

} // namespace

tl::expected<sim::Action, QString> decodeClientAction(const ClientAction &action,
                                                      std::uint32_t cellCount, sim::PlayerId player)
{
    const int kind = int(action.kind());
    if (kind < int(CLAIM) || kind > int(PUT_ITEMS))
        return tl::make_unexpected(
            tr("The action's kind %1 is not one of the known kinds 1..7.").arg(kind));
    if (action.cell() >= cellCount)
        return tl::make_unexpected(tr("The action's cell %1 does not exist: the world has %2 "
                                      "cells.")
                                       .arg(action.cell())
                                       .arg(cellCount));
    if (action.orientation() > 5)
        return tl::make_unexpected(tooLarge("orientation", action.orientation(), 5));
    if (action.prototype() > kMaxId)
        return tl::make_unexpected(tooLarge("prototype", action.prototype(), kMaxId));
    if (action.recipe() > kMaxId)
        return tl::make_unexpected(tooLarge("recipe", action.recipe(), kMaxId));
    if (action.item() > kMaxId)
        return tl::make_unexpected(tooLarge("item", action.item(), kMaxId));
    if (action.count() > kMaxId)
        return tl::make_unexpected(tooLarge("count", action.count(), kMaxId));

    sim::Action out;
    out.kind = sim::ActionKind(kind - 1);
    out.player = player;
    out.clientSeq = action.client_seq();
    out.cell = action.cell();
    out.prototype = sim::PrototypeId(action.prototype());
    out.orientation = std::uint8_t(action.orientation());
    out.recipe = sim::RecipeId(action.recipe());
    out.items = {sim::ItemId(action.item()), std::uint16_t(action.count())};
    return out;
}

void encodeClientAction(const sim::Action &action, std::uint32_t clientSeq, ClientAction *out)
{
    out->set_client_seq(clientSeq);
    out->set_kind(ActionKind(int(action.kind) + 1));
    out->set_cell(action.cell);
    out->set_prototype(action.prototype);
    out->set_orientation(action.orientation);
    out->set_recipe(action.recipe);
    out->set_item(action.items.item);
    out->set_count(action.items.count);
}

void encodeActionResult(const sim::ActionResult &result, std::uint64_t tick, ActionResult *out)
{
    out->set_client_seq(result.clientSeq);
    out->set_cell(result.cell);
    out->set_reason(std::uint32_t(result.reason));
    if (!result.accepted())
        out->set_message(sim::describe(result.reason).toStdString());
    out->set_tick(tick);
}

} // namespace hex::protocol
