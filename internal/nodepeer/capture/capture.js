// capture.js — re-captures the golden Redis wire vectors of one adapter
// generation from the real npm packages (codec/testdata/vectors/README.md
// describes the files; this script writes the same line formats).
//
//   node capture.js --generation <name> --out <dir> [--redis-server redis-server]
//
// generations: legacy-4.0.0, socket.io-redis-5.4.0, socket.io-redis-6.1.1
// (fixtures testdata-redis40/-redis5/-redis6), redis-adapter-8.3.0,
// sharded-8.3.0, emitter-5.1.0 (fixture testdata). `make vectors` runs them all.
//
// How: a private redis-server on a free port (no persistence); a raw RESP
// connection runs MONITOR and un-escapes each line back to bytes; two
// Socket.IO servers A and B in this process, each with its own named pub/sub
// connections (CLIENT SETNAME nodeA-pub …; MONITOR shows the SETNAME, which
// maps a client address to its name), socket.io-client connections of the
// same generation that join rooms and record what they receive. Each
// scenario starts with an ECHO marker on a control connection and ends when
// Redis has been quiet for a while. PUBLISH/SPUBLISH lines go to
// <generation>.jsonl, every other adapter command to
// <generation>.commands.jsonl, API results and client receipts to
// <generation>.notes.json.
"use strict";

