// bench_client: renders the planet in a real PlanetView, 1280×720, under the current GL
// (Xvfb + Mesa llvmpipe on the build machines) for n = 64, 128 and 256 while 5% of the
// cells change every tick at 20 UPS, and measures:
//
// - frame time: the wall time between consecutive frames of the view, taken in the GUI
//   thread at each PlanetView::frameRendered() (Qt3D's QFrameAction, which the aspect
//   engine runs once per frame it submits to the renderer, and only once the renderer
//   took the previous one; Qt3D paces frames at 60 Hz at most, and under Xvfb there is
//   no vsync). Frames are paced as the client paces them (client::FramePacer). Also
//   measured: the time between frames as drawn (a queued call from each frame action
//   runs once Qt3D has drawn and presented that frame); the frame time before the
//   planet is shown (the floor: Qt3D, the clear, the present; its p50, its p99, which
//   shows what the pacing alone allows, and its process CPU per frame), there also with
//   Qt's own animation timer in place of the pacer (the baseline the pacer replaced);
//   and, zoomed in where the cell mesh is drawn, the frame time with only the chunks in
//   view drawn (as the client draws) and with the whole mesh (the baseline), at the
//   closest zoom, at the widest zoom the mesh draws and 0.3 of the way between them, and
//   the share of the mesh's triangles drawn;
// - CPU time per frame of the whole process, GL's rasteriser threads included;
// - delta apply: the GUI thread's time in the client's path for a server tick's cell changes
//   (client::applyChunkDeltas(): protocol::applyChunkDelta() into the mirror for every
//   changed chunk, all checked before any is written, on the GUI thread's helpers
//   when the tick is large; then
//   PlanetView::updateCells()), per tick, per frame at the 60 FPS display rate (a tick
//   every third frame: the JSON's delta_apply_ms_*) and per frame rendered here (all the
//   apply time divided by the frames rendered: more ticks a frame when software GL
//   renders slowly);
// - upload bytes: the bytes the view handed to Qt3D buffer and texture uploads
//   (PlanetView::uploadedBytes()), per tick, per 60 FPS frame (the JSON's
//   upload_bytes_per_frame_*) and per frame rendered here;
// - GPU bytes per cell: the planet's buffers and textures (PlanetView::gpuBytes()).
//
// The changes are made on a sim::WorldState and encoded as the server does
// (protocol::encodeChunkDelta into a TickUpdate, in an Envelope, serialised), random
// cells getting new flora, pollution and owner values. Every tick of a size is made
// before its frames are measured: making them is the server's work, and doing it
// between the frames took twice the client's own apply time from the GUI thread. While
// measuring, each tick's frame is decoded as ServerConnection decodes what the server
// sends (a DecodingFrame: on a pool thread, into an arena, from the moment it arrives
// until it is handled; the decode figures time it on its own, with freeing the
// messages afterwards, and the GUI thread's part of that) and then applied. Ticks arrive as the wall
// clock says they are due (a late timer brings every tick due) and are handled as the
// game window handles what the server sends: right after the next frame is drawn
// (PlanetView::runAfterFrame()).
//
// Prints progress on stderr, a table on stdout and, as its last stdout line, one JSON
// object. Needs a display: without $DISPLAY it runs itself again under xvfb-run.
//
// Usage: bench_client [--quick] [--size N]... [--seconds S] [--qt-timer]
//   --quick    1.5 s per size instead of 10, for a smoke test
//   --size N   only this n (repeatable); the JSON keys need 128 and 256
//   --seconds  seconds measured per size
//   --qt-timer Qt's own animation timer drives the frames throughout, not the pacer
//   --msaa N   samples per pixel of the 3D window (0, 2, 4 or 8; default: what the
//              client's default setting, automatic, gives on this GL: 0 on a software
//              rasteriser such as llvmpipe, 4 on a graphics card)
//   --capture PREFIX  after each size, saves the view as PREFIX-n<N>.png (whole planet)
//                     PREFIX-n<N>-near.png (closest zoom) and PREFIX-n<N>-wide.png
//                     (the widest zoom the cell mesh draws)

#include "app/settings.h"
#include "net/tickdeltas.h"
#include "render/framepacer.h"
#include "render/glinfo.h"
#include "render/orbitcamera.h"
#include "render/planetview.h"
#include "render/structurelayer.h"

#include "geometry/hexsphere.h"
#include "net/decodingframe.h"
#include "protocol/codec.h"
#include "protocol/worldcodec.h"
#include "sim/content.h"
#include "sim/world.h"

#include <Qt3DExtras/Qt3DWindow>
#include <Qt3DRender/QRenderCapture>

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QSurfaceFormat>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

