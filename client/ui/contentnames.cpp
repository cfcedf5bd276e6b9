#include "contentnames.h"

#include <QCoreApplication>

namespace hex::client {

namespace {

constexpr const char *kSources[] = {
    QT_TRANSLATE_NOOP("hex::content", "Assembler"),
    QT_TRANSLATE_NOOP("hex::content", "Brick"),
    QT_TRANSLATE_NOOP("hex::content", "Build robot arms"),
    QT_TRANSLATE_NOOP("hex::content", "Carbon filter"),
    QT_TRANSLATE_NOOP("hex::content", "Chest"),
    QT_TRANSLATE_NOOP("hex::content", "Circuit"),
    QT_TRANSLATE_NOOP("hex::content", "Coal"),
    QT_TRANSLATE_NOOP("hex::content", "Coal seam"),
    QT_TRANSLATE_NOOP("hex::content", "Conveyor"),
    QT_TRANSLATE_NOOP("hex::content", "Copper deposit"),
    QT_TRANSLATE_NOOP("hex::content", "Copper ore"),
    QT_TRANSLATE_NOOP("hex::content", "Copper plate"),
    QT_TRANSLATE_NOOP("hex::content", "Copper wire"),
    QT_TRANSLATE_NOOP("hex::content", "Cut gears"),
    QT_TRANSLATE_NOOP("hex::content", "Draw copper wire"),
    QT_TRANSLATE_NOOP("hex::content", "Etch circuits"),
    QT_TRANSLATE_NOOP("hex::content", "Extractor"),
    QT_TRANSLATE_NOOP("hex::content", "Fertiliser"),
    QT_TRANSLATE_NOOP("hex::content", "Fire bricks"),
    QT_TRANSLATE_NOOP("hex::content", "Furnace"),
    QT_TRANSLATE_NOOP("hex::content", "Gear"),
    QT_TRANSLATE_NOOP("hex::content", "Inserter"),
    QT_TRANSLATE_NOOP("hex::content", "Iron deposit"),
    QT_TRANSLATE_NOOP("hex::content", "Iron ore"),
    QT_TRANSLATE_NOOP("hex::content", "Iron plate"),
    QT_TRANSLATE_NOOP("hex::content", "Make steel"),
    QT_TRANSLATE_NOOP("hex::content", "Mix fertiliser"),
    QT_TRANSLATE_NOOP("hex::content", "Motor"),
    QT_TRANSLATE_NOOP("hex::content", "Pack carbon filters"),
    QT_TRANSLATE_NOOP("hex::content", "Robot arm"),
    QT_TRANSLATE_NOOP("hex::content", "Scrubber"),
    QT_TRANSLATE_NOOP("hex::content", "Seeder"),
    QT_TRANSLATE_NOOP("hex::content", "Seeds"),
    QT_TRANSLATE_NOOP("hex::content", "Smelt copper"),
    QT_TRANSLATE_NOOP("hex::content", "Smelt iron"),
    QT_TRANSLATE_NOOP("hex::content", "Splitter"),
    QT_TRANSLATE_NOOP("hex::content", "Sprout seeds"),
    QT_TRANSLATE_NOOP("hex::content", "Steel plate"),
    QT_TRANSLATE_NOOP("hex::content", "Stone"),
    QT_TRANSLATE_NOOP("hex::content", "Stone quarry"),
    QT_TRANSLATE_NOOP("hex::content", "Wind motors"),
};

QString translated(const QString &name)
{
    const QByteArray source = name.toUtf8();
    return QCoreApplication::translate("hex::content", source.constData());
}

} // namespace

std::span<const char *const> contentNameSources()
{
    return kSources;
}

sim::Content translatedContent(sim::Content content)
{
    for (auto &item : content.items)
        item.name = translated(item.name);
    for (auto &resource : content.resources)
        resource.name = translated(resource.name);
    for (auto &prototype : content.prototypes)
        prototype.name = translated(prototype.name);
    for (auto &recipe : content.recipes)
        recipe.name = translated(recipe.name);
    return content;
}

} // namespace hex::client