const fs = require("fs");
const net = require("net");
const path = require("path");
const http = require("http");
const { spawn } = require("child_process");

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
  return out;
}
const argv = parseArgs(process.argv.slice(2));
const generation = argv.generation;
const outDir = argv.out;
if (!generation || !outDir) {
  console.error("usage: node capture.js --generation <name> --out <dir>");
  process.exit(2);
}
const fixtures = {
  "legacy-4.0.0": "testdata-redis40",
  "socket.io-redis-5.4.0": "testdata-redis5",
  "socket.io-redis-6.1.1": "testdata-redis6",
  "redis-adapter-8.3.0": "testdata",
  "sharded-8.3.0": "testdata",
  "emitter-5.1.0": "testdata",
};
if (!fixtures[generation]) {
  console.error(`unknown generation ${generation}; one of ${Object.keys(fixtures).join(", ")}`);
  process.exit(2);
}
const fixtureDir = path.join(__dirname, "..", fixtures[generation]);
const mod = (name) => require(path.join(fixtureDir, "node_modules", name));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- MessagePack description: decoded value with the README's markers, and
// the format of every item in stream order.
function describe(buf) {
  const formats = [];
  let pos = 0;
  const u8 = () => buf[pos++];
  const take = (n) => {
    if (pos + n > buf.length) throw new Error("truncated");
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const int64 = (b, signed) => {
    const v = signed ? b.readBigInt64BE(0) : b.readBigUInt64BE(0);
    return v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? { $int: v.toString() } : Number(v);
  };
  const float = (v) => {
    if (Number.isNaN(v)) return { $float: "NaN" };
    if (v === Infinity) return { $float: "Infinity" };
    if (v === -Infinity) return { $float: "-Infinity" };
    if (Object.is(v, -0)) return { $float: "-0" };
    return v;
  };
  const ext = (fmt, len) => {
    const type = buf.readInt8(pos++);
    formats.push(`${fmt}(type=${type},len=${len})`);
    const data = take(len);
    const out = { $ext: type, hex: data.toString("hex") };
    if (type === -1) {
      let ms;
      if (len === 4) ms = data.readUInt32BE(0) * 1000;
      else if (len === 8) {
        // timestamp 64: 30 bits of nanoseconds, 34 bits of seconds
        const hi = data.readUInt32BE(0), lo = data.readUInt32BE(4);
        ms = ((hi % 4) * 4294967296 + lo) * 1000 + Math.floor(Math.floor(hi / 4) / 1e6);
      } else if (len === 12) ms = Number(data.readBigInt64BE(4)) * 1000 + Math.floor(data.readUInt32BE(0) / 1e6);
      if (ms !== undefined) out.timestamp = new Date(ms).toISOString();
    }
    return out;
  };
  const str = (fmt, n) => {
    formats.push(`${fmt}(${n})`);
    return take(n).toString("utf8");
  };
  const bin = (fmt, n) => {
    formats.push(`${fmt}(${n})`);
    return { $bin: take(n).toString("hex") };
  };
  const arr = (fmt, n) => {
    formats.push(`${fmt}(${n})`);
    const a = [];
    for (let i = 0; i < n; i++) a.push(item());
    return a;
  };
  const map = (fmt, n) => {
    formats.push(`${fmt}(${n})`);
    const o = {};
    for (let i = 0; i < n; i++) {
      const k = item();
      o[typeof k === "string" ? k : JSON.stringify(k)] = item();
    }
    return o;
  };
  function item() {
    const b = u8();
    if (b === undefined) throw new Error("truncated");
    if (b <= 0x7f) return formats.push("positive_fixint"), b;
    if (b >= 0xe0) return formats.push("negative_fixint"), b - 256;
    if (b >= 0x80 && b <= 0x8f) return map("fixmap", b & 0x0f);
    if (b >= 0x90 && b <= 0x9f) return arr("fixarray", b & 0x0f);
    if (b >= 0xa0 && b <= 0xbf) return str("fixstr", b & 0x1f);
    switch (b) {
      case 0xc0: return formats.push("nil"), null;
      case 0xc2: return formats.push("false"), false;
      case 0xc3: return formats.push("true"), true;
      case 0xc4: return bin("bin8", u8());
      case 0xc5: return bin("bin16", take(2).readUInt16BE(0));
      case 0xc6: return bin("bin32", take(4).readUInt32BE(0));
      case 0xc7: return ext("ext8", u8());
      case 0xc8: return ext("ext16", take(2).readUInt16BE(0));
      case 0xc9: return ext("ext32", take(4).readUInt32BE(0));
      case 0xca: return formats.push("float32"), float(take(4).readFloatBE(0));
      case 0xcb: return formats.push("float64"), float(take(8).readDoubleBE(0));
      case 0xcc: return formats.push("uint8"), u8();
      case 0xcd: return formats.push("uint16"), take(2).readUInt16BE(0);
      case 0xce: return formats.push("uint32"), take(4).readUInt32BE(0);
      case 0xcf: return formats.push("uint64"), int64(take(8), false);
      case 0xd0: return formats.push("int8"), take(1).readInt8(0);
      case 0xd1: return formats.push("int16"), take(2).readInt16BE(0);
      case 0xd2: return formats.push("int32"), take(4).readInt32BE(0);
      case 0xd3: return formats.push("int64"), int64(take(8), true);
      case 0xd4: return ext("fixext1", 1);
      case 0xd5: return ext("fixext2", 2);
      case 0xd6: return ext("fixext4", 4);
      case 0xd7: return ext("fixext8", 8);
      case 0xd8: return ext("fixext16", 16);
      case 0xd9: return str("str8", u8());
      case 0xda: return str("str16", take(2).readUInt16BE(0));
      case 0xdb: return str("str32", take(4).readUInt32BE(0));
      case 0xdc: return arr("array16", take(2).readUInt16BE(0));
      case 0xdd: return arr("array32", take(4).readUInt32BE(0));
      case 0xde: return map("map16", take(2).readUInt16BE(0));
      case 0xdf: return map("map32", take(4).readUInt32BE(0));
    }
    throw new Error(`unknown byte 0x${b.toString(16)}`);
  }
  const decoded = item();
  if (pos !== buf.length) throw new Error("trailing bytes");
  return { decoded, formats };
}

// ---- RESP: a minimal client (control connection and MONITOR).
function resp(...args) {
  let s = `*${args.length}\r\n`;
  const parts = [Buffer.from(s)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

// unescapeMonitor parses the arguments of one MONITOR line (sdscatrepr
// quoting) back into byte strings.
function unescapeMonitor(line) {
  const args = [];
  let i = line.indexOf("] ") + 2;
  while (i < line.length) {
    if (line[i] !== '"') { i++; continue; }
    i++;
    const bytes = [];
    while (line[i] !== '"') {
      if (line[i] === "\\") {
        const c = line[i + 1];
        const esc = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, "\\": 92 }[c];
        if (c === "x") { bytes.push(parseInt(line.substr(i + 2, 2), 16)); i += 4; continue; }
        bytes.push(esc !== undefined ? esc : c.charCodeAt(0));
        i += 2;
        continue;
      }
      bytes.push(line.charCodeAt(i) & 0xff);
      i++;
    }
    i++;
    args.push(Buffer.from(bytes));
  }
  const addr = line.slice(line.indexOf("[") + 1, line.indexOf("]")).split(" ")[1];
  return { addr, args };
}

// ---- the recorder
class Recorder {
  constructor(port) {
    this.port = port;
    this.scenario = "setup";
    this.description = "";
    this.names = new Map(); // client address -> name
    this.controlAddr = null;
    this.publishes = [];
    this.commands = [];
    this.notes = [];
    this.last = Date.now();
  }
  async start() {
    this.mon = net.connect(this.port, "127.0.0.1");
    await new Promise((r) => this.mon.once("connect", r));
    let buf = "";
    this.mon.setEncoding("latin1");
    this.mon.on("data", (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line.startsWith("+") && line !== "+OK") this.onLine(line.slice(1));
      }
    });
    this.mon.write(resp("MONITOR"));
    this.ctl = net.connect(this.port, "127.0.0.1");
    await new Promise((r) => this.ctl.once("connect", r));
    this.ctl.on("data", () => {});
    this.ctl.write(resp("CLIENT", "SETNAME", "capture-control"));
    await sleep(100);
  }
  onLine(line) {
    const { addr, args } = unescapeMonitor(line);
    if (!args.length) return;
    const cmd = args[0].toString("latin1").toUpperCase();
    if (cmd === "CLIENT" && args[1] && args[1].toString().toUpperCase() === "SETNAME") {
      const name = args[2].toString();
      this.names.set(addr, name);
      if (name === "capture-control") this.controlAddr = addr;
      return;
    }
    if (addr === this.controlAddr) {
      if (cmd === "ECHO") {
        const m = JSON.parse(args[1].toString("utf8"));
        this.scenario = m.scenario;
        this.description = m.description;
      }
      return;
    }
    if (["MONITOR", "PING", "INFO", "SELECT", "HELLO", "READONLY"].includes(cmd)) return;
    if (cmd === "CLIENT") return;
    this.last = Date.now();
    const from = this.names.get(addr) || addr;
    if (cmd === "PUBLISH" || cmd === "SPUBLISH") {
      const payload = args[2];
      const line = { scenario: this.scenario, description: this.description, command: cmd, channel: args[1].toString("utf8"), payload_hex: payload.toString("hex") };
      if (payload[0] === 0x7b) {
        line.decoded = JSON.parse(payload.toString("utf8"));
        line.format = "json";
      } else {
        try {
          const d = describe(payload);
          line.decoded = d.decoded;
          line.format = "msgpack";
          line.msgpack_formats = d.formats;
        } catch (e) {
          line.decoded = null;
          line.format = "msgpack";
          line.error = String(e.message);
        }
      }
      line.from = from;
      this.publishes.push(line);
    } else {
      this.commands.push({ scenario: this.scenario, from, command: cmd, args: args.slice(1).map((a) => a.toString("utf8")) });
    }
  }
  async quiet(ms = 250, max = 4000) {
    const start = Date.now();
    await sleep(50);
    while (Date.now() - this.last < ms && Date.now() - start < max) await sleep(25);
  }
  // run one scenario: marker, action, quiet; the action's result (if any)
  // and the clients' receipts go to the notes.
  async run(name, description, action, clients) {
    await this.quiet();
    for (const c of clients || []) c.received.length = 0;
    this.ctl.write(resp("ECHO", JSON.stringify({ scenario: name, description })));
    await sleep(30);
    let result;
    try {
      result = await action();
    } catch (e) {
      result = { err: String(e.message || e) };
    }
    await this.quiet();
    const note = { scenario: name };
    if (result !== undefined) note.result = result;
    if (clients && clients.length) {
      note.received = {};
      for (const c of clients) note.received[c.name] = c.received.slice();
    }
    this.notes.push(note);
  }
  write() {
    fs.mkdirSync(outDir, { recursive: true });
    const lines = (a) => a.map((l) => JSON.stringify(l)).join("\n") + (a.length ? "\n" : "");
    fs.writeFileSync(path.join(outDir, `${generation}.jsonl`), lines(this.publishes));
    fs.writeFileSync(path.join(outDir, `${generation}.commands.jsonl`), lines(this.commands));
    fs.writeFileSync(path.join(outDir, `${generation}.notes.json`), JSON.stringify(this.notes, null, 2) + "\n");
  }
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const proc = spawn(argv["redis-server"] || "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try {
      await new Promise((resolve, reject) => {
        const c = net.connect(port, "127.0.0.1", () => (c.end(), resolve()));
        c.on("error", reject);
      });
      return { port, proc };
    } catch (e) {
      await sleep(50);
    }
  }
  throw new Error("redis-server did not start");
}

