#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Registers N devices and makes one bind token each, then writes the load file of
# `bench_cloud --load` ("product <P>", then "<name> <psk> <token>" per device).
#   api  (the cluster test): through the cloud's HTTP API -- admin API for the devices, the
#        app's token API (a user logged in with AppGetToken) for the tokens -- one connection per
#        request, so on a port shared by several workers (SO_REUSEPORT) every worker serves
#        some: a token made on one worker is bound through another.
#   sql  (the benchmarks, 10 000+ devices): rows written straight into the registry with the
#        sqlite3 or psql client, the same columns the cloud writes; setup is not what is measured.
# usage: cluster_setup.py api BASE_URL ADMIN_KEY_FILE PRODUCT N OUT
#        cluster_setup.py sql DB PRODUCT N OUT     (DB: a SQLite file or a postgresql:// URL)
import base64, http.client, json, os, subprocess, sys, time, urllib.parse

def api(base, keyfile, product, n, out):
    u = urllib.parse.urlparse(base)
    key = open(keyfile).read().strip()
    def post(path, body, auth=True):
        for attempt in range(20):   # a worker may be starting: retry refused connections
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                h = {"Content-Type": "application/json"}
                if auth:
                    h["Authorization"] = "Bearer " + key
                c.request("POST", path, json.dumps(body), h)
                r = c.getresponse()
                data = r.read()
                c.close()
                return json.loads(data)
            except (OSError, ValueError):
                time.sleep(0.25)
        raise SystemExit("cluster_setup: %s keeps failing" % path)
    post("/v1/products", {"product_id": product})
    post("/v1/users", {"user_name": "cluster", "password": "cluster-password-1"})
    r = post("/tokenapi?cmd=AppGetToken", {"Action": "AppGetToken", "UserName": "cluster", "Password": "cluster-password-1"}, False)
    access = r["data"]["Token"]
    with open(out, "w") as f:
        f.write("product %s\n" % product)
        for i in range(n):
            name = "d%d" % i
            psk = post("/v1/products/%s/devices" % product, {"device_name": name})["device_secret"]
            t = post("/tokenapi?cmd=AppCreateDeviceBindToken",
                     {"Action": "AppCreateDeviceBindToken", "AccessToken": access, "RequestId": "r%d" % i}, False)
            if t.get("code") != 0:
                raise SystemExit("cluster_setup: token %d: %s" % (i, t))
            f.write("%s %s %s\n" % (name, psk, t["data"]["Token"]))

def sql(db, product, n, out):
    now = int(time.time())
    rows_d, rows_t = [], []
    with open(out, "w") as f:
        f.write("product %s\n" % product)
        for i in range(n):
            name, psk, tok = "d%d" % i, base64.b64encode(os.urandom(16)).decode(), os.urandom(16).hex()
            rows_d.append("('%s','%s','%s',%d)" % (product, name, psk, now))
            rows_t.append("('%s',%d,%d)" % (tok, now, now + 86400))
            f.write("%s %s %s\n" % (name, psk, tok))
    stmts = ["BEGIN;", "INSERT INTO products(product_id, product_secret, created) VALUES('%s','%s',%d);"
             % (product, os.urandom(12).hex(), now)]
    for k in range(0, n, 5000):
        stmts.append("INSERT INTO devices(product_id, device_name, psk, created) VALUES %s;" % ",".join(rows_d[k:k + 5000]))
        stmts.append("INSERT INTO tokens(token, created, expire) VALUES %s;" % ",".join(rows_t[k:k + 5000]))
    stmts.append("COMMIT;")
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db] if db.startswith("postgres") else ["sqlite3", db]
    subprocess.run(cmd, input="\n".join(stmts).encode(), check=True)

if sys.argv[1] == "api":
    api(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
else:
    sql(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
