#!/usr/bin/env python3
"""Zeroes the GPU code of a CUDA library that a GPU of another architecture would load, so that the
library compresses to what one GPU runs; the file keeps its size and layout.

A library's .nv_fatbin section holds fat binaries: each a header (magic 0xBA55ED50) and entries,
each an entry header (kind: 1 PTX, 2 machine code; the SM architecture at byte 28) and a payload.
The CUDA runtime loads the entry for the GPU it runs on; this keeps every entry of architecture SM
(machine code and PTX) and zeroes the payloads of the others. A kernel that had only those would
fail to load, loudly ("no kernel image is available"), not run wrong.

Usage: fatbin_prune.py IN OUT [SM (default 90: the H100 and H200)]
"""
import struct
import subprocess
import sys

MAGIC = 0xBA55ED50


def section(path, name):
    out = subprocess.run(["readelf", "-S", "--wide", path], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        fields = line.split("]", 1)[-1].split()
        if fields and fields[0] == name:
            return int(fields[3], 16), int(fields[4], 16)
    raise SystemExit(f"{path}: no {name} section")


def entries(buf, start, size):
    """(entry header offset, header size, payload size, kind, arch) of every entry."""
    p, end = start, start + size
    while p < end:
        magic, _, header_size, fat_size = struct.unpack_from("<IHHQ", buf, p)
        if magic != MAGIC:
            p += 8  # fat binaries are 8-byte aligned, with padding between them
            continue
        q, stop = p + header_size, p + header_size + fat_size
        while q < stop:
            kind, _, entry_header, payload = struct.unpack_from("<HHIQ", buf, q)
            arch, = struct.unpack_from("<I", buf, q + 28)
            yield q, entry_header, payload, kind, arch
            q += entry_header + payload
        p = stop


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    src, dst = argv[1], argv[2]
    keep = int(argv[3]) if len(argv) > 3 else 90
    buf = bytearray(open(src, "rb").read())
    kept = zeroed = 0
    for q, header, payload, _, arch in list(entries(buf, *section(src, ".nv_fatbin"))):
        if arch == keep:
            kept += payload
        else:
            buf[q + header:q + header + payload] = bytes(payload)
            zeroed += payload
    with open(dst, "wb") as f:
        f.write(buf)
    print(f"{src}: kept {kept / 1e6:.0f} MB of sm_{keep} code, zeroed {zeroed / 1e6:.0f} MB")


if __name__ == "__main__":
    main(sys.argv)