// ---- values shown in the received events (as the peers' toWire)
function toNote(v) {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(toNote);
  if (typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = toNote(v[k]);
    return o;
  }
  return typeof v === "number" && !Number.isFinite(v) ? null : v;
}

// The arguments every generation broadcasts (scenario name, description,
// event, args); the descriptions match the captured files'.
const B = Buffer.from.bind(Buffer);
const numbers = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1, 1.5, -0.25, 0.1, 1e21, -0];
const payloadScenarios = (dates) => [
  ["binary-buffer", 'io.emit("bin", Buffer<00 01 02 ff>, {nested: Buffer("abc")})', "bin", [B([0, 1, 2, 255]), { nested: B("abc") }]],
  ["binary-typed-arrays", 'io.emit("bin2", Uint8Array[1,2,3], ArrayBuffer[4,5])', "bin2", [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]).buffer]],
  ["numbers", 'io.emit("numbers", 0,1,127,128,255,256,65535,65536,2^31-1,2^31,2^32-1,2^32,2^53-1,-1,-32,-33,-128,-129,-32768,-32769,-2^31,-2^31-1,-2^53+1,1.5,-0.25,0.1,1e21,-0)', "numbers", numbers],
  ["structures", 'io.emit("structs", {a:1,b:[1,"two",null,true,false],c:{d:{e:"deep"}}}, [], {}, "", null, [undefined,1], {u:undefined,f:1})', "structs", [{ a: 1, b: [1, "two", null, true, false], c: { d: { e: "deep" } } }, [], {}, "", null, [undefined, 1], { u: undefined, f: 1 }]],
  ...(dates ? [["date", "io.emit(\"date\", new Date(1700000000123))", "date", [new Date(1700000000123)]]] : []),
  ["unicode", 'io.emit("unicode", "héllo", "日本語", "😀", 32x"a", 200x"é")', "unicode", ["héllo", "日本語", "😀", "a".repeat(32), "é".repeat(200)]],
];

