#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tells the demo's story from the JSON event streams of `smartcfg send` and `smartcfg device`,
then a one-screen summary with the time of each phase."""
import json
import sys


def events(path):
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def live(prefix):
    """Prints the phone's events as they come (stdin: its --json stream)."""
    skip = {"poll", "progress"}
    for line in sys.stdin:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        name = e.get("event", "?")
        if name in skip:
            continue
        fields = ", ".join("%s=%s" % (k, v) for k, v in e.items()
                           if k not in ("event", "t_ms", "ts", "v", "devices") and not isinstance(v, (dict, list)))
        print("%s %6.2fs %s %s" % (prefix, e.get("t_ms", 0) / 1000.0, name, fields), flush=True)


if len(sys.argv) > 1 and sys.argv[1] == "--live":
    live(sys.argv[2] if len(sys.argv) > 2 else "[phone]")
    sys.exit(0)

phone = events(sys.argv[1])
device = events(sys.argv[2])


def first(evs, name, key="event", **match):
    for e in evs:
        if e.get(key) == name and all(e.get(k) == v for k, v in match.items()):
            return e
    return None


class _Fields(dict):
    """An event's fields for a story line; a field the event lacks prints as "?"."""

    def __missing__(self, key):
        return "?"


def fill(text, e):
    """The line `text` with the event's fields by the names docs/json.md gives them: the
    template alone names them, so there is no second list to keep in step with it."""
    return text.format_map(_Fields(e))


def dev_t(e):
    """Seconds since the tool started (both tools write t_ms: docs/json.md)."""
    return e["t_ms"] / 1000.0 if e and "t_ms" in e else None


ph_t = dev_t


print()
print("-- the story " + "-" * 60)
story = []
s = first(phone, "sending")
if s:
    story.append((ph_t(s), "phone", "sends ESP-TOUCH to %s: %s datagrams a cycle, SSID %r (password: %s bytes)"
                  % (s.get("dest"), s.get("cycle"), s.get("ssid"), s.get("password_len"))))
e = first(phone, "token_created")
if e:
    story.append((ph_t(e), "phone", "got a bind token from the cloud's token API"))
for name, text in [("lock", "locked on channel {channel}, length offset {offset}"),
                   ("credentials", "decoded the credentials: SSID {ssid}"),
                   ("ip", "joined the AP, has IP {ip}"),
                   ("ack", "sent the ESP-TOUCH ack to {peer}"),
                   ("token", "received the token from {peer} on UDP 8266 and answered its identity"),
                   ("bound", "published app_bind_token over MQTT; the cloud replied code 0")]:
    e = first(device, name)
    if e:
        story.append((None, "device", fill(text, e)))
for name, text in [("ack", "ack from device {mac} at {ip}"),
                   ("identity", "identity reply: productId {product_id}, deviceName {device_name}"),
                   ("bound", "the cloud reports the token bound by the device")]:
    e = first(phone, name)
    if e:
        story.append((ph_t(e), "phone", fill(text, e)))
for t, who, text in story:
    print("  %-7s %s" % (who, text))

print()
print("-- summary " + "-" * 62)
rows = []
d_start = first(device, "sniffing", key="state")
d0 = dev_t(d_start) or 0.0
for label, ev in [("device: sniffing -> locked", first(device, "lock")),
                  ("device: sniffing -> credentials decoded", first(device, "credentials")),
                  ("device: sniffing -> joined (IP)", first(device, "ip")),
                  ("device: sniffing -> token received", first(device, "token")),
                  ("device: sniffing -> bound", first(device, "bound"))]:
    t = dev_t(ev)
    rows.append((label, "%.2f s" % (t - d0) if t is not None else "-"))
for label, ev in [("phone: start -> first ack", first(phone, "ack")),
                  ("phone: start -> identity (UDP 8266)", first(phone, "identity")),
                  ("phone: start -> cloud says bound", first(phone, "bound"))]:
    t = ph_t(ev)
    rows.append((label, "%.2f s" % t if t is not None else "-"))
summ = first(phone, "summary")
if summ:
    rows.append(("phone: datagrams sent", str(summ.get("datagrams", "?"))))
    rows.append(("phone: exit", str(summ.get("exit", "?"))))
for label, value in rows:
    print("  %-42s %s" % (label, value))
print("-" * 73)
