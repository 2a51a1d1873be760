// clients.js — the clients of the fan-out measurement (go run ./fanout):
// N socket.io-client 4.8 sockets in this one process, websocket transport
// only, each on its own connection (forceNew), counting the messages of one
// event. The same script serves every server under test, so the client
// cost is the same for all of them.
//
//   node clients.js --url http://127.0.0.1:PORT --clients N [--event m]
//        [--batch 50] [--connect-timeout-ms 60000]
//
// stdout: {"type":"ready"} once every socket is connected (or
// {"type":"error",...}); then one line per stdin line "snap":
//   {"type":"snap","received":N,"sockets":connected,"lost":disconnects,"cpu_us":…}
// At the end of stdin every socket is closed and the process exits.
"use strict";

const { io } = require("socket.io-client");
const readline = require("readline");

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
  }
  return out;
}

const a = parseArgs(process.argv.slice(2));
const url = a.url;
const n = Number(a.clients || 1000);
const event = a.event || "m";
const batch = Number(a.batch || 50);
const connectTimeout = Number(a["connect-timeout-ms"] || 60000);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const sockets = [];
let received = 0;
let connected = 0;
let lost = 0;
let ready = false;

function open(i) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, timeout: connectTimeout });
    sockets.push(s);
    s.on(event, () => {
      received++;
    });
    s.once("connect", () => {
      connected++;
      resolve();
    });
    s.once("connect_error", (err) => reject(new Error(`socket ${i}: ${err.message}`)));
    s.on("disconnect", (reason) => {
      connected--;
      if (ready) lost++;
      if (reason !== "io client disconnect") process.stderr.write(`[clients] socket ${i} disconnected: ${reason}\n`);
    });
  });
}

async function main() {
  if (!url || !(n > 0)) throw new Error("usage: --url URL --clients N");
  const timer = setTimeout(() => {
    out({ type: "error", error: `only ${connected} of ${n} sockets connected after ${connectTimeout} ms` });
    process.exit(1);
  }, connectTimeout);
  for (let i = 0; i < n; i += batch) {
    const wave = [];
    for (let j = i; j < Math.min(n, i + batch); j++) wave.push(open(j));
    await Promise.all(wave);
  }
  clearTimeout(timer);
  ready = true;
  out({ type: "ready" });
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (line.trim() === "snap") out({ type: "snap", received, sockets: connected, lost, cpu_us: cpuMicros() });
});
rl.on("close", () => {
  ready = false;
  for (const s of sockets) s.disconnect();
  setTimeout(() => process.exit(0), 200).unref();
});

main().catch((err) => {
  out({ type: "error", error: String(err && err.message ? err.message : err) });
  process.exit(1);
});