using namespace hex;
using hex::client::glRendererName;
using hex::client::isSoftwareRenderer;
using hex::client::Settings;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWidth = 1280;
constexpr int kHeight = 720;
constexpr int kUps = 20;
constexpr double kChangedShare = 0.05;
/// The most ticks made before measuring (10 s of them: 88 MB at n=256); a longer
/// --seconds takes them in turn again.
constexpr int kMostTicksMade = 200;
constexpr double kTargetFrameMs = 16.7;
constexpr double kTargetApplyMs = 1.0;
/// The display rate the per-frame costs of ticks are counted at: a tick every third frame.
constexpr double kDisplayFps = 60.0;

double msBetween(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double, std::milli>(b - a).count();
}

/// CPU seconds this process has used, every thread.
double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
           + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return std::nan(""); // no frame: no figure, and no target met
    std::sort(values.begin(), values.end());
    const auto index = std::size_t(p * double(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

struct Result
{
    int n = 0;
    std::uint32_t cells = 0;
    int frames = 0;
    int ticks = 0;
    double seconds = 0;
    double p50FrameMs = 0;
    double p99FrameMs = 0;
    double maxFrameMs = 0;
    /// p50 and p99 of the time between frames as drawn (presented).
    double p50DrawnMs = 0;
    double p99DrawnMs = 0;
    double applyMsPerTick = 0;
    double mirrorMsPerTick = 0; ///< of which protocol::applyChunkDelta
    double decodeMsPerTick = 0; ///< decoding a tick's frame and freeing it, apart from applyMsPerTick
    double guiDecodeMsPerTick = 0; ///< the GUI thread's part: waiting for the decoding, freeing
    double tickBytes = 0; ///< a tick's frame: an Envelope holding its TickUpdate (the mean)
    double applyMsPerFrame = 0;
    double uploadBytesPerFrame = 0;
    double uploadBytesPerTick = 0;
    double gpuBytesPerCell = 0;
    double showPlanetMs = 0;
    /// p50 frame time at the closest zoom, where the cell mesh is drawn: only its chunks
    /// in view (as the client draws it), and the whole mesh (the baseline); the share
    /// of the mesh's triangles drawn in view.
    double nearP50FrameMs = 0;
    double nearWholeP50FrameMs = 0;
    double nearTriangleShare = 0;
    /// The same at a middle zoom, 0.3 of the way from the closest to the widest.
    double middleP50FrameMs = 0;
    double middleWholeP50FrameMs = 0;
    double middleTriangleShare = 0;
    /// The same at the widest zoom the cell mesh draws, just inside the far view.
    double wideP50FrameMs = 0;
    double wideWholeP50FrameMs = 0;
    double wideTriangleShare = 0;
    /// p50 frame time before the planet is shown: the floor under any planet.
    double emptyP50FrameMs = 0;
    /// p99 of the same frames: what the pacing alone allows, with nothing to draw.
    double emptyP99FrameMs = 0;
    /// The same two with Qt's own animation timer driving the frames.
    double emptyQtP50FrameMs = 0;
    double emptyQtP99FrameMs = 0;
    /// CPU time of the whole process per frame before the planet is shown (no ticks).
    double emptyCpuMsPerFrame = 0;
    /// CPU time of the whole process (GL's threads included) per frame, less what
    /// applying the ticks took: what a frame costs, whatever else the machine runs.
    double cpuMsPerFrame = 0;
};

/// Changes 5% of the cells of `state` at random and encodes them as the server would:
/// a serialised TickUpdate holding a ChunkDelta for each chunk with a changed cell.
class ChangeMaker
{
public:
    explicit ChangeMaker(sim::WorldState &state)
        : m_state(state)
        , m_byChunk(state.sphere->chunkCount())
    {
    }

    std::string nextTick(std::uint64_t tick)
    {
        const geometry::HexSphere &sphere = *m_state.sphere;
        const std::uint32_t count = m_state.cellCount();
        const auto changes = std::uint32_t(double(count) * kChangedShare);
        std::uniform_int_distribution<std::uint32_t> anyCell(0, count - 1);
        std::uniform_int_distribution<int> value(0, 255);
        std::uniform_int_distribution<int> player(-1, 7);
        for (auto &cells : m_byChunk)
            cells.clear();
        for (std::uint32_t i = 0; i < changes; ++i) {
            const geometry::CellId cell = anyCell(m_random);
            m_state.flora[cell] = std::uint8_t(value(m_random));
            m_state.pollution[cell] = std::uint8_t(value(m_random) / 2);
            const int owner = player(m_random);
            m_state.owner[cell] = owner < 0 ? sim::kNoPlayer : sim::PlayerId(owner);
            m_byChunk[sphere.chunkOf(cell)].push_back(cell);
        }
        protocol::Envelope envelope;
        protocol::TickUpdate &update = *envelope.mutable_tick();
        update.set_tick(tick);
        for (geometry::ChunkId chunk = 0; chunk < m_byChunk.size(); ++chunk) {
            std::vector<geometry::CellId> &cells = m_byChunk[chunk];
            if (cells.empty())
                continue;
            std::sort(cells.begin(), cells.end());
            cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
            sim::ChunkDelta delta;
            delta.chunk = chunk;
            delta.cells = cells;
            protocol::encodeChunkDelta(m_state, delta, update.add_deltas());
        }
        return envelope.SerializeAsString();
    }

private:
    sim::WorldState &m_state;
    std::vector<std::vector<geometry::CellId>> m_byChunk;
    std::mt19937 m_random{12345};
};

/// Sleeps until events come, then handles them. Not processEvents() with a time limit:
/// that returns at once when nothing is pending, and the busy loop would take a core
/// from GL's rasteriser threads. (A heartbeat timer in main() wakes it at least every
/// 100 ms.)
void waitForEvents()
{
    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
}

/// Waits for the next frame of `view` and saves it as `path`.
void capture(client::PlanetView &view, const QString &path)
{
    // A few frames first, so that a camera move has reached the renderer.
    const quint64 until = view.framesSincePlanet() + 3;
    QElapsedTimer timer;
    timer.start();
    while (view.framesSincePlanet() < until && timer.elapsed() < 30000)
        waitForEvents();
    std::unique_ptr<Qt3DRender::QRenderCaptureReply> reply(view.requestCapture());
    while (!reply->isComplete() && timer.elapsed() < 60000)
        waitForEvents();
    if (!reply->isComplete() || !reply->image().save(path))
        std::fprintf(stderr, "could not capture %s\n", qPrintable(path));
    else
        std::fprintf(stderr, "saved %s\n", qPrintable(path));
}

/// The time between consecutive frames of a view: at each frame action (the frame
/// time), and once each frame is drawn (a call queued by the frame action runs after
/// Qt3D has drawn and presented the frame, in the same event).
class FrameTimes
{
public:
    explicit FrameTimes(client::PlanetView &view)
        : m_view(view)
    {
        QObject::connect(&view, &client::PlanetView::frameRendered, &m_context, [this](float) {
            stamp(m_frameMs, m_lastFrame);
            QMetaObject::invokeMethod(
                &m_context, [this] { stamp(m_drawnMs, m_lastDrawn); }, Qt::QueuedConnection);
        });
    }

    /// Stops measuring; what was measured stays.
    void stop() { QObject::disconnect(&m_view, nullptr, &m_context, nullptr); }

    std::vector<double> &frameMs() { return m_frameMs; }
    std::vector<double> &drawnMs() { return m_drawnMs; }

private:
    static void stamp(std::vector<double> &intervals, std::optional<Clock::time_point> &last)
    {
        const Clock::time_point now = Clock::now();
        if (last)
            intervals.push_back(msBetween(*last, now));
        last = now;
    }

    client::PlanetView &m_view;
    QObject m_context; // the connections' context: they end with this object
    std::vector<double> m_frameMs;
    std::vector<double> m_drawnMs;
    std::optional<Clock::time_point> m_lastFrame;
    std::optional<Clock::time_point> m_lastDrawn;
};

/// p50 and p99 frame time of `view` before any planet is shown, over `ms` milliseconds
/// less the first half (the first frames set up GL). Also the process CPU per frame
/// over that second half, if `cpuMsPerFrame`.
std::pair<double, double> emptyFrameTimes(client::PlanetView &view, int ms,
                                          double *cpuMsPerFrame = nullptr)
{
    FrameTimes times(view);
    double cpuAtHalf = 0;
    std::size_t framesAtHalf = 0;
    bool halfway = false;
    QElapsedTimer shown;
    shown.start();
    while (shown.elapsed() < ms) {
        waitForEvents();
        if (!halfway && shown.elapsed() >= ms / 2) {
            halfway = true;
            cpuAtHalf = cpuSeconds();
            framesAtHalf = times.frameMs().size();
        }
    }
    times.stop();
    std::vector<double> &frameMs = times.frameMs();
    const auto framesAfterHalf = double(frameMs.size()) - double(framesAtHalf);
    if (cpuMsPerFrame)
        *cpuMsPerFrame = framesAfterHalf > 0 ? (cpuSeconds() - cpuAtHalf) * 1000.0 / framesAfterHalf
                                             : std::nan("");
    frameMs.erase(frameMs.begin(), frameMs.begin() + std::ptrdiff_t(framesAtHalf));
    return {percentile(frameMs, 0.50), percentile(frameMs, 0.99)};
}

Result measure(int n, double seconds, const std::shared_ptr<const sim::Content> &content,
               const QString &capturePrefix, int msaa, client::FramePacer *pacer)
{
    Result result;
    result.n = n;
    std::fprintf(stderr, "n=%d: generating the world...\n", n);
    auto sphere = std::make_shared<const geometry::HexSphere>(n);
    sim::WorldState state = sim::generateWorld(sphere, *content, 42);
    protocol::VisibleCells mirror = protocol::visibleCells(state);
    result.cells = sphere->cellCount();

    client::PlanetView view;
    // As the client's shell sets the graphics settings on the 3D window.
    QSurfaceFormat format = view.window3D()->format();
    format.setSamples(msaa);
    format.setSwapInterval(0);
    view.window3D()->setFormat(format);
    view.resize(kWidth, kHeight);
    view.show();
    // As in the client, the window renders (empty space) before the world arrives: the
    // cost of a frame with nothing in it (Qt3D's frame, the clear, the present). First
    // with Qt's own animation timer driving the frames, the baseline, then as the
    // client paces them.
    if (pacer) {
        pacer->uninstall();
        std::tie(result.emptyQtP50FrameMs, result.emptyQtP99FrameMs) = emptyFrameTimes(view, 1500);
        pacer->install();
    }
    std::tie(result.emptyP50FrameMs, result.emptyP99FrameMs) =
        emptyFrameTimes(view, 1500, &result.emptyCpuMsPerFrame);
    if (!pacer) {
        result.emptyQtP50FrameMs = result.emptyP50FrameMs;
        result.emptyQtP99FrameMs = result.emptyP99FrameMs;
    }
    std::fprintf(stderr, "n=%d: building the planet (%u cells)...\n", n, result.cells);
    QElapsedTimer build;
    build.start();
    view.showPlanet(sphere, &mirror);
    result.showPlanetMs = double(build.nsecsElapsed()) / 1e6;
    result.gpuBytesPerCell = double(view.gpuBytes()) / double(result.cells);

    // Warm up: the first frames upload the mesh and compile shaders.
    QElapsedTimer warm;
    warm.start();
    while ((view.framesSincePlanet() < 10 || warm.elapsed() < 1000) && warm.elapsed() < 60000)
        waitForEvents();
    if (view.framesSincePlanet() < 10)
        std::fprintf(stderr, "n=%d: only %llu frames in the warm-up\n", n,
                     static_cast<unsigned long long>(view.framesSincePlanet()));

    // The ticks, made and encoded before the first frame is timed: every tick of the
    // measurement, or kMostTicksMade of them, taken in turn again (a delta sets its cells
    // to its values, so a tick applied again changes the mirror as much).
    const int tickCount = int(std::ceil(seconds * kUps)) + 1;
    const int madeCount = std::min(tickCount, kMostTicksMade);
    std::fprintf(stderr, "n=%d: encoding %d ticks...\n", n, madeCount);
    std::vector<QByteArray> tickBytes;
    tickBytes.reserve(std::size_t(madeCount));
    {
        ChangeMaker maker(state);
        for (int i = 0; i < madeCount; ++i)
            tickBytes.push_back(QByteArray::fromStdString(maker.nextTick(std::uint64_t(i + 1))));
    }
    double decodeMs = 0; // decoding the ticks' frames (wherever) and freeing them
    double guiDecodeMs = 0; // the GUI thread's part of it: waiting for a decoding, freeing
    double applyMs = 0;
    double mirrorMs = 0; // the applyChunkDelta part of applyMs
    int ticks = 0;
    std::vector<geometry::CellId> changed;
    const quint64 uploadedBefore = view.uploadedBytes();

    const double cpuBefore = cpuSeconds();
    const Clock::time_point start = Clock::now();
    FrameTimes times(view);
    const std::vector<double> &frameMs = times.frameMs();

    // A tick "arrives" when the wall clock says it is due, and is handled as the client
    // handles what the server sends: right after the next frame is drawn
    // (PlanetView::runAfterFrame(), see ServerConnection::setFrameScheduler()).
    int arrived = 0;
    auto applyTick = [&](std::unique_ptr<client::DecodingFrame> frame, int index) {
        const Clock::time_point td = Clock::now();
        Clock::time_point t2;
        {
            const auto &envelope = frame->envelope();
            if (!envelope || !(*envelope)->has_tick()) {
                std::fprintf(stderr, "tick %d does not decode\n", index);
                std::exit(1);
            }
            const protocol::TickUpdate &update = (*envelope)->tick();
            const Clock::time_point t0 = Clock::now();
            guiDecodeMs += msBetween(td, t0);
            decodeMs += frame->decodeMilliseconds();
            changed.clear();
            // As ServerConnection::handleTick() applies them.
            if (auto ok = client::applyChunkDeltas(update.deltas(), *sphere, mirror, changed,
                                                   &client::guiStepPool());
                !ok) {
                std::fprintf(stderr, "delta rejected: %s\n", qPrintable(ok.error()));
                std::exit(1);
            }
            const Clock::time_point t1 = Clock::now();
            view.updateCells(changed);
            t2 = Clock::now();
            mirrorMs += msBetween(t0, t1);
            applyMs += msBetween(t0, t2);
        }
        frame.reset(); // freeing the messages counts with their decoding
        const double freeMs = msBetween(t2, Clock::now());
        decodeMs += freeMs;
        guiDecodeMs += freeMs;
        ++ticks;
    };
    // As ServerConnection holds a frame it receives: decoding on a pool thread until the
    // frame is handled.
    auto receiveDueTicks = [&] {
        const double elapsed = msBetween(start, Clock::now());
        const int due = std::min(int(elapsed * kUps / 1000.0), tickCount);
        for (; arrived < due; ++arrived) {
            auto frame = std::make_shared<std::unique_ptr<client::DecodingFrame>>(
                std::make_unique<client::DecodingFrame>(
                    tickBytes[std::size_t(arrived) % tickBytes.size()], true));
            view.runAfterFrame([&applyTick, frame, index = arrived] {
                applyTick(std::move(*frame), index);
            });
        }
    };
    QTimer tickTimer;
    tickTimer.setTimerType(Qt::PreciseTimer);
    tickTimer.setInterval(1000 / kUps);
    QObject::connect(&tickTimer, &QTimer::timeout, receiveDueTicks);
    tickTimer.start();

    double nextReport = 1000.0;
    while (msBetween(start, Clock::now()) < seconds * 1000.0) {
        waitForEvents();
        const double elapsed = msBetween(start, Clock::now());
        if (elapsed >= nextReport) {
            std::fprintf(stderr, "n=%d: %.0f s, %zu frames, %d ticks\n", n, elapsed / 1000.0,
                         frameMs.size(), ticks);
            nextReport += 1000.0;
        }
    }
    tickTimer.stop();
    // The ticks that arrived and wait for a frame are handled (and counted) too.
    while (view.workAfterFrame() > 0)
        waitForEvents();
    times.stop();
    result.seconds = msBetween(start, Clock::now()) / 1000.0;
    const double cpuMs = (cpuSeconds() - cpuBefore) * 1000.0;
    result.frames = int(frameMs.size());
    result.ticks = ticks;
    result.p50FrameMs = percentile(frameMs, 0.50);
    result.p99FrameMs = percentile(frameMs, 0.99);
    result.p50DrawnMs = percentile(times.drawnMs(), 0.50);
    result.p99DrawnMs = percentile(times.drawnMs(), 0.99);
    result.maxFrameMs = frameMs.empty() ? std::nan("")
                                        : *std::max_element(frameMs.begin(), frameMs.end());
    const double uploaded = double(view.uploadedBytes() - uploadedBefore);
    const double frames = std::max(1, result.frames);
    result.applyMsPerTick = ticks ? applyMs / ticks : 0.0;
    result.mirrorMsPerTick = ticks ? mirrorMs / ticks : 0.0;
    result.decodeMsPerTick = ticks ? decodeMs / ticks : 0.0;
    result.guiDecodeMsPerTick = ticks ? guiDecodeMs / ticks : 0.0;
    result.tickBytes = double(std::accumulate(tickBytes.begin(), tickBytes.end(), std::size_t(0),
                                              [](std::size_t sum, const QByteArray &b) {
                                                  return sum + std::size_t(b.size());
                                              }))
                       / double(std::max<std::size_t>(tickBytes.size(), 1));
    result.applyMsPerFrame = applyMs / frames;
    result.uploadBytesPerFrame = uploaded / frames;
    result.cpuMsPerFrame = (cpuMs - applyMs - decodeMs) / frames;
    result.uploadBytesPerTick = ticks ? uploaded / ticks : 0.0;
    std::fprintf(stderr, "n=%d: done: %d frames, %d ticks in %.1f s (far view: %s)\n", n,
                 result.frames, ticks, result.seconds, view.isFarView() ? "yes" : "no");
    if (!capturePrefix.isEmpty()) {
        view.setHoveredCell(geometry::CellId(result.cells / 3));
        capture(view, QStringLiteral("%1-n%2.png").arg(capturePrefix).arg(n));
    }

    // Zoomed in, where the cell mesh is drawn: frame times without ticks, with only the
    // chunks in view drawn (the client's way) and with the whole mesh (the baseline), at
    // the closest zoom and at the widest zoom the mesh draws (just inside the far view).
    auto zoomFrames = [&](float distance, bool culling, double &p50, double *share) {
        view.setCulling(culling);
        view.orbitCamera()->setDistance(distance);
        QElapsedTimer settle;
        settle.start();
        while (settle.elapsed() < 700)
            waitForEvents();
        FrameTimes zoomed(view);
        QElapsedTimer elapsed;
        elapsed.start();
        while (elapsed.elapsed() < 2000)
            waitForEvents();
        zoomed.stop();
        p50 = percentile(zoomed.frameMs(), 0.50);
        if (share)
            *share = double(view.drawnTriangles()) / double(std::max<std::uint64_t>(view.meshTriangles(), 1));
        std::fprintf(stderr, "n=%d: distance %.4f, %s: %zu frames in 2 s, p50 %.2f ms (far view: %s)\n",
                     n, double(distance), culling ? "chunks in view" : "whole mesh",
                     zoomed.frameMs().size(), p50, view.isFarView() ? "yes" : "no");
    };
    client::OrbitCamera *orbit = view.orbitCamera();
    const float closest = orbit->minimumDistance();
    // The widest zoom the mesh draws: just inside the far view.
    const float meshAt = view.farViewDistance() * 0.999f;
    zoomFrames(closest, true, result.nearP50FrameMs, &result.nearTriangleShare);
    if (!capturePrefix.isEmpty())
        capture(view, QStringLiteral("%1-n%2-near.png").arg(capturePrefix).arg(n));
    zoomFrames(closest, false, result.nearWholeP50FrameMs, nullptr);
    const float middle = closest + 0.3f * (meshAt - closest);
    zoomFrames(middle, true, result.middleP50FrameMs, &result.middleTriangleShare);
    zoomFrames(middle, false, result.middleWholeP50FrameMs, nullptr);
    zoomFrames(meshAt, true, result.wideP50FrameMs, &result.wideTriangleShare);
    if (!capturePrefix.isEmpty())
        capture(view, QStringLiteral("%1-n%2-wide.png").arg(capturePrefix).arg(n));
    zoomFrames(meshAt, false, result.wideWholeP50FrameMs, nullptr);
    view.setCulling(true);
    return result;
}

const char *verdict(bool met)
{
    return met ? "met" : "NOT met";
}

/// Runs this program again under a private X server when there is no display.
[[noreturn]] void reexecUnderXvfb(int argc, char **argv)
{
    std::vector<std::string> args = {"xvfb-run", "-a", "-s", "-screen 0 1920x1080x24"};
    char self[4096] = {};
    const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    args.emplace_back(length > 0 ? std::string(self, std::size_t(length)) : std::string(argv[0]));
    for (int i = 1; i < argc; ++i)
        args.emplace_back(argv[i]);
    std::vector<char *> pointers;
    for (std::string &arg : args)
        pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    setenv("HEX_BENCH_UNDER_XVFB", "1", 1);
    execvp("xvfb-run", pointers.data());
    std::fprintf(stderr, "bench_client: no $DISPLAY and xvfb-run could not be started: %s\n",
                 std::strerror(errno));
    std::exit(2);
}

} // namespace

int main(int argc, char **argv)
{
    if (std::getenv("DISPLAY") == nullptr || *std::getenv("DISPLAY") == '\0') {
        if (std::getenv("HEX_BENCH_UNDER_XVFB")) {
            std::fprintf(stderr, "bench_client: xvfb-run gave no display\n");
            return 2;
        }
        reexecUnderXvfb(argc, argv);
    }
    // As the client does (main.cpp): the renderer is chosen, not left to defaults.
    if (qEnvironmentVariableIsEmpty("QT3D_RENDERER"))
        qputenv("QT3D_RENDERER", "opengl");

    std::vector<int> sizes;
    double seconds = 10.0; // 600 frames: a p99 from the 6 slowest, not 3
    QString capturePrefix;
    int msaa = Settings::kMsaaAutomatic;
    bool qtTimer = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--qt-timer")) {
            qtTimer = true;
        } else if (!std::strcmp(argv[i], "--quick")) {
            seconds = 1.5;
        } else if (!std::strcmp(argv[i], "--size") && i + 1 < argc) {
            const int n = std::atoi(argv[++i]);
            if (n < 1 || n > 1024) {
                std::fprintf(stderr, "bench_client: --size wants 1..1024, not %s\n", argv[i]);
                return 2;
            }
            sizes.push_back(n);
        } else if (!std::strcmp(argv[i], "--msaa") && i + 1 < argc) {
            msaa = std::atoi(argv[++i]);
            if (msaa != 0 && msaa != 2 && msaa != 4 && msaa != 8) {
                std::fprintf(stderr, "bench_client: --msaa wants 0, 2, 4 or 8, not %s\n", argv[i]);
                return 2;
            }
        } else if (!std::strcmp(argv[i], "--capture") && i + 1 < argc) {
            capturePrefix = QString::fromLocal8Bit(argv[++i]);
        } else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = std::atof(argv[++i]);
            if (!(seconds > 0.0)) {
                std::fprintf(stderr, "bench_client: --seconds wants a positive number, not %s\n",
                             argv[i]);
                return 2;
            }
        } else {
            std::fprintf(stderr, "usage: bench_client [--quick] [--size N]... [--seconds S] [--msaa N] [--capture PREFIX] [--qt-timer]\n");
            return 2;
        }
    }
    if (sizes.empty())
        sizes = {64, 128, 256};

    QApplication app(argc, argv);
    // As the client does (main.cpp), unless asked for Qt's own timer.
    const std::unique_ptr<client::FramePacer> ownPacer =
        qtTimer ? nullptr : client::FramePacer::installForThisThread();
    client::FramePacer *pacer = ownPacer.get();
    QTimer heartbeat; // see waitForEvents()
    heartbeat.start(100);
    const auto content = sim::loadDefaultContent();
    if (!content) {
        std::fprintf(stderr, "bench_client: %s\n", qPrintable(content.error()));
        return 1;
    }
    const auto shared = std::make_shared<const sim::Content>(*content);

    // Which GL the frames come from, for the table, and the samples the client's
    // default setting gives it.
    const QString renderer = glRendererName();
    const QString glRenderer = renderer.isEmpty() ? QStringLiteral("unknown") : renderer;
    const bool automaticMsaa = msaa == Settings::kMsaaAutomatic;
    msaa = Settings::effectiveMsaaSamples(msaa, isSoftwareRenderer(renderer));

    std::vector<Result> results;
    for (const int n : sizes)
        results.push_back(measure(n, seconds, shared, capturePrefix, msaa, pacer));

    std::printf("Planet view, %dx%d, MSAA %d%s, no vsync, frames paced by %s, %d UPS, %.0f%% of "
                "cells changed per tick, QT3D_RENDERER=%s, GL: %s\n",
                kWidth, kHeight, msaa,
                automaticMsaa ? " (the client's automatic setting on this GL)" : " (--msaa)",
                pacer ? "the client's FramePacer" : "Qt's animation timer (--qt-timer)", kUps,
                kChangedShare * 100, qgetenv("QT3D_RENDERER").constData(), qPrintable(glRenderer));
    std::printf("empty = p50 frame time before the planet is shown (Qt3D, clear, present); "
                "empty p99, empty CPU = its p99 and process CPU ms per frame; Qt p50/p99 = the "
                "same with Qt's animation timer driving frames;\nframe time = wall time between "
                "frames (QFrameAction); drawn = between frames drawn and presented; CPU/frm = process CPU "
                "ms per frame, all threads, less delta apply and decode;\ndelta apply = applyChunkDelta + "
                "PlanetView::updateCells; upload = bytes handed to Qt3D updates\n\n");
    std::printf("%5s %9s %7s %8s %9s %9s %7s %7s %8s %8s %8s %10s %7s %9s %11s %12s %13s %12s %9s\n", "n",
                "cells", "frames", "empty", "empty p99", "empty CPU", "Qt p50", "Qt p99", "p50 ms", "p99 ms", "max ms", "drawn p99", "FPS", "CPU/frm", "apply/tick",
                "apply/frame", "upload B/frm", "upload B/tk", "GPU B/cell");
    for (const Result &r : results) {
        std::printf("%5d %9u %7d %8.2f %9.2f %9.2f %7.2f %7.2f %8.2f %8.2f %8.2f %10.2f %7.1f %9.2f %11.3f %12.3f %13.0f "
                    "%12.0f %9.1f\n",
                    r.n, r.cells, r.frames, r.emptyP50FrameMs, r.emptyP99FrameMs, r.emptyCpuMsPerFrame, r.emptyQtP50FrameMs, r.emptyQtP99FrameMs, r.p50FrameMs, r.p99FrameMs, r.maxFrameMs, r.p99DrawnMs,
                    r.frames / std::max(r.seconds, 1e-9), r.cpuMsPerFrame, r.applyMsPerTick,
                    r.applyMsPerFrame, r.uploadBytesPerFrame, r.uploadBytesPerTick,
                    r.gpuBytesPerCell);
    }
    std::printf("\nZoomed in, the cell mesh drawn (no ticks, 2 s each): in view = only the chunks the "
                "camera can see, as the client draws; whole = every cell's mesh, the baseline; "
                "closest = the closest zoom; widest = the farthest the mesh is drawn, just inside "
                "the far view; middle = 0.3 of the way between them; p50 frame times\n\n");
    std::printf("%5s %15s %14s %13s %15s %14s %13s %15s %14s %13s\n", "n", "closest in view",
                "closest whole", "closest tri %", "middle in view", "middle whole", "middle tri %",
                "widest in view", "widest whole", "widest tri %");
    for (const Result &r : results) {
        std::printf("%5d %12.2f ms %11.2f ms %12.1f%% %12.2f ms %11.2f ms %12.1f%% %12.2f ms "
                    "%11.2f ms %12.1f%%\n",
                    r.n, r.nearP50FrameMs, r.nearWholeP50FrameMs, r.nearTriangleShare * 100,
                    r.middleP50FrameMs, r.middleWholeP50FrameMs, r.middleTriangleShare * 100,
                    r.wideP50FrameMs, r.wideWholeP50FrameMs, r.wideTriangleShare * 100);
    }
    std::printf("\n");
    for (const Result &r : results) {
        std::printf("n=%d: delta apply %.3f ms a tick (applyChunkDelta %.3f, updateCells %.3f): "
                    "%.3f ms a frame at 60 FPS; decoding the tick's %.0f bytes (and freeing "
                    "them): %.3f ms, on a pool thread while frames are drawn, of which the GUI "
                    "thread's part (waiting, freeing): %.3f ms\n",
                    r.n, r.applyMsPerTick, r.mirrorMsPerTick, r.applyMsPerTick - r.mirrorMsPerTick,
                    r.applyMsPerTick * kUps / kDisplayFps, r.tickBytes, r.decodeMsPerTick,
                    r.guiDecodeMsPerTick);
    }
    std::printf("\n");
    for (const Result &r : results) {
        if (r.n == 128)
            std::printf("target p99 frame <= %.1f ms at n=128: %.2f ms, %s\n", kTargetFrameMs,
                        r.p99FrameMs, verdict(r.p99FrameMs <= kTargetFrameMs));
        if (r.n == 256) {
            const double atDisplayRate = r.applyMsPerTick * kUps / kDisplayFps;
            std::printf("target delta apply <= %.1f ms per frame at n=256: %.3f ms per 60 FPS frame "
                        "(%.3f ms per frame measured here at %.1f FPS), %s\n",
                        kTargetApplyMs, atDisplayRate, r.applyMsPerFrame,
                        r.frames / std::max(r.seconds, 1e-9),
                        verdict(atDisplayRate <= kTargetApplyMs));
        }
    }

    std::string json = "{";
    auto add = [&json](const std::string &key, double value) {
        char buffer[128];
        if (std::isnan(value))
            std::snprintf(buffer, sizeof buffer, "%s\"%s\": null", json.size() > 1 ? ", " : "",
                          key.c_str());
        else
            std::snprintf(buffer, sizeof buffer, "%s\"%s\": %.4g", json.size() > 1 ? ", " : "",
                          key.c_str(), value);
        json += buffer;
    };
    add("msaa_samples", msaa);
    for (const Result &r : results) {
        const std::string s = "_n" + std::to_string(r.n);
        add("p99_frame_ms" + s, r.p99FrameMs);
        add("p50_frame_ms" + s, r.p50FrameMs);
        add("empty_p50_frame_ms" + s, r.emptyP50FrameMs);
        add("empty_p99_frame_ms" + s, r.emptyP99FrameMs);
        add("empty_cpu_ms_per_frame" + s, r.emptyCpuMsPerFrame);
        add("empty_qt_timer_p50_frame_ms" + s, r.emptyQtP50FrameMs);
        add("empty_qt_timer_p99_frame_ms" + s, r.emptyQtP99FrameMs);
        add("p50_drawn_ms" + s, r.p50DrawnMs);
        add("p99_drawn_ms" + s, r.p99DrawnMs);
        add("near_p50_frame_ms" + s, r.nearP50FrameMs);
        add("near_whole_mesh_p50_frame_ms" + s, r.nearWholeP50FrameMs);
        add("near_drawn_triangle_share" + s, r.nearTriangleShare);
        add("middle_p50_frame_ms" + s, r.middleP50FrameMs);
        add("middle_whole_mesh_p50_frame_ms" + s, r.middleWholeP50FrameMs);
        add("middle_drawn_triangle_share" + s, r.middleTriangleShare);
        add("wide_p50_frame_ms" + s, r.wideP50FrameMs);
        add("wide_whole_mesh_p50_frame_ms" + s, r.wideWholeP50FrameMs);
        add("wide_drawn_triangle_share" + s, r.wideTriangleShare);
        // Per frame at the display rate (60 FPS: a tick every third frame), and per frame
        // as rendered here (slower in software GL: more ticks a frame).
        add("delta_apply_ms" + s, r.applyMsPerTick * kUps / kDisplayFps);
        add("delta_apply_ms_per_measured_frame" + s, r.applyMsPerFrame);
        add("delta_apply_ms_per_tick" + s, r.applyMsPerTick);
        add("delta_mirror_ms_per_tick" + s, r.mirrorMsPerTick);
        add("delta_decode_ms_per_tick" + s, r.decodeMsPerTick);
        add("delta_decode_gui_ms_per_tick" + s, r.guiDecodeMsPerTick);
        add("tick_bytes" + s, r.tickBytes);
        add("upload_bytes_per_frame" + s, r.uploadBytesPerTick * kUps / kDisplayFps);
        add("upload_bytes_per_measured_frame" + s, r.uploadBytesPerFrame);
        add("upload_bytes_per_tick" + s, r.uploadBytesPerTick);
        add("fps" + s, r.frames / std::max(r.seconds, 1e-9));
        add("cpu_ms_per_frame" + s, r.cpuMsPerFrame);
        add("gpu_bytes_per_cell" + s, r.gpuBytesPerCell);
    }
    json += "}";
    std::printf("%s\n", json.c_str());
    return 0;
}
