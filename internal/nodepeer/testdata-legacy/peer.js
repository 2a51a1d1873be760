// peer.js (legacy) — one real Node.js Socket.IO server node of an older
// generation for the sioredis interop tests: socket.io-redis 4.0 +
// socket.io 1.7, socket.io-redis 5.4 + socket.io 2.4 or socket.io-redis
// 6.1 + socket.io 4.0, whichever the fixture folder it runs in holds
// (nodepeer starts it with that folder as its working directory and its
// node_modules on NODE_PATH). Same line protocol as ../testdata/peer.js:
// {"event":"ready",...} once, then one answer per {"id","cmd",...} line.
//
//   --redis URL  --key KEY  --name NAME  --requests-timeout MS
"use strict";

const http = require("http");
const util = require("util");
const readline = require("readline");
const path = require("path");

const mod = (name) => require(path.join(process.cwd(), "node_modules", name));
const redisAdapter = mod("socket.io-redis");
const sioVersion = mod("socket.io/package.json").version;
const adapterVersion = mod("socket.io-redis/package.json").version;
const major = Number(adapterVersion.split(".")[0]); // 4, 5 or 6
const ioServer = mod("socket.io");
const ioc = mod("socket.io-client");

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
  }
  return out;
}
const argv = parseArgs(process.argv.slice(2));
const config = {
  redisURL: argv["redis"],
  key: argv["key"] || "socket.io",
  name: argv["name"] || "node-" + process.pid,
  requestsTimeout: Number(argv["requests-timeout"] || 0) || undefined,
};

function log(...args) {
  process.stderr.write(`[peer ${config.name}] ${args.map((a) => (typeof a === "string" ? a : util.inspect(a))).join(" ")}\n`);
}
console.log = console.info = console.debug = (...args) => process.stderr.write(util.format(...args) + "\n");

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// ---- value conventions (as ../testdata/peer.js)
function toWire(v) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : null;
    case "function":
    case "symbol":
      return null;
  }
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toWire);
  if (v instanceof Set) return [...v].map(toWire);
  const o = {};
  for (const k of Object.keys(v)) {
    if (v[k] === undefined || typeof v[k] === "function") continue;
    o[k] = toWire(v[k]);
  }
  return o;
}

function fromWire(v) {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v === null || typeof v !== "object") return v;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === "$bin") return Buffer.from(v.$bin, "hex");
  const o = {};
  for (const k of keys) o[k] = fromWire(v[k]);
  return o;
}

