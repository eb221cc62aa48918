"""Show the demo working: print where it is, then echo WebSocket messages through nginx."""

import argparse
import ssl
import sys
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from wsn_e2e import ws_connect  # noqa: E402  (needs the path above)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080, help="proxy port on 127.0.0.1")
    parser.add_argument("--connections", type=int, default=6, help="connections to spread over the backends")
    parser.add_argument("--tls-port", type=int, default=8443, help="https/wss port of the proxy on 127.0.0.1")
    parser.add_argument("--ca", default=".cache/demo-pki/ca.pem", help="the demo's test CA (made by its prepare step)")
    args = parser.parse_args()
    base = f"127.0.0.1:{args.port}"
    tls_base = f"127.0.0.1:{args.tls_port}"
    tls = ssl.create_default_context(cafile=args.ca)

    with urllib.request.urlopen(f"http://{base}/", timeout=10) as response:
        page_status = response.status
    with urllib.request.urlopen(f"https://{tls_base}/", timeout=10, context=tls) as response:
        tls_page_status = response.status
    print(f"""
websocket.nginx demo is up:
  static page    http://{base}/            (HTTP {page_status}; open it in a browser: it shows which
                 backend answers each of its WebSockets and how nginx spreads them, live)
  WebSocket echo ws://{base}/ws/           (nginx -> echo backends, round robin)
  over TLS       https://{tls_base}/  wss://{tls_base}/ws/   (HTTP {tls_page_status}; Mozilla intermediate,
                 certificate from the local test CA {args.ca}: trust it, or accept the warning)
  backend health http://{base}/healthz
  containers     wsn-demo-proxy, wsn-demo-backend-1 (Debian 12), wsn-demo-backend-2 (Debian 13)
  remove with    make demo-destroy
""")
    # The page learns each connection's backend from the whoami greeting on /ws/whoami.
    with ws_connect(f"ws://{base}/ws/whoami") as ws:
        backend = ws.response.headers.get("X-Echo-Backend", "?")
        try:
            greeting = ws.recv(timeout=5)
        except TimeoutError:
            greeting = None  # the backends' echo_backend_whoami_path is not /ws/whoami
    if greeting != backend:
        print(f"FAILED: /ws/whoami greeted with {greeting!r}, not its backend's name {backend!r}", file=sys.stderr)
        return 1
    print(f"  /ws/whoami (the page's WebSockets) says who answered: {greeting}")
    answered = Counter()
    for number in range(1, args.connections + 1):
        message = f"hello #{number} through nginx"
        with ws_connect(f"ws://{base}/ws/") as ws:
            ws.send(message)
            echo = ws.recv(timeout=10)
            backend = ws.response.headers.get("X-Echo-Backend", "?")
        if echo != message:
            print(f"FAILED: sent {message!r}, got {echo!r}", file=sys.stderr)
            return 1
        answered[backend] += 1
        print(f"  sent {message!r:28} echoed by {backend}")
    with ws_connect(f"wss://{tls_base}/ws/", ssl=tls) as ws:
        ws.send("hello over wss")
        echo = ws.recv(timeout=10)
        backend = ws.response.headers.get("X-Echo-Backend", "?")
    if echo != "hello over wss":
        print(f"FAILED: sent 'hello over wss', got {echo!r}", file=sys.stderr)
        return 1
    print(f"  sent {'hello over wss':28} echoed by {backend} (wss://, verified with the test CA)")
    shares = ", ".join(f"{name}: {count}" for name, count in sorted(answered.items()))
    print(f"\nWebSocket echo through the proxy works ({shares}), and over wss://.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
