#include "content.h"

#include "machinestate.h"
#include "terrain.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QStringList>

#include <algorithm>
#include <bit>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <utility>

namespace hex::sim {

bool Content::findItem(const QString &key, ItemId *id) const
{
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (!key.isEmpty() && items[i].key == key) {
            if (id)
                *id = ItemId(i);
            return true;
        }
    }
    return false;
}

bool Content::findPrototype(const QString &key, PrototypeId *id) const
{
    for (std::size_t i = 0; i < prototypes.size(); ++i) {
        if (!key.isEmpty() && prototypes[i].key == key) {
            if (id)
                *id = PrototypeId(i);
            return true;
        }
    }
    return false;
}

bool Content::findRecipe(const QString &key, RecipeId *id) const
{
    for (std::size_t i = 0; i < recipes.size(); ++i) {
        if (!key.isEmpty() && recipes[i].key == key) {
            if (id)
                *id = RecipeId(i);
            return true;
        }
    }
    return false;
}

bool Content::findResource(const QString &key, ResourceId *id) const
{
    for (std::size_t i = 0; i < resources.size(); ++i) {
        if (!key.isEmpty() && resources[i].key == key) {
            if (id)
                *id = ResourceId(i);
            return true;
        }
    }
    return false;
}

namespace {

/// The content files, in the order they are checked.
const QStringList kContentFiles = {
    QStringLiteral("items.json"),      QStringLiteral("resources.json"),
    QStringLiteral("prototypes.json"), QStringLiteral("recipes.json"),
    QStringLiteral("rules.json"),      QStringLiteral("automaton.json"),
};

/// Terrain names in files, indexed by hex::sim::Terrain value.
const QStringList kTerrainNames = {
    QStringLiteral("deep_water"), QStringLiteral("shallow_water"), QStringLiteral("sand"),
    QStringLiteral("grassland"),  QStringLiteral("forest"),        QStringLiteral("desert"),
    QStringLiteral("rock"),       QStringLiteral("snow"),
};

/// What each machine kind is called in files, and how many input and output sides it
/// needs.
struct KindRule
{
    MachineKind kind;
    const char *name;
    int minInputs, maxInputs, minOutputs, maxOutputs;
};

constexpr KindRule kKindRules[] = {
    {MachineKind::Extractor, "extractor", 0, 0, 1, 6},
    {MachineKind::Conveyor, "conveyor", 1, 6, 1, 1},
    {MachineKind::Assembler, "assembler", 1, 6, 1, 6},
    {MachineKind::Storage, "storage", 0, 6, 0, 6},
    {MachineKind::Splitter, "splitter", 1, 6, 2, 6},
    {MachineKind::Inserter, "inserter", 1, 1, 1, 1},
    {MachineKind::Seeder, "seeder", 1, 6, 0, 0},
    {MachineKind::Scrubber, "scrubber", 1, 6, 0, 0},
};

const KindRule *kindRule(MachineKind kind)
{
    for (const KindRule &rule : kKindRules) {
        if (rule.kind == kind)
            return &rule;
    }
    return nullptr;
}

QString kindNames()
{
    QStringList names;
    for (const KindRule &rule : kKindRules)
        names << QLatin1String(rule.name);
    return names.join(QLatin1String(", "));
}

constexpr int kSideCount = 6;
constexpr int kMaxKeyLength = 64;
constexpr qint64 kMaxCount = std::numeric_limits<std::uint16_t>::max();
constexpr qint64 kPer65536 = 65536;

using Status = tl::expected<void, QString>;

enum class Need { Required, Optional };

/// A JSON value as an error message shows it: strings quoted, numbers as written,
/// containers by their type.
QString describeValue(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
        return QString::number(value.toDouble(), 'g', 15);
    case QJsonValue::String:
        return u'"' + value.toString() + u'"';
    case QJsonValue::Array:
        return QStringLiteral("an array");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

/// The whole number `value` holds, when it is one within [min, max].
std::optional<qint64> wholeNumber(const QJsonValue &value, qint64 min, qint64 max)
{
    if (!value.isDouble())
        return std::nullopt;
    const double d = value.toDouble();
    if (!(d >= double(min) && d <= double(max)) || d != std::floor(d))
        return std::nullopt;
    return qint64(d);
}

bool isValidKey(const QString &key)
{
    if (key.isEmpty() || key.size() > kMaxKeyLength)
        return false;
    return std::all_of(key.begin(), key.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'_';
    });
}

/// "recipe 'gear'" when the entry has a key to show, else "recipe #3" (from 1).
QString entryLabel(const char *noun, const QJsonValue &entry, qsizetype index)
{
    const QJsonValue key = entry.toObject().value(QLatin1String("key"));
    if (key.isString() && !key.toString().isEmpty())
        return QStringLiteral("%1 '%2'").arg(QLatin1String(noun), key.toString());
    return QStringLiteral("%1 #%2").arg(QLatin1String(noun)).arg(index + 1);
}

/// Reads the fields of one JSON object. Remembers the first problem only: after a
/// failure every read returns a default, so a parser reads on and checks failed() once.
class FieldReader
{
public:
    /// `where` starts every message: "recipes.json: recipe 'gear'".
    FieldReader(QJsonObject object, QString where)
        : m_object(std::move(object))
        , m_where(std::move(where))
    {}

