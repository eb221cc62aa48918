"""A small plain-WebSocket application: the test stand-in for a live feed behind the proxy.

It speaks first: right after the handshake it sends a greeting naming this host (and the Host
header it received), without waiting for the client. Then it answers each text message with a transformed copy (upper
case, numbered), so an echo server would not pass for it. WebSockets are served at /feed/ws
only; every other path is 404 (including /), and a plain GET of /feed/ws is 426.

Runs with Debian's python3-aiohttp 3.8 (Debian 12) and 3.11 (Debian 13).

    python3 feed_app.py --port 8100
"""

import argparse
import logging
import socket

from aiohttp import WSCloseCode, WSMsgType, web

HOST = socket.gethostname()
PATH = "/feed/ws"


async def feed(request):
    ws = web.WebSocketResponse()
    if not ws.can_prepare(request).ok:
        return web.Response(status=426, headers={"Upgrade": "websocket"}, text="WebSocket only\n")
    await ws.prepare(request)
    logging.info("open from %s", request.remote)
    # The Host it was asked for, too: what an application behind the proxy learns about its
    # public address (same-origin checks and absolute links are built from it).
    await ws.send_json({"type": "greeting", "backend": HOST, "host": request.host})
    count = 0
    async for message in ws:
        if message.type != WSMsgType.TEXT:
            await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"text only")
            break
        count += 1
        await ws.send_json({"type": "answer", "backend": HOST, "n": count, "text": message.data.upper()})
    logging.info("close from %s after %d messages", request.remote, count)
    return ws


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bind", default="0.0.0.0")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = web.Application()
    app.router.add_get(PATH, feed)
    web.run_app(app, host=args.bind, port=args.port, print=None)


if __name__ == "__main__":
    main()
