#!/usr/bin/env python3
"""Copies entries out of a zip (a jar) on an HTTP server that serves byte ranges, without
downloading the rest: ONNX Runtime's CUDA jar is 742 MB, its Linux libraries are a third of it.

Usage: remote_zip.py URL OUT_DIR ENTRY...   (each ENTRY written as OUT_DIR/<its file name>)
"""
import os
import struct
import subprocess
import sys
import zlib


def fetch(url, first, last):
    data = subprocess.run(["curl", "-fsSL", "-r", f"{first}-{last}", url],
                          check=True, capture_output=True).stdout
    if len(data) != last - first + 1:  # a server that ignores ranges sends the whole file
        raise SystemExit(f"{url}: asked for bytes {first}-{last}, got {len(data)}")
    return data


def central_directory(url):
    head = subprocess.run(["curl", "-fsSIL", url], check=True, capture_output=True, text=True).stdout
    length = [int(line.split(":")[1]) for line in head.splitlines()
              if line.lower().startswith("content-length:")][-1]  # the last response's
    tail = fetch(url, max(0, length - 65536), length - 1)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0:
        raise SystemExit(f"{url}: no end of central directory in the last 64 KiB (a zip64 file?)")
    size, offset = struct.unpack_from("<II", tail, end + 12)
    directory = fetch(url, offset, offset + size - 1)
    entries, p = {}, 0
    while p < len(directory):
        method, = struct.unpack_from("<H", directory, p + 10)
        crc, compressed = struct.unpack_from("<II", directory, p + 16)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, p + 28)
        local, = struct.unpack_from("<I", directory, p + 42)
        name = directory[p + 46:p + 46 + name_len].decode()
        entries[name] = (method, crc, compressed, local)
        p += 46 + name_len + extra_len + comment_len
    return entries


def copy(url, entry, method, crc, compressed, local, out_dir):
    header = fetch(url, local, local + 29)
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    start = local + 30 + name_len + extra_len
    data = fetch(url, start, start + compressed - 1) if compressed else b""
    if method == 8:
        data = zlib.decompress(data, -15)
    elif method != 0:
        raise SystemExit(f"{entry}: compression method {method}")
    if zlib.crc32(data) != crc:
        raise SystemExit(f"{entry}: CRC-32 does not match the zip's")
    with open(os.path.join(out_dir, os.path.basename(entry)), "wb") as f:
        f.write(data)


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    url, out_dir, wanted = argv[1], argv[2], argv[3:]
    entries = central_directory(url)
    os.makedirs(out_dir, exist_ok=True)
    for entry in wanted:
        if entry not in entries:
            raise SystemExit(f"{url}: no entry {entry}")
        copy(url, entry, *entries[entry], out_dir)


if __name__ == "__main__":
    main(sys.argv)
