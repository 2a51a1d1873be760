// emitter-bench.js — the Node side of `go run ./bench -compare`: the same
// broadcast pattern as the Go harness, through socket.io 4.8 and the classic
// @socket.io/redis-adapter 8.3 (node-redis v4 clients), from the packages of
// internal/nodepeer/testdata (the harness sets NODE_PATH to its node_modules).
//
//   node emitter-bench.js --role emit|count --redis URL --start UNIX_MS
//        [--warmup-ms 500] [--duration-ms 5000] [--rooms 16] [--sockets 16]
//        [--target rooms|all] [--payload 100] [--batch 100] [--name n0]
//        [--key socket.io]
//
// Both servers register --sockets fake sockets (socket i in room i mod
// --rooms) in their namespace, so the adapter's real paths run (decode,
// room lookup, packet encoding once per broadcast, local delivery) and every
// recipient's writeToEngine is counted.
//
// emit:  one Socket.IO server that, from --start on, runs setImmediate turns
//        of --batch emits each (io.to(room).emit(name, ts, payload), rooms
//        round robin, or io.emit with --target all) until the window ends.
// count: one Socket.IO server counting the broadcasts and deliveries it
//        receives from the emitter.
//
// stdout: {"event":"ready"} once subscribed, then one result line:
//   emit:  {"event":"result","published":N,"window_ms":D}
//   count: {"event":"result","received":N,"deliveries":M,"window_ms":D,
//           "latency_ms":{"p50":…,"p99":…,"p999":…,"max":…,"count":…}}
// counted over the window [start+warmup, start+warmup+duration).
"use strict";

const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");
const { performance } = require("perf_hooks");

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
  }
  return out;
}

const a = parseArgs(process.argv.slice(2));
const cfg = {
  role: a.role,
  redis: a.redis,
  start: Number(a.start),
  warmup: Number(a["warmup-ms"] || 500),
  duration: Number(a["duration-ms"] || 5000),
  rooms: Number(a.rooms || 16),
  sockets: Number(a.sockets || 16),
  target: a.target || "rooms",
  payload: Number(a.payload || 100),
  batch: Number(a.batch || 100),
  name: a.name || "n0",
  key: a.key || "socket.io",
};
const measureStart = cfg.start + cfg.warmup;
const end = measureStart + cfg.duration;

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// now is wall-clock time in ms with sub-ms precision; timestamps in the
// packets are ms since --start.
function now() {
  return performance.timeOrigin + performance.now();
}

async function main() {
  if (!cfg.redis || !cfg.start || (cfg.role !== "emit" && cfg.role !== "count")) {
    throw new Error("usage: --role emit|count --redis URL --start UNIX_MS");
  }
  const pub = createClient({ url: cfg.redis });
  const sub = pub.duplicate();
  pub.on("error", (e) => process.stderr.write(`[node ${cfg.role}] redis: ${e}\n`));
  sub.on("error", (e) => process.stderr.write(`[node ${cfg.role}] redis: ${e}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  const io = new Server();
  io.adapter(createAdapter(pub, sub, { key: cfg.key }));
  const nsp = io.of("/");
  // Wait until the adapter's subscriptions are live (it does not say).
  for (let i = 0; i < 200; i++) {
    const r = await pub.sendCommand(["PUBSUB", "NUMPAT"]);
    if (Number(r) > 0) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  await new Promise((res) => setTimeout(res, 50));
  const rooms = [];
  for (let k = 0; k < cfg.rooms; k++) rooms.push("room-" + k);

  // Both servers host --sockets sockets, as every Go node of the harness
  // does: the emitter delivers its own broadcasts to its local ones.
  const addSockets = (make) => {
    for (let i = 0; i < cfg.sockets; i++) {
      const id = "s" + i;
      nsp.sockets.set(id, make(id));
      nsp.adapter.addAll(id, new Set([id, rooms[i % cfg.rooms]]));
    }
  };
  if (cfg.role === "count") {
    let received = 0;
    let deliveries = 0;
    let lastPackets = null;
    const lat = [];
    const fake = (id) => ({
      id,
      client: {
        writeToEngine(encodedPackets) {
          const t = now();
          if (t < measureStart || t >= end) return;
          deliveries++;
          if (encodedPackets === lastPackets) return;
          lastPackets = encodedPackets; // one array per broadcast
          received++;
          const s = encodedPackets[0];
          const i = s.indexOf(",");
          const sent = parseFloat(s.slice(i + 1, s.indexOf(",", i + 1)));
          lat.push(t - cfg.start - sent);
        },
      },
    });
    addSockets(fake);
    out({ event: "ready" });
    const wait = Math.max(0, end - Date.now()) + 1000; // and a second to drain
    await new Promise((res) => setTimeout(res, wait));
    lat.sort((x, y) => x - y);
    const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
    out({
      event: "result",
      received,
      deliveries,
      window_ms: cfg.duration,
      latency_ms: { count: lat.length, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: lat.length ? lat[lat.length - 1] : 0 },
    });
  } else {
    let local = 0;
    addSockets((id) => ({ id, client: { writeToEngine() { local++; } } }));
    out({ event: "ready" });
    const payload = "x".repeat(cfg.payload);
    let published = 0;
    let k = 0;
    await new Promise((res) => setTimeout(res, Math.max(0, cfg.start - Date.now())));
    await new Promise((res) => {
      const turn = () => {
        const t = now();
        if (t >= end) return res();
        const ts = t - cfg.start;
        for (let i = 0; i < cfg.batch; i++) {
          if (cfg.target === "all") io.emit(cfg.name, ts, payload);
          else io.to(rooms[k++ % rooms.length]).emit(cfg.name, ts, payload);
        }
        if (t >= measureStart) published += cfg.batch;
        setImmediate(turn);
      };
      turn();
    });
    await pub.ping(); // everything queued before it has been written
    out({ event: "result", published, window_ms: cfg.duration });
  }
  // no io.close(): the server was never attached to an HTTP server
  await Promise.allSettled([pub.quit(), sub.quit()]);
  setTimeout(() => process.exit(0), 200).unref();
}

main().catch((err) => {
  out({ event: "error", error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
