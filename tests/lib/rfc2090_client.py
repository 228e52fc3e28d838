#!/usr/bin/env python3
"""A small RFC 2090 (TFTP multicast option) client for the integration tests.

rfc2090_client.py SERVER FILE OUT [--blksize N] [--silent] [--plain]
                  [--value TEXT] [--deadline S]

Sends an octet RRQ with "multicast" (empty value, or --value) to SERVER:69.
From the OACK "addr,port,mc" it joins the group (IP_ADD_MEMBERSHIP) on
port, keeps a bitmap of the blocks heard on the group or unicast, and when
an OACK says mc=1 it is the master: it ACKs, to the server's transfer
port, the block before its first hole after each OACK and each DATA.  With
the whole file it ACKs the last block (so the server lets it go), lingers
a moment to re-ACK, writes OUT and prints a summary line.

--silent: never ACK (a master that went away); exits after being made
master (or at the deadline) with status 2.
--plain: expect ordinary TFTP (no multicast in the OACK) and download
lock-step; status 3 if the server multicasts anyway.  With --no-option
the request has no multicast option at all.
"""
import argparse
import select
import socket
import struct
import sys
import time

OACK, DATA, ACK, ERROR = 6, 3, 4, 5


def parse_options(payload):
    parts = payload.split(b"\0")
    opts = {}
    for i in range(0, len(parts) - 1, 2):
        opts[parts[i].decode().lower()] = parts[i + 1].decode()
    return opts


class Client:
    def __init__(self, a):
        self.a = a
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.bind(("0.0.0.0", 0))
        self.m = None
        self.server = None            # (ip, transfer port)
        self.blksize = a.blksize or 512
        self.blocks = {}
        self.last = None
        self.master = False
        self.oacks = []               # mc values in order
        self.acks = 0

    def request(self):
        req = struct.pack("!H", 1) + self.a.file.encode() + b"\0octet\0"
        if not self.a.no_option:
            req += b"multicast\0" + self.a.value.encode() + b"\0"
        if self.a.blksize:
            req += b"blksize\0%d\0" % self.a.blksize
        req += b"tsize\0" b"0\0"
        self.u.sendto(req, (self.a.server, 69))

    def hole(self):
        n = 0
        while n + 1 in self.blocks:
            n += 1
        return n

    def complete(self):
        return self.last is not None and self.hole() >= self.last

    def ack(self, n):
        if self.a.silent or self.server is None:
            return
        self.u.sendto(struct.pack("!HH", ACK, n), self.server)
        self.acks += 1

    def join(self, value):
        addr, port, mc = value.split(",")
        if addr and self.m is None:
            self.m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.m.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.m.bind(("", int(port)))
            mreq = socket.inet_aton(addr) + socket.inet_aton("0.0.0.0")
            self.m.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        return mc == "1"

    def on_oack(self, payload):
        opts = parse_options(payload)
        if "blksize" in opts:
            self.blksize = int(opts["blksize"])
        if "multicast" not in opts:
            if not self.a.plain:
                sys.exit("no multicast in the OACK: %r" % opts)
            self.ack(0)
            return
        if self.a.plain:
            print("multicast granted to a plain request: %s" % opts["multicast"])
            sys.exit(3)
        self.master = self.join(opts["multicast"])
        self.oacks.append(1 if self.master else 0)
        if self.master:
            self.ack(self.hole())

    def on_data(self, block, data):
        if block not in self.blocks:
            self.blocks[block] = data
        if len(data) < self.blksize:
            self.last = block
        if self.a.plain:
            self.ack(block)
        elif self.master and not self.complete():
            self.ack(self.hole())

    def packet(self, pkt, src):
        if len(pkt) < 4:
            return
        op, num = struct.unpack("!HH", pkt[:4])
        if self.server is None and op in (OACK, DATA, ERROR):
            self.server = src
        if src != self.server:
            return                  # RFC 2090: source address and port checked
        if op == ERROR:
            sys.exit("server error %d: %s" % (num, pkt[4:].rstrip(b"\0").decode()))
        if op == OACK:
            self.on_oack(pkt[2:])
        elif op == DATA:
            self.on_data(num, pkt[4:])

    def wait(self, seconds):
        socks = [self.u] + ([self.m] if self.m else [])
        ready, _, _ = select.select(socks, [], [], seconds)
        for s in ready:
            pkt, src = s.recvfrom(70000)
            self.packet(pkt, src)
        return bool(ready)

    def finish(self):
        """ACK the last block (the server lets us go) and linger a moment."""
        self.ack(self.last)
        end = time.time() + 0.5
        while time.time() < end:
            heard_oack = len(self.oacks)
            if self.wait(0.1) and len(self.oacks) > heard_oack:
                self.ack(self.last)

    def run(self):
        deadline = time.time() + self.a.deadline
        self.request()
        tries = 0
        while self.server is None:
            if not self.wait(1.0):
                tries += 1
                if tries > 4 or time.time() > deadline:
                    sys.exit("no answer to the request")
                self.request()
        quiet = 0
        while not self.complete():
            if time.time() > deadline:
                print("deadline: %d blocks, last %s, hole %d, master %s, oacks %s"
                      % (len(self.blocks), self.last, self.hole(), self.master, self.oacks))
                sys.exit(1)
            if self.a.silent and self.master:
                print("silent-master oacks=%s" % self.oacks)
                sys.exit(2)
            if self.wait(0.5):
                quiet = 0
                continue
            quiet += 1
            if self.master or (self.a.plain and quiet > 1):
                self.ack(self.hole())   # lost DATA: ask again
        if not self.a.silent:
            self.finish()
        with open(self.a.out, "wb") as f:
            for b in range(1, self.last + 1):
                f.write(self.blocks[b])
        print("ok blocks=%d blksize=%d oacks=%s acks=%d"
              % (self.last, self.blksize, ",".join(map(str, self.oacks)), self.acks))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("server")
    p.add_argument("file")
    p.add_argument("out")
    p.add_argument("--blksize", type=int, default=0)
    p.add_argument("--silent", action="store_true")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--no-option", action="store_true")
    p.add_argument("--value", default="")
    p.add_argument("--deadline", type=float, default=60)
    Client(p.parse_args()).run()


if __name__ == "__main__":
    main()
