#!/usr/bin/env python3
"""dora.py: DHCP clients one after another, as fast as the server answers.

    dora.py --iface IF --prefix 52:54:00:aa:01 --count N [--wait-ms MS] [--pace-ms MS]
            [--deadline-s S] [--give-up N] [--release]

Each client (MAC prefix:NN, NN = 00 .. count-1) sends a DISCOVER, takes
the first OFFER, sends a REQUEST (SELECTING: server id and requested
address) and waits for the ACK; a lost exchange (no OFFER or no ACK within
--wait-ms) is given up and the next client goes on.  Every ACK is printed
the moment it arrives, "ACK MAC ADDRESS", flushed: what a killed server
acknowledged is on stdout whatever happens next.  Runs in the client's
network namespace: broadcast from port 68, replies broadcast (flag set).
With --release each client then releases its lease ("RELEASE MAC
ADDRESS": sent, not answered).  Bounded: --count clients, --deadline-s in all, and --give-up N stops after
N clients in a row got no OFFER (the server is gone).
"""
import argparse
import random
import select
import socket
import struct
import sys
import time

MAGIC = b"\x63\x82\x53\x63"


def message(mac, xid, kind, server=None, requested=None, ciaddr=None):
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                       socket.inet_aton(ciaddr) if ciaddr else b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                       mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    opts = bytes([53, 1, kind])
    if server:
        opts += bytes([54, 4]) + socket.inet_aton(server)
    if requested:
        opts += bytes([50, 4]) + socket.inet_aton(requested)
    return head + MAGIC + opts + b"\xff"


def parse(data, xid):
    """(type, yiaddr, server id) of a reply to xid, or None."""
    if len(data) < 240 or data[0] != 2 or data[236:240] != MAGIC:
        return None
    if struct.unpack("!I", data[4:8])[0] != xid:
        return None
    yiaddr = socket.inet_ntoa(data[16:20])
    kind, server, i = None, None, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            return None
        code, size, value = data[i], data[i + 1], data[i + 2:i + 2 + data[i + 1]]
        if code == 53 and size == 1:
            kind = value[0]
        elif code == 54 and size == 4:
            server = socket.inet_ntoa(value)
        i += 2 + size
    return (kind, yiaddr, server) if kind else None


def exchange(sock, payload, xid, want, wait_s):
    sock.sendto(payload, ("255.255.255.255", 67))
    end = time.monotonic() + wait_s
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return None
        reply = parse(sock.recv(2048), xid)
        if reply and reply[0] == want:
            return reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--wait-ms", type=int, default=300)
    ap.add_argument("--deadline-s", type=float, default=60)
    ap.add_argument("--pace-ms", type=int, default=0, help="a pause between two clients")
    ap.add_argument("--give-up", type=int, default=0,
                    help="stop after this many clients in a row got no answer at all")
    ap.add_argument("--release", action="store_true",
                    help="each client releases its lease (unicast to the server) once ACKed")
    a = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    sock.bind(("0.0.0.0", 68))
    stop = time.monotonic() + a.deadline_s
    wait_s = a.wait_ms / 1000
    silent = 0
    for n in range(min(a.count, 256)):
        if time.monotonic() > stop or (a.give_up and silent >= a.give_up):
            break
        time.sleep(a.pace_ms / 1000)
        mac = bytes.fromhex(a.prefix.replace(":", "") + "%02x" % n)
        xid = random.getrandbits(32)
        offer = exchange(sock, message(mac, xid, 1), xid, 2, wait_s)
        if not offer or not offer[2]:
            silent += 1
            continue
        silent = 0
        ack = exchange(sock, message(mac, xid, 3, offer[2], offer[1]), xid, 5, wait_s)
        if ack:
            print("ACK %s %s" % (mac.hex(":"), ack[1]), flush=True)
            if a.release:
                sock.sendto(message(mac, xid, 7, offer[2], None, ack[1]), (offer[2], 67))
                print("RELEASE %s %s" % (mac.hex(":"), ack[1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