    bool failed() const { return !m_error.isEmpty(); }
    const QString &error() const { return m_error; }
    Status status() const { return failed() ? Status(tl::unexpected(m_error)) : Status(); }

    /// Records `problem` (a sentence without its full stop) unless a problem is already.
    void fail(const QString &problem)
    {
        if (!failed())
            m_error = m_where + QLatin1String(": ") + problem + u'.';
    }

    bool has(const char *field) const { return m_object.contains(QLatin1String(field)); }

    /// Fails on the first field (in key order) that is not one of `known`.
    void allowOnly(std::initializer_list<const char *> known)
    {
        for (auto it = m_object.begin(); it != m_object.end() && !failed(); ++it) {
            const bool isKnown = std::any_of(known.begin(), known.end(), [&](const char *k) {
                return it.key() == QLatin1String(k);
            });
            if (!isKnown)
                fail(QStringLiteral("unknown field '%1'").arg(it.key()));
        }
    }

    /// The field's value; undefined (and a failure if required) when absent.
    QJsonValue value(const char *field, Need need)
    {
        if (failed())
            return {};
        QJsonValue v = m_object.value(QLatin1String(field));
        if (v.isUndefined() && need == Need::Required)
            fail(QStringLiteral("missing required field '%1'").arg(QLatin1String(field)));
        return v;
    }

    /// A non-empty string.
    QString text(const char *field, Need need = Need::Required)
    {
        const QJsonValue v = value(field, need);
        if (failed() || v.isUndefined())
            return {};
        if (!v.isString() || v.toString().isEmpty()) {
            fail(QStringLiteral("field '%1' must be a non-empty string, not %2")
                     .arg(QLatin1String(field), describeValue(v)));
            return {};
        }
        return v.toString();
    }

    /// The entry's "key": lowercase letters, digits and underscores.
    QString key()
    {
        const QJsonValue v = value("key", Need::Required);
        if (failed())
            return {};
        if (!v.isString() || !isValidKey(v.toString())) {
            fail(QStringLiteral("field 'key' must be 1 to %1 lowercase letters, digits or "
                                "underscores, not %2")
                     .arg(kMaxKeyLength)
                     .arg(describeValue(v)));
            return {};
        }
        return v.toString();
    }

    /// A whole number in [min, max]; `fallback` when optional and absent.
    qint64 number(const char *field, qint64 min, qint64 max, Need need = Need::Required,
                  qint64 fallback = 0)
    {
        const QJsonValue v = value(field, need);
        if (failed())
            return fallback;
        if (v.isUndefined())
            return fallback;
        const std::optional<qint64> n = wholeNumber(v, min, max);
        if (!n) {
            fail(QStringLiteral("field '%1' must be a whole number from %2 to %3, not %4")
                     .arg(QLatin1String(field))
                     .arg(min)
                     .arg(max)
                     .arg(describeValue(v)));
            return fallback;
        }
        return *n;
    }

    /// A required object.
    QJsonObject object(const char *field)
    {
        const QJsonValue v = value(field, Need::Required);
        if (failed())
            return {};
        if (!v.isObject()) {
            fail(QStringLiteral("field '%1' must be an object, not %2")
                     .arg(QLatin1String(field), describeValue(v)));
            return {};
        }
        return v.toObject();
    }

