// peer.js — one real Node.js Socket.IO server node for the sioredis interop
// tests, driven over stdin/stdout with JSON lines. See ../README.md for the
// command protocol.
//
// One process = one socket.io 4.8 Server on 127.0.0.1:<random port> with the
// classic @socket.io/redis-adapter (createAdapter, node-redis v4 clients), any
// number of socket.io-client clients connected to it, and an optional
// @socket.io/redis-emitter (created on first use, on its own Redis connection).
//
// Configuration (argv wins over env):
//   --redis URL                   / REDIS_URL          (required)
//   --key KEY                     / SIO_KEY            (default "socket.io")
//   --name NAME                   / PEER_NAME          (default "node-<pid>")
//   --requests-timeout MS         / REQUESTS_TIMEOUT   (default: adapter default, 5000)
//   --specific-response-channel   / PUBLISH_ON_SPECIFIC_RESPONSE_CHANNEL=1
//   --sharded MODE                / SHARDED_MODE       (createShardedAdapter with subscriptionMode
//                                                        static | dynamic | dynamic-private; --key is its channelPrefix)
//   --cluster                     / REDIS_CLUSTER=1    (node-redis createCluster; --redis may list
//                                                        several comma-separated URLs)
//
// stdout carries only protocol lines: {"event":"ready","port":N} once, then one
// {"id":n,"ok":true,"result":...} or {"id":n,"ok":false,"error":"..."} per
// command, plus {"event":...} notifications. Logs go to stderr.
"use strict";

const http = require("http");
const util = require("util");
const readline = require("readline");
const { Server } = require("socket.io");
const ioc = require("socket.io-client");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const { createClient, createCluster } = require("redis");

// ---------------------------------------------------------------- config

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const name = a.slice(2);
    if (name === "specific-response-channel" || name === "cluster") {
      out[name] = true;
    } else {
      out[name] = argv[++i];
    }
  }
  return out;
}

const argv = parseArgs(process.argv.slice(2));
const config = {
  redisURL: argv["redis"] || process.env.REDIS_URL,
  key: argv["key"] || process.env.SIO_KEY || "socket.io",
  name: argv["name"] || process.env.PEER_NAME || "node-" + process.pid,
  requestsTimeout: Number(argv["requests-timeout"] || process.env.REQUESTS_TIMEOUT || 0) || undefined,
  publishOnSpecificResponseChannel:
    !!argv["specific-response-channel"] || /^(1|true|yes)$/i.test(process.env.PUBLISH_ON_SPECIFIC_RESPONSE_CHANNEL || ""),
  sharded: argv["sharded"] || process.env.SHARDED_MODE || "",
  cluster: !!argv["cluster"] || /^(1|true|yes)$/i.test(process.env.REDIS_CLUSTER || ""),
};

function log(...args) {
  process.stderr.write(`[peer ${config.name}] ${args.map((a) => (typeof a === "string" ? a : safeStringify(a))).join(" ")}\n`);
}

function safeStringify(v) {
  try {
    return JSON.stringify(toWire(v));
  } catch (e) {
    return String(v);
  }
}

// stdout belongs to the protocol: route any library console output to stderr.
console.log = console.info = console.debug = (...args) => process.stderr.write(util.format(...args) + "\n");

// ---------------------------------------------------------------- value conventions

// toWire converts a JS value into plain JSON following the harness conventions:
// binary -> {"$bin": hex}, Date -> ISO string, BigInt -> {"$bigint": "..."},
// Set -> array, Map -> object, functions dropped.
function toWire(v) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : null;
    case "bigint":
      return { $bigint: v.toString() };
    case "function":
    case "symbol":
      return null;
  }
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (v instanceof Date) return isNaN(v.getTime()) ? null : v.toISOString();
  if (Array.isArray(v)) return v.map(toWire);
  if (v instanceof Set) return [...v].map(toWire);
  if (v instanceof Map) {
    const o = {};
    for (const [k, val] of v) o[String(k)] = toWire(val);
    return o;
  }
  if (typeof v.toJSON === "function") return toWire(v.toJSON());
  const o = {};
  for (const k of Object.keys(v)) {
    const val = v[k];
    if (val === undefined || typeof val === "function" || typeof val === "symbol") continue;
    o[k] = toWire(val);
  }
  return o;
}