function asList(v) {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function need(a, k) {
  if (a[k] === undefined || a[k] === null) throw new Error(`missing argument "${k}"`);
  return a[k];
}

// cb turns a node-style callback API into a promise of {err, res}.
function cb(fn) {
  return new Promise((resolve) => fn((err, res) => resolve({ err: err ? String(err.message || err) : null, res: toWire(res === undefined ? null : res) })));
}

async function settle(p) {
  try {
    return { err: null, res: toWire(await p) };
  } catch (e) {
    return { err: String((e && e.message) || e), res: null };
  }
}

// ---- state
let io, httpServer, port;
const nsps = new Map();
const clients = new Map(); // name -> {socket, nsp, received, disconnected}
const serverSockets = new Map(); // nsp + "|" + client name -> server socket
const processErrors = [];

async function barrier(adapter) {
  const sub = adapter.subClient;
  const ch = `__sioredis_nodepeer_barrier#${process.pid}#${Math.random()}`;
  await new Promise((resolve) => sub.subscribe(ch, () => sub.unsubscribe(ch, () => resolve())));
}

async function ensureNsp(name) {
  name = name || "/";
  if (nsps.has(name)) return nsps.get(name);
  const nsp = io.of(name);
  nsps.set(name, nsp);
  nsp.adapter.on && nsp.adapter.on("error", (e) => processErrors.push({ kind: "adapter", error: String(e) }));
  nsp.on("connection", (s) => {
    const q = s.handshake.query || {};
    if (q.peerClient) serverSockets.set(name + "|" + q.peerClient, s);
  });
  await barrier(nsp.adapter);
  return nsp;
}

function clientOf(a) {
  const c = clients.get(need(a, "client"));
  if (!c) throw new Error(`unknown client ${a.client}`);
  return c;
}

function serverSocket(a) {
  const c = clientOf(a);
  const s = serverSockets.get((a.nsp || c.nsp) + "|" + a.client);
  if (!s) throw new Error(`no server socket for ${a.client}`);
  return s;
}

function roomsOf(s) {
  return major >= 6 ? [...s.rooms] : Array.isArray(s.rooms) ? s.rooms : Object.keys(s.rooms);
}

function target(base, a) {
  let op = base;
  for (const r of asList(a.rooms)) op = op.to(r);
  if (asList(a.except).length) op = op.except(asList(a.except));
  if (a.volatile) op = op.volatile;
  if (a.compress !== undefined && a.compress !== null) op = op.compress(!!a.compress);
  if (a.binary !== undefined && a.binary !== null) op = op.binary(!!a.binary);
  return op;
}

const commands = {
  ping: async () => "pong",
  info: async () => ({ name: config.name, port, socketio: sioVersion, adapter: adapterVersion }),
  errors: async () => processErrors,
  namespace: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    return { nsp: nsp.name, uid: nsp.adapter.uid };
  },

  connect: async (a) => {
    const name = need(a, "client");
    const nspName = a.nsp || "/";
    const nsp = await ensureNsp(nspName);
    const socket = ioc(`http://127.0.0.1:${port}${nspName}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      query: major >= 6 ? { peerClient: name } : "peerClient=" + encodeURIComponent(name),
    });
    const c = { name, nsp: nspName, socket, received: [], disconnected: null };
    clients.set(name, c);
    const onevent = socket.onevent;
    socket.onevent = function (packet) {
      const args = (packet.data || []).slice();
      c.received.push({ event: args[0], args: toWire(args.slice(1)) });
      return onevent.call(this, packet);
    };
    socket.on("disconnect", (reason) => {
      c.disconnected = reason || "disconnected";
    });
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
      socket.once("error", reject);
    });
    await poll(5000, () => serverSockets.has(nspName + "|" + name));
    await barrier(nsp.adapter); // the socket's own-id room is subscribed (4.0)
    return serverSocket(a).id;
  },

  join: async (a) => {
    const s = serverSocket(a);
    for (const r of asList(fromWire(need(a, "rooms")))) {
      await new Promise((resolve) => {
        const ret = s.join(r, resolve);
        if (major >= 6) Promise.resolve(ret).then(resolve);
      });
    }
    return toWire(roomsOf(s));
  },
  leave: async (a) => {
    const s = serverSocket(a);
    await new Promise((resolve) => {
      const ret = s.leave(fromWire(need(a, "room")), resolve);
      if (major >= 6) Promise.resolve(ret).then(resolve);
    });
    return toWire(roomsOf(s));
  },
  clientRooms: async (a) => toWire(roomsOf(serverSocket(a))),
  connected: async (a) => clientOf(a).socket.connected,
  waitDisconnected: async (a) => {
    const c = clientOf(a);
    const ok = await poll(a.timeoutMs || 5000, () => !c.socket.connected);
    if (!ok) throw new Error(`client ${c.name} still connected`);
    return c.disconnected;
  },
  received: async (a) => clientOf(a).received,
  clearReceived: async (a) => {
    clientOf(a).received = [];
    return true;
  },
  waitReceived: async (a) => {
    const c = clientOf(a);
    const count = a.count === undefined ? 1 : a.count;
    if (!(await poll(a.timeoutMs || 5000, () => c.received.length >= count))) {
      throw new Error(`client ${c.name}: wanted ${count} events, got ${JSON.stringify(c.received)}`);
    }
    return c.received;
  },

  emit: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    target(nsp, a).emit(need(a, "event"), ...fromWire(asList(a.args)));
    return true;
  },
  socketEmit: async (a) => {
    const s = serverSocket(a);
    let op = asList(a.rooms).length ? s : s.broadcast;
    for (const r of asList(a.rooms)) op = op.to(r);
    op.emit(need(a, "event"), ...fromWire(asList(a.args)));
    return true;
  },

  // ---- requests
  serverCount: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    const ad = nsp.adapter;
    const res = await new Promise((resolve, reject) =>
      ad.pubClient.send_command("pubsub", ["numsub", ad.requestChannel], (err, r) => (err ? reject(err) : resolve(r))),
    );
    return Number(res[1]);
  },
  clients: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    if (major >= 6) return settle(nsp.adapter.sockets(new Set(asList(a.rooms))));
    return cb((done) => nsp.adapter.clients(asList(a.rooms), done));
  },
  remoteClientRooms: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    return cb((done) => nsp.adapter.clientRooms(need(a, "sid"), done));
  },
  allRooms: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    if (major >= 6) return settle(nsp.adapter.allRooms());
    return cb((done) => nsp.adapter.allRooms(done));
  },
  remoteJoin: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    if (major >= 6) return settle(nsp.adapter.remoteJoin(need(a, "sid"), need(a, "room")));
    return cb((done) => nsp.adapter.remoteJoin(need(a, "sid"), need(a, "room"), done));
  },
  remoteLeave: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    if (major >= 6) return settle(nsp.adapter.remoteLeave(need(a, "sid"), need(a, "room")));
    return cb((done) => nsp.adapter.remoteLeave(need(a, "sid"), need(a, "room"), done));
  },
  remoteDisconnect: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    if (major >= 6) return settle(nsp.adapter.remoteDisconnect(need(a, "sid"), !!a.close));
    return cb((done) => nsp.adapter.remoteDisconnect(need(a, "sid"), !!a.close, done));
  },
  customRequest: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    return cb((done) => nsp.adapter.customRequest(fromWire(a.data), done));
  },
  setCustomHook: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    const reply = fromWire(a.reply);
    nsp.adapter.customHook = (data, done) => done({ answer: reply, got: data });
    return true;
  },
  // 6.x operators
  fetchSockets: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    const socks = await target(nsp, a).fetchSockets();
    return socks.map((s) => ({ id: s.id, handshake: toWire(s.handshake), rooms: toWire([...s.rooms]), data: toWire(s.data) }));
  },
  socketsJoin: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    target(nsp, a).socketsJoin(fromWire(need(a, "join")));
    return true;
  },
  socketsLeave: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    target(nsp, a).socketsLeave(fromWire(need(a, "leave")));
    return true;
  },
  disconnectSockets: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    target(nsp, a).disconnectSockets(!!a.close);
    return true;
  },
  setData: async (a) => {
    serverSocket(a).data = fromWire(a.data);
    return true;
  },
  close: async () => {
    setImmediate(() => shutdown(0));
    return true;
  },
};

async function poll(ms, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function handleLine(line) {
  line = line.trim();
  if (!line) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    send({ id: null, ok: false, error: "invalid JSON: " + e.message });
    return;
  }
  const fn = Object.prototype.hasOwnProperty.call(commands, msg.cmd) ? commands[msg.cmd] : undefined;
  if (!fn) {
    send({ id: msg.id, ok: false, error: `unknown command "${msg.cmd}"` });
    return;
  }
  try {
    const result = await fn(msg);
    send({ id: msg.id, ok: true, result: result === undefined ? null : result });
  } catch (e) {
    log(`command ${msg.cmd} failed:`, String((e && e.stack) || e));
    send({ id: msg.id, ok: false, error: String((e && e.message) || e) });
  }
}

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(code), 300).unref();
  for (const c of clients.values()) c.socket.close();
  try {
    io.close();
  } catch (e) {}
  setTimeout(() => process.exit(code), 50);
}

async function main() {
  process.on("uncaughtException", (e) => {
    log("uncaughtException", e && e.stack);
    processErrors.push({ kind: "uncaughtException", error: String(e) });
  });
  process.on("unhandledRejection", (e) => {
    log("unhandledRejection", e && e.stack);
    processErrors.push({ kind: "unhandledRejection", error: String(e) });
  });
  const u = new URL(config.redisURL);
  const opts = { host: u.hostname, port: Number(u.port), key: config.key };
  if (config.requestsTimeout) opts.requestsTimeout = config.requestsTimeout;
  httpServer = http.createServer();
  io = major >= 6 ? new ioServer.Server(httpServer) : ioServer(httpServer);
  io.adapter(redisAdapter(opts));
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  port = httpServer.address().port;
  const nsp = await ensureNsp("/");
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on("line", handleLine);
  rl.on("close", () => shutdown(0));
  log(`ready: socket.io ${sioVersion}, socket.io-redis ${adapterVersion}, port ${port}`);
  send({ event: "ready", port, name: config.name, uid: nsp.adapter.uid });
}

main().catch((e) => {
  log("startup failed:", e && e.stack);
  process.exit(1);
});