    /// A required array.
    QJsonArray array(const char *field)
    {
        const QJsonValue v = value(field, Need::Required);
        if (failed())
            return {};
        if (!v.isArray()) {
            fail(QStringLiteral("field '%1' must be an array, not %2")
                     .arg(QLatin1String(field), describeValue(v)));
            return {};
        }
        return v.toArray();
    }

    /// A required array of distinct sides 0..5, as a mask.
    SideMask sides(const char *field)
    {
        const QJsonArray list = array(field);
        SideMask mask = 0;
        for (const auto &v : list) {
            const std::optional<qint64> side = wholeNumber(v, 0, kSideCount - 1);
            if (!side) {
                fail(QStringLiteral("field '%1' must list whole numbers from 0 to %2, not %3")
                         .arg(QLatin1String(field))
                         .arg(kSideCount - 1)
                         .arg(describeValue(v)));
                return 0;
            }
            if (mask & (1u << *side)) {
                fail(QStringLiteral("field '%1' lists side %2 twice")
                         .arg(QLatin1String(field))
                         .arg(*side));
                return 0;
            }
            mask |= SideMask(1u << *side);
        }
        return mask;
    }

    /// A required array of distinct terrain names, as a mask of Terrain values.
    std::uint8_t terrains(const char *field, int minCount)
    {
        const QJsonArray list = array(field);
        if (failed())
            return 0;
        if (list.size() < minCount) {
            fail(QStringLiteral("field '%1' must list at least one terrain")
                     .arg(QLatin1String(field)));
            return 0;
        }
        std::uint8_t mask = 0;
        for (const auto &v : list) {
            if (!v.isString()) {
                fail(QStringLiteral("field '%1' must list terrain names, not %2")
                         .arg(QLatin1String(field), describeValue(v)));
                return 0;
            }
            const qsizetype terrain = kTerrainNames.indexOf(v.toString());
            if (terrain < 0) {
                fail(QStringLiteral("terrain '%1' is unknown (expected one of %2)")
                         .arg(v.toString(), kTerrainNames.join(QLatin1String(", "))));
                return 0;
            }
            if (mask & (1u << terrain)) {
                fail(QStringLiteral("field '%1' lists '%2' twice")
                         .arg(QLatin1String(field), v.toString()));
                return 0;
            }
            mask |= std::uint8_t(1u << terrain);
        }
        return mask;
    }

    /// A required object {"item_key": count}, sorted by item id. `what` names one
    /// entry in messages ("input", "build cost").
    std::vector<ItemStack> stacks(const char *field, const char *what,
                                  const QHash<QString, ItemId> &items, int minCount)
    {
        const QJsonValue v = value(field, Need::Required);
        if (failed())
            return {};
        if (!v.isObject()) {
            fail(QStringLiteral("field '%1' must be an object of item counts, not %2")
                     .arg(QLatin1String(field), describeValue(v)));
            return {};
        }
        const QJsonObject counts = v.toObject();
        if (counts.size() < minCount) {
            fail(
                QStringLiteral("field '%1' must list at least one item").arg(QLatin1String(field)));
            return {};
        }
        std::vector<ItemStack> result;
        for (auto it = counts.begin(); it != counts.end(); ++it) {
            const auto item = items.constFind(it.key());
            if (item == items.constEnd()) {
                fail(QStringLiteral("%1 '%2' is not a known item")
                         .arg(QLatin1String(what), it.key()));
                return {};
            }
            const std::optional<qint64> count = wholeNumber(it.value(), 1, kMaxCount);
            if (!count) {
                // One arg() call: a key holding "%1" must not be substituted again.
                fail(QStringLiteral("the count of %1 '%2' must be a whole number from 1 to "
                                    "%3, not %4")
                         .arg(QLatin1String(what), it.key(), QString::number(kMaxCount),
                              describeValue(it.value())));
                return {};
            }
            result.push_back({*item, std::uint16_t(*count)});
        }
        std::sort(result.begin(), result.end(),
                  [](const ItemStack &a, const ItemStack &b) { return a.item < b.item; });
        return result;
    }

private:
    QJsonObject m_object;
    QString m_where;
    QString m_error;
};

/// Parses `bytes` as a JSON object.
tl::expected<QJsonObject, QString> parseObject(const QString &file, const QByteArray &bytes)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return tl::unexpected(QStringLiteral("%1: not valid JSON: %2 at offset %3.")
                                  .arg(file, parseError.errorString())
                                  .arg(parseError.offset));
    }
    if (!document.isObject()) {
        return tl::unexpected(QStringLiteral("%1: the top level must be a JSON object, not %2.")
                                  .arg(file, document.isArray() ? QStringLiteral("an array")
                                                                : QStringLiteral("a bare value")));
    }
    return document.object();
}