// fromWire is the inverse: {"$bin":hex} -> Buffer, {"$date":iso} -> Date,
// {"$bigint":"n"} -> BigInt, {"$undefined":true} -> undefined.
function fromWire(v) {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v === null || typeof v !== "object") return v;
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const k = keys[0];
    if (k === "$bin" && typeof v.$bin === "string") return Buffer.from(v.$bin, "hex");
    if (k === "$date" && typeof v.$date === "string") return new Date(v.$date);
    if (k === "$bigint" && typeof v.$bigint === "string") return BigInt(v.$bigint);
    if (k === "$undefined") return undefined;
  }
  const o = {};
  for (const k of keys) o[k] = fromWire(v[k]);
  return o;
}

// ---------------------------------------------------------------- state

let io;
let httpServer;
let port;
let pubClient;
let subClient;
let emitterClient; // created lazily for the emitter commands
let emitterClientPromise;
let closing = false;
let barrierSeq = 0;

const nsps = new Map(); // nsp name -> Namespace, with its listeners installed
const serverEvents = new Map(); // nsp name -> [{event, args}]
const listenedServerEvents = new Map(); // nsp name -> Set of event names (fallback path)
const catchAll = new Set(); // nsp names whose server-side events are all recorded
const clients = new Map(); // client name -> {name, nsp, socket, received, ackReply, noAck, disconnectReason}
const processErrors = []; // uncaught errors, redis client errors
let sseReply; // reply to server-side events with an ack; default "pong-from-<name>"
let sseNoAck = false;

const COMMON_SERVER_EVENTS = ["ping", "hello", "sse", "event", "test"];

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function recordProcessError(kind, err) {
  const msg = err && err.stack ? err.stack : String(err);
  log(kind + ":", msg);
  processErrors.push({ kind, error: String((err && err.message) || err) });
  send({ event: "error", kind, error: String((err && err.message) || err) });
}

function recordServerEvent(nspName, args) {
  const list = serverEvents.get(nspName);
  let ack;
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    ack = args[args.length - 1];
    args = args.slice(0, -1);
  }
  const [event, ...rest] = args;
  list.push({ event, args: toWire(rest) });
  if (ack && !sseNoAck) {
    ack(sseReply !== undefined ? sseReply : "pong-from-" + config.name);
  }
}

// ensureNsp creates the namespace (and its Redis subscriptions) on first use
// and waits until Redis has confirmed those subscriptions.
async function ensureNsp(name) {
  name = name || "/";
  if (nsps.has(name)) return nsps.get(name);
  const nsp = io.of(name);
  nsps.set(name, nsp);
  serverEvents.set(name, []);
  listenedServerEvents.set(name, new Set());
  if (typeof nsp._onServerSideEmit === "function") {
    // Catch-all: every server-side event of this namespace, whatever its name
    // (from another node's serverSideEmit or from an emitter).
    catchAll.add(name);
    const orig = nsp._onServerSideEmit.bind(nsp);
    nsp._onServerSideEmit = (args) => {
      recordServerEvent(name, [...args]);
      // Keep ordinary listeners working, minus the ack (already answered).
      const rest = typeof args[args.length - 1] === "function" ? args.slice(0, -1) : args;
      try {
        orig(rest);
      } catch (e) {
        recordProcessError("serverSideEmit listener", e);
      }
    };
  } else {
    for (const ev of COMMON_SERVER_EVENTS) listenServerEvent(name, ev);
  }
  nsp.on("connection", (socket) => {
    log(`connection ${name} ${socket.id}`);
  });
  await subscriptionBarrier();
  if (config.sharded) {
    const main = `${config.key}#${name}#`;
    await shardBarrier([main, `${main}${nsp.adapter.uid}#`]);
  }
  return nsp;
}

