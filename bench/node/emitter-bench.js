// emitter-bench.js — the Node side of `go run ./bench -compare`: the same
// broadcast pattern as the Go harness, through the Node adapter of the
// generation the harness runs (--adapter), from the packages of that
// generation's fixture folder (the harness sets NODE_PATH to its
// node_modules):
//
//   classic  socket.io 4.8 + @socket.io/redis-adapter 8.3 createAdapter
//            (node-redis v4 clients)                 internal/nodepeer/testdata
//   sharded  socket.io 4.8 + @socket.io/redis-adapter 8.3 createShardedAdapter,
//            --sharded-mode static|dynamic|dynamic-private; --cluster 1 makes
//            --redis a comma-separated list of a Redis Cluster's masters
//            (node-redis createCluster)             internal/nodepeer/testdata
//   redis4   socket.io 1.7.4 + socket.io-redis 4.0.0  internal/nodepeer/testdata-redis40
//   redis5   socket.io 2.4.1 + socket.io-redis 5.4.0  internal/nodepeer/testdata-redis5
//   redis6   socket.io 4.0.2 + socket.io-redis 6.1.1  internal/nodepeer/testdata-redis6
//
//   node emitter-bench.js --role emit|count --redis URL --start UNIX_MS
//        [--adapter classic] [--sharded-mode dynamic] [--cluster 0]
//        [--warmup-ms 500] [--duration-ms 5000] [--rooms 16] [--sockets 16]
//        [--target rooms|all] [--payload 100] [--batch 100] [--name n0]
//        [--key socket.io] [--rate 0]
//
// Both servers register --sockets fake sockets (socket i in its own id room
// and in room i mod --rooms) in their namespace, through the adapter (so
// socket.io-redis 4.0 subscribes its room channels, and the dynamic sharded
// modes theirs), so the adapter's real paths run (decode, room lookup,
// packet encoding once per broadcast, local delivery) and every recipient's
// write (socket.packet in socket.io 1.x–4.0, client.writeToEngine in 4.8)
// is counted.
//
// emit:  one Socket.IO server that, from --start on, runs setImmediate turns
//        of --batch emits each (io.to(room).emit(name, ts, payload), rooms
//        round robin, or io.emit with --target all) until the window ends.
//        --rate R (broadcasts/s, 0 = full speed) emits at a fixed rate
//        instead: broadcast j is due at start + j/R; each turn sends what
//        is due (at most --batch) stamped with its due time, as the Go
//        harness does, then waits with setTimeout for the next one (no
//        spinning; timer overshoot, about 1 ms in Node, counts as latency).
// count: one Socket.IO server counting the broadcasts and deliveries it
//        receives from the emitter.
//
// stdout: {"event":"ready"} once subscribed, then one result line:
//   emit:  {"event":"result","published":N,"window_ms":D}
//   count: {"event":"result","received":N,"deliveries":M,"window_ms":D,
//           "latency_ms":{"p50":…,"p99":…,"p999":…,"max":…,"count":…}}
// counted over the window [start+warmup, start+warmup+duration).
"use strict";

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
  adapter: a.adapter || "classic",
  shardedMode: a["sharded-mode"] || "dynamic",
  cluster: a.cluster === "1" || a.cluster === "true",
  rate: Number(a.rate || 0),
};
const legacy = { redis4: 4, redis5: 5, redis6: 6 }[cfg.adapter] || 0;
const measureStart = cfg.start + cfg.warmup;
const end = measureStart + cfg.duration;

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// now is wall-clock time in ms with sub-ms precision; timestamps in the
// packets are ms since --start. The emitter and the counters are separate
// processes, so their clocks must agree: performance.timeOrigin alone can
// be off by milliseconds (read once at start-up, on a loaded machine
// seen 4 ms apart between two processes, which made latencies negative),
// so the monotonic clock is aligned with Date.now() at the edge of a
// millisecond tick: the tightest of 5 upper bounds.
const clockOffset = (() => {
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    // prev is read before the last Date.now() that still said d0, so the
    // tick to d came after it: offset < d - prev.
    let prev = performance.now();
    const d0 = Date.now();
    for (;;) {
      const p = performance.now();
      const d = Date.now();
      if (d !== d0) {
        best = Math.min(best, d - prev);
        break;
      }
      prev = p;
    }
  }
  return best;
})();

