"""A ZWS 2.0 client in libzmq's own `ws://` transport, run by Debian's /usr/bin/python3 with
`python3-zmq` (libzmq 4.3.4): an independent implementation next to jszmq.

    /usr/bin/python3 libzmq_client.py WS_BASE TOKEN

A SUB on `WS_BASE/zmq-events` subscribes to `registry/cluster/`; a DEALER on `WS_BASE/zmq`
creates clusters (`libzmq-1`, `libzmq-2`, ...) until the SUB has received the event of one:
a subscription is only known to have arrived when something comes through it. Prints each
reply as a JSON line {"id", "reply"} and the first event as {"topic", "event"}, then exits 0;
exits 1 if no event came after MAX_ATTEMPTS writes.
"""

from __future__ import annotations

import json
import sys

import zmq

MAX_ATTEMPTS = 50
WAIT_MS = 200
REPLY_MS = 10_000


def main(base: str, token: str) -> int:
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.RCVTIMEO, REPLY_MS)  # no reply: zmq.Again, the client fails
    try:
        sub.connect(f"{base}/zmq-events?token={token}")
        sub.setsockopt(zmq.SUBSCRIBE, b"registry/cluster/")
        dealer.connect(f"{base}/zmq?token={token}")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            body = {"name": f"libzmq-{attempt}"}
            request = {"method": "POST", "path": "/api/clusters", "body": body}
            dealer.send_multipart([str(attempt).encode(), json.dumps(request).encode()])
            request_id, reply = dealer.recv_multipart()
            print(json.dumps({"id": request_id.decode(), "reply": json.loads(reply)}), flush=True)
            if sub.poll(WAIT_MS):
                topic, event = sub.recv_multipart()
                print(json.dumps({"topic": topic.decode(), "event": json.loads(event)}), flush=True)
                return 0
        return 1
    finally:
        sub.close(linger=0)
        dealer.close(linger=0)
        context.term()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
