#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_ptable and fuzz_fat (run from the top of
the tree; needs sgdisk and mkfs.vfat).  fuzz_ptable inputs are
flags (1) | head length (2, LE) | disk sectors (4, LE) | head | tail."""
import os
import struct
import subprocess
import tempfile
import zlib

PT = "fuzz/corpus/fuzz_ptable"
FAT = "fuzz/corpus/fuzz_fat"


def ptable_input(head, tail, sectors, ss=512):
    flags = (1 if ss == 4096 else 0) | (2 if tail else 0)
    return struct.pack("<BHI", flags, len(head), sectors) + head + tail


def mbr(entries):
    s = bytearray(512)
    for i, (typ, start, count) in enumerate(entries):
        struct.pack_into("<B3xB3xII", s, 446 + 16 * i, 0, typ, start, count)
    s[510:512] = b"\x55\xaa"
    return bytes(s)


def gpt_header(ss, my, alt, first, last, entries_lba, n, crc):
    h = bytearray(ss)
    struct.pack_into("<8sIIIIQQQQ16sQIII", h, 0, b"EFI PART", 0x10000, 92, 0,
                     0, my, alt, first, last, b"\xab" * 16, entries_lba, n,
                     128, crc)
    struct.pack_into("<I", h, 16, zlib.crc32(bytes(h[:92])))
    return bytes(h)


def gpt_compact(ss, sectors, parts, n=4):
    """GPT with n entries (not 128): small enough for -max_len=4096."""
    entries = bytearray(n * 128)
    for i, (first, last) in enumerate(parts):
        struct.pack_into("<16s16sQQ", entries, i * 128, bytes([0x11 + i]) * 16,
                         b"\x77" * 16, first, last)
    es = (len(entries) + ss - 1) // ss
    entries = bytes(entries) + bytes(es * ss - len(entries))
    crc = zlib.crc32(entries[:n * 128])
    last_usable = sectors - 2 - es
    head = (mbr([(0xEE, 1, sectors - 1)]) + bytes(ss - 512) +
            gpt_header(ss, 1, sectors - 1, 2 + es, last_usable, 2, n, crc) +
            entries)
    tail = entries + gpt_header(ss, sectors - 1, 1, 2 + es, last_usable,
                                sectors - 1 - es, n, crc)
    return head, tail


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ptable_seeds():
    write(PT, "mbr_two_primaries",
          ptable_input(mbr([(0x83, 2048, 4096), (0x07, 8192, 1000)]), b"", 10000))
    write(PT, "mbr_extended",
          ptable_input(mbr([(0x83, 2048, 100), (0x05, 4096, 4000)]), b"", 10000))
    write(PT, "mbr_truncated", ptable_input(mbr([(0x83, 2048, 100)])[:300], b"", 10000))
    head, tail = gpt_compact(512, 2048, [(3, 100), (101, 2040)])
    write(PT, "gpt_compact", ptable_input(head, tail, 2048))
    write(PT, "gpt_compact_no_tail", ptable_input(head, b"", 2048))
    write(PT, "gpt_truncated", ptable_input(head[:1024], b"", 2048))
    head, tail = gpt_compact(4096, 512, [(3, 100)], n=4)
    write(PT, "gpt_4k_compact", ptable_input(head, tail, 512, 4096))
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "disk.img")
        with open(img, "wb") as f:
            f.truncate(4 << 20)
        subprocess.run(["/usr/sbin/sgdisk", "-n", "1:2048:+1M", "-t", "1:8300",
                        "-n", "2:0:0", "-t", "2:0700", img], check=True,
                       stdout=subprocess.DEVNULL)
        with open(img, "rb") as f:
            data = f.read()
        write(PT, "gpt_sgdisk", ptable_input(data[:34 * 512], data[-33 * 512:],
                                              len(data) // 512))


def fat_seeds():
    with tempfile.TemporaryDirectory() as tmp:
        for kib, opts in ((60, []), (60, ["-F", "32"])):
            img = os.path.join(tmp, "f.img")
            subprocess.run(["/usr/sbin/mkfs.vfat", *opts, "-C", img, str(kib)],
                           check=True, stdout=subprocess.DEVNULL)
            if not opts:        # mtools refuses so small a FAT32
                subprocess.run(["mcopy", "-i", img, "fuzz/make-seeds.py",
                                "::/a.py"], check=True)
            with open(img, "rb") as f:
                write(FAT, "mkfs_vfat_%dk%s" % (kib, "".join(opts)), f.read())
            os.unlink(img)
    # hand-made 4 KiB volumes: FAT12 and a tiny FAT32 (16-bit FAT size 0)
    for name, fat32 in (("tiny_fat12", False), ("tiny_fat32", True)):
        img = bytearray(4096)
        img[0:3] = b"\xeb\x3c\x90"
        img[3:11] = b"PXEDTEST"
        struct.pack_into("<HBHBHHBH", img, 11, 512, 1, 1, 1,
                         0 if fat32 else 16, 8, 0xF8, 0 if fat32 else 1)
        if fat32:
            struct.pack_into("<I", img, 36, 1)
        img[510:512] = b"\x55\xaa"
        fat = 512
        if fat32:
            struct.pack_into("<IIII", img, fat, 0x0FFFFFF8, 0x0FFFFFFF, 0x0FFFFFFF, 0)
        else:
            img[fat:fat + 6] = b"\xf8\xff\xff\xff\x0f\x00"
        write(FAT, name, bytes(img))


if __name__ == "__main__":
    ptable_seeds()
    fat_seeds()