// shardBarrier returns once Redis has answered the SSUBSCRIBEs queued so far
// for the given shard channels: for each, a barrier channel with the same
// hash slot (the channel as its hash tag) goes to the same connection, so its
// reply comes after theirs.
async function shardBarrier(channels) {
  const noop = () => {};
  await Promise.all(
    channels.map(async (ch) => {
      const b = ch.includes("{") || ch.includes("}") ? ch + "#barrier" : `{${ch}}#barrier#${++barrierSeq}`;
      await subClient.sSubscribe(b, noop);
      await subClient.sUnsubscribe(b, noop);
    }),
  );
}

// roomBarrier waits, for the sharded dynamic modes, until the channels of
// the given rooms of namespace nsp are subscribed.
async function roomBarrier(nsp, rooms) {
  if (config.sharded !== "dynamic" && config.sharded !== "dynamic-private") return;
  await shardBarrier(rooms.map((r) => `${config.key}#${nsp.name}#${r}#`));
}

function listenServerEvent(nspName, event) {
  const nsp = nsps.get(nspName);
  const set = listenedServerEvents.get(nspName);
  if (catchAll.has(nspName)) return; // the catch-all already records everything
  if (set.has(event)) return;
  set.add(event);
  nsp.on(event, (...args) => recordServerEvent(nspName, [event, ...args]));
}

// subscriptionBarrier returns once Redis has answered every (P)SUBSCRIBE queued
// on the subscriber connection so far: node-redis sends commands in order on one
// connection, so when the reply to a fresh SUBSCRIBE arrives, the earlier ones
// (issued by adapter constructors) have been acknowledged.
async function subscriptionBarrier() {
  if (config.sharded) return;
  const ch = `__sioredis_nodepeer_barrier#${process.pid}#${++barrierSeq}`;
  const noop = () => {};
  await subClient.subscribe(ch, noop);
  await subClient.unsubscribe(ch, noop);
}

async function getEmitterClient() {
  if (!emitterClientPromise) {
    emitterClient = createClient({ url: config.redisURL });
    emitterClient.on("error", (e) => recordProcessError("redis emitter client", e));
    emitterClientPromise = emitterClient.connect().then(() => emitterClient);
  }
  return emitterClientPromise;
}

// ---------------------------------------------------------------- helpers for commands

function need(args, name) {
  if (args[name] === undefined || args[name] === null) throw new Error(`missing argument "${name}"`);
  return args[name];
}

function getClient(name) {
  const c = clients.get(name);
  if (!c) throw new Error(`unknown client "${name}"`);
  return c;
}

async function serverSocketOf(args) {
  const c = getClient(need(args, "client"));
  const nspName = args.nsp || c.nsp;
  const nsp = await ensureNsp(nspName);
  const id = c.socket.id;
  const s = id && nsp.sockets.get(id);
  if (!s) throw new Error(`client "${c.name}" has no server socket in namespace "${nspName}" (connected=${c.socket.connected})`);
  return s;
}

