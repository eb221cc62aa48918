"""Socket.IO sessions over Engine.IO v4 long polling, one per local source address.

Copied into the proxy container and run there by test_applications.py. nginx's `hash
$remote_addr` only spreads clients that come from different addresses, and inside the
container every 127.0.0.x address is local, so each session binds its own source address.
That needs only the standard library (http.client's source_address), hence hand-written
Engine.IO polling instead of a Socket.IO client library, which the container does not have.

Each session: open (GET), connect to the namespace (POST "40"), receive the acknowledgement
and the server's "welcome" event, then several rounds of emitting "hello" (POST) and
receiving "hello_reply" (GET), then close (POST "1"): every request carries the session id,
so every request must reach the backend that opened the session. Prints one JSON line per
source address: {"source", "ok", "backend", "requests"} or {"source", "ok": false, "step",
"status", "error"}.

    python3 engineio_polling_client.py --port 8080 --sources 20
"""

import argparse
import http.client
import json

RECORD_SEPARATOR = "\x1e"  # between Engine.IO packets in one polling payload
MAX_POLLS = 5  # GETs allowed per awaited event; the server sends nothing unasked but pings


class StepFailed(Exception):
    def __init__(self, step, status, error):
        super().__init__(step, status, error)
        self.step, self.status, self.error = step, status, error


class PollingSession:
    def __init__(self, source, port, path, timeout):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                                     source_address=(source, 0))
        self.path = path
        self.sid = None
        self.requests = 0
        self.backends = set()
        self.received = []  # Socket.IO packets of a payload not consumed yet

    def request(self, step, method, body=None):
        query = "EIO=4&transport=polling" + (f"&sid={self.sid}" if self.sid else "")
        headers = {"Content-Type": "text/plain;charset=UTF-8"} if body is not None else {}
        self.requests += 1
        try:
            self.connection.request(method, f"{self.path}?{query}", body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException) as error:
            raise StepFailed(step, None, repr(error)) from None
        if response.status != 200:
            raise StepFailed(step, response.status, text[:200])
        return text

    def post(self, step, packet):
        text = self.request(step, "POST", packet)
        if text.lower() != "ok":  # "OK" from python-engineio, "ok" from the JavaScript server
            raise StepFailed(step, 200, f"expected ok, got {text[:200]!r}")

    def wait_for(self, step, predicate):
        """The next Socket.IO packet that predicate accepts, decoded; GETs when none is left
        (bounded). One payload may hold several packets, so the rest are kept for later."""
        polls = 0
        while True:
            while self.received:
                found = predicate(self.received.pop(0))
                if found is not None:
                    return found
            if polls == MAX_POLLS:
                raise StepFailed(step, 200, f"nothing matching after {MAX_POLLS} polls")
            polls += 1
            for packet in self.request(step, "GET").split(RECORD_SEPARATOR):
                if packet == "2":  # Engine.IO ping: answer, or the server drops the session
                    self.post(step, "3")
                elif packet.startswith("4"):  # Engine.IO message: a Socket.IO packet
                    self.received.append(packet[1:])

    def run(self, emits):
        text = self.request("open", "GET")
        if not text.startswith("0"):
            raise StepFailed("open", 200, f"not an Engine.IO open packet: {text[:200]!r}")
        self.sid = json.loads(text[1:])["sid"]
        self.post("namespace connect", "40")
        self.wait_for("connect acknowledgement", lambda p: p if p.startswith("0") else None)
        welcome = self.wait_for("welcome", lambda p: event(p, "welcome"))
        self.backends.add(welcome["backend"])
        for n in range(emits):
            self.post(f"emit {n}", "42" + json.dumps(["hello", {"n": n}]))
            reply = self.wait_for(f"reply {n}", lambda p, n=n: reply_to(p, n))
            self.backends.add(reply["backend"])
        self.post("close", "1")
        self.connection.close()
        if len(self.backends) != 1:
            raise StepFailed("backend", 200, f"one session answered by {sorted(self.backends)}")
        return welcome["backend"]


def event(packet, name):
    """The data of a Socket.IO EVENT packet ("2[name, data]") called name, else None."""
    if packet.startswith("2"):
        event_name, data = json.loads(packet[1:])
        if event_name == name:
            return data
    return None


def reply_to(packet, n):
    data = event(packet, "hello_reply")
    return data if data is not None and data["received"] == {"n": n} else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/socket.io/")
    parser.add_argument("--sources", type=int, default=20, help="127.0.0.1 .. 127.0.0.N")
    parser.add_argument("--emits", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10, help="seconds per request")
    args = parser.parse_args()
    for last_byte in range(1, args.sources + 1):
        source = f"127.0.0.{last_byte}"
        session = PollingSession(source, args.port, args.path, args.timeout)
        try:
            backend = session.run(args.emits)
            result = {"source": source, "ok": True, "backend": backend, "requests": session.requests}
        except StepFailed as failure:
            session.connection.close()
            result = {"source": source, "ok": False, "step": failure.step,
                      "status": failure.status, "error": failure.error}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