/// Builds a Content from parsed files, one file at a time in kContentFiles order.
class ContentParser
{
public:
    Status readItems(const QJsonObject &root);
    Status readResources(const QJsonObject &root);
    Status readPrototypes(const QJsonObject &root);
    Status readRecipes(const QJsonObject &root);
    Status readRules(const QJsonObject &root);
    Status readAutomaton(const QJsonObject &root);

    Content takeContent() { return std::move(m_content); }

private:
    /// Calls parse(reader, key, name) on each entry of the top-level array `field`
    /// after checking the entry is an object with only `known` fields, a valid unique
    /// key and a name; stops at the first failure.
    template<typename Parse>
    Status readEntries(const QJsonObject &root, const QString &file, const char *field,
                       const char *noun, std::initializer_list<const char *> known,
                       qsizetype maxEntries, Parse &&parse);
    Status checkProducible();
    QString whyNeverMade(ItemId item, const std::vector<bool> &producible) const;

    Content m_content;
    QHash<QString, ItemId> m_items;
    QHash<QString, PrototypeId> m_prototypes;
};

template<typename Parse>
Status ContentParser::readEntries(const QJsonObject &root, const QString &file, const char *field,
                                  const char *noun, std::initializer_list<const char *> known,
                                  qsizetype maxEntries, Parse &&parse)
{
    FieldReader top(root, file);
    top.allowOnly({field});
    const QJsonArray entries = top.array(field);
    if (!top.failed() && entries.size() > maxEntries) {
        top.fail(QStringLiteral("field '%1' lists %2 entries, more than the %3 allowed")
                     .arg(QLatin1String(field))
                     .arg(entries.size())
                     .arg(maxEntries));
    }
    if (top.failed())
        return top.status();

    QHash<QString, qsizetype> seen;
    for (qsizetype i = 0; i < entries.size(); ++i) {
        const QJsonValue value = entries.at(i);
        const QString label = entryLabel(noun, value, i);
        if (!value.isObject()) {
            top.fail(
                QStringLiteral("%1 must be an object, not %2").arg(label, describeValue(value)));
            return top.status();
        }
        FieldReader entry(value.toObject(), file + QLatin1String(": ") + label);
        entry.allowOnly(known);
        const QString key = entry.key();
        if (!entry.failed() && seen.contains(key)) {
            entry.fail(QStringLiteral("the key is already used by %1 #%2")
                           .arg(QLatin1String(noun))
                           .arg(seen.value(key) + 1));
        }
        seen.insert(key, i);
        const QString name = entry.text("name");
        if (!entry.failed())
            parse(entry, key, name);
        if (entry.failed())
            return entry.status();
    }
    return {};
}

Status ContentParser::readItems(const QJsonObject &root)
{
    return readEntries(root, QStringLiteral("items.json"), "items", "item", {"key", "name"},
                       std::numeric_limits<ItemId>::max(),
                       [this](FieldReader &, const QString &key, const QString &name) {
                           m_items.insert(key, ItemId(m_content.items.size()));
                           m_content.items.push_back({key, name});
                       });
}

Status ContentParser::readResources(const QJsonObject &root)
{
    m_content.resources.assign(1, ResourceDef{});
    return readEntries(root, QStringLiteral("resources.json"), "resources", "resource",
                       {"key", "name", "item", "maxAmount", "abundance", "terrains"},
                       std::numeric_limits<ResourceId>::max(),
                       [this](FieldReader &entry, const QString &key, const QString &name) {
                           ResourceDef def;
                           def.key = key;
                           def.name = name;
                           const QString item = entry.text("item");
                           if (!entry.failed() && !m_items.contains(item))
                               entry.fail(
                                   QStringLiteral("item '%1' is not a known item").arg(item));
                           def.item = m_items.value(item);
                           def.maxAmount = std::uint16_t(entry.number("maxAmount", 1, kMaxCount));
                           def.abundance = std::uint32_t(entry.number("abundance", 0, kPer65536));
                           def.terrainMask = entry.terrains("terrains", 1);
                           m_content.resources.push_back(def);
                       });
}

