"""A small Socket.IO application: the test stand-in for a real chat server behind the proxy.

Not an echo server. On connect it sends the client a "welcome" event naming this host; it
answers each "hello" event with a "hello_reply" event that names this host and carries the
data it received. Socket.IO lives at /socket.io/ only; every other path is 404.

Written for Debian's packages, both releases: python3-socketio 5.7.2 / python3-engineio 4.3.4 /
python3-aiohttp 3.8 (Debian 12) and 5.12 / 4.11 / 3.11 (Debian 13).

    python3 chat_app.py --port 8000
"""

import argparse
import logging
import socket

import socketio
from aiohttp import web

HOST = socket.gethostname()


def build_app():
    # always_connect: the server acknowledges the namespace connection before the connect
    # handler runs, so the welcome emitted there reaches a client that is already connected
    # (otherwise the event would be sent before the acknowledgement and be dropped).
    # cors_allowed_origins is left unset: Socket.IO then accepts an Origin only when it matches
    # the Host it received, as a real deployment would.
    sio = socketio.AsyncServer(async_mode="aiohttp", always_connect=True)

    @sio.event
    async def connect(sid, environ, auth=None):
        logging.info("connect %s from %s", sid, environ.get("REMOTE_ADDR"))
        await sio.emit("welcome", {"backend": HOST}, to=sid)

    @sio.event
    async def hello(sid, data):
        await sio.emit("hello_reply", {"backend": HOST, "received": data}, to=sid)

    app = web.Application()
    sio.attach(app)  # routes /socket.io/ only; aiohttp answers 404 for everything else
    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bind", default="0.0.0.0")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    web.run_app(build_app(), host=args.bind, port=args.port, print=None)


if __name__ == "__main__":
    main()
