#!/usr/bin/env node
// tests/bench/baselines/ws-broadcast.js
//
// The baseline hexsphere-bots compares our server with: a minimal broadcast server on
// Node's `ws` package that sends, every tick, one binary frame of a given size to each
// viewer connection (and optionally to idle ones). It simulates nothing; it is the cost
// of pushing frames of our sizes through a well-known WebSocket server.
//
// Usage: node ws-broadcast.js PORT UPS VIEWER_BYTES IDLE_BYTES IDLE_EVERY
//   PORT         TCP port on 127.0.0.1
//   UPS          ticks per second
//   VIEWER_BYTES size of the frame each viewer gets every tick (at least 8)
//   IDLE_BYTES   size of the frame an idle connection gets (at least 8)
//   IDLE_EVERY   idle connections get a frame every IDLE_EVERY ticks; 0: never
//
// A client says what it is with its first message, "viewer" or "idle" (text or
// binary). The first 8 bytes of every frame are the send time, float64 milliseconds
// since the Unix epoch, little-endian, so the bots can measure latency as they do with
// TickUpdate.server_time_ms; the rest is zeros.
'use strict';

// Debian's node-ws lives in /usr/share/nodejs, which a Node from elsewhere may not search.
function loadWs() {
    for (const name of ['ws', '/usr/share/nodejs/ws', '/usr/lib/nodejs/ws']) {
        try {
            return require(name);
        } catch (e) {
            if (e.code !== 'MODULE_NOT_FOUND') throw e;
        }
    }
    console.error('ws-broadcast: the Node.js "ws" module is missing (apt-get install node-ws)');
    process.exit(3);
}

const { WebSocketServer } = loadWs();

const [port, ups, viewerBytes, idleBytes, idleEvery] = process.argv.slice(2).map(Number);
if (!(port > 0) || !(ups > 0) || !(viewerBytes >= 0) || !(idleBytes >= 0) || !(idleEvery >= 0)) {
    console.error('usage: node ws-broadcast.js PORT UPS VIEWER_BYTES IDLE_BYTES IDLE_EVERY');
    process.exit(2);
}

const viewers = new Set();
const idle = new Set();
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

server.on('connection', (socket) => {
    // The first message decides which set the connection joins; later ones are ignored.
    socket.once('message', (data) => {
        (String(data) === 'viewer' ? viewers : idle).add(socket);
    });
    socket.on('close', () => {
        viewers.delete(socket);
        idle.delete(socket);
    });
    socket.on('error', () => {});
});
server.on('listening', () => console.log(`ws-broadcast: listening on 127.0.0.1:${port}`));

// One frame per kind and tick, shared by all its receivers, stamped with the send time.
function frame(bytes) {
    const buffer = Buffer.alloc(Math.max(8, bytes));
    buffer.writeDoubleLE(Date.now(), 0);
    return buffer;
}

function broadcast(sockets, bytes) {
    const data = frame(bytes);
    for (const socket of sockets) socket.send(data, { binary: true });
}

// Ticks on a fixed schedule from the start, like a tick loop: no drift from timer lateness.
const periodMs = 1000 / ups;
const start = Date.now();
let tick = 0;
function onTick() {
    ++tick;
    broadcast(viewers, viewerBytes);
    if (idleEvery > 0 && tick % idleEvery === 0) broadcast(idle, idleBytes);
    setTimeout(onTick, Math.max(0, start + (tick + 1) * periodMs - Date.now()));
}
setTimeout(onTick, periodMs);

process.on('SIGTERM', () => process.exit(0));
