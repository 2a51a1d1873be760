// server.js — the Node server of the fan-out measurement (go run ./fanout):
// one socket.io 4.8 server on 127.0.0.1:<free port> whose every socket joins
// room "r", with the classic @socket.io/redis-adapter 8.3 (--redis URL,
// node-redis v4 clients) or the in-memory adapter (no --redis), from the
// packages of internal/nodepeer/testdata (the command sets NODE_PATH).
//
//   node server.js [--redis redis://127.0.0.1:PORT]
//
// stdout: {"type":"ready","port":N}, then one line per stdin command:
//   snap                 {"type":"snap","cpu_us":…,"sockets":…,"emitted":…,"emitting":bool}
//   emit RATE MILLIS B   broadcast ("m", seq, B bytes) to the room at RATE/s
//                        for MILLIS, from this server ({"type":"ok"})
// At the end of stdin the server closes and the process exits.
"use strict";

const http = require("http");
const readline = require("readline");
const { Server } = require("socket.io");

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
  }
  return out;
}

const a = parseArgs(process.argv.slice(2));
const room = "r";
const event = "m";

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

let emitted = 0;
let active = 0; // emit commands still running

async function main() {
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  const clients = [];
  if (a.redis) {
    const { createAdapter } = require("@socket.io/redis-adapter");
    const { createClient } = require("redis");
    const pub = createClient({ url: a.redis });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) c.on("error", (e) => process.stderr.write(`[node server] redis: ${e}\n`));
    await Promise.all([pub.connect(), sub.connect()]);
    clients.push(pub, sub);
    io.adapter(createAdapter(pub, sub));
  }
  io.on("connection", (socket) => socket.join(room));
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  out({ type: "ready", port: httpServer.address().port });

  let stopEmitting = false;
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const f = line.trim().split(/\s+/);
    if (f[0] === "snap") {
      const r = io.of("/").adapter.rooms.get(room);
      out({ type: "snap", cpu_us: cpuMicros(), sockets: r ? r.size : 0, emitted, emitting: active > 0 });
    } else if (f[0] === "emit" && f.length === 4) {
      const rate = Number(f[1]);
      const total = Math.floor((rate * Number(f[2])) / 1000);
      const payload = "x".repeat(Number(f[3]));
      const interval = 1000 / rate;
      const start = Date.now();
      let n = 0;
      active++;
      const tick = () => {
        const now = Date.now();
        while (!stopEmitting && n < total && start + n * interval <= now) {
          io.to(room).emit(event, n, payload);
          n++;
          emitted++;
        }
        if (!stopEmitting && n < total) setTimeout(tick, Math.max(0, start + n * interval - Date.now()));
        else active--;
      };
      tick();
      out({ type: "ok" });
    } else {
      out({ type: "error", error: `unknown command ${JSON.stringify(line)}` });
    }
  });
  rl.on("close", () => {
    stopEmitting = true;
    io.close();
    for (const c of clients) c.quit().catch(() => {});
    setTimeout(() => process.exit(0), 500).unref();
  });
}

main().catch((err) => {
  out({ type: "error", error: String(err && err.message ? err.message : err) });
  process.exit(1);
});
