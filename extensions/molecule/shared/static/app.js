// Echo demo: several WebSockets through nginx's /ws/ location, each showing which echo backend
// answered it, with a live count of connections and echoes per backend.
"use strict";

const MAX_CONNECTIONS = 32;
const requested = Number.parseInt(new URLSearchParams(location.search).get("connections") || "6", 10);
const COUNT = Number.isInteger(requested) ? Math.min(Math.max(requested, 1), MAX_CONNECTIONS) : 6;
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
// The echo backend sends its name as the first message on its whoami path. nginx passes the
// whole path on, so the demo's backends set echo_backend_whoami_path to /ws/whoami.
const SOCKET_URL = `${scheme}//${location.host}/ws/whoami`;
// A backend that does not say its name (another whoami path) would otherwise leave the
// connection waiting: after this long it is "unnamed" and its echoes are still shown (a name
// that comes later is still taken as its name).
const NAME_TIMEOUT_MS = 3000;
const UNNAMED = "(unnamed)";

const connections = [];
const byId = (id) => document.getElementById(id);

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;  // never innerHTML: names and echoes are data
  if (className) node.className = className;
  return node;
}

// One colour per backend, the same in every table and log line; hues in the order the backends
// first answer, spread by the golden angle so that neighbours differ.
const colours = new Map();
function badge(name) {
  const node = element("span", name, "backend");
  if (!colours.has(name)) colours.set(name, `hsl(${(colours.size * 137.5 + 100) % 360}, 70%, 82%)`);
  node.style.background = name === UNNAMED ? "#eee" : colours.get(name);
  node.dataset.backend = name;
  return node;
}

function log(parts, className) {
  const item = element("li", undefined, className);
  item.append(new Date().toLocaleTimeString() + " ", ...parts);
  const list = byId("log");
  list.prepend(item);
  list.scrollTop = 0;
  return item;
}

const isReady = (conn) => conn.state === "open" && conn.backend !== null;

function render() {
  const open = connections.filter((conn) => conn.state === "open");
  const backends = new Map();
  for (const conn of connections) {
    if (conn.backend === null) continue;
    const row = backends.get(conn.backend) || { open: 0, echoes: 0 };
    if (conn.state === "open") row.open += 1;
    row.echoes += conn.echoes;
    backends.set(conn.backend, row);
  }

  const backendRows = [...backends.keys()].sort().map((name) => {
    const row = backends.get(name);
    const tr = element("tr");
    tr.dataset.backend = name;
    const bar = element("span", undefined, "bar");
    bar.style.width = `${open.length ? (8 * row.open) / open.length : 0}em`;
    const share = element("td", undefined);
    share.append(bar, ` ${open.length ? Math.round((100 * row.open) / open.length) : 0}%`);
    const cell = element("td");
    cell.append(badge(name));
    tr.append(cell, element("td", String(row.open), "number connections"),
              element("td", String(row.echoes), "number echoes"), share);
    return tr;
  });
  byId("backends").replaceChildren(...backendRows);

  byId("connections").replaceChildren(...connections.map((conn) => {
    const tr = element("tr", undefined, conn.state === "open" ? "" : "closed");
    tr.dataset.connection = String(conn.number);
    const cell = element("td");
    if (conn.backend !== null) cell.append(badge(conn.backend));
    tr.append(element("td", String(conn.number), "number"), cell, element("td", conn.state, "state"),
              element("td", String(conn.echoes), "number echoes"));
    return tr;
  }));

  const named = [...backends.keys()].filter((name) => name !== UNNAMED);
  byId("summary").textContent =
    `${open.length} of ${COUNT} connections open through ${SOCKET_URL}, ` +
    `answered by ${named.length} backend${named.length === 1 ? "" : "s"}`;
  byId("send").disabled = !connections.some(isReady);
}

function connect(number) {
  const conn = { number, backend: null, state: "connecting", echoes: 0, sent: [], socket: new WebSocket(SOCKET_URL) };
  connections.push(conn);
  conn.socket.addEventListener("open", () => {
    conn.state = "open";
    conn.timer = setTimeout(() => {
      if (conn.backend !== null) return;
      conn.backend = UNNAMED;
      log([`#${number} open, but the backend did not say its name (is its whoami path /ws/whoami?)`]);
      render();
    }, NAME_TIMEOUT_MS);
    render();
  });
  conn.socket.addEventListener("message", (event) => {
    const text = typeof event.data === "string" ? event.data : "(binary message)";
    // The whoami greeting (the backend's name) comes first, but may come after the page stopped
    // waiting for it. An echo backend returns what it was sent, so on an unnamed connection
    // that has had no echo yet, a message other than the oldest unanswered send is that name.
    const late = conn.backend === UNNAMED && conn.echoes === 0 && text !== conn.sent[0];
    if (conn.backend === null || late) {
      clearTimeout(conn.timer);
      conn.backend = String(event.data);
      log([`#${number} connected to `, badge(conn.backend), late ? " (its name came late)" : ""]);
    } else {
      const expected = conn.sent.shift();
      conn.echoes += 1;
      const item = log([`#${number} echo from `, badge(conn.backend), `: ${text}`], "echo");
      item.dataset.connection = String(number);
      item.dataset.backend = conn.backend;
      if (text !== expected) item.append(element("span", `  (sent ${JSON.stringify(expected)})`, "mismatch"));
    }
    render();
  });
  conn.socket.addEventListener("close", (event) => {
    clearTimeout(conn.timer);
    conn.state = `closed (${event.code})`;
    log([`#${number} closed, code ${event.code}`]);
    render();
  });
}

byId("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = byId("message").value;
  // Only to connections that have said their name, so no echo is taken for a greeting.
  const ready = connections.filter(isReady);
  for (const conn of ready) {
    conn.sent.push(text);
    conn.socket.send(text);
  }
  log([`sent ${JSON.stringify(text)} on ${ready.length} connection${ready.length === 1 ? "" : "s"}`]);
});

for (let number = 1; number <= COUNT; number += 1) connect(number);
render();
