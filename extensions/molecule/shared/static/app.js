// Echo demo: several WebSockets through nginx's /ws/ location, each showing which echo backend
// answered it, with a live count of connections and echoes per backend; beside it nginx's own
// counts (all clients) and a chart of its open WebSockets, from the demo's status service.
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

// nginx's own counts, from the demo's status service on the proxy (extensions/molecule/shared/demo_status)
// reached through nginx. A copy of these files served without it gets 404: the page says so quietly
// and asks again less often, in case it comes.
const STATUS_URL = "/demo/status.json";
const STATUS_POLL_MS = 1000;
const STATUS_RETRY_MS = 10000;  // after a failed request
const STATUS_TIMEOUT_MS = 3000;
const CHART_WINDOW_MS = 5 * 60 * 1000;
const CHART = { left: 44, right: 590, top: 10, bottom: 122 };  // the plot area in the SVG's viewBox
const SVG = "http://www.w3.org/2000/svg";
const readings = [];  // {time, websockets}: one per answer, oldest first, within CHART_WINDOW_MS
let statusSeen = false;

const count = (value) => (Number.isInteger(value) && value >= 0 ? value : null);
const shown = (value) => (value === null ? "?" : String(value));
const mebibytes = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

// Only the fields the page shows, each checked: what is missing or not a count is shown as "?".
function readStatus(data) {
  if (data === null || typeof data !== "object" || count(data.websockets) === null) {
    throw new Error(`${STATUS_URL} did not answer the demo's status`);
  }
  const draining = data.draining_workers !== null && typeof data.draining_workers === "object" ? data.draining_workers : {};
  return {
    clients: count(data.client_connections),
    websockets: data.websockets,
    capacity: count(data.capacity),
    capacityPercent: Number.isFinite(data.capacity_percent) && data.capacity_percent >= 0 ? data.capacity_percent : null,
    accepts: count(data.accepts),
    handled: count(data.handled),
    dropped: count(data.dropped),
    servers: (Array.isArray(data.servers) ? data.servers : [])
      .filter((server) => server !== null && typeof server === "object" && typeof server.address === "string")
      .map((server) => ({ address: server.address, connections: count(server.connections) })),
    draining: { workers: count(draining.workers), memory: count(draining.memory_bytes),
                websockets: count(draining.websockets) },
  };
}

function renderStatus(status) {
  const { workers, memory, websockets } = status.draining;
  const capacity = status.capacity === null || status.capacityPercent === null ? "?"
    : `${status.capacityPercent}% of ${status.capacity}`;
  // Old workers serve the WebSockets they had at a reload until those close.
  const draining = workers === 0 ? "none"
    : `${shown(workers)} (${memory === null ? "?" : mebibytes(memory)}, ${shown(websockets)} WebSockets)`;
  const rows = [
    ["clients", "client connections", shown(status.clients)],
    ["websockets", "open WebSockets", String(status.websockets)],
    ["capacity", "capacity used", capacity],
    ["accepts", "accepted since start", shown(status.accepts)],
    ["handled", "handled", shown(status.handled)],
    ["dropped", "dropped (no free worker connection)", shown(status.dropped)],
    ["draining", "old workers draining", draining],
  ];
  byId("proxy-counts").replaceChildren(...rows.map(([field, label, value]) => {
    const tr = element("tr");
    tr.dataset.field = field;
    tr.append(element("th", label), element("td", value, "number"));
    return tr;
  }));
  byId("proxy-servers").replaceChildren(...status.servers.map((server) => {
    const tr = element("tr");
    tr.append(element("td", server.address), element("td", shown(server.connections), "number"));
    return tr;
  }));
}

function svgElement(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// The smallest of 1, 2, 5, 10, 20, 50, ... at or above value: the top of the chart's scale.
function scaleTop(value) {
  const step = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  return [1, 2, 5, 10].map((factor) => factor * step).find((top) => top >= value);
}

function drawChart() {
  const now = Date.now();
  while (readings.length && readings[0].time < now - CHART_WINDOW_MS) readings.shift();
  const { left, right, top, bottom } = CHART;
  const peak = Math.max(0, ...readings.map((point) => point.websockets));
  const highest = scaleTop(peak);
  const x = (time) => left + ((time - (now - CHART_WINDOW_MS)) / CHART_WINDOW_MS) * (right - left);
  const y = (value) => bottom - (value / highest) * (bottom - top);
  const nodes = [
    byId("chart-title"),
    svgElement("line", { class: "axis", x1: left, y1: top, x2: left, y2: bottom }),
    svgElement("line", { class: "axis", x1: left, y1: bottom, x2: right, y2: bottom }),
    svgElement("text", { class: "label", x: left - 6, y: top + 4, "text-anchor": "end" }, String(highest)),
    svgElement("text", { class: "label", x: left - 6, y: bottom + 4, "text-anchor": "end" }, "0"),
    svgElement("text", { class: "label", x: left, y: bottom + 18 }, `${CHART_WINDOW_MS / 60000} min ago`),
    svgElement("text", { class: "label", x: right, y: bottom + 18, "text-anchor": "end" }, "now"),
  ];
  const points = readings.map((point) => `${x(point.time).toFixed(1)},${y(point.websockets).toFixed(1)}`);
  nodes.push(svgElement("polyline", { id: "chart-line", points: points.join(" "), "data-points": points.length }));
  const last = readings[readings.length - 1];
  if (last) {
    nodes.push(svgElement("circle", { id: "chart-dot", cx: x(last.time).toFixed(1), cy: y(last.websockets).toFixed(1), r: 3 }));
  }
  byId("chart").replaceChildren(...nodes);
  byId("chart-last").textContent = last
    ? `${last.websockets} now, at most ${peak} in ${readings.length} reading${readings.length === 1 ? "" : "s"}`
    : "no data yet";
}

async function fetchStatus() {
  let response;
  try {
    response = await fetch(STATUS_URL, { cache: "no-store", signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`${STATUS_URL} did not answer (${error.name === "TimeoutError" ? "timed out" : "no connection"})`);
  }
  if (!response.ok) {
    // The service says why it cannot read nginx's status ({"error": ...}); nginx's own error pages are HTML.
    const reason = await response.json().then((data) => (typeof data?.error === "string" ? `: ${data.error}` : ""),
                                               () => "");
    throw new Error(`${STATUS_URL} answered HTTP ${response.status}${reason}`);
  }
  let data;
  try {
    data = await response.json();
  } catch {
    throw new Error(`${STATUS_URL} did not answer JSON`);
  }
  return readStatus(data);
}

async function pollStatus() {
  let answered = true;
  try {
    const status = await fetchStatus();
    readings.push({ time: Date.now(), websockets: status.websockets });
    renderStatus(status);
    statusSeen = true;
    byId("proxy-status").textContent = `Updated ${new Date().toLocaleTimeString()}, every second.`;
  } catch (error) {
    answered = false;
    byId("proxy-status").textContent = `nginx's own counts are unavailable: ${error.message}. ` +
      (statusSeen ? "The numbers below are the last ones." : "The demo deployment serves them; these files alone do not.");
  }
  for (const id of ["proxy-data", "proxy-chart"]) {
    byId(id).hidden = !statusSeen;
    byId(id).classList.toggle("stale", !answered);
  }
  drawChart();
  setTimeout(pollStatus, answered ? STATUS_POLL_MS : STATUS_RETRY_MS);
}

for (let number = 1; number <= COUNT; number += 1) connect(number);
render();
pollStatus();