function now() {
  return clockOffset + performance.now();
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// setup creates the Socket.IO server with the generation's adapter and
// returns {io, nsp, join, ready, flush, close}: join(id, rooms) adds a
// socket to rooms through the adapter (resolving once subscribed where the
// adapter subscribes per room), ready() resolves once the adapter's
// subscriptions are live.
async function setup() {
  if (legacy) return setupLegacy();
  const { Server } = require("socket.io");
  const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
  const { createClient, createCluster } = require("redis");
  const pub = cfg.cluster ? createCluster({ rootNodes: cfg.redis.split(",").map((url) => ({ url })) }) : createClient({ url: cfg.redis });
  const sub = pub.duplicate();
  pub.on("error", (e) => process.stderr.write(`[node ${cfg.role}] redis: ${e}\n`));
  sub.on("error", (e) => process.stderr.write(`[node ${cfg.role}] redis: ${e}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  const sharded = cfg.adapter === "sharded";
  const adapter = sharded
    ? createShardedAdapter(pub, sub, { channelPrefix: cfg.key, subscriptionMode: cfg.shardedMode })
    : createAdapter(pub, sub, { key: cfg.key });
  const io = new Server({ adapter });
  const nsp = io.of("/");
  const command = (key, args) => (cfg.cluster ? pub.sendCommand(key, true, args) : pub.sendCommand(args));
  const ready = async (channels) => {
    // Wait until the adapter's subscriptions are live (it does not say).
    for (let i = 0; i < 300; i++) {
      let ok = true;
      if (sharded) {
        for (const ch of channels) {
          const r = await command(ch, ["PUBSUB", "SHARDNUMSUB", ch]);
          if (!(Number(r[1]) > 0)) ok = false;
        }
      } else {
        ok = Number(await pub.sendCommand(["PUBSUB", "NUMPAT"])) > 0;
      }
      if (ok) break;
      await sleep(10);
    }
    await sleep(50);
  };
  return {
    io,
    nsp,
    join: async (id, rooms) => nsp.adapter.addAll(id, new Set(rooms)),
    ready,
    flush: async () => (cfg.cluster ? sleep(300) : pub.ping()), // everything queued before it has been written
    close: async () => Promise.allSettled([pub.quit(), sub.quit()]),
  };
}

function setupLegacy() {
  const redisAdapter = require("socket.io-redis");
  const sio = require("socket.io");
  const u = new URL(cfg.redis);
  const io = legacy >= 6 ? new sio.Server() : sio();
  io.adapter(redisAdapter({ host: u.hostname, port: Number(u.port), key: cfg.key }));
  const nsp = io.of("/");
  const ad = () => nsp.adapter;
  const cb = (fn) => new Promise((res, rej) => fn((err) => (err ? rej(err) : res())));
  return {
    io,
    nsp,
    join: async (id, rooms) => {
      if (legacy === 4) {
        for (const r of rooms) await cb((done) => ad().add(id, r, done)); // a SUBSCRIBE per new room
      } else if (legacy === 5) {
        await cb((done) => ad().addAll(id, rooms, done));
      } else {
        await ad().addAll(id, new Set(rooms));
      }
    },
    // Commands on the subscription connection run in order: once a
    // SUBSCRIBE/UNSUBSCRIBE of our own is answered, the adapter's
    // (P)SUBSCRIBEs sent before it are live.
    ready: async () => {
      const sub = ad().subClient;
      const ch = `__bench_barrier#${process.pid}#${Math.random()}`;
      await new Promise((res) => sub.subscribe(ch, () => sub.unsubscribe(ch, () => res())));
      await sleep(50);
    },
    flush: () => new Promise((res) => ad().pubClient.ping(() => res())),
    close: async () => {
      for (const c of [ad().pubClient, ad().subClient]) {
        try {
          c.quit();
        } catch (e) {}
      }
    },
  };
}

// register puts a fake socket where the generation's adapter looks for it:
// nsp.connected (socket.io 1.x/2.x) or the nsp.sockets Map (3.x/4.x).
function register(nsp, id, sock) {
  if (nsp.sockets instanceof Map) nsp.sockets.set(id, sock);
  if (nsp.connected && typeof nsp.connected === "object") nsp.connected[id] = sock;
}

function fakeSocket(id, write) {
  return { id, packet: (encodedPackets) => write(encodedPackets), client: { writeToEngine: (encodedPackets) => write(encodedPackets) } };
}

async function main() {
  if (!cfg.redis || !cfg.start || (cfg.role !== "emit" && cfg.role !== "count")) {
    throw new Error("usage: --role emit|count --redis URL --start UNIX_MS");
  }
  const srv = await setup();
  const { io, nsp } = srv;
  const rooms = [];
  for (let k = 0; k < cfg.rooms; k++) rooms.push("room-" + k);

  // Both servers host --sockets sockets, as every Go node of the harness
  // does: the emitter delivers its own broadcasts to its local ones.
  const addSockets = async (write) => {
    const joins = [];
    for (let i = 0; i < cfg.sockets; i++) {
      const id = "s" + i;
      register(nsp, id, fakeSocket(id, write));
      joins.push(srv.join(id, [id, rooms[i % cfg.rooms]]));
    }
    await Promise.all(joins);
    // The channels a sharded adapter must be subscribed to before we say
    // ready: the namespace's, and in the dynamic modes each hosted room's.
    const mainChannel = cfg.key + "#/#";
    const channels = [mainChannel];
    if (cfg.shardedMode !== "static") for (let i = 0; i < Math.min(cfg.sockets, cfg.rooms); i++) channels.push(mainChannel + rooms[i] + "#");
    await srv.ready(channels);
  };
  if (cfg.role === "count") {
    let received = 0;
    let deliveries = 0;
    let lastPackets = null;
    const lat = [];
    await addSockets((encodedPackets) => {
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
    });
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
    await addSockets(() => {
      local++;
    });
    out({ event: "ready" });
    const payload = "x".repeat(cfg.payload);
    let published = 0;
    let k = 0;
    await new Promise((res) => setTimeout(res, Math.max(0, cfg.start - Date.now())));
    const emit = (ts) => {
      if (cfg.target === "all") io.emit(cfg.name, ts, payload);
      else io.to(rooms[k++ % rooms.length]).emit(cfg.name, ts, payload);
    };
    await new Promise((res) => {
      const turn = () => {
        const t = now();
        if (t >= end) return res();
        const ts = t - cfg.start;
        for (let i = 0; i < cfg.batch; i++) emit(ts);
        if (t >= measureStart) published += cfg.batch;
        setImmediate(turn);
      };
      // Fixed rate: broadcast j is due at j/rate ms after --start.
      const interval = cfg.rate > 0 ? 1000 / cfg.rate : 0;
      let j = 0;
      const paced = () => {
        const t = now() - cfg.start;
        for (let i = 0; i < cfg.batch; i++) {
          const due = j * interval;
          if (due > t) break;
          if (cfg.start + due >= end) return res();
          emit(due);
          if (cfg.start + due >= measureStart) published++;
          j++;
        }
        const next = j * interval;
        if (cfg.start + next >= end) return res();
        if (next <= now() - cfg.start) setImmediate(paced);
        else setTimeout(paced, next - (now() - cfg.start));
      };
      if (interval > 0) paced();
      else turn();
    });
    await srv.flush(); // everything queued before it has been written
    out({ event: "result", published, window_ms: cfg.duration });
  }
  // no io.close(): the server was never attached to an HTTP server
  await srv.close();
  setTimeout(() => process.exit(0), 200).unref();
}

main().catch((err) => {
  out({ event: "error", error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