function asList(v) {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

// operator applies rooms/except/local/volatile/compress/timeout to a
// namespace, a socket (broadcast) or an emitter.
function operator(base, args) {
  let op = base;
  const rooms = asList(args.rooms);
  const except = asList(args.except);
  if (rooms.length) op = op.to(rooms);
  if (except.length) op = op.except(except);
  if (args.local) op = op.local;
  if (args.volatile) op = op.volatile;
  if (args.compress !== undefined && args.compress !== null) op = op.compress(!!args.compress);
  return op;
}

function argsOf(args) {
  return fromWire(asList(args.args));
}

function remoteSocketToWire(s) {
  return { id: s.id, handshake: toWire(s.handshake), rooms: toWire([...s.rooms]), data: toWire(s.data) };
}

async function poll(deadlineMs, check) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function withTimeout(promise, ms, what) {
  if (!ms) return promise;
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------- commands

const commands = {
  ping: async () => "pong",

  info: async () => ({
    name: config.name,
    port,
    key: config.key,
    requestsTimeout: config.requestsTimeout || null,
    publishOnSpecificResponseChannel: config.publishOnSpecificResponseChannel,
    namespaces: [...nsps.keys()],
    uids: Object.fromEntries([...nsps].map(([n, nsp]) => [n, nsp.adapter.uid])),
    clients: [...clients.keys()],
  }),

  namespace: async (a) => {
    const nsp = await ensureNsp(a.nsp || "/");
    return { nsp: nsp.name, uid: nsp.adapter.uid };
  },

  configure: async (a) => {
    if ("sseReply" in a) sseReply = fromWire(a.sseReply);
    if ("sseNoAck" in a) sseNoAck = !!a.sseNoAck;
    return true;
  },

  errors: async () => processErrors,

  // ---- clients
  connect: async (a) => {
    const name = need(a, "client");
    if (clients.has(name)) throw new Error(`client "${name}" already exists`);
    const nspName = a.nsp || "/";
    await ensureNsp(nspName);
    const socket = ioc.io(`http://127.0.0.1:${port}${nspName}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: a.auth || undefined,
      query: a.query || undefined,
      timeout: 10000,
    });
    const c = {
      name,
      nsp: nspName,
      socket,
      received: [],
      ackReply: "ackReply" in a ? fromWire(a.ackReply) : "ack-from-" + name,
      noAck: !!a.noAck,
      disconnectReason: null,
    };
    clients.set(name, c);
    socket.onAny((event, ...args) => {
      let ack;
      if (args.length > 0 && typeof args[args.length - 1] === "function") ack = args.pop();
      c.received.push({ event, args: toWire(args) });
      if (ack && !c.noAck) ack(c.ackReply);
    });
    socket.on("disconnect", (reason) => {
      c.disconnectReason = reason;
      send({ event: "disconnect", client: name, reason });
    });
    try {
      await new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
    } catch (e) {
      clients.delete(name);
      socket.close();
      throw new Error(`client "${name}" could not connect to ${nspName}: ${e.message}`);
    }
    await roomBarrier(nsps.get(nspName), [socket.id]);
    return socket.id;
  },

  disconnect: async (a) => {
    const c = getClient(need(a, "client"));
    c.socket.disconnect();
    return true;
  },

  setAckReply: async (a) => {
    const c = getClient(need(a, "client"));
    if ("ackReply" in a) c.ackReply = fromWire(a.ackReply);
    if ("noAck" in a) c.noAck = !!a.noAck;
    return true;
  },

  received: async (a) => getClient(need(a, "client")).received,

  waitReceived: async (a) => {
    const c = getClient(need(a, "client"));
    const count = a.count === undefined ? 1 : a.count;
    const ok = await poll(a.timeoutMs || 5000, () => c.received.length >= count);
    if (!ok) {
      throw new Error(
        `client "${c.name}": waited ${a.timeoutMs || 5000} ms for ${count} event(s), received ${c.received.length}: ${JSON.stringify(c.received)}`,
      );
    }
    return c.received;
  },

  clearReceived: async (a) => {
    getClient(need(a, "client")).received = [];
    return true;
  },

  connected: async (a) => getClient(need(a, "client")).socket.connected,

  waitDisconnected: async (a) => {
    const c = getClient(need(a, "client"));
    const ok = await poll(a.timeoutMs || 5000, () => !c.socket.connected);
    if (!ok) throw new Error(`client "${c.name}" still connected after ${a.timeoutMs || 5000} ms`);
    return c.disconnectReason;
  },

  // ---- server sockets
  join: async (a) => {
    const s = await serverSocketOf(a);
    const rooms = fromWire(need(a, "rooms"));
    await s.join(rooms);
    await roomBarrier(s.nsp, Array.isArray(rooms) ? rooms : [rooms]);
    return toWire([...s.rooms]);
  },

  leave: async (a) => {
    const s = await serverSocketOf(a);
    await s.leave(fromWire(need(a, "room")));
    return toWire([...s.rooms]);
  },

  setData: async (a) => {
    const s = await serverSocketOf(a);
    s.data = fromWire(a.data);
    return true;
  },

  clientRooms: async (a) => {
    const s = await serverSocketOf(a);
    return toWire([...s.rooms]);
  },

  socketEmit: async (a) => {
    const s = await serverSocketOf(a);
    const rooms = asList(a.rooms);
    let op = rooms.length ? s.to(rooms) : s.broadcast;
    const except = asList(a.except);
    if (except.length) op = op.except(except);
    if (a.volatile) op = op.volatile;
    if (a.compress !== undefined && a.compress !== null) op = op.compress(!!a.compress);
    op.emit(need(a, "event"), ...argsOf(a));
    return true;
  },

  // ---- namespace operations (through the adapter)
  emit: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    operator(nsp, a).emit(need(a, "event"), ...argsOf(a));
    return true;
  },

  emitWithAck: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    const op = operator(nsp, a).timeout(a.timeout === undefined ? 5000 : a.timeout);
    return await new Promise((resolve) => {
      op.emit(need(a, "event"), ...argsOf(a), (err, res) => {
        resolve({ err: err ? err.message : null, res: toWire(res || []) });
      });
    });
  },

  fetchSockets: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    const sockets = await operator(nsp, a).fetchSockets();
    return sockets.map(remoteSocketToWire);
  },

  allRooms: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    return toWire([...(await nsp.adapter.allRooms())]);
  },

  serverCount: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    return await nsp.adapter.serverCount();
  },

  socketsJoin: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    operator(nsp, a).socketsJoin(fromWire(need(a, "join")));
    return true;
  },

  socketsLeave: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    operator(nsp, a).socketsLeave(fromWire(need(a, "leave")));
    return true;
  },

  disconnectSockets: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    operator(nsp, a).disconnectSockets(!!a.close);
    return true;
  },

  serverSideEmit: async (a) => {
    const nsp = await ensureNsp(a.nsp);
    const event = need(a, "event");
    if (!a.ack) {
      nsp.serverSideEmit(event, ...argsOf(a));
      return true;
    }
    // socket.io has no per-call timeout for serverSideEmit: the adapter's
    // requestsTimeout applies. `timeout`, if given, is an outer guard.
    const p = new Promise((resolve) => {
      nsp.serverSideEmit(event, ...argsOf(a), (err, res) => {
        resolve({ err: err ? err.message : null, res: toWire(res || []) });
      });
    });
    return await withTimeout(p, a.timeout, "serverSideEmit");
  },

  listenServerEvent: async (a) => {
    await ensureNsp(a.nsp);
    listenServerEvent(a.nsp || "/", need(a, "event"));
    return true;
  },

  serverEvents: async (a) => {
    await ensureNsp(a.nsp);
    return serverEvents.get(a.nsp || "/");
  },

  waitServerEvents: async (a) => {
    await ensureNsp(a.nsp);
    const name = a.nsp || "/";
    const count = a.count === undefined ? 1 : a.count;
    const ms = a.timeoutMs || 5000;
    const ok = await poll(ms, () => serverEvents.get(name).length >= count);
    if (!ok) {
      throw new Error(`namespace ${name}: waited ${ms} ms for ${count} server-side event(s), got ${JSON.stringify(serverEvents.get(name))}`);
    }
    return serverEvents.get(name);
  },

  clearServerEvents: async (a) => {
    await ensureNsp(a.nsp);
    serverEvents.set(a.nsp || "/", []);
    return true;
  },

  // ---- emitter
  emitter: async (a) => {
    const client = await getEmitterClient();
    const em = new Emitter(client, { key: config.key }).of(a.nsp || "/");
    operator(em, a).emit(need(a, "event"), ...argsOf(a));
    return true;
  },

  emitterServerSideEmit: async (a) => {
    const client = await getEmitterClient();
    new Emitter(client, { key: config.key }).of(a.nsp || "/").serverSideEmit(need(a, "event"), ...argsOf(a));
    return true;
  },

  emitterSocketsJoin: async (a) => {
    const client = await getEmitterClient();
    operator(new Emitter(client, { key: config.key }).of(a.nsp || "/"), a).socketsJoin(fromWire(need(a, "join")));
    return true;
  },

  emitterSocketsLeave: async (a) => {
    const client = await getEmitterClient();
    operator(new Emitter(client, { key: config.key }).of(a.nsp || "/"), a).socketsLeave(fromWire(need(a, "leave")));
    return true;
  },

  emitterDisconnectSockets: async (a) => {
    const client = await getEmitterClient();
    operator(new Emitter(client, { key: config.key }).of(a.nsp || "/"), a).disconnectSockets(!!a.close);
    return true;
  },

  close: async () => {
    setImmediate(() => shutdown(0));
    return true;
  },
};

// ---------------------------------------------------------------- main loop

async function handleLine(line) {
  line = line.trim();
  if (!line) return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    log("bad command line:", line);
    send({ id: null, ok: false, error: "invalid JSON: " + e.message });
    return;
  }
  const id = msg.id === undefined ? null : msg.id;
  const fn = Object.prototype.hasOwnProperty.call(commands, msg.cmd) ? commands[msg.cmd] : undefined;
  if (!fn) {
    send({ id, ok: false, error: `unknown command "${msg.cmd}"` });
    return;
  }
  try {
    const result = await fn(msg);
    send({ id, ok: true, result: result === undefined ? null : result });
  } catch (e) {
    log(`command ${msg.cmd} (id ${id}) failed:`, String((e && e.message) || e));
    send({ id, ok: false, error: String((e && e.message) || e) });
  }
}

async function shutdown(code) {
  if (closing) return;
  closing = true;
  const hardExit = setTimeout(() => {
    log("shutdown took too long, exiting");
    process.exit(code);
  }, 3000);
  hardExit.unref();
  try {
    for (const c of clients.values()) c.socket.close();
    if (io) await io.close();
    const quits = [pubClient, subClient, emitterClient].filter((c) => c && (c.isOpen || c === pubClient || c === subClient)).map((c) => c.quit().catch(() => {}));
    await Promise.all(quits);
  } catch (e) {
    log("shutdown error:", e && e.stack ? e.stack : String(e));
  }
  process.exit(code);
}

async function main() {
  if (!config.redisURL) {
    log("missing redis URL (--redis or REDIS_URL)");
    process.exit(2);
  }
  process.on("uncaughtException", (e) => recordProcessError("uncaughtException", e));
  process.on("unhandledRejection", (e) => recordProcessError("unhandledRejection", e));

  if (config.cluster) {
    pubClient = createCluster({ rootNodes: config.redisURL.split(",").map((url) => ({ url })) });
  } else {
    pubClient = createClient({ url: config.redisURL });
  }
  subClient = pubClient.duplicate();
  pubClient.on("error", (e) => recordProcessError("redis pub client", e));
  subClient.on("error", (e) => recordProcessError("redis sub client", e));
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const adapterOpts = { key: config.key, publishOnSpecificResponseChannel: config.publishOnSpecificResponseChannel };
  if (config.requestsTimeout) adapterOpts.requestsTimeout = config.requestsTimeout;

  httpServer = http.createServer();
  const adapter = config.sharded
    ? createShardedAdapter(pubClient, subClient, { channelPrefix: config.key, subscriptionMode: config.sharded })
    : createAdapter(pubClient, subClient, adapterOpts);
  io = new Server(httpServer, { adapter });
  await new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", resolve);
  });
  port = httpServer.address().port;
  await ensureNsp("/");

  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  rl.on("line", (line) => {
    handleLine(line);
  });
  rl.on("close", () => shutdown(0));

  log(`ready on port ${port}, redis ${config.redisURL}, key ${config.key}`);
  send({ event: "ready", port, name: config.name, uid: nsps.get("/").adapter.uid });
}

main().catch((e) => {
  log("startup failed:", e && e.stack ? e.stack : String(e));
  process.exit(1);
});
