# SPDX-License-Identifier: Apache-2.0
"""Crafted captures for the decode tests (imported; not a test itself).

eth(path, frames): an Ethernet pcap; frames = [(t_seconds, dst_mac_bytes, length)].
cut(src, dst, seconds): the records of src within `seconds` of its first one (a capture that
stops early, e.g. a sender interrupted mid-session)."""
import struct


def eth(path, frames):
    out = bytearray(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, dst, length in frames:
        body = dst + bytes.fromhex('020000000001') + b'\x08\x00'
        body += b'\x45' + b'\x00' * (length - len(body) - 1)
        out += struct.pack('<IIII', int(t), int(round((t % 1) * 1e6)), length, length) + body
    open(path, 'wb').write(out)


def cut(src, dst, seconds):
    d = open(src, 'rb').read()
    out, o, t0 = bytearray(d[:24]), 24, None
    while o + 16 <= len(d):
        s, us, cl, _ = struct.unpack('<IIII', d[o:o + 16])
        t = s + us / 1e6
        t0 = t if t0 is None else t0
        if t - t0 > seconds:
            break
        out += d[o:o + 16 + cl]
        o += 16 + cl
    open(dst, 'wb').write(out)
