"""The demo page's view of nginx: the proxy's own counts as JSON, on a loopback port of the proxy. Demo only.

GET /demo/status.json answers what the page (extensions/molecule/shared/static) shows, taken from the report of
nginx_status.py (a copy of the collection's plugins/module_utils/nginx_status.py, deployed beside this file):

    {"client_connections": 9, "websockets": 8, "capacity": 10000, "capacity_percent": 0.1,
     "accepts": 120, "handled": 120, "dropped": 0,
     "servers": [{"address": "wsn-demo-backend-1:8765", "connections": 4}, ...],
     "draining_workers": {"workers": 0, "memory_bytes": 0, "websockets": 0}}

``servers`` are those of the WebSocket upstreams (each address once, with every connection nginx has open to it);
``websockets`` counts the connections to them. 503 with {"error": ...} when nginx's status cannot be read.
GET /health answers "ok" (whether nginx runs or not: the service is deployed before the proxy that checks it).
The demo site passes /demo/status.json on to this service; nginx's connection to it while it asks is one of
nginx's upstream connections, which is why its own upstream is not a WebSocket one.

Standard library only (Debian's python3):

    python3 demo_status.py --listen 127.0.0.1:8077 --status-url http://127.0.0.1:8079/stub_status \\
        --capacity 10000 --upstreams-file upstreams.json
"""

import argparse
import http.server
import json
import socket
import sys

import nginx_status  # the copy beside this file (the script's directory is first on sys.path)

STATUS_PATH = "/demo/status.json"
HEALTH_PATH = "/health"


def page_status(report):
    """Only what the page shows, from nginx_status's report."""
    servers = {}
    for upstream in report["upstreams"]:
        if upstream["websocket"]:
            for server in upstream["servers"]:
                servers.setdefault(server["address"], server["connections"])  # None: could not be counted
    old = report["old_workers"]
    return {
        # Counted in /proc as the WebSockets are (stub_status's active connections would add its own request).
        "client_connections": report["client_connections"],
        "websockets": report["websockets"],
        "capacity": report["capacity"],
        "capacity_percent": report["capacity_percent"],
        "accepts": report["accepts"],
        "handled": report["handled"],
        "dropped": report["dropped"],
        "servers": [{"address": address, "connections": count} for address, count in sorted(servers.items())],
        "draining_workers": {"workers": old["count"], "memory_bytes": old["rss_bytes"],
                             "websockets": old["websockets"]},
    }


class StatusHandler(http.server.BaseHTTPRequestHandler):
    server_version = "wsn-demo-status"
    settings = None  # {status_url, capacity, upstreams, timeout}, set by main()

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        if path == HEALTH_PATH:
            self.answer(200, "text/plain", b"ok\n")
        elif path == STATUS_PATH:
            try:
                report = nginx_status.status_report(**self.settings)
            except nginx_status.StatusError as exc:
                self.answer(503, "application/json", json.dumps({"error": exc.msg}).encode())
                return
            self.answer(200, "application/json", json.dumps(page_status(report)).encode())
        else:
            self.answer(404, "text/plain", b"not found\n")

    def answer(self, status, kind, body):
        self.send_response(status)
        self.send_header("Content-Type", kind + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code="-", size="-"):
        # The page asks every second: only what went wrong goes to the journal.
        if not (isinstance(code, int) and code < 400):
            super().log_request(code, size)


def listen_address(text):
    """(host, port) of "127.0.0.1:8077" or "[::1]:8077"."""
    host, _colon, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"not an address:port, such as 127.0.0.1:8077: {text!r}")
    return host, int(port)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", type=listen_address, default="127.0.0.1:8077",
                        help="loopback address:port to answer on (default %(default)s)")
    parser.add_argument("--status-url", default=nginx_status.DEFAULT_STATUS_URL,
                        help="nginx's stub_status (default %(default)s)")
    parser.add_argument("--capacity", type=int, help="WebSockets nginx is sized for (nginx_websocket_capacity)")
    parser.add_argument("--upstreams-file", required=True,
                        help='JSON list of {"name", "servers": [addresses], "websocket": bool}: nginx\'s upstreams')
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds for the status page (default %(default)s)")
    args = parser.parse_args(argv)
    # Every setting checked once, as nginx_status checks them, before the first request.
    try:
        with open(args.upstreams_file, encoding="utf-8") as handle:
            upstreams = nginx_status.check_upstreams(json.load(handle))
        nginx_status.parse_status_url(args.status_url)
        settings = {"status_url": args.status_url, "capacity": nginx_status.check_capacity(args.capacity),
                    "upstreams": upstreams, "timeout": nginx_status.check_timeout(args.timeout)}
    except (OSError, ValueError) as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")
    StatusHandler.settings = settings
    server_class = http.server.ThreadingHTTPServer
    if ":" in args.listen[0]:
        server_class = type("ThreadingHTTPServerV6", (server_class,), {"address_family": socket.AF_INET6})
    with server_class(args.listen, StatusHandler) as server:
        print(f"answering on {args.listen[0]}:{server.server_address[1]}{STATUS_PATH}", flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
