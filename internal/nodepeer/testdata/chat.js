// chat.js — the Node.js version of the chat server of integrations/chat:
// socket.io 4.8 with the classic @socket.io/redis-adapter 8.3, serving the
// same page (integrations/chat/web) and the same events, so that it joins a
// cluster of Go chat servers on the same Redis.
//
//   node chat.js --redis redis://127.0.0.1:6379 [--port 3002] [--host 127.0.0.1] [--name node-3002]
//
// Run it from this directory after `make node-peers` (npm ci). --port 0
// picks a free port. Once the namespace is subscribed it prints one line,
// "chat server NAME listening on http://HOST:PORT", on stdout.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith("--")) out[argv[i].slice(2)] = argv[++i];
  }
  return out;
}

const argv = parseArgs(process.argv.slice(2));
const redisURL = argv.redis || process.env.REDIS_URL || "redis://127.0.0.1:6379";
const host = argv.host || "127.0.0.1";
const port = Number(argv.port || 3002);
const web = argv.web || path.join(__dirname, "..", "..", "..", "integrations", "chat", "web");
const ACK_TIMEOUT = 5000;

const pages = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
};

async function main() {
  const pub = createClient({ url: redisURL });
  const sub = pub.duplicate();
  pub.on("error", (e) => console.error("redis:", e.message));
  sub.on("error", (e) => console.error("redis:", e.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer((req, res) => {
    const page = pages[new URL(req.url, "http://x").pathname];
    if (!page || req.method !== "GET") {
      res.writeHead(404).end("not found");
      return;
    }
    fs.readFile(path.join(web, page[0]), (err, body) => {
      if (err) {
        res.writeHead(500).end(String(err));
        return;
      }
      res.writeHead(200, { "Content-Type": page[1] }).end(body);
    });
  });
  // socket.io serves /socket.io/socket.io.min.js itself (serveClient).
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
  // Once Redis answers a fresh SUBSCRIBE on the subscriber connection, the
  // adapter's PSUBSCRIBE sent before it has been confirmed.
  const barrier = `__chat_barrier#${process.pid}`;
  await sub.subscribe(barrier, () => {});
  await sub.unsubscribe(barrier);

  await new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(port, host, resolve);
  });
  const actual = httpServer.address().port;
  const name = argv.name || `node-${actual}`;
  const roomKey = (name) => "room:" + name;

  io.on("connection", (socket) => {
    const nick = (String((socket.handshake.auth || {}).nick || "").trim() || "guest-" + socket.id.slice(0, 4)).slice(0, 32);
    const me = { id: socket.id, nick, server: name };
    socket.data = { nick, server: name };
    socket.emit("welcome", me);
    io.except(socket.id).emit("presence", { status: "online", user: me });
    socket.on("disconnect", () => io.emit("presence", { status: "offline", user: me }));

    const reply = (ack, v) => typeof ack === "function" && ack(v);
    const roomArg = (r) => {
      r = typeof r === "string" ? r.trim() : "";
      if (!r) throw new Error("a room needs a name");
      if (Buffer.byteLength(r) > 64) throw new Error("room names are at most 64 bytes");
      return r;
    };

    socket.on("join", (room, ack) => {
      try {
        room = roomArg(room);
      } catch (e) {
        return reply(ack, { ok: false, error: e.message });
      }
      socket.join(roomKey(room));
      io.to(roomKey(room)).emit("joined", { room, user: me });
      reply(ack, { ok: true, room, server: name });
    });

    socket.on("leave", (room, ack) => {
      try {
        room = roomArg(room);
      } catch (e) {
        return reply(ack, { ok: false, error: e.message });
      }
      socket.leave(roomKey(room));
      io.to(roomKey(room)).emit("left", { room, user: me });
      reply(ack, { ok: true, room, server: name });
    });

    socket.on("msg", (m, ack) => {
      const { room = "", text = "", mid = "" } = m || {};
      if (!text) return reply(ack, { ok: false, mid, error: "empty message" });
      if (!socket.rooms.has(roomKey(room))) return reply(ack, { ok: false, mid, error: `join ${room} first` });
      const out = { room, text, mid, from: me, server: name };
      io.to(roomKey(room))
        .except(socket.id)
        .timeout(ACK_TIMEOUT)
        .emit("msg", out, (err, acks) => {
          const r = { ok: true, mid, server: name, delivered: (acks || []).length };
          if (err) r.error = "not every member acknowledged: " + err.message;
          reply(ack, r);
        });
    });

    socket.on("pm", (m, ack) => {
      const { to = "", text = "", mid = "" } = m || {};
      if (!to || !text) return reply(ack, { ok: false, mid, error: "a private message needs a recipient and a text" });
      const out = { to, text, mid, from: me, server: name };
      io.to(to)
        .timeout(ACK_TIMEOUT)
        .emit("pm", out, (err, acks) => {
          if (!acks || acks.length === 0) return reply(ack, { ok: false, mid, server: name, error: "no such user: " + to });
          reply(ack, { ok: true, mid, server: name, by: acks[0] });
        });
    });

    socket.on("who", async (ack) => {
      let socks = [];
      try {
        socks = await io.fetchSockets();
      } catch (e) {
        console.error("fetchSockets:", e.message);
      }
      const users = socks.map((s) => ({ id: s.id, nick: (s.data || {}).nick || "", server: (s.data || {}).server || "" }));
      users.sort((a, b) => (a.nick + a.id < b.nick + b.id ? -1 : a.nick + a.id > b.nick + b.id ? 1 : 0));
      reply(ack, users);
    });
  });

  console.log(`chat server ${name} listening on http://${host}:${actual}`);

  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  console.error("chat:", e);
  process.exit(1);
});