Status ContentParser::readPrototypes(const QJsonObject &root)
{
    m_content.prototypes.assign(1, PrototypeDef{});
    return readEntries(
        root, QStringLiteral("prototypes.json"), "prototypes", "prototype",
        {"key", "name", "kind", "inputSides", "outputSides", "buildCost", "capacity",
         "ticksPerOperation", "pollutionPerOperation", "consumes", "effect"},
        std::numeric_limits<PrototypeId>::max(),
        [this](FieldReader &entry, const QString &key, const QString &name) {
            PrototypeDef def;
            def.key = key;
            def.name = name;

            const QString kindName = entry.text("kind");
            const KindRule *rule = nullptr;
            for (const KindRule &r : kKindRules) {
                if (kindName == QLatin1String(r.name))
                    rule = &r;
            }
            if (!entry.failed() && !rule) {
                entry.fail(QStringLiteral("kind '%1' is unknown (expected one of %2)")
                               .arg(kindName, kindNames()));
            }
            if (entry.failed())
                return;
            def.kind = rule->kind;

            def.inputSides = entry.sides("inputSides");
            def.outputSides = entry.sides("outputSides");
            if (entry.failed())
                return;
            const SideMask both = def.inputSides & def.outputSides;
            if (both) {
                int side = 0;
                while (!(both & (1u << side)))
                    ++side;
                entry.fail(QStringLiteral("side %1 is both an input and an output side").arg(side));
                return;
            }
            const auto checkCount = [&](const char *field, SideMask mask, int min, int max) {
                const int count = std::popcount(mask);
                if (count >= min && count <= max)
                    return;
                const QString want
                    = min == max
                          ? (min == 0 ? QStringLiteral("no sides")
                                      : QStringLiteral("exactly %1 side%2")
                                            .arg(min)
                                            .arg(min == 1 ? QLatin1String() : QLatin1String("s")))
                          : QStringLiteral("from %1 to %2 sides").arg(min).arg(max);
                entry.fail(QStringLiteral("field '%1' must list %2 for kind '%3', not %4")
                               .arg(QLatin1String(field), want, QLatin1String(rule->name))
                               .arg(count));
            };
            checkCount("inputSides", def.inputSides, rule->minInputs, rule->maxInputs);
            checkCount("outputSides", def.outputSides, rule->minOutputs, rule->maxOutputs);

            def.buildCost = entry.stacks("buildCost", "build cost", m_items, 0);

            const bool carries
                = def.kind == MachineKind::Conveyor || def.kind == MachineKind::Splitter;
            const qint64 maxCapacity = carries ? ConveyorLane::kLaneSlots : kMaxCount;
            const QJsonValue capacity = entry.value("capacity", Need::Required);
            if (!entry.failed() && !wholeNumber(capacity, 1, maxCapacity)) {
                entry.fail(
                    QStringLiteral("field 'capacity' must be a whole number from 1 to %1%2, not %3")
                        .arg(maxCapacity)
                        .arg(carries
                                 ? QStringLiteral(" for kind '%1'").arg(QLatin1String(rule->name))
                                 : QString())
                        .arg(describeValue(capacity)));
            }
            def.capacity = std::uint16_t(capacity.toInt());
            def.ticksPerOperation = std::uint16_t(entry.number("ticksPerOperation", 1, kMaxCount));
            def.pollutionPerOperation
                = std::uint8_t(entry.number("pollutionPerOperation", 0, 255, Need::Optional, 0));

            const bool consumes
                = def.kind == MachineKind::Seeder || def.kind == MachineKind::Scrubber;
            if (consumes) {
                const QString item = entry.text("consumes");
                if (!entry.failed() && !m_items.contains(item)) {
                    entry.fail(QStringLiteral("consumed item '%1' is not a known item").arg(item));
                }
                def.consumes = m_items.value(item);
                def.hasConsumes = true;
                def.effect = std::uint8_t(entry.number("effect", 1, 255));
            } else {
                for (const char *field : {"consumes", "effect"}) {
                    if (entry.has(field)) {
                        entry.fail(QStringLiteral("field '%1' is only for kinds 'seeder' and "
                                                  "'scrubber'")
                                       .arg(QLatin1String(field)));
                    }
                }
            }
            if (entry.failed())
                return;
            m_prototypes.insert(key, PrototypeId(m_content.prototypes.size()));
            m_content.prototypes.push_back(def);
        });
}