// ---- socket.io-redis 4.0 / 5.4 / 6.1 (Socket.IO 1.x / 2.x / 4.0)
async function captureLegacy(rec, redisPort) {
  const redis = mod("redis");
  const adapterFactory = mod("socket.io-redis");
  const ioServer = mod("socket.io");
  const ioc = mod("socket.io-client");
  const major = Number(mod("socket.io-redis/package.json").version.split(".")[0]);
  const named = (name) => {
    const c = redis.createClient({ host: "127.0.0.1", port: redisPort });
    c.send_command("client", ["setname", name]);
    return c;
  };
  const nodes = {};
  for (const n of ["A", "B"]) {
    const httpServer = http.createServer();
    await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
    const io = major === 1 || major === 4 || major === 5 ? ioServer(httpServer) : ioServer(httpServer);
    io.adapter(adapterFactory({ pubClient: named(`node${n}-pub`), subClient: named(`node${n}-sub`), key: "socket.io" }));
    nodes[n] = { io, port: httpServer.address().port, httpServer, sockets: new Map() };
  }
  await sleep(300);
  const adapterOf = (n, nsp = "/") => nodes[n].io.of(nsp).adapter;
  // Clients: cA1 on A (room1), cB1 on B (room1, room#1), cB2 on B (room2),
  // cB3 on B (lobby in /chat as well), all websocket.
  const clients = [];
  async function connect(name, n, nsp, rooms) {
    const url = `http://127.0.0.1:${nodes[n].port}${nsp === "/" ? "" : nsp}`;
    const sock = ioc(url, { transports: ["websocket"], forceNew: true, reconnection: false, query: { peerClient: name } });
    const c = { name, sock, received: [] };
    const record = (event) => (...args) => c.received.push({ event, args: toNote(args.filter((a) => typeof a !== "function")) });
    const serverSock = await new Promise((resolve) => {
      nodes[n].io.of(nsp).once("connection", (s) => resolve(s));
    });
    for (const ev of ["hello", "to-room1", "to-two-rooms", "from-socket", "socket-to-room1", "volatile-ev", "nocompress", "bin", "bin2", "numbers", "structs", "date", "unicode", "chat-ev", "chat-lobby", "room-hash", "direct", "except-room2", "numeric"]) sock.on(ev, record(ev));
    for (const r of rooms) await new Promise((res) => (major >= 6 ? (serverSock.join(r), res()) : serverSock.join(r, res)));
    c.id = serverSock.id;
    c.server = serverSock;
    clients.push(c);
    return c;
  }
  const cA1 = await connect("cA1", "A", "/", ["room1"]);
  const cB1 = await connect("cB1", "B", "/", ["room1", "room#1"]);
  const cB2 = await connect("cB2", "B", "/", ["room2"]);
  const cB3 = await connect("cB3", "B", "/chat", ["lobby"]);
  await rec.quiet(400);
  const A = nodes.A.io;
  const sA1 = cA1.server;
  const run = (name, desc, fn) => rec.run(name, "A: " + desc, fn, clients);

  await run("broadcast-all", 'io.emit("hello", "world")', () => void A.emit("hello", "world"));
  await run("broadcast-one-room", 'io.to("room1").emit("to-room1", 1)', () => void A.to("room1").emit("to-room1", 1));
  if (major >= 6) {
    await run("broadcast-two-rooms", 'io.to(["room1","room2"]).emit("to-two-rooms", "a")', () => void A.to(["room1", "room2"]).emit("to-two-rooms", "a"));
    await run("broadcast-except", 'io.of("/").except("room2").emit("except-room2", true) (io.except() itself is broken in socket.io 4.0.2: it returns the server and drops the filter)', () => void A.of("/").except("room2").emit("except-room2", true));
  } else {
    await run("broadcast-two-rooms", 'io.to("room1").to("room2").emit("to-two-rooms", "a")', () => void A.to("room1").to("room2").emit("to-two-rooms", "a"));
  }
  await run("socket-broadcast", 'socket.broadcast.emit("from-socket", 1) (except = [socket.id])', () => void sA1.broadcast.emit("from-socket", 1));
  if (major < 6) await run("socket-to-room", 'socket.to("room1").emit("socket-to-room1", 2)', () => void sA1.to("room1").emit("socket-to-room1", 2));
  await run("volatile", 'io.volatile.emit("volatile-ev", 1)', () => void A.volatile.emit("volatile-ev", 1));
  await run("compress-false", 'io.compress(false).emit("nocompress", 1)', () => void A.compress(false).emit("nocompress", 1));
  const payloads6 = [
    payloadScenarios(false)[0],
    payloadScenarios(false)[1],
    ["numbers", 'io.emit("numbers", 0,1,128,2^31,2^32,2^53-1,-1,-129,-2^31-1,1.5,0.1,-0)', "numbers", [0, 1, 128, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -1, -129, -(2 ** 31) - 1, 1.5, 0.1, -0]],
    ["structures", 'io.emit("structs", [undefined,1], {u:undefined,f:1}, new Date(1700000000123))', "structs", [[undefined, 1], { u: undefined, f: 1 }, new Date(1700000000123)]],
    ["unicode", 'io.emit("unicode", "héllo", "日本語", "😀")', "unicode", ["héllo", "日本語", "😀"]],
  ];
  for (const [name, desc, ev, args] of major >= 6 ? payloads6 : payloadScenarios(true)) await run(name, desc, () => void A.emit(ev, ...args));
  await run("namespace-chat", 'io.of("/chat").emit("chat-ev", "x")', () => void A.of("/chat").emit("chat-ev", "x"));
  if (major < 6) {
    await run("namespace-chat-room", 'io.of("/chat").to("lobby").emit("chat-lobby", 1)', () => void A.of("/chat").to("lobby").emit("chat-lobby", 1));
    await run("room-with-hash", 'io.to("room#1").emit("room-hash", 1)', () => void A.to("room#1").emit("room-hash", 1));
    await run("to-socket-id", "io.to(<id of cB1>).emit(\"direct\", 1)", () => void A.to(cB1.id).emit("direct", 1));
  } else {
    await run("numeric-room", 'io.to(42).emit("numeric-room", 1) (6.1.1 drops it on B: B checks rooms.has("42") with a string)', async () => {
      cB1.server.join(42);
      await sleep(100);
      A.to(42).emit("numeric-room", 1);
    });
  }

  const cbp = (fn) => new Promise((resolve) => fn((err, res) => resolve({ err: err ? String(err.message || err) : null, res: toNote(res) })));
  const settle = async (p) => {
    try {
      return { err: null, res: toNote(await p) };
    } catch (e) {
      return { err: String(e.message || e) };
    }
  };
  const adA = adapterOf("A");
  if (major < 6) {
    for (const n of ["A", "B"]) adapterOf(n).customHook = (data, cb) => cb({ answer: "from-" + n, got: data });
    await run("clients", "adapter.clients(cb) -> request type 0 + one response per node (A answers its own request too)", () => cbp((cb) => adA.clients(cb)));
    await run("clients-rooms", 'adapter.clients(["room1"], cb)', () => cbp((cb) => adA.clients(["room1"], cb)));
    await run("clientRooms", "adapter.clientRooms(<id of cB1>, cb) -> request type 1, only the owner answers", () => cbp((cb) => adA.clientRooms(cB1.id, cb)));
    await run("allRooms", "adapter.allRooms(cb) -> request type 2", () => cbp((cb) => adA.allRooms(cb)));
    await run("remoteJoin", 'adapter.remoteJoin(<id of cB1>, "joined-remotely", cb) -> type 3', () => cbp((cb) => adA.remoteJoin(cB1.id, "joined-remotely", cb)));
    await run("remoteLeave", 'adapter.remoteLeave(<id of cB1>, "joined-remotely", cb) -> type 4', () => cbp((cb) => adA.remoteLeave(cB1.id, "joined-remotely", cb)));
    await run("customRequest", 'adapter.customRequest({q: "hi"}, cb) -> type 5; every node (including A) answers with its customHook result', () => cbp((cb) => adA.customRequest({ q: "hi" }, cb)));
    await run("remoteDisconnect", "adapter.remoteDisconnect(<id of cB3>, true, cb) -> type 6", () => cbp((cb) => adA.remoteDisconnect(cB3.id, true, cb)));
  } else {
    await run("sockets", "await adapter.sockets(new Set()) -> SOCKETS (type 0)", () => settle(adA.sockets(new Set()).then((s) => [...s])));
    await run("allRooms", "await adapter.allRooms() -> ALL_ROOMS (type 1)", () => settle(adA.allRooms().then((s) => [...s])));
    await run("remoteJoin", 'await adapter.remoteJoin(<id of cB1>, "joined-remotely") -> REMOTE_JOIN (type 2) with requestId+sid+room', () => settle(adA.remoteJoin(cB1.id, "joined-remotely")));
    await run("remoteLeave", 'await adapter.remoteLeave(<id of cB1>, "joined-remotely") -> type 3', () => settle(adA.remoteLeave(cB1.id, "joined-remotely")));
    await run("fetchSockets", 'await io.in("room1").fetchSockets() -> REMOTE_FETCH (type 5)', () => settle(A.in("room1").fetchSockets().then((s) => s.map((x) => ({ id: x.id, rooms: [...x.rooms] })))));
    await run("socketsJoin", 'io.in("room1").socketsJoin(["x","y"]) -> REMOTE_JOIN with opts, no requestId', () => void A.in("room1").socketsJoin(["x", "y"]));
    await run("socketsLeave", 'io.in("room1").socketsLeave("x")', () => void A.in("room1").socketsLeave("x"));
    await run("disconnectSockets", 'io.in("room-dc").disconnectSockets(true)', async () => {
      cB2.server.join("room-dc");
      await sleep(100);
      A.in("room-dc").disconnectSockets(true);
    });
    await run("remoteDisconnect", "await adapter.remoteDisconnect(<id of cB3>, false) -> type 4 with requestId+sid+close", () => settle(adA.remoteDisconnect(cB3.id, false)));
  }
  for (const c of clients) c.sock.close();
  for (const n of ["A", "B"]) {
    nodes[n].io.close();
    const ad = adapterOf(n);
    ad.pubClient.quit();
    ad.subClient.quit();
  }
}

