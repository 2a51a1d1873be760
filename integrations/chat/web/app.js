// The chat page: the same file is served by the Go servers and by the Node
// one. Every entry of the log carries data-* attributes (kind, room, nick,
// mid, state) so that a test can read the page as a user does.
"use strict";

const $ = (id) => document.getElementById(id);
let socket = null;
let me = null;
let seq = 0;
const rooms = new Set();
const users = new Map(); // id → user

function entry(kind, attrs, parts) {
  const div = document.createElement("div");
  div.className = "entry " + kind;
  div.dataset.kind = kind;
  for (const [k, v] of Object.entries(attrs || {})) div.dataset[k] = v;
  for (const p of parts) {
    if (typeof p === "string") {
      div.appendChild(document.createTextNode(p));
    } else {
      const span = document.createElement("span");
      span.className = p.cls;
      span.textContent = p.text;
      div.appendChild(span);
    }
  }
  const log = $("log");
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
  return div;
}

function system(text, attrs) {
  return entry("system", attrs, [text]);
}

function label(u) {
  return `${u.nick} @${u.server}`;
}

function renderRooms() {
  const ul = $("rooms");
  ul.replaceChildren();
  for (const r of [...rooms].sort()) {
    const li = document.createElement("li");
    li.dataset.room = r;
    li.textContent = "#" + r;
    ul.appendChild(li);
  }
}

function renderUsers() {
  const ul = $("users");
  ul.replaceChildren();
  const list = [...users.values()].sort((a, b) => (a.nick + a.id).localeCompare(b.nick + b.id));
  for (const u of list) {
    const li = document.createElement("li");
    li.dataset.id = u.id;
    li.dataset.nick = u.nick;
    li.dataset.server = u.server;
    li.title = u.id;
    li.append(u.nick + (me && u.id === me.id ? " (you) " : " "));
    const s = document.createElement("span");
    s.className = "server";
    s.textContent = "@" + u.server;
    li.appendChild(s);
    li.onclick = () => {
      $("pm-to").value = u.id;
      $("pm-text").focus();
    };
    ul.appendChild(li);
  }
}

function setState(div, state, text) {
  div.classList.remove("pending", "delivered", "failed");
  div.classList.add(state);
  div.dataset.state = state;
  div.querySelector(".state").textContent = text;
}

function connect(nick) {
  if (socket) socket.disconnect();
  rooms.clear();
  users.clear();
  renderRooms();
  renderUsers();
  socket = io({ auth: { nick }, transports: ["websocket"] });

  socket.on("connect_error", (err) => {
    $("status").textContent = "connection failed: " + err.message;
    $("status").className = "";
  });
  socket.on("disconnect", (reason) => {
    $("status").textContent = "disconnected (" + reason + ")";
    $("status").className = "";
  });

  socket.on("welcome", (u) => {
    me = u;
    $("status").textContent = `connected to ${u.server} as ${u.nick}`;
    $("status").className = "online";
    $("status").dataset.server = u.server;
    $("me").textContent = `${u.nick} — socket ${u.id} on ${u.server}`;
    $("me").dataset.id = u.id;
    users.set(u.id, u);
    renderUsers();
    system(`connected to ${u.server}`, { event: "welcome", server: u.server });
    socket.emit("who", (list) => {
      for (const x of list) users.set(x.id, x);
      renderUsers();
    });
  });

  socket.on("presence", ({ status, user }) => {
    if (status === "online") users.set(user.id, user);
    else users.delete(user.id);
    renderUsers();
  });

  socket.on("joined", ({ room, user }) => {
    if (me && user.id === me.id) return;
    system(`${label(user)} joined #${room}`, { event: "joined", room, nick: user.nick, server: user.server });
  });

  socket.on("left", ({ room, user }) => {
    if (me && user.id === me.id) return;
    system(`${label(user)} left #${room}`, { event: "left", room, nick: user.nick, server: user.server });
  });

  socket.on("msg", (m, ack) => {
    entry("msg", { room: m.room, nick: m.from.nick, server: m.from.server, mid: m.mid, text: m.text, dir: "in" }, [
      `#${m.room} `,
      { cls: "who", text: label(m.from) },
      ": " + m.text,
    ]);
    if (ack) ack({ nick: me ? me.nick : "", server: me ? me.server : "" });
  });

  socket.on("pm", (m, ack) => {
    entry("pm", { nick: m.from.nick, server: m.from.server, mid: m.mid, text: m.text, dir: "in" }, [
      "private from ",
      { cls: "who", text: label(m.from) },
      ": " + m.text,
    ]);
    if (ack) ack({ nick: me ? me.nick : "", server: me ? me.server : "" });
  });
}

$("connect-form").onsubmit = (e) => {
  e.preventDefault();
  connect($("nick").value.trim());
};

$("room-form").onsubmit = (e) => {
  e.preventDefault();
  const room = $("room").value.trim();
  if (!socket || !room) return;
  socket.emit("join", room, (r) => {
    if (!r.ok) return system("join failed: " + r.error, { event: "error" });
    rooms.add(r.room);
    renderRooms();
    $("msg-room").value = r.room;
    system(`you joined #${r.room}`, { event: "you-joined", room: r.room });
  });
};

$("leave").onclick = () => {
  const room = $("room").value.trim();
  if (!socket || !room) return;
  socket.emit("leave", room, (r) => {
    if (!r.ok) return system("leave failed: " + r.error, { event: "error" });
    rooms.delete(r.room);
    renderRooms();
    system(`you left #${r.room}`, { event: "you-left", room: r.room });
  });
};

$("msg-form").onsubmit = (e) => {
  e.preventDefault();
  const room = $("msg-room").value.trim();
  const text = $("msg-text").value;
  if (!socket || !me || !text) return;
  const mid = `${me.id}-${++seq}`;
  const div = entry("msg", { room, nick: me.nick, server: me.server, mid, text, dir: "out", state: "pending" }, [
    `#${room} `,
    { cls: "who", text: "you" },
    ": " + text,
    { cls: "state", text: "…" },
  ]);
  $("msg-text").value = "";
  socket.emit("msg", { room, text, mid }, (r) => {
    if (!r.ok) return setState(div, "failed", "✗ " + r.error);
    div.dataset.delivered = r.delivered;
    setState(div, "delivered", `✓ delivered to ${r.delivered} (acked by ${r.server})`);
  });
};

$("pm-form").onsubmit = (e) => {
  e.preventDefault();
  const to = $("pm-to").value.trim();
  const text = $("pm-text").value;
  if (!socket || !me || !to || !text) return;
  const mid = `${me.id}-${++seq}`;
  const u = users.get(to);
  const div = entry("pm", { to, mid, text, dir: "out", state: "pending" }, [
    "private to ",
    { cls: "who", text: u ? label(u) : to },
    ": " + text,
    { cls: "state", text: "…" },
  ]);
  $("pm-text").value = "";
  socket.emit("pm", { to, text, mid }, (r) => {
    if (!r.ok) return setState(div, "failed", "✗ " + r.error);
    div.dataset.by = r.by.nick;
    setState(div, "delivered", `✓ read by ${r.by.nick} @${r.by.server}`);
  });
};

// ?nick=… connects at once.
const q = new URLSearchParams(location.search);
if (q.get("nick")) {
  $("nick").value = q.get("nick");
  connect(q.get("nick"));
}