Status ContentParser::readRecipes(const QJsonObject &root)
{
    Status read = readEntries(
        root, QStringLiteral("recipes.json"), "recipes", "recipe",
        {"key", "name", "inputs", "outputs", "ticks", "madeIn"}, qsizetype(kNoRecipe),
        [this](FieldReader &entry, const QString &key, const QString &name) {
            RecipeDef def;
            def.key = key;
            def.name = name;
            def.inputs = entry.stacks("inputs", "input", m_items, 1);
            def.outputs = entry.stacks("outputs", "output", m_items, 1);
            def.ticks = std::uint16_t(entry.number("ticks", 1, kMaxCount));
            const QJsonArray madeIn = entry.array("madeIn");
            if (!entry.failed() && madeIn.isEmpty())
                entry.fail(QStringLiteral("field 'madeIn' must list at least one prototype"));
            for (const auto &v : madeIn) {
                if (entry.failed())
                    return;
                if (!v.isString()) {
                    entry.fail(QStringLiteral("field 'madeIn' must list prototype keys, not %1")
                                   .arg(describeValue(v)));
                    return;
                }
                const QString where = v.toString();
                const auto found = m_prototypes.constFind(where);
                if (found == m_prototypes.constEnd()) {
                    entry.fail(
                        QStringLiteral("made in '%1', which is not a known prototype").arg(where));
                    return;
                }
                const PrototypeDef &prototype = m_content.prototypes[*found];
                if (prototype.kind != MachineKind::Assembler) {
                    entry.fail(QStringLiteral("made in '%1', which is of kind '%2', not "
                                              "'assembler'")
                                   .arg(where, QLatin1String(kindRule(prototype.kind)->name)));
                    return;
                }
                if (std::find(def.madeIn.begin(), def.madeIn.end(), *found) != def.madeIn.end()) {
                    entry.fail(QStringLiteral("field 'madeIn' lists '%1' twice").arg(where));
                    return;
                }
                def.madeIn.push_back(*found);
            }
            if (!entry.failed())
                m_content.recipes.push_back(def);
        });
    if (!read)
        return read;
    return checkProducible();
}

/// Producibility as a fixed point: items mined from resources are producible, and a
/// recipe whose inputs are all producible makes its outputs producible. Then every
/// recipe input, and every item a prototype consumes, must be producible.
Status ContentParser::checkProducible()
{
    std::vector<bool> producible(m_content.items.size(), false);
    for (std::size_t r = 1; r < m_content.resources.size(); ++r)
        producible[m_content.resources[r].item] = true;
    for (bool changed = true; changed;) {
        changed = false;
        for (const RecipeDef &recipe : m_content.recipes) {
            const bool runs = std::all_of(recipe.inputs.begin(), recipe.inputs.end(),
                                          [&](const ItemStack &s) { return producible[s.item]; });
            if (!runs)
                continue;
            for (const ItemStack &out : recipe.outputs) {
                if (!producible[out.item]) {
                    producible[out.item] = true;
                    changed = true;
                }
            }
        }
    }
    for (const RecipeDef &recipe : m_content.recipes) {
        for (const ItemStack &in : recipe.inputs) {
            if (!producible[in.item]) {
                return tl::unexpected(
                    QStringLiteral("recipes.json: recipe '%1': input '%2' can never be made: %3.")
                        .arg(recipe.key, m_content.items[in.item].key,
                             whyNeverMade(in.item, producible)));
            }
        }
    }
    for (const PrototypeDef &prototype : m_content.prototypes) {
        if (prototype.hasConsumes && !producible[prototype.consumes]) {
            return tl::unexpected(
                QStringLiteral(
                    "prototypes.json: prototype '%1': consumed item '%2' can never be made: %3.")
                    .arg(prototype.key, m_content.items[prototype.consumes].key,
                         whyNeverMade(prototype.consumes, producible)));
        }
    }
    return {};
}

