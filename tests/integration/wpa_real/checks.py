#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""integ.device_wpa_real's checks, one process for the whole test (a Python start costs up to a
second on a loaded machine): commands on stdin, one answer line each on stdout.

  checks.py IFACE SUPPLICANT_MAC AA_MAC
  mic SSID_HEX PASSWORD_HEX   the first half of a WPA2-PSK 4-way handshake, played as the
      authenticator on IFACE (the veth end facing a wpa_supplicant whose wired driver holds a
      WPA-PSK network): message 1/4 goes out and the MIC of the supplicant's message 2/4 is
      checked with the PMK expected, PBKDF2-HMAC-SHA1(password, SSID) computed here by hashlib
      (or a 64-hex-digit password itself). A MIC that verifies means wpa_supplicant holds
      exactly that PMK: the password reached it byte for byte. The wired driver cannot install
      keys, so the handshake stops there. -> "ok (AA ...)", "wrong MIC", "no message 2/4"
  secret FILE SSID_HEX PASSWORD_HEX   -> "clean", or what of the password FILE holds (its bytes,
      its hex in either case, the PSK's hex, or its longest run of letters, digits, '-', '_',
      '.' and spaces when 12 bytes or more: what any escaping (JSON, C, hex escapes) leaves as is)
  saved FILE KEY...   a saved wpa_supplicant config: only the global lines, exactly one network
      block holding exactly KEY... (and wpa_supplicant's own mesh_fwding), one line each
      -> "ok" or what is wrong"""
import hashlib
import hmac
import os
import re
import select
import socket
import struct
import sys
import time

ETH_P_EAPOL = 0x888E


def pmk_of(ssid, pwd):
    if len(pwd) == 64 and re.fullmatch(rb"[0-9a-fA-F]{64}", pwd):
        return bytes.fromhex(pwd.decode())
    return hashlib.pbkdf2_hmac("sha1", pwd, ssid, 4096, 32)


def prf(key, label, data, n):
    out, i = b"", 0
    while len(out) < n:
        out += hmac.new(key, label + b"\0" + data + bytes([i]), hashlib.sha1).digest()
        i += 1
    return out[:n]


def mic(s, supp, aa, ssid, pwd):
    pmk = pmk_of(ssid, pwd)
    own = s.getsockname()[4][:6]
    while select.select([s], [], [], 0)[0]:  # what an earlier round left
        s.recv(2048)
    anonce = os.urandom(32)
    deadline = time.monotonic() + 3
    replay = 0
    while time.monotonic() < deadline:
        replay += 1
        # EAPOL-Key, RSN descriptor; key info: HMAC-SHA1/AES version | pairwise | ACK
        body = struct.pack(">BHHQ", 2, 0x008A, 16, replay) + anonce + bytes(16 + 8 + 8 + 16) + b"\0\0"
        s.send(supp + own + struct.pack(">HBBH", ETH_P_EAPOL, 2, 3, len(body)) + body)
        until = min(deadline, time.monotonic() + 0.5)
        while time.monotonic() < until:
            if not select.select([s], [], [], until - time.monotonic())[0]:
                break
            f = s.recv(2048)
            if f[6:12] != supp or len(f) < 14 + 4 + 95:
                continue
            e = f[14:]
            e = e[:4 + struct.unpack(">H", e[2:4])[0]]
            info = struct.unpack(">H", e[5:7])[0]
            if e[1] != 3 or not info & 0x0100 or info & 0x0080:  # a Key frame with a MIC, no ACK
                continue
            snonce, got = e[17:49], e[81:97]
            zeroed = e[:81] + bytes(16) + e[97:]
            for a in (aa, own):
                data = min(a, supp) + max(a, supp) + min(anonce, snonce) + max(anonce, snonce)
                kck = prf(pmk, b"Pairwise key expansion", data, 48)[:16]
                if hmac.compare_digest(hmac.new(kck, zeroed, hashlib.sha1).digest()[:16], got):
                    return "ok (AA %s)" % a.hex(":")
            return "wrong MIC"
    return "no message 2/4"


def secret(path, ssid, pwd):
    if not pwd:
        return "clean"
    data = open(path, "rb").read()
    low = data.lower()
    runs = re.findall(rb"[A-Za-z0-9_. -]{12,}", pwd)
    run = max(runs, key=len) if runs else None
    found = [what for what, needle in (("the password", pwd), ("its hex", pwd.hex().encode()),
                                       ("the PSK's hex", pmk_of(ssid, pwd).hex().encode()),
                                       ("a run of its text", run)) if needle and (needle in low or needle in data)]
    return "holds " + ", ".join(found) if found else "clean"


def saved(path, keys):
    want = sorted(keys + ["mesh_fwding"])
    bad, nets, cur = [], [], None
    for line in open(path, "rb").read().decode("latin-1").split("\n"):
        if cur is None:
            if line == "network={":
                cur = []
            elif line and not re.fullmatch(r"(ctrl_interface|update_config|ap_scan)=.*", line):
                bad.append("line outside a network: %r" % line)
        elif line == "}":
            nets.append(sorted(cur))
            cur = None
        elif re.match(r"\t[a-z_0-9]+=", line):
            cur.append(line[1:].split("=")[0])
        else:
            bad.append("line in a network: %r" % line)
    if cur is not None:
        bad.append("a network not closed")
    if len(nets) != 1:
        bad.append("%d networks, want 1" % len(nets))
    bad += ["network keys %s, want %s" % (n, want) for n in nets if n != want]
    return "; ".join(bad) if bad else "ok"


def main():
    iface, supp, aa = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), bytes.fromhex(sys.argv[3].replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_EAPOL))
    s.bind((iface, ETH_P_EAPOL))
    for line in sys.stdin:
        w = line.split()
        if w[0] == "mic":
            r = mic(s, supp, aa, bytes.fromhex(w[1]), bytes.fromhex(w[2] if len(w) > 2 else ""))
        elif w[0] == "secret":
            r = secret(w[1], bytes.fromhex(w[2]), bytes.fromhex(w[3] if len(w) > 3 else ""))
        elif w[0] == "saved":
            r = saved(w[1], w[2:])
        else:
            r = "unknown command"
        print(r, flush=True)


main()
