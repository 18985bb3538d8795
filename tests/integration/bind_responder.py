#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for IoT Explorer's binding service on a plain mosquitto broker: answers each
app_bind_token published on $thing/up/service/<P>/<D> with app_bind_token_reply (same
clientToken, the given code) on the down topic, then exits. Records every up message to OUT.

  bind_responder.py PORT PRODUCT DEVICE CODE OUT [GOOD_TOKEN]

With GOOD_TOKEN, it is a cloud that knows one token: that one is answered with code 0 (then it
exits), every other token with CODE, and it keeps answering.
Environment: BROKER_HOST (default 127.0.0.1); RESPONDER_GO, a file whose creation it waits for
before answering (the test's hostile messages go first). With RESPONDER_GO it answers every
app_bind_token, the ones that came while it waited and the later ones, until it is killed, as
the real service answers each request: while it waited, the device may have given up on the
connection (no reply for 4 s) and connected again with a clean session, so a reply to an
earlier publish can reach no subscriber; the device's next publish on its new connection is
answered too.
"""
import json
import os
import subprocess
import sys
import time


def main(port, product, device, code, out, good=None):
    up = "$thing/up/service/%s/%s" % (product, device)
    down = "$thing/down/service/%s/%s" % (product, device)
    host = os.environ.get("BROKER_HOST", "127.0.0.1")
    go = os.environ.get("RESPONDER_GO")
    sub = subprocess.Popen(["mosquitto_sub", "-h", host, "-p", port, "-t", up, "-q", "1"],
                           stdout=subprocess.PIPE, text=True)
    for line in sub.stdout:
        with open(out, "a") as f:
            f.write(line)
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("method") != "app_bind_token":
            continue
        c = int(code)
        if good is not None:
            c = 0 if msg.get("params", {}).get("token") == good else c
        reply = {"method": "app_bind_token_reply", "clientToken": msg.get("clientToken"), "code": c,
                 "status": "ok" if c == 0 else "refused"}
        while go and not os.path.exists(go):
            time.sleep(0.05)
        subprocess.run(["mosquitto_pub", "-h", host, "-p", port, "-t", down, "-q", "1",
                        "-m", json.dumps(reply)], check=False)
        if not go and (good is None or c == 0):
            break  # one bind per run: a later run gets its own responder
    sub.terminate()
    sub.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