/// Why an unproducible item is so: nothing makes it, it lies on a cycle of recipes that
/// only feed each other, or its recipes need something that nothing makes.
QString ContentParser::whyNeverMade(ItemId item, const std::vector<bool> &producible) const
{
    const auto makes = [](const RecipeDef &recipe, ItemId wanted) {
        return std::any_of(recipe.outputs.begin(), recipe.outputs.end(),
                           [&](const ItemStack &s) { return s.item == wanted; });
    };
    const bool hasRecipe = std::any_of(m_content.recipes.begin(), m_content.recipes.end(),
                                       [&](const RecipeDef &r) { return makes(r, item); });
    if (!hasRecipe)
        return QStringLiteral("no extractor or recipe produces it");

    // Depth-first search from the item through the recipes making it to their missing
    // inputs: meeting the item again means a cycle.
    std::vector<bool> visited(m_content.items.size(), false);
    std::vector<ItemId> stack{item};
    bool cycle = false;
    while (!stack.empty() && !cycle) {
        const ItemId current = stack.back();
        stack.pop_back();
        for (const RecipeDef &recipe : m_content.recipes) {
            if (!makes(recipe, current))
                continue;
            for (const ItemStack &in : recipe.inputs) {
                if (producible[in.item])
                    continue;
                if (in.item == item)
                    cycle = true;
                if (!visited[in.item]) {
                    visited[in.item] = true;
                    stack.push_back(in.item);
                }
            }
        }
    }
    return cycle ? QStringLiteral("no extractor or recipe produces it from a source (a cycle "
                                  "with no source)")
                 : QStringLiteral("no extractor or recipe produces it from a source");
}

Status ContentParser::readRules(const QJsonObject &root)
{
    FieldReader rules(root, QStringLiteral("rules.json"));
    rules.allowOnly({"startingInventory"});
    m_content.startingInventory = rules.stacks("startingInventory", "starting item", m_items, 0);
    return rules.status();
}

Status ContentParser::readAutomaton(const QJsonObject &root)
{
    const QString file = QStringLiteral("automaton.json");
    FieldReader top(root, file);
    top.allowOnly({"flora", "ore", "water", "pollution"});
    FieldReader flora(top.object("flora"), file + QLatin1String(": flora"));
    FieldReader ore(top.object("ore"), file + QLatin1String(": ore"));
    FieldReader water(top.object("water"), file + QLatin1String(": water"));
    FieldReader pollution(top.object("pollution"), file + QLatin1String(": pollution"));
    if (top.failed())
        return top.status();

    const auto notAbove = [](FieldReader &reader, const char *low, qint64 lowValue,
                             const char *high, qint64 highValue) {
        if (lowValue > highValue) {
            reader.fail(QStringLiteral("field '%1' (%2) must not be greater than field '%3' (%4)")
                            .arg(QLatin1String(low))
                            .arg(lowValue)
                            .arg(QLatin1String(high))
                            .arg(highValue));
        }
    };

    AutomatonRules &rules = m_content.automaton;
    flora.allowOnly({"birthMin", "birthMax", "surviveMin", "surviveMax", "birthChance",
                     "deathChance", "birthFlora", "growth", "wither", "maxFlora", "terrainMask",
                     "pollutionHarm", "waterNeeded"});
    rules.flora.birthMin = std::uint8_t(flora.number("birthMin", 0, kSideCount));
    rules.flora.birthMax = std::uint8_t(flora.number("birthMax", 0, kSideCount));
    rules.flora.surviveMin = std::uint8_t(flora.number("surviveMin", 0, kSideCount));
    rules.flora.surviveMax = std::uint8_t(flora.number("surviveMax", 0, kSideCount));
    rules.flora.birthChance = std::uint32_t(flora.number("birthChance", 0, kPer65536));
    rules.flora.deathChance = std::uint32_t(flora.number("deathChance", 0, kPer65536));
    rules.flora.birthFlora = std::uint8_t(flora.number("birthFlora", 1, 255));
    rules.flora.growth = std::uint8_t(flora.number("growth", 0, 255));
    rules.flora.wither = std::uint8_t(flora.number("wither", 0, 255));
    rules.flora.maxFlora = std::uint8_t(flora.number("maxFlora", 1, 255));
    rules.flora.terrainMask = flora.terrains("terrainMask", 0);
    rules.flora.pollutionHarm = std::uint8_t(flora.number("pollutionHarm", 0, 255));
    rules.flora.waterNeeded = std::uint8_t(flora.number("waterNeeded", 0, 255));
    if (!flora.failed()) {
        notAbove(flora, "birthMin", rules.flora.birthMin, "birthMax", rules.flora.birthMax);
        notAbove(flora, "surviveMin", rules.flora.surviveMin, "surviveMax", rules.flora.surviveMax);
        notAbove(flora, "birthFlora", rules.flora.birthFlora, "maxFlora", rules.flora.maxFlora);
    }
    if (flora.failed())
        return flora.status();

    ore.allowOnly({"accretionChance", "neighboursNeeded", "accretionAmount"});
    rules.ore.accretionChance = std::uint32_t(ore.number("accretionChance", 0, kPer65536));
    rules.ore.neighboursNeeded = std::uint8_t(ore.number("neighboursNeeded", 0, kSideCount));
    rules.ore.accretionAmount = std::uint16_t(ore.number("accretionAmount", 0, kMaxCount));
    if (ore.failed())
        return ore.status();

    water.allowOnly({"flowDivisor", "evaporationChance", "rainChance", "maxWater"});
    rules.water.flowDivisor = std::uint8_t(water.number("flowDivisor", 1, 255));
    rules.water.evaporationChance = std::uint32_t(water.number("evaporationChance", 0, kPer65536));
    rules.water.rainChance = std::uint32_t(water.number("rainChance", 0, kPer65536));
    rules.water.maxWater = std::uint8_t(water.number("maxWater", 1, 255));
    if (water.failed())
        return water.status();

    pollution.allowOnly({"spreadDivisor", "decayChance"});
    // Below 6 a cell could give away more than it has to six neighbours with none.
    rules.pollution.spreadDivisor
        = std::uint8_t(pollution.number("spreadDivisor", kSideCount, 255));
    rules.pollution.decayChance = std::uint32_t(pollution.number("decayChance", 0, kPer65536));
    return pollution.status();
}

