#!/usr/bin/env python3
"""A TFTP client that reads one file slowly: RRQ (octet, no options), then
each DATA block is acknowledged after DELAY seconds, so the transfer stays
in flight long enough to be watched (pxectl status).  Exits 0 when the
file ended, 1 on a timeout or an error packet.

    tftp_slow.py SERVER FILE DELAY"""
import socket
import struct
import sys
import time

server, name, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"\x00\x01" + name.encode() + b"\x00octet\x00", (server, 69))
while True:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        sys.exit(1)
    op, block = struct.unpack("!HH", data[:4])
    if op != 3:
        sys.exit(1)
    time.sleep(delay)
    s.sendto(struct.pack("!HH", 4, block), peer)
    if len(data) < 516:
        sys.exit(0)
