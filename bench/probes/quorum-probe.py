#!/usr/bin/env python3
"""The Python twin of src/cli/quorum-probe.ts (read its comment): a latency probe for the
course's simulator, not a database. Replica 0000 answers gets at once and a put after a majority
of pongs; every other replica redirects clients to 0000 and answers pings.
QUORUM_PROBE=broadcast sends each put's ping to FFFF instead of to the first majority-1 peers."""
import json
import os
import socket
import sys

LEADER = "0000"


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: quorum-probe.py <simulator port> <own ID> <peer ID>...")
    simulator = ("127.0.0.1", int(sys.argv[1]))
    me, peers = sys.argv[2], sys.argv[3:]
    need = (len(peers) + 1) // 2
    asked = sorted(peers)[:need]
    broadcast = os.environ.get("QUORUM_PROBE") == "broadcast"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))

    def send(**fields):
        udp.sendto(json.dumps(fields).encode(), simulator)

    send(src=me, dst="FFFF", leader="FFFF", type="hello")
    store, pending = {}, {}
    while True:
        try:
            m = json.loads(udp.recv(65535))
        except ValueError:
            continue
        kind, mid = m.get("type"), m.get("MID")
        if me != LEADER:
            if kind in ("get", "put"):
                send(src=me, dst=m["src"], leader=LEADER, type="redirect", MID=mid)
            elif kind == "ping":
                send(src=me, dst=m["src"], leader=LEADER, type="pong", MID=mid)
        elif kind == "get":
            send(src=me, dst=m["src"], leader=me, type="ok", MID=mid, value=store.get(m["key"], ""))
        elif kind == "put":
            pending[mid] = {"client": m["src"], "key": m["key"], "value": m["value"], "acks": 0}
            for peer in ["FFFF"] if broadcast else asked:
                send(src=me, dst=peer, leader=me, type="ping", MID=mid)
        elif kind == "pong" and mid in pending:
            put = pending[mid]
            put["acks"] += 1
            if put["acks"] >= need:
                del pending[mid]
                store[put["key"]] = put["value"]
                send(src=me, dst=put["client"], leader=me, type="ok", MID=mid)


main()
