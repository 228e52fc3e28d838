"""Seeds of fuzz_mcast_control: sessions (the 4 shape bytes) with records
of STATUS and NACK from receivers and DATA and PARITY for the receiver's
side (docs/MULTICAST.md, src/mcast/codec.h)."""
import struct

from common import write

DIR = "fuzz/corpus/fuzz_mcast_control"
FEC = [(0, 0), (4, 2), (16, 2), (8, 8)]


def header(kind, body, sender):
    return b"PXMC" + struct.pack(">BBHQQ", 1, kind, len(body), 0x5EA55E55, sender) + body


def status(sender, done, total, state, ranges, seen=0, backlog=0, received=10, lost=0):
    body = struct.pack(">IIIIBIIH", done, total, received, lost, state, seen, backlog,
                       len(ranges))
    for first, count in ranges:
        body += struct.pack(">II", first, count)
    return header(2, body, sender)


def nack(sender, chunk, frame_len, ranges):
    body = struct.pack(">IIH", chunk, frame_len, len(ranges))
    for first, count in ranges:
        body += struct.pack(">II", first, count)
    return header(4, body, sender)


def data(chunk, frame_len, offset, payload, total, pas=1, flags=0):
    body = struct.pack(">IIIHIB", chunk, frame_len, offset, pas, total, flags) + payload
    return header(1, body, 0)


def parity(chunk, frame_len, group, slice_, k, m, index, payload, total, pas=1):
    body = struct.pack(">IIIHBBBHI", chunk, frame_len, group, slice_, k, m, index, pas,
                       total) + payload
    return header(5, body, 0)


def record(step_ms, packet):
    return bytes([step_ms]) + struct.pack(">H", len(packet)) + packet


def shape(chunks, slice_step, fec, receivers):
    s = bytes([chunks - 1, slice_step, fec, receivers - 1])
    nchunks = chunks
    slice_ = 64 * (1 + slice_step % 22)
    frames = [1 + (i * 7919 + fec * 131) % (slice_ * 40) for i in range(nchunks)]
    return s, slice_, frames


def seeds():
    s, sl, fr = shape(3, 0, 1, 2)
    k, m = FEC[1]
    out = {
        "status_needs": s + record(5, status(100, 1, 3, 0, [(1, 2)])) +
        record(50, status(101, 0, 3, 0, [(0, 3)], backlog=900)),
        "status_complete": s + record(1, status(100, 3, 3, 1, [])) +
        record(1, status(101, 3, 3, 1, [])),
        "status_leaving": s + record(1, status(100, 1, 3, 2, [(1, 2)])),
        "status_stranger": s + record(1, status(999, 0, 3, 0, [(0, 3)])),
        "nack_slices": s + record(20, nack(100, 0, fr[0], [(0, 1), (2, 2)])),
        "nack_wrong_len": s + record(20, nack(100, 1, fr[1] + 1, [(0, 1)])),
        "data_slices": s + b"".join(record(1, data(0, fr[0], i * sl,
                                                 bytes(min(sl, fr[0] - i * sl)), 3))
                                    for i in range((fr[0] + sl - 1) // sl)),
        "parity_group": s + record(1, data(1, fr[1], 0, bytes(sl), 3)) +
        record(1, parity(1, fr[1], 0, sl, k, m, 0, bytes(min(sl, fr[1])), 3)) +
        record(1, parity(1, fr[1], 0, sl, k, m, 1, bytes(min(sl, fr[1])), 3)),
    }
    s0, sl0, fr0 = shape(1, 21, 0, 1)
    out["no_fec_one_chunk"] = s0 + record(3, status(100, 0, 1, 0, [(0, 1)])) + \
        record(200, nack(100, 0, fr0[0], [(0, 1)]))
    for name, blob in out.items():
        write(DIR, name, blob)