/// The first 16 hex digits of SHA-256 over the files in name order, each as its name,
/// its size and its bytes.
QString digest(const std::map<QString, QByteArray> &files)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const auto &[name, bytes] : files) {
        hash.addData(name.toUtf8());
        hash.addData(QByteArrayView("\n"));
        hash.addData(QByteArray::number(bytes.size()));
        hash.addData(QByteArrayView("\n"));
        hash.addData(bytes);
    }
    return QString::fromLatin1(hash.result().toHex().left(16));
}

} // namespace

tl::expected<Content, QString> loadContentFromFiles(const std::map<QString, QByteArray> &files)
{
    for (const auto &[name, bytes] : files) {
        if (!kContentFiles.contains(name)) {
            return tl::unexpected(QStringLiteral("%1: not a content file (expected %2).")
                                      .arg(name, kContentFiles.join(QLatin1String(", "))));
        }
    }

    ContentParser parser;
    using Read = Status (ContentParser::*)(const QJsonObject &);
    const Read readers[] = {&ContentParser::readItems,      &ContentParser::readResources,
                            &ContentParser::readPrototypes, &ContentParser::readRecipes,
                            &ContentParser::readRules,      &ContentParser::readAutomaton};
    static_assert(std::size(readers) == 6);
    for (qsizetype i = 0; i < kContentFiles.size(); ++i) {
        const QString &name = kContentFiles[i];
        const auto file = files.find(name);
        if (file == files.end())
            return tl::unexpected(QStringLiteral("%1: the file is missing.").arg(name));
        const tl::expected<QJsonObject, QString> root = parseObject(name, file->second);
        if (!root)
            return tl::unexpected(root.error());
        const Status read = (parser.*readers[i])(*root);
        if (!read)
            return tl::unexpected(read.error());
    }

    Content content = parser.takeContent();
    content.version = digest(files);
    return content;
}

tl::expected<Content, QString> loadContent(const QString &directory)
{
    const QDir dir(directory);
    if (!dir.exists()) {
        return tl::unexpected(
            QStringLiteral("%1: the content directory does not exist.").arg(directory));
    }
    std::map<QString, QByteArray> files;
    const QStringList names = dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QString &name : names) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::ReadOnly)) {
            return tl::unexpected(
                QStringLiteral("%1: cannot read the file: %2.").arg(name, file.errorString()));
        }
        files.emplace(name, file.readAll());
    }
    return loadContentFromFiles(files);
}

tl::expected<Content, QString> loadDefaultContent()
{
    return loadContent(QStringLiteral(":/content"));
}

} // namespace hex::sim