// ---- @socket.io/redis-adapter 8.3 classic / sharded, @socket.io/redis-emitter 5.1
async function captureModern(rec, redisPort) {
  const { createClient } = mod("redis");
  const { createAdapter, createShardedAdapter } = mod("@socket.io/redis-adapter");
  const { Server } = mod("socket.io");
  const ioc = mod("socket.io-client");
  const url = `redis://127.0.0.1:${redisPort}`;
  const sharded = generation === "sharded-8.3.0";
  const prefix = sharded ? "dynamic-" : "";
  const named = async (name) => {
    const c = createClient({ url, name });
    c.on("error", () => {});
    await c.connect();
    return c;
  };
  const nodes = {};
  const redisClients = [];
  for (const n of ["A", "B"]) {
    const pub = await named(`${prefix}node${n}-pub`);
    const sub = await named(`${prefix}node${n}-sub`);
    redisClients.push(pub, sub);
    const io = new Server({ adapter: sharded ? createShardedAdapter(pub, sub, {}) : createAdapter(pub, sub, {}) });
    const httpServer = http.createServer();
    io.attach(httpServer);
    await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
    nodes[n] = { io, port: httpServer.address().port };
  }
  await sleep(300);
  const clients = [];
  async function connect(name, n, nsp, rooms) {
    const sock = ioc(`http://127.0.0.1:${nodes[n].port}${nsp === "/" ? "" : nsp}`, { transports: ["websocket"], forceNew: true, reconnection: false });
    const c = { name, sock, received: [] };
    sock.onAny((event, ...args) => {
      if (typeof args[args.length - 1] === "function") args.pop()("ack-from-" + name);
      c.received.push({ event, args: toNote(args) });
    });
    const s = await new Promise((resolve) => nodes[n].io.of(nsp).once("connection", resolve));
    s.join(rooms);
    c.id = s.id;
    c.server = s;
    clients.push(c);
    return c;
  }
  const cA1 = await connect("cA1", "A", "/", ["room1"]);
  await connect("cB1", "B", "/", ["room1", "room#1"]);
  await connect("cB2", "B", "/", ["room2"]);
  await connect("cB3", "B", "/chat", ["lobby"]);
  await rec.quiet(400);
  const A = nodes.A.io;
  const settle = async (p) => {
    try {
      return { err: null, res: toNote(await p) };
    } catch (e) {
      return { err: String(e.message || e) };
    }
  };

  if (generation === "emitter-5.1.0") {
    const { Emitter } = mod("@socket.io/redis-emitter");
    const ec = await named("emitter");
    redisClients.push(ec);
    const em = new Emitter(ec);
    const run = (name, desc, fn) => rec.run(name, "emitter: " + desc, fn, clients);
    await run("emit", 'emitter.emit("hello", "world")', () => void em.emit("hello", "world"));
    await run("to-room", 'emitter.to("room1").emit("to-room1", 1)', () => void em.to("room1").emit("to-room1", 1));
    await run("to-two-rooms", 'emitter.to("room1").to("room2").emit("to-two", 1)', () => void em.to("room1").to("room2").emit("to-two", 1));
    await run("except", 'emitter.except("room2").emit("except-room2", 1)', () => void em.except("room2").emit("except-room2", 1));
    await run("volatile", 'emitter.volatile.emit("volatile-ev", 1)', () => void em.volatile.emit("volatile-ev", 1));
    await run("compress-false", 'emitter.compress(false).emit("nocompress", 1)', () => void em.compress(false).emit("nocompress", 1));
    await run("of-chat", 'emitter.of("/chat").emit("chat-ev", "x")', () => void em.of("/chat").emit("chat-ev", "x"));
    await run("room-with-hash", 'emitter.to("room#1").emit("room-hash", 1)', () => void em.to("room#1").emit("room-hash", 1));
    await run("binary", 'emitter.emit("bin", Buffer<00 01 02 ff>, {nested: Buffer("abc")})', () => void em.emit("bin", B([0, 1, 2, 255]), { nested: B("abc") }));
    await run("numbers", "emitter.emit(\"numbers\", …)", () => void em.emit("numbers", ...numbers));
    await run("date", 'emitter.emit("date", new Date(1700000000123))', () => void em.emit("date", new Date(1700000000123)));
    await run("unicode", 'emitter.emit("unicode", "héllo", "日本語", "😀")', () => void em.emit("unicode", "héllo", "日本語", "😀"));
    await run("serverSideEmit", 'emitter.serverSideEmit("sse", 1)', () => void em.serverSideEmit("sse", 1));
    await run("socketsJoin", 'emitter.socketsJoin("joined-by-emitter")', () => void em.socketsJoin("joined-by-emitter"));
    await run("socketsLeave", 'emitter.socketsLeave("joined-by-emitter")', () => void em.socketsLeave("joined-by-emitter"));
    await run("disconnectSockets-room", 'emitter.in("room2").disconnectSockets()', () => void em.in("room2").disconnectSockets());
  } else {
    const run = (name, desc, fn) => rec.run(prefix + name, "A: " + desc, fn, clients);
    await run("broadcast-all", 'io.emit("hello", "world")', () => void A.emit("hello", "world"));
    await run("broadcast-one-room", 'io.to("room1").emit("to-room1", 1)', () => void A.to("room1").emit("to-room1", 1));
    await run("broadcast-two-rooms", 'io.to("room1").to("room2").emit("to-two-rooms", "a")', () => void A.to("room1").to("room2").emit("to-two-rooms", "a"));
    await run("broadcast-except", 'io.except("room2").emit("except-room2", 1)', () => void A.except("room2").emit("except-room2", 1));
    await run("socket-broadcast", 'socket.broadcast.emit("from-socket", 1)', () => void cA1.server.broadcast.emit("from-socket", 1));
    await run("socket-to-room", 'socket.to("room1").emit("socket-to-room1", 2)', () => void cA1.server.to("room1").emit("socket-to-room1", 2));
    await run("volatile", 'io.volatile.emit("volatile-ev", 1)', () => void A.volatile.emit("volatile-ev", 1));
    await run("compress-false", 'io.compress(false).emit("nocompress", 1)', () => void A.compress(false).emit("nocompress", 1));
    for (const [name, desc, ev, args] of payloadScenarios(true)) await run(name, desc, () => void A.emit(ev, ...args));
    await run("namespace-chat", 'io.of("/chat").emit("chat-ev", "x")', () => void A.of("/chat").emit("chat-ev", "x"));
    await run("room-with-hash", 'io.to("room#1").emit("room-hash", 1)', () => void A.to("room#1").emit("room-hash", 1));
    await run("broadcast-with-ack", 'io.timeout(1000).emit("ack-me", 1, cb)', () => settle(A.timeout(1000).emitWithAck("ack-me", 1)));
    await run("fetchSockets-all", "io.fetchSockets()", () => settle(A.fetchSockets().then((s) => s.map((x) => ({ id: x.id, rooms: [...x.rooms] })))));
    await run("serverSideEmit", 'io.serverSideEmit("sse", 1)', () => void A.serverSideEmit("sse", 1));
    await run("serverSideEmitWithAck", 'io.serverSideEmitWithAck("sse-ack", 1)', async () => {
      nodes.B.io.on("sse-ack", (x, cb) => cb("pong-from-B"));
      return settle(A.timeout(2000).serverSideEmitWithAck("sse-ack", 1));
    });
    await run("socketsJoin", 'io.in("room2").socketsJoin("joined-bulk")', () => void A.in("room2").socketsJoin("joined-bulk"));
    await run("socketsLeave", 'io.in("room2").socketsLeave("joined-bulk")', () => void A.in("room2").socketsLeave("joined-bulk"));
    if (!sharded) await run("allRooms", "adapter.allRooms()", () => settle(A.of("/").adapter.allRooms().then((s) => [...s])));
    await run("disconnectSockets-room", 'io.of("/chat").in("lobby").disconnectSockets()', () => void A.of("/chat").in("lobby").disconnectSockets());
  }
  for (const c of clients) c.sock.close();
  for (const n of ["A", "B"]) nodes[n].io.close();
  await sleep(200);
  for (const c of redisClients) await c.quit().catch(() => {});
}

(async () => {
  const { port, proc } = await startRedis();
  const rec = new Recorder(port);
  try {
    await rec.start();
    if (fixtures[generation] === "testdata") await captureModern(rec, port);
    else await captureLegacy(rec, port);
    await rec.quiet(300);
    rec.write();
    console.error(`capture: ${generation}: ${rec.publishes.length} publishes, ${rec.commands.length} other commands, ${rec.notes.length} scenarios -> ${outDir}`);
  } finally {
    proc.kill("SIGKILL");
    setTimeout(() => process.exit(0), 200);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
