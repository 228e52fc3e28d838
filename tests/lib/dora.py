#!/usr/bin/env python3
"""dora.py: DHCP clients one after another, as fast as the server answers.

    dora.py --iface IF --prefix 52:54:00:aa:01 --count N [--wait-ms MS] [--pace-ms MS]
            [--deadline-s S] [--give-up N] [--nak-retries N] [--lease-times]
            [--release]
    dora.py --iface IF --renew FILE --deadline-s S [--wait-ms MS] [--pace-ms MS]
            [--lease-times]

Each client (MAC prefix:NN, NN = 00 .. count-1) sends a DISCOVER, takes
the first OFFER, sends a REQUEST (SELECTING: server id and requested
address) and waits for the ACK; a lost exchange (no OFFER or no ACK within
--wait-ms) is given up and the next client goes on.  Every ACK is printed
the moment it arrives, "ACK MAC ADDRESS", flushed: what a killed server
acknowledged is on stdout whatever happens next.  Runs in the client's
network namespace: broadcast from port 68, replies broadcast (flag set).
Bounded: --count clients, --deadline-s in all, and --give-up N stops after
N clients in a row got no OFFER (the server is gone).  With --nak-retries
N a client sends an unanswered REQUEST once more, and one answered by a
NAK starts over with a DISCOVER, as real clients do (RFC 2131 4.4.1), at
most N times.  With --release each client then releases its lease
("RELEASE MAC ADDRESS": sent, not answered).

--renew FILE: no new clients; the "ACK MAC ADDRESS" lines of FILE (an
earlier run's output) are clients coming back for their addresses, one
after another, round and round until --deadline-s: a REQUEST with option
50 and no server id (INIT-REBOOT; the server takes it as a renewal of the
binding it holds).

--lease-times adds to each ACK line "lease=SECONDS sent=UNIX": option 51
and the whole second (floor) at which the REQUEST left, so that the lease
the server promised ends at sent + lease at the latest.
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
    """(type, yiaddr, server id, lease time) of a reply to xid, or None."""
    if len(data) < 240 or data[0] != 2 or data[236:240] != MAGIC:
        return None
    if struct.unpack("!I", data[4:8])[0] != xid:
        return None
    yiaddr = socket.inet_ntoa(data[16:20])
    kind, server, lease, i = None, None, None, 240
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
        elif code == 51 and size == 4:
            lease = struct.unpack("!I", value)[0]
        i += 2 + size
    return (kind, yiaddr, server, lease) if kind else None


def exchange(sock, payload, xid, want, wait_s):
    sock.sendto(payload, ("255.255.255.255", 67))
    end = time.monotonic() + wait_s
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return None
        reply = parse(sock.recv(2048), xid)
        if reply and reply[0] in want:
            return reply


def print_ack(mac, ack, sent, lease_times):
    line = "ACK %s %s" % (mac.hex(":"), ack[1])
    if lease_times:
        line += " lease=%s sent=%d" % (ack[3], int(sent))
    print(line, flush=True)


def renew(sock, a, stop, wait_s):
    """Clients of an earlier run come back for their addresses."""
    clients = []
    with open(a.renew) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "ACK":
                clients.append((bytes.fromhex(w[1].replace(":", "")), w[2]))
    n = 0
    while clients and time.monotonic() < stop:
        mac, addr = clients[n % len(clients)]
        n += 1
        time.sleep(a.pace_ms / 1000)
        xid = random.getrandbits(32)
        sent = time.time()
        ack = exchange(sock, message(mac, xid, 3, None, addr), xid, (5,), wait_s)
        if ack:
            print_ack(mac, ack, sent, a.lease_times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--prefix")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--renew", help="renew the ACKed clients of this file instead")
    ap.add_argument("--lease-times", action="store_true")
    ap.add_argument("--wait-ms", type=int, default=300)
    ap.add_argument("--deadline-s", type=float, default=60)
    ap.add_argument("--pace-ms", type=int, default=0, help="a pause between two clients")
    ap.add_argument("--give-up", type=int, default=0,
                    help="stop after this many clients in a row got no answer at all")
    ap.add_argument("--nak-retries", type=int, default=0,
                    help="a client NAKed starts over with a DISCOVER, this many times")
    ap.add_argument("--release", action="store_true",
                    help="each client releases its lease (unicast to the server) once ACKed")
    a = ap.parse_args()
    if not a.renew and not a.prefix:
        ap.error("--prefix or --renew")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    sock.bind(("0.0.0.0", 68))
    stop = time.monotonic() + a.deadline_s
    wait_s = a.wait_ms / 1000
    if a.renew:
        renew(sock, a, stop, wait_s)
        return 0
    silent = 0
    for n in range(min(a.count, 256)):
        if time.monotonic() > stop or (a.give_up and silent >= a.give_up):
            break
        time.sleep(a.pace_ms / 1000)
        mac = bytes.fromhex(a.prefix.replace(":", "") + "%02x" % n)
        for _ in range(1 + a.nak_retries):
            xid = random.getrandbits(32)
            offer = exchange(sock, message(mac, xid, 1), xid, (2,), wait_s)
            if not offer or not offer[2]:
                silent += 1
                break
            silent = 0
            sent = time.time()
            request = message(mac, xid, 3, offer[2], offer[1])
            ack = exchange(sock, request, xid, (5, 6), wait_s)
            if not ack and a.nak_retries:       # sent again, as real clients do
                ack = exchange(sock, request, xid, (5, 6), wait_s)
            if ack and ack[0] == 5:
                print_ack(mac, ack, sent, a.lease_times)
                if a.release:
                    sock.sendto(message(mac, xid, 7, offer[2], None, ack[1]), (offer[2], 67))
                    print("RELEASE %s %s" % (mac.hex(":"), ack[1]), flush=True)
            if not ack or ack[0] == 5:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
