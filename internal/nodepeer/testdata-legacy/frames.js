// frames.js — prints, one JSON line per case, the Engine.IO 3 frames that a
// Socket.IO 1.x or 2.x server sends to its clients for a packet it received
// from Redis: the msgpack data as that generation's adapter publishes it, the
// socket.io-parser string and attachments, and what engine.io-parser makes of
// them over websocket and over polling. The Go tests (codec/frame3_test.go)
// replay these lines against codec.BuildFrame3.
//
// Run from a fixture folder, whose node_modules supply the packages:
//
//   cd internal/nodepeer/testdata-redis5  && node ../testdata-legacy/frames.js
//   cd internal/nodepeer/testdata-redis40 && node ../testdata-legacy/frames.js
//
// or `make frames`, which writes codec/testdata/frames/eio3-<socket.io version>.jsonl.
//
// Line format:
//   {"name", "nsp", "type" (as published: 2/5, 3/6), "id" (ack id or null),
//    "data_hex" (msgpack of the packet data, as the adapter publishes it),
//    "sio": [string | {"$bin": hex}]        socket.io-parser encoder output,
//    "ws": [{"text": s} | {"bin": hex}]     engine.io websocket frames (binary client),
//    "ws_b64": [string]                     websocket frames of a b64=1 client,
//    "payload_binary": bool, "payload_hex"  polling body for a binary-capable client,
//    "payload_b64_hex"                      polling body (UTF-8) for a b64=1 client}
// and, last, "batch" lines: {"batch": [names], "payload_binary", "payload_hex",
// "payload_b64_hex"} for several packets sent in one polling response.
"use strict";

const path = require("path");

const mod = (name) => require(path.join(process.cwd(), "node_modules", name));
const sioVersion = mod("socket.io/package.json").version;
const sioMajor = Number(sioVersion.split(".")[0]); // 1 or 2
const parser = mod("socket.io-parser");
const eio = mod("engine.io-parser");
const hasBin = sioMajor === 1 ? mod("has-binary") : mod("has-binary2");
// The msgpack library of the adapter generation that runs beside this
// socket.io: msgpack-lite for socket.io-redis 4.0, notepack.io 2 for 5.x.
const msgpack = sioMajor === 1 ? mod("msgpack-lite") : mod("notepack.io");

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

// Cases: [name, nsp, ack id or null, data, isAck]. Data uses only values
// that every generation's msgpack library and the Go codec read alike
// (strings, numbers, booleans, null, arrays, objects, Buffers), plus the
// notepack 2 forms (typed arrays, Dates, undefined) for Socket.IO 2.
const cases = [
  ["hello", "/", null, ["hello", "world"]],
  ["chat-nsp", "/chat", null, ["msg", { from: "a", n: 1 }]],
  ["ack-id", "/", 7, ["question", 42]],
  ["ack-id-nsp", "/chat", 12, ["hello", 1, 2.5]],
  ["ack-packet", "/", 5, ["ok", { a: 1 }], true],
  ["unicode", "/", null, ["u", "héllo 日本語 😀", "\u2028\u2029", "</script>&"]],
  ["escapes", "/", null, ["e", "\u0000\u001f\"\\\b\f\n\r\t\u007f"]],
  ["numbers", "/", null, ["n", 0, -1, 1.5, 0.1, 2147483648, 4294967296, -2147483649, 9007199254740991, 1e21, -0]],
  ["nested", "/", null, ["x", { a: [1, { b: null, c: [true, false] }], d: {} }, [], [[[]]]]],
  ["int-keys", "/", null, ["k", { 2: "x", 1: "y", z: 0, 10: "a" }]],
  ["long-text", "/", null, ["long", "x".repeat(1000)]],
  ["binary", "/", null, ["bin", Buffer.from([0, 1, 2, 255]), { nested: Buffer.from("abc") }]],
  ["binary-nsp-ack", "/chat", 3, ["bin", Buffer.from([9])]],
  ["binary-ack-packet", "/", 5, [Buffer.from([1, 2])], true],
  ["binary-empty", "/", null, ["e", Buffer.alloc(0)]],
  ["binary-large", "/", null, ["big", bytes(300, 7), "tail"]],
  ["binary-many", "/", null, ["many", ...Array.from({ length: 12 }, (_, i) => bytes(i, i))]],
  ["binary-unicode", "/", null, ["bü", "日本😀", Buffer.from([0xe6, 0x97, 0xa5])]],
  ["binary-in-object", "/room", null, ["o", { list: [{ b: Buffer.from([1]) }, { b: Buffer.from([2, 3]) }], s: "é" }]],
];
if (sioMajor >= 2) {
  cases.push(
    ["np2-typed-array", "/", null, ["t", new Uint8Array([1, 2, 3])]],
    ["np2-arraybuffer", "/", null, ["t", new Uint8Array([4, 5]).buffer]],
    ["np2-date", "/", null, ["d", new Date(1700000000123)]],
    ["np2-undefined", "/", null, ["x", undefined, { u: undefined, f: 1 }]],
  );
}
const batches = [
  ["hello", "unicode"],
  ["hello", "binary", "unicode"],
  ["binary-large", "binary-nsp-ack"],
];

