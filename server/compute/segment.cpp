// server/compute/segment.cpp
#include "segment.h"

#include <QCoreApplication>
#include <QDir>
#include <QLoggingCategory>
#include <QRegularExpression>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <signal.h>
#include <type_traits>
#include <unistd.h>
#include <utility>

Q_LOGGING_CATEGORY(lcCompute, "hex.compute")

namespace bip = boost::interprocess;

namespace hex::server::compute {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("hex::server::compute::Segment", text);
}

std::atomic<int> s_counter{0};

bool processAlive(pid_t pid)
{
    if (pid <= 0)
        return false;
    // EPERM means the process exists but belongs to someone else: alive.
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

} // namespace

struct Segment::Mapping
{
    bip::shared_memory_object object;
    bip::mapped_region region;
};

Segment::Segment(std::unique_ptr<Mapping> mapping, QString name, bool owner)
    : m_mapping(std::move(mapping))
    , m_name(std::move(name))
    , m_owner(owner)
{}

Segment::Segment(Segment &&other) noexcept
    : m_mapping(std::move(other.m_mapping))
    , m_name(std::move(other.m_name))
    , m_owner(std::exchange(other.m_owner, false))
{}

Segment &Segment::operator=(Segment &&other) noexcept
{
    if (this != &other) {
        Segment previous(std::move(*this)); // Unmapped (and removed, if ours) on return.
        m_mapping = std::move(other.m_mapping);
        m_name = std::move(other.m_name);
        m_owner = std::exchange(other.m_owner, false);
    }
    return *this;
}

Segment::~Segment()
{
    if (!m_mapping)
        return;
    m_mapping.reset();
    if (m_owner) {
        const QByteArray name = m_name.toLocal8Bit();
        if (bip::shared_memory_object::remove(name.constData()))
            qCDebug(lcCompute) << "removed segment" << m_name;
        else
            qCWarning(lcCompute) << "could not remove segment" << m_name;
    }
}

QString Segment::namePrefix()
{
    return QStringLiteral("hexsphere-");
}

ControlBlock *Segment::control() const
{
    Q_ASSERT(m_mapping);
    return static_cast<ControlBlock *>(m_mapping->region.get_address());
}

WorkerSlot &Segment::slot(int index) const
{
    Q_ASSERT(index >= 0 && index < kMaxWorkerSlots);
    return control()->workerSlots[index];
}

std::byte *Segment::payload() const
{
    static_assert(sizeof(ControlBlock) % 64 == 0);
    return static_cast<std::byte *>(m_mapping->region.get_address()) + sizeof(ControlBlock);
}

std::size_t Segment::size() const
{
    return m_mapping ? m_mapping->region.get_size() : 0;
}

tl::expected<Segment, QString> Segment::create(std::size_t payloadBytes)
{
    const std::size_t total = sizeof(ControlBlock) + payloadBytes;
    QString lastError;
    for (int attempt = 0; attempt < 16; ++attempt) {
        const QString name = namePrefix() + QString::number(::getpid()) + QLatin1Char('-')
                             + QString::number(s_counter.fetch_add(1));
        const QByteArray nameBytes = name.toLocal8Bit();
        auto mapping = std::make_unique<Mapping>();
        try {
            mapping->object = bip::shared_memory_object(bip::create_only, nameBytes.constData(),
                                                        bip::read_write);
        } catch (const bip::interprocess_exception &e) {
            lastError = tr("cannot create shared-memory segment %1: %2")
                            .arg(name, QString::fromLocal8Bit(e.what()));
            if (e.get_error_code() == bip::already_exists_error)
                continue; // A leftover of a previous process with our pid: try the next name.
            return tl::unexpected(lastError);
        }
        try {
            mapping->object.truncate(static_cast<bip::offset_t>(total));
            mapping->region = bip::mapped_region(mapping->object, bip::read_write);
        } catch (const bip::interprocess_exception &e) {
            bip::shared_memory_object::remove(nameBytes.constData());
            return tl::unexpected(tr("cannot size or map shared-memory segment %1: %2")
                                      .arg(name, QString::fromLocal8Bit(e.what())));
        }
        auto *block = new (mapping->region.get_address()) ControlBlock();
        block->magic = kSegmentMagic;
        block->layoutVersion = kLayoutVersion;
        block->slotCount = kMaxWorkerSlots;
        block->size = mapping->region.get_size();
        block->serverPid = ::getpid();
        std::atomic_thread_fence(std::memory_order_seq_cst);
        qCDebug(lcCompute) << "created segment" << name << "of" << total << "bytes";
        return Segment(std::move(mapping), name, true);
    }
    return tl::unexpected(lastError);
}

