// Echo demo: every message sent through nginx's /ws/ location comes back unchanged.
const log = (line) => { document.getElementById("log").textContent += line + "\n"; };
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const socket = new WebSocket(`${scheme}//${location.host}/ws/`);
socket.addEventListener("open", () => log("connected to " + socket.url));
socket.addEventListener("message", (event) => log("echo: " + event.data));
socket.addEventListener("close", (event) => log("closed, code " + event.code));
document.getElementById("send").addEventListener("click", () => {
  const text = document.getElementById("message").value;
  log("sent: " + text);
  socket.send(text);
});