const hex = (b) => Buffer.from(b).toString("hex");
const sync = (fn) => {
  let out;
  fn((v) => (out = v));
  if (out === undefined) throw new Error("callback was not synchronous");
  return out;
};

// What a receiving node does: decode the published data, set the packet
// type the way the sender did (socket.io 1.x/2.x: BINARY_EVENT/BINARY_ACK
// when the arguments hold binary), and encode it for its clients.
function sioEncode(nsp, id, dataHex, isAck) {
  const data = msgpack.decode(Buffer.from(dataHex, "hex"));
  const binary = hasBin(data);
  const type = isAck ? (binary ? parser.BINARY_ACK : parser.ACK) : binary ? parser.BINARY_EVENT : parser.EVENT;
  const packet = { type, data, nsp };
  if (id !== null) packet.id = id;
  const encoder = new parser.Encoder();
  return { type, parts: sync((cb) => encoder.encode(packet, cb)) };
}

const messages = (parts) => parts.map((p) => ({ type: "message", data: p }));
const payload = (parts, supportsBinary) => {
  const out = sync((cb) => eio.encodePayload(messages(parts), supportsBinary, cb));
  return { binary: typeof out !== "string", hex: hex(typeof out === "string" ? Buffer.from(out, "utf8") : out) };
};

const partsByName = new Map();
for (const [name, nsp, id, data, isAck] of cases) {
  const dataHex = hex(msgpack.encode(data));
  const { type, parts } = sioEncode(nsp, id, dataHex, !!isAck);
  partsByName.set(name, parts);
  const ws = messages(parts).map((m) => {
    const f = sync((cb) => eio.encodePacket(m, true, cb));
    return typeof f === "string" ? { text: f } : { bin: hex(f) };
  });
  const wsB64 = messages(parts).map((m) => sync((cb) => eio.encodePacket(m, false, cb)));
  const bin = payload(parts, true);
  const b64 = payload(parts, false);
  console.log(
    JSON.stringify({
      name,
      nsp,
      type,
      id,
      data_hex: dataHex,
      sio: parts.map((p) => (typeof p === "string" ? p : { $bin: hex(p) })),
      ws,
      ws_b64: wsB64,
      payload_binary: bin.binary,
      payload_hex: bin.hex,
      payload_b64_hex: b64.hex,
    }),
  );
}
for (const names of batches) {
  const parts = names.flatMap((n) => partsByName.get(n));
  const bin = payload(parts, true);
  const b64 = payload(parts, false);
  console.log(JSON.stringify({ batch: names, payload_binary: bin.binary, payload_hex: bin.hex, payload_b64_hex: b64.hex }));
}