tl::expected<Segment, QString> Segment::attach(const QString &name)
{
    QString bare = name;
    while (bare.startsWith(QLatin1Char('/')))
        bare.remove(0, 1);
    if (bare.isEmpty() || bare.contains(QLatin1Char('/')))
        return tl::unexpected(tr("invalid shared-memory segment name \"%1\"").arg(name));
    const QByteArray nameBytes = bare.toLocal8Bit();
    auto mapping = std::make_unique<Mapping>();
    try {
        mapping->object
            = bip::shared_memory_object(bip::open_only, nameBytes.constData(), bip::read_write);
        bip::offset_t size = 0;
        if (!mapping->object.get_size(size)
            || size < static_cast<bip::offset_t>(sizeof(ControlBlock)))
            return tl::unexpected(
                tr("shared-memory segment %1 is %2 bytes, smaller than the %3-byte control block")
                    .arg(bare)
                    .arg(static_cast<qint64>(size))
                    .arg(static_cast<qint64>(sizeof(ControlBlock))));
        mapping->region = bip::mapped_region(mapping->object, bip::read_write);
    } catch (const bip::interprocess_exception &e) {
        return tl::unexpected(tr("cannot open shared-memory segment %1: %2")
                                  .arg(bare, QString::fromLocal8Bit(e.what())));
    }
    const auto *block = static_cast<const ControlBlock *>(mapping->region.get_address());
    if (block->magic != kSegmentMagic)
        return tl::unexpected(tr("shared-memory segment %1 is not a Hexsphere compute segment "
                                 "(magic 0x%2, expected 0x%3)")
                                  .arg(bare)
                                  .arg(block->magic, 16, 16, QLatin1Char('0'))
                                  .arg(kSegmentMagic, 16, 16, QLatin1Char('0')));
    if (block->layoutVersion != kLayoutVersion)
        return tl::unexpected(tr("shared-memory segment %1 has layout version %2, but this "
                                 "program uses layout version %3")
                                  .arg(bare)
                                  .arg(block->layoutVersion)
                                  .arg(kLayoutVersion));
    if (block->slotCount != kMaxWorkerSlots || block->size != mapping->region.get_size())
        return tl::unexpected(tr("shared-memory segment %1 has an inconsistent control block "
                                 "(%2 slots, %3 bytes recorded, %4 bytes mapped)")
                                  .arg(bare)
                                  .arg(block->slotCount)
                                  .arg(static_cast<qulonglong>(block->size))
                                  .arg(static_cast<qulonglong>(mapping->region.get_size())));
    return Segment(std::move(mapping), bare, false);
}

QStringList Segment::removeStale()
{
    static const QRegularExpression pattern(QStringLiteral("^hexsphere-(\\d+)-(\\d+)$"));
    QStringList removed;
    const QDir shm(QStringLiteral("/dev/shm"));
    const QStringList entries = shm.entryList({namePrefix() + QLatin1Char('*')},
                                              QDir::Files | QDir::System | QDir::Hidden);
    for (const QString &entry : entries) {
        const QRegularExpressionMatch match = pattern.match(entry);
        if (!match.hasMatch())
            continue;
        bool ok = false;
        const qint64 pid = match.captured(1).toLongLong(&ok);
        if (!ok || pid <= 0 || pid > std::numeric_limits<pid_t>::max())
            continue;
        if (processAlive(static_cast<pid_t>(pid)))
            continue;
        const QByteArray nameBytes = entry.toLocal8Bit();
        if (bip::shared_memory_object::remove(nameBytes.constData())) {
            qCInfo(lcCompute) << "removed stale segment" << entry << "of dead process" << pid;
            removed << entry;
        } else {
            qCWarning(lcCompute) << "could not remove stale segment" << entry;
        }
    }
    return removed;
}

namespace {

constexpr std::size_t kTableAlign = 64;

std::size_t alignTable(std::size_t bytes)
{
    return (bytes + kTableAlign - 1) & ~(kTableAlign - 1);
}

} // namespace

std::size_t sphereTablesBytes(const geometry::HexSphereTables &tables)
{
    std::size_t total = 0;
    tables.forEach([&total](const char *, const auto &span) { total += alignTable(span.size_bytes()); });
    return total;
}

SphereTablesPlace copySphereTables(const geometry::HexSphereTables &tables, std::byte *base,
                                   std::size_t offset)
{
    Q_ASSERT(offset % kTableAlign == 0);
    SphereTablesPlace place{};
    std::size_t i = 0;
    tables.forEach([&](const char *, const auto &span) {
        std::memcpy(base + offset, span.data(), span.size_bytes());
        place.offsets[i] = offset;
        place.counts[i] = span.size();
        offset += alignTable(span.size_bytes());
        ++i;
    });
    place.skipRingCos = tables.skipRingCos;
    return place;
}

tl::expected<geometry::HexSphereTables, QString>
sphereTablesAt(const SphereTablesPlace &place, const std::byte *base, std::size_t size)
{
    geometry::HexSphereTables tables;
    QString error;
    std::size_t i = 0;
    tables.forEach([&](const char *name, auto &span) {
        using T = typename std::remove_reference_t<decltype(span)>::element_type;
        const std::uint64_t offset = place.offsets[i];
        const std::uint64_t count = place.counts[i];
        ++i;
        if (!error.isEmpty())
            return;
        if (offset % kTableAlign != 0 || offset > size || count > (size - offset) / sizeof(T)) {
            error = tr("the sphere's %1 table (%2 entries at byte %3) does not lie within the "
                       "segment's %4 bytes")
                        .arg(QLatin1String(name))
                        .arg(count)
                        .arg(offset)
                        .arg(size);
            return;
        }
        span = std::span<T>(reinterpret_cast<T *>(base + offset), std::size_t(count));
    });
    if (!error.isEmpty())
        return tl::unexpected(error);
    tables.skipRingCos = place.skipRingCos;
    return tables;
}

} // namespace hex::server::compute
