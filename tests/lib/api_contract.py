#!/usr/bin/env python3
"""Drive pxed's API to every status its OpenAPI document promises.

api_contract.py drive PHASE URL ADMIN_TOKEN_FILE OUT WORKDIR
    Run the requests of one phase against a running pxed and append, for
    each answer, "METHOD TEMPLATE STATUS" to OUT (TEMPLATE: the document's
    path the request matched).
api_contract.py errors OUT.errors
    Every error answer (4xx, 5xx) was JSON {"error": text, "code": the
    stable code of its status}; the driver notes each in OUT.errors.
api_contract.py check DOC OUT
    Compare: every documented (operation, status) was answered at least
    once, and every status answered is documented.  5XX is documented for
    every operation and not driven (the state store failing).

Phases (tests/integration/api_contract.sh starts pxed for each):
    off   no DHCP, metrics-auth = read, no clamav-db-dir: the subnets' 409s,
          the counters' 401s, the scan database's 404
    tls   HTTPS on: every read and change over plain HTTP: 403
    main  DHCP on a subnet, an image repository on a 4 MiB tmpfs, a config
          environment whose kernel is missing, WORKDIR/clamdb as clamav-db-dir:
          the rest
"""
import hashlib
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse


# docs/API.md "Errors": the code of each status (409 from an agent's
# route whose task has ended: task_ended)
ERROR_CODES = {400: {"bad_request"}, 401: {"unauthorized"}, 403: {"forbidden"},
               404: {"not_found"}, 405: {"method_not_allowed"},
               409: {"conflict", "task_ended"}, 413: {"too_large"},
               422: {"content_mismatch"}, 429: {"too_many_requests"},
               503: {"unavailable"}, 507: {"no_space"}}


def error_shape(status, data):
    """'ok', or what is wrong with an error answer's body."""
    try:
        v = json.loads(data)
    except ValueError:
        return "not JSON: %r" % data[:60]
    if not isinstance(v, dict) or not isinstance(v.get("error"), str) or not v["error"]:
        return "no error text: %r" % data[:60]
    want = ERROR_CODES.get(status, {"server_error" if status >= 500 else "error"})
    if v.get("code") not in want:
        return "code %r, expected %s" % (v.get("code"), "|".join(sorted(want)))
    return "ok"


class Api:
    def __init__(self, url, admin, out, docpaths):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.admin = admin
        self.out = out
        self.errors = open(out.name + ".errors", "a")
        self.docpaths = docpaths
        self.read = None

    def note(self, method, path, status, data):
        self.out.write("%s %s %d\n" % (method, self.template(path), status))
        self.out.flush()
        if status >= 400:
            self.errors.write("%s %s %d %s\n" % (method, self.template(path), status,
                                                 error_shape(status, data)))
            self.errors.flush()

    def template(self, path):
        bare = path.split("?")[0]
        for t, rx in self.docpaths:
            if rx.fullmatch(bare):
                return t
        return "UNDOCUMENTED:" + bare

    def call(self, method, path, token=None, body=None, headers=None, stream=False,
             source=None):
        """source: the address to send from (a task's token is bound to the
        address that fetched its boot script)."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        c = http.client.HTTPConnection(self.host, self.port, timeout=30,
                                       source_address=(source, 0) if source else None)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = b"" if stream else r.read()
        c.close()
        self.note(method, path, r.status, data)
        try:
            return r.status, json.loads(data) if data else None
        except ValueError:
            return r.status, data

    def too_long(self, method, path, token, length):
        """Headers that declare a body of length bytes, and no body: the
        server answers from the headers alone."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        c.putrequest(method, path)
        if token:
            c.putheader("Authorization", "Bearer " + token)
        c.putheader("Content-Length", str(length))
        c.endheaders()
        r = c.getresponse()
        data = r.read()
        c.close()
        self.note(method, path, r.status, data)


def doc_paths(doc):
    out = []
    for t in doc["paths"]:
        rx = re.compile(re.sub(r"\\\{[a-z0-9_]+\\\}", "[^/]+", re.escape(t)))
        if t.startswith("/api/v1/boot/"):
            rx = re.compile(re.escape("/api/v1/boot/") + ".+")
        out.append((t, rx))
    # the most specific first: longer literal paths before their prefixes
    out.sort(key=lambda p: (-p[0].count("/"), "{" in p[0]))
    return out


def boot_token(a, mac):
    st, body = a.call("GET", "/api/v1/boot/%s.ipxe" % mac)
    m = re.search(rb"pxed\.token=([0-9a-f]+)", body if isinstance(body, bytes) else b"")
    return m.group(1).decode() if m else None


def zstd(path):
    subprocess.run(["zstd", "-q", "-f", path, "-o", path + ".zst"], check=True)
    return open(path + ".zst", "rb").read()


def phase_off(a):
    adm = a.admin
    a.call("GET", "/metrics")                              # 401 (metrics-auth = read)
    a.call("GET", "/metrics", adm)                         # 200
    a.call("GET", "/api/v1/status")                        # 401
    a.call("GET", "/api/v1/status", adm)                   # 200
    a.call("GET", "/api/v1/subnets", adm)                  # 409: DHCP off
    a.call("GET", "/api/v1/subnets/198.51.100.0/24", adm)  # 409
    a.call("POST", "/api/v1/subnets/198.51.100.0/24/enable", adm, {})   # 409
    a.call("POST", "/api/v1/subnets/198.51.100.0/24/disable", adm, {})  # 409
    tok = scan_task(a, "52:54:00:c0:00:08")
    a.call("GET", "/api/v1/agent/task", tok)
    a.call("GET", "/api/v1/agent/clamav", tok)      # 404: clamav-db-dir is missing
    a.call("POST", "/api/v1/agent/result", tok, {"ok": False})


def drive_tokens(a):
    adm = a.admin
    st, t = a.call("POST", "/api/v1/tokens", adm, {"name": "reader", "scope": "read"})
    a.read = t["token"]
    a.call("POST", "/api/v1/tokens", adm, {"name": "reader", "scope": "read"})   # 409
    a.call("POST", "/api/v1/tokens", adm, {"name": "bad name"})                  # 400
    a.too_long("POST", "/api/v1/tokens", adm, 2048)                            # 413
    a.call("POST", "/api/v1/tokens", None, {"name": "x"})                         # 401
    a.call("POST", "/api/v1/tokens", a.read, {"name": "x"})                       # 403
    a.call("GET", "/api/v1/tokens", adm)
    a.call("GET", "/api/v1/tokens")
    a.call("GET", "/api/v1/tokens", a.read)
    st, t = a.call("POST", "/api/v1/tokens", adm, {"name": "gone"})
    a.call("DELETE", "/api/v1/tokens/gone", adm)                                 # 204
    a.call("DELETE", "/api/v1/tokens/gone", adm)                                 # 404
    a.call("DELETE", "/api/v1/tokens/gone")
    a.call("DELETE", "/api/v1/tokens/gone", a.read)


def drive_hosts(a):
    adm, rd = a.admin, a.read
    a.call("POST", "/api/v1/hosts", adm, {"mac": "52:54:00:c0:00:01", "name": "c1"})  # 201
    a.call("POST", "/api/v1/hosts", adm, {"mac": "52:54:00:c0:00:01", "name": "c1"})  # 200
    a.call("POST", "/api/v1/hosts", adm, {"mac": "nonsense"})                         # 400
    a.too_long("POST", "/api/v1/hosts", adm, 5000)                                  # 413
    a.call("POST", "/api/v1/hosts", None, {"mac": "52:54:00:c0:00:09"})
    a.call("POST", "/api/v1/hosts", rd, {"mac": "52:54:00:c0:00:09"})
    for m in ("52:54:00:c0:00:02", "52:54:00:c0:00:03", "52:54:00:c0:00:04",
              "52:54:00:c0:00:05", "52:54:00:c0:00:06"):
        a.call("POST", "/api/v1/hosts", adm, {"mac": m})
    a.call("GET", "/api/v1/hosts?limit=2&q=c0", rd)
    a.call("GET", "/api/v1/hosts?limit=0", rd)                                        # 400
    a.call("GET", "/api/v1/hosts")
    a.call("GET", "/api/v1/hosts/c1", rd)
    a.call("GET", "/api/v1/hosts/nobody", rd)                                         # 404
    a.call("GET", "/api/v1/hosts/c1")
    for verb in ("approve", "deny"):
        a.call("POST", "/api/v1/hosts/c1/" + verb, adm)
        a.call("POST", "/api/v1/hosts/nobody/" + verb, adm)
        a.call("POST", "/api/v1/hosts/c1/" + verb)
        a.call("POST", "/api/v1/hosts/c1/" + verb, rd)
    a.call("POST", "/api/v1/hosts/c1/approve", adm)
    a.call("PUT", "/api/v1/hosts/c1/hostname", adm, {"hostname": "pc-1"})            # 200
    a.call("PUT", "/api/v1/hosts/nobody/hostname", adm, {"hostname": "pc-1"})        # 404
    a.call("PUT", "/api/v1/hosts/c1/hostname", adm, {"hostname": "-pc"})             # 400
    a.too_long("PUT", "/api/v1/hosts/c1/hostname", adm, 2048)                      # 413
    a.call("PUT", "/api/v1/hosts/c1/hostname", None, {"hostname": ""})
    a.call("PUT", "/api/v1/hosts/c1/hostname", rd, {"hostname": ""})
    a.call("POST", "/api/v1/hosts", adm, {"mac": "52:54:00:c0:00:0f"})
    a.call("DELETE", "/api/v1/hosts/52:54:00:c0:00:0f", adm)                          # 204
    a.call("DELETE", "/api/v1/hosts/52:54:00:c0:00:0f", adm)                          # 404
    a.call("DELETE", "/api/v1/hosts/c1")
    a.call("DELETE", "/api/v1/hosts/c1", rd)


def drive_groups(a):
    adm, rd = a.admin, a.read
    a.call("POST", "/api/v1/groups/room/add", adm, {"hosts": ["52:54:00:c0:00:05",
                                                             "52:54:00:c0:00:06"]})
    a.call("POST", "/api/v1/groups/room/add", adm, {"hosts": ["nobody"]})             # 404?
    a.call("POST", "/api/v1/groups/bad!name/add", adm, {"hosts": ["c1"]})             # 400
    a.too_long("POST", "/api/v1/groups/room/add", adm, 20000)                       # 413
    a.call("POST", "/api/v1/groups/room/add", None, {"hosts": []})
    a.call("POST", "/api/v1/groups/room/add", rd, {"hosts": []})
    a.call("GET", "/api/v1/groups", rd)
    a.call("GET", "/api/v1/groups")
    a.call("GET", "/api/v1/groups/room", rd)
    a.call("GET", "/api/v1/groups/nowhere", rd)                                       # 404
    a.call("GET", "/api/v1/groups/bad!name", rd)                                      # 400
    a.call("GET", "/api/v1/groups/room")
    a.call("POST", "/api/v1/groups/room/remove", adm, {"hosts": ["c1"]})              # 404
    a.call("POST", "/api/v1/groups/room/remove", adm, {"hosts": "x"})                 # 400
    a.too_long("POST", "/api/v1/groups/room/remove", adm, 20000)
    a.call("POST", "/api/v1/groups/room/remove", None, {"hosts": []})
    a.call("POST", "/api/v1/groups/room/remove", rd, {"hosts": []})
    a.call("POST", "/api/v1/groups/tmp/add", adm, {"hosts": ["52:54:00:c0:00:06"]})
    a.call("POST", "/api/v1/groups/tmp/remove", adm, {"hosts": ["52:54:00:c0:00:06"]})  # 200
    a.call("POST", "/api/v1/groups/tmp/add", adm, {"hosts": ["52:54:00:c0:00:06"]})
    a.call("DELETE", "/api/v1/groups/tmp", adm)                                       # 204
    a.call("DELETE", "/api/v1/groups/tmp", adm)                                       # 404
    a.call("DELETE", "/api/v1/groups/bad!name", adm)                                  # 400
    a.call("DELETE", "/api/v1/groups/tmp")
    a.call("DELETE", "/api/v1/groups/tmp", rd)


def drive_capture(a, work):
    """A capture through the agent's routes: chunks, the manifest; the
    image the rest uses.  Returns the image name."""
    adm, rd = a.admin, a.read
    a.call("POST", "/api/v1/tasks", adm, {"host": "52:54:00:c0:00:02", "type": "capture",
                                          "image": "img"})
    tok = boot_token(a, "52-54-00-c0-00-02")
    other = os.environ.get("API_CONTRACT_OTHER_ADDR")
    if other:   # the token is bound to the address that fetched the script
        a.call("GET", "/api/v1/boot/52-54-00-c0-00-02.ipxe", source=other)          # 403
        a.call("GET", "/api/v1/agent/task", tok, source=other)                     # 403
    a.call("POST", "/api/v1/agent/progress", tok, {"phase": "x", "bytes": 1, "total": 2})  # 409
    a.call("GET", "/api/v1/agent/task", tok)                                       # 200
    a.call("GET", "/api/v1/agent/task")                                            # 401
    a.call("GET", "/api/v1/agent/task", "0" * 64)                                  # 403
    a.call("POST", "/api/v1/agent/inventory", tok, {"cpu": "x"})                   # 204
    a.call("POST", "/api/v1/agent/inventory", tok, "{")                            # 400
    a.too_long("POST", "/api/v1/agent/inventory", tok, 70000)                    # 413
    a.call("POST", "/api/v1/agent/inventory")
    a.call("POST", "/api/v1/agent/inventory", "0" * 64, {})
    a.call("POST", "/api/v1/agent/progress", tok, {"phase": "c", "bytes": 1, "total": 2})
    a.call("POST", "/api/v1/agent/progress", tok, "[")
    a.too_long("POST", "/api/v1/agent/progress", tok, 2000)
    a.call("POST", "/api/v1/agent/progress")
    a.call("POST", "/api/v1/agent/progress", "0" * 64, {})
    data = os.path.join(work, "c")
    with open(data, "wb") as f:
        f.write(b"contract" * 512)
    sha = hashlib.sha256(open(data, "rb").read()).hexdigest()
    z = zstd(data)
    a.call("POST", "/api/v1/agent/chunks/missing", tok, [sha])                     # 200
    a.call("POST", "/api/v1/agent/chunks/missing", tok, [1])                       # 400
    a.too_long("POST", "/api/v1/agent/chunks/missing", tok, 300000)              # 413
    a.call("POST", "/api/v1/agent/chunks/missing", None, [])
    a.call("POST", "/api/v1/agent/chunks/missing", "0" * 64, [])
    a.call("PUT", "/api/v1/agent/chunks/" + sha, tok, z)                           # 201
    a.call("PUT", "/api/v1/agent/chunks/" + sha, tok, z)                           # 200
    a.call("PUT", "/api/v1/agent/chunks/" + sha, tok, b"not zstd")                 # 400
    a.call("PUT", "/api/v1/agent/chunks/" + "ab" * 32, tok, z)                     # 422
    a.call("PUT", "/api/v1/agent/chunks/short", tok, z)                            # 404
    a.too_long("PUT", "/api/v1/agent/chunks/" + sha, tok, 20 << 20)              # 413
    a.call("PUT", "/api/v1/agent/chunks/" + sha, None, z)
    a.call("PUT", "/api/v1/agent/chunks/" + sha, "0" * 64, z)
    big = os.path.join(work, "big")                                  # over the tmpfs: 507
    with open(big, "wb") as f:
        f.write(os.urandom(6 << 20))
    bsha = hashlib.sha256(open(big, "rb").read()).hexdigest()
    a.call("PUT", "/api/v1/agent/chunks/" + bsha, tok, zstd(big))                  # 507
    man = {"format": 1, "name": "img", "created": 1, "chunk_size": 4194304,
           "disk": {"size": 1 << 20, "sector_size": 512, "table": "none"},
           "partitions": [], "table_chunks": [], "chunks": [[0, 4096, sha]]}
    a.call("PUT", "/api/v1/agent/manifest", tok, dict(man, name="other"))          # 403
    a.call("PUT", "/api/v1/agent/manifest", tok, dict(man, chunks=[[0, 4096, "cd" * 32]]))  # 409
    a.call("PUT", "/api/v1/agent/manifest", tok, dict(man, format=2))              # 400
    a.too_long("PUT", "/api/v1/agent/manifest", tok, 65 << 20)                     # 413
    a.call("PUT", "/api/v1/agent/manifest", None, man)
    a.call("PUT", "/api/v1/agent/manifest", "0" * 64, man)
    a.call("PUT", "/api/v1/agent/manifest", tok, man)                              # 201
    a.call("POST", "/api/v1/agent/result", tok, "{")                               # 400
    # a result takes a report of up to 256 KiB (and 64 KiB more): one byte over
    a.too_long("POST", "/api/v1/agent/result", tok, (320 << 10) + 1)             # 413
    a.call("POST", "/api/v1/agent/result", None, {})
    a.call("POST", "/api/v1/agent/result", "0" * 64, {})
    a.call("POST", "/api/v1/agent/result", tok, {"ok": True})                      # 204
    for m, p, b in (("GET", "/api/v1/agent/task", None),                           # 409 each
                    ("POST", "/api/v1/agent/inventory", {}),
                    ("POST", "/api/v1/agent/result", {"ok": True}),
                    ("POST", "/api/v1/agent/chunks/missing", []),
                    ("PUT", "/api/v1/agent/chunks/" + sha, z),
                    ("PUT", "/api/v1/agent/manifest", man)):
        a.call(m, p, tok, b)
    return sha, man


def drive_manifest_full(a, sha, man):
    """A manifest that does not fit in what is left of the tmpfs: 507."""
    adm = a.admin
    a.call("POST", "/api/v1/tasks", adm, {"host": "52:54:00:c0:00:03", "type": "capture",
                                          "image": "fat"})
    tok = boot_token(a, "52-54-00-c0-00-03")
    a.call("GET", "/api/v1/agent/task", tok)
    n = 60000
    chunks = [[i * 65536, 4096, sha] for i in range(n)]
    fat = dict(man, name="fat", chunks=chunks,
               disk={"size": n * 65536, "sector_size": 512, "table": "none"})
    a.call("PUT", "/api/v1/agent/manifest", tok, fat)                              # 507
    a.call("POST", "/api/v1/agent/result", tok, {"ok": False})


def scan_task(a, mac):
    """A scan task for a new host: its token (the task not fetched yet)."""
    a.call("POST", "/api/v1/hosts", a.admin, {"mac": mac})
    a.call("POST", "/api/v1/tasks", a.admin, {"host": mac, "type": "scan"})
    return boot_token(a, mac.replace(":", "-"))


def drive_clamav(a, clamdb):
    """The scan database listing: 409 before the task is fetched, 200, and
    500 with more signature files than it lists."""
    tok = scan_task(a, "52:54:00:c0:00:07")
    a.call("GET", "/api/v1/agent/clamav", tok)                                     # 409
    a.call("GET", "/api/v1/agent/task", tok)
    a.call("GET", "/api/v1/agent/clamav", tok)                                     # 200
    a.call("GET", "/api/v1/agent/clamav")                                          # 401
    a.call("GET", "/api/v1/agent/clamav", "0" * 64)                                # 403
    extra = []
    for i in range(65):
        extra.append(os.path.join(clamdb, "extra%02d.hdb" % i))
        with open(extra[-1], "w") as f:
            f.write("%s:4:extra%02d\n" % ("0" * 32, i))
    a.call("GET", "/api/v1/agent/clamav", tok)                                     # 500
    for e in extra:
        os.unlink(e)
    a.call("POST", "/api/v1/agent/result", tok, {"ok": False})


def drive_images(a):
    adm, rd = a.admin, a.read
    a.call("GET", "/api/v1/images", rd)
    a.call("GET", "/api/v1/images")
    a.call("GET", "/api/v1/images/img", rd)
    a.call("GET", "/api/v1/images/none", rd)
    a.call("GET", "/api/v1/images/img")
    a.call("GET", "/api/v1/images/img/manifest", adm)
    a.call("GET", "/api/v1/images/none/manifest", adm)
    a.call("GET", "/api/v1/images/img/manifest")
    a.call("GET", "/api/v1/images/img/manifest", rd)
    a.call("POST", "/api/v1/images/img/verify", adm)
    a.call("POST", "/api/v1/images/none/verify", adm)
    a.call("POST", "/api/v1/images/img/verify")
    a.call("POST", "/api/v1/images/img/verify", rd)


def drive_tasks(a):
    adm, rd = a.admin, a.read
    st, t = a.call("POST", "/api/v1/tasks", adm, {"host": "52:54:00:c0:00:04",
                                                  "type": "shell"})                # 201
    a.call("POST", "/api/v1/tasks", adm, {"host": "52:54:00:c0:00:04", "type": "shell"})  # 409
    a.call("POST", "/api/v1/tasks", adm, {"host": "nobody", "type": "shell"})      # 404
    a.call("POST", "/api/v1/tasks", adm, {"type": "nothing"})                      # 400
    a.too_long("POST", "/api/v1/tasks", adm, 5000)                               # 413
    a.call("POST", "/api/v1/tasks", None, {})
    a.call("POST", "/api/v1/tasks", rd, {})
    a.call("GET", "/api/v1/tasks?limit=5&type=shell", rd)
    a.call("GET", "/api/v1/tasks?after=x", rd)                                     # 400
    a.call("GET", "/api/v1/tasks?host=nobody", rd)                                 # 404
    a.call("GET", "/api/v1/tasks")
    a.call("GET", "/api/v1/tasks/%d" % t["id"], rd)
    a.call("GET", "/api/v1/tasks/99999", rd)
    a.call("GET", "/api/v1/tasks/%d" % t["id"])
    a.call("POST", "/api/v1/tasks/%d/cancel" % t["id"], adm)                       # 200
    a.call("POST", "/api/v1/tasks/%d/cancel" % t["id"], adm)                       # 409
    a.call("POST", "/api/v1/tasks/99999/cancel", adm)
    a.call("POST", "/api/v1/tasks/%d/cancel" % t["id"])
    a.call("POST", "/api/v1/tasks/%d/cancel" % t["id"], rd)
    st, t = a.call("POST", "/api/v1/tasks", adm, {"host": "52:54:00:c0:00:04", "type": "wipe"})
    a.call("DELETE", "/api/v1/tasks/%d" % t["id"], adm)
    a.call("DELETE", "/api/v1/tasks/%d" % t["id"], adm)
    a.call("DELETE", "/api/v1/tasks/99999", adm)
    a.call("DELETE", "/api/v1/tasks/%d" % t["id"])
    a.call("DELETE", "/api/v1/tasks/%d" % t["id"], rd)


def drive_mcast(a, work):
    adm, rd = a.admin, a.read
    s = {"name": "ms", "image": "img", "hosts": ["52:54:00:c0:00:05"], "start_after": 600}
    a.call("POST", "/api/v1/mcast", adm, s)                                       # 201
    a.call("POST", "/api/v1/mcast", adm, s)                                       # 409
    a.call("POST", "/api/v1/mcast", adm, dict(s, name="m2", image="none"))        # 404
    a.call("POST", "/api/v1/mcast", adm, {"name": "m3"})                          # 400
    a.too_long("POST", "/api/v1/mcast", adm, 40000)                             # 413
    a.call("POST", "/api/v1/mcast", None, s)
    a.call("POST", "/api/v1/mcast", rd, s)
    a.call("GET", "/api/v1/mcast", rd)
    a.call("GET", "/api/v1/mcast")
    a.call("GET", "/api/v1/mcast/ms", rd)
    a.call("GET", "/api/v1/mcast/none", rd)
    a.call("GET", "/api/v1/mcast/ms")
    for verb in ("start", "cancel"):
        a.call("POST", "/api/v1/mcast/none/" + verb, adm)
        a.call("POST", "/api/v1/mcast/ms/" + verb)
        a.call("POST", "/api/v1/mcast/ms/" + verb, rd)
    a.call("POST", "/api/v1/mcast/ms/start", adm)
    a.call("POST", "/api/v1/mcast/ms/cancel", adm)
    a.call("DELETE", "/api/v1/mcast/ms", adm)
    a.call("DELETE", "/api/v1/mcast/none", adm)
    a.call("DELETE", "/api/v1/mcast/ms")
    a.call("DELETE", "/api/v1/mcast/ms", rd)
    # another server's session (its row in the servers table, as its share
    # thread writes it with its heartbeat): shown, its actions refused
    elsewhere = {"name": "elsewhere", "image": "img", "state": "waiting"}
    db = sqlite3.connect(os.path.join(work, "state", "pxed.db"), timeout=10)
    with db:
        db.execute("INSERT INTO servers (name, heartbeat, started, running)"
                   " VALUES ('pxe-other', ?, 0, ?)",
                   (int(time.time() * 1000) + 3600000,
                    json.dumps({"transfers": [], "mcast": [elsewhere]})))
    db.close()
    a.call("GET", "/api/v1/mcast/elsewhere", rd)                                 # 200
    for verb in ("start", "cancel"):
        a.call("POST", "/api/v1/mcast/elsewhere/" + verb, adm)                   # 409
    a.call("DELETE", "/api/v1/mcast/elsewhere", adm)                             # 409


def drive_rest(a):
    adm, rd = a.admin, a.read
    a.call("DELETE", "/api/v1/images/none", adm)
    a.call("DELETE", "/api/v1/images/img")
    a.call("DELETE", "/api/v1/images/img", rd)
    a.call("DELETE", "/api/v1/images/img", adm)                                   # 200
    a.call("GET", "/api/v1/boot/52-54-00-c0-00-06.ipxe")
    a.call("GET", "/api/v1/boot/not-a-mac.ipxe")
    a.call("GET", "/api/v1/clients", rd)
    a.call("GET", "/api/v1/clients")
    a.call("GET", "/api/v1/clients/52:54:00:c0:00:02", rd)
    a.call("GET", "/api/v1/clients/52:54:00:c0:00:7f", rd)
    a.call("GET", "/api/v1/clients/52:54:00:c0:00:02")
    a.call("GET", "/api/v1/leases", rd)
    a.call("GET", "/api/v1/leases?after=x", rd)
    a.call("GET", "/api/v1/leases")
    a.call("GET", "/api/v1/config", rd)
    a.call("GET", "/api/v1/config")
    a.call("GET", "/api/v1/transfers", rd)
    a.call("GET", "/api/v1/transfers")
    a.call("GET", "/api/v1/stats/boots?hours=168", rd)
    a.call("GET", "/api/v1/stats/boots?hours=0", rd)                              # 400
    a.call("GET", "/api/v1/stats/boots")
    a.call("GET", "/api/v1/events", rd, stream=True)
    a.call("GET", "/api/v1/events", rd, headers={"Last-Event-ID": "x"})
    a.call("GET", "/api/v1/events")
    a.call("GET", "/api/v1/openapi.json")
    a.call("GET", "/api/v1/status")
    a.call("GET", "/metrics")


def drive_envs(a):
    """Boot environments: the config file's "broken" names a kernel that
    is not under the root."""
    adm, rd = a.admin, a.read
    linux = {"kind": "linux", "kernel": "http://192.0.2.1/vmlinuz"}
    a.call("GET", "/api/v1/environments", rd)                                      # 200
    a.call("GET", "/api/v1/environments")                                          # 401
    a.call("GET", "/api/v1/environments/broken", rd)                               # 200
    a.call("GET", "/api/v1/environments/none", rd)                                 # 404
    a.call("GET", "/api/v1/environments/broken")
    a.call("PUT", "/api/v1/environments/lx", adm, linux)                           # 201
    a.call("PUT", "/api/v1/environments/lx", adm, dict(linux, title="again"))      # 200
    a.call("PUT", "/api/v1/environments/.lx", adm, linux)                          # 400
    a.call("PUT", "/api/v1/environments/lx", adm, {"kind": "dos"})                 # 400
    a.call("PUT", "/api/v1/environments/broken", adm, linux)                       # 409
    a.call("PUT", "/api/v1/environments/lx2", adm, {"kind": "linux",
                                                    "kernel": "no/such/vmlinuz"})  # 422
    a.too_long("PUT", "/api/v1/environments/lx", adm, 9000)                      # 413
    a.call("PUT", "/api/v1/environments/lx", None, linux)
    a.call("PUT", "/api/v1/environments/lx", rd, linux)
    a.call("POST", "/api/v1/tasks", adm, {"host": "52:54:00:c0:00:04", "type": "boot",
                                          "environment": "broken"})                # 422
    a.call("DELETE", "/api/v1/environments/lx", adm)                               # 204
    a.call("DELETE", "/api/v1/environments/lx", adm)                               # 404
    a.call("DELETE", "/api/v1/environments/broken", adm)                           # 409
    a.call("DELETE", "/api/v1/environments/lx")
    a.call("DELETE", "/api/v1/environments/lx", rd)


def drive_diag(a):
    """A diagnose and a wipe through the agent's routes; their reports."""
    adm, rd = a.admin, a.read
    host = "52:54:00:c0:00:04"
    a.call("POST", "/api/v1/tasks", adm, {"host": host, "type": "diagnose", "tests": "cpu",
                                          "duration": 1})
    tok = boot_token(a, "52-54-00-c0-00-04")
    result = {"test": "cpu", "status": "pass", "started": 1, "duration_ms": 5,
              "summary": "ok"}
    a.call("POST", "/api/v1/agent/diag", tok, result)                              # 409
    a.call("GET", "/api/v1/agent/task", tok)
    a.call("POST", "/api/v1/agent/diag", tok, result)                              # 204
    a.call("POST", "/api/v1/agent/diag", tok, dict(result, test="nothing"))        # 400
    a.too_long("POST", "/api/v1/agent/diag", tok, 300000)                        # 413
    a.call("POST", "/api/v1/agent/diag", None, result)                             # 401
    a.call("POST", "/api/v1/agent/diag", "0" * 64, result)                         # 403
    a.call("POST", "/api/v1/agent/wipe", tok, {})                                  # 403: a diagnose
    a.call("POST", "/api/v1/agent/result", tok, {"ok": True})
    a.call("GET", "/api/v1/hosts/%s/diagnostics" % host, rd)                       # 200
    a.call("GET", "/api/v1/hosts/nobody/diagnostics", rd)                          # 404
    a.call("GET", "/api/v1/hosts/%s/diagnostics" % host)                           # 401
    a.call("POST", "/api/v1/tasks", adm, {"host": host, "type": "wipe", "level": "zero"})
    tok = boot_token(a, "52-54-00-c0-00-04")
    cert = {"disk": "/dev/vda", "model": "m", "serial": "s", "size": 4096,
            "method": "zero", "started": 1, "finished": 2, "bytes_written": 4096,
            "verify": "none", "bytes_verified": 0, "ok": True, "message": "done"}
    a.call("POST", "/api/v1/agent/wipe", tok, cert)                                # 409
    a.call("GET", "/api/v1/agent/task", tok)
    a.call("POST", "/api/v1/agent/wipe", tok, cert)                                # 204
    a.call("POST", "/api/v1/agent/wipe", tok, dict(cert, verify="maybe"))          # 400
    a.too_long("POST", "/api/v1/agent/wipe", tok, 5000)                          # 413
    a.call("POST", "/api/v1/agent/wipe", None, cert)                               # 401
    a.call("POST", "/api/v1/agent/wipe", "0" * 64, cert)                           # 403
    a.call("POST", "/api/v1/agent/result", tok, {"ok": True})
    a.call("GET", "/api/v1/wipes?limit=1&host=" + host, rd)                        # 200
    a.call("GET", "/api/v1/wipes?host=nobody", rd)                                 # 404
    a.call("GET", "/api/v1/wipes?after=x", rd)                                     # 400
    a.call("GET", "/api/v1/wipes")                                                 # 401


def drive_wake(a):
    """c0:00:06 fetched its boot script (drive_rest): pxed knows where it
    is; c0:00:05 never booted."""
    adm, rd = a.admin, a.read
    a.call("POST", "/api/v1/hosts/52:54:00:c0:00:06/wake", adm)                    # 200
    a.call("POST", "/api/v1/hosts/52:54:00:c0:00:05/wake", adm)                    # 409
    a.call("POST", "/api/v1/hosts/nobody/wake", adm)                               # 404
    a.call("POST", "/api/v1/hosts/52:54:00:c0:00:06/wake")
    a.call("POST", "/api/v1/hosts/52:54:00:c0:00:06/wake", rd)
    a.call("POST", "/api/v1/groups/room/wake", adm)                                # 200
    a.call("POST", "/api/v1/groups/cold/add", adm, {"hosts": ["52:54:00:c0:00:05"]})
    a.call("POST", "/api/v1/groups/cold/wake", adm)                                # 409
    a.call("POST", "/api/v1/groups/nowhere/wake", adm)                             # 404
    a.call("POST", "/api/v1/groups/room/wake")
    a.call("POST", "/api/v1/groups/room/wake", rd)
    pw = {"password": "11:22:33:44:55:66"}
    a.call("PUT", "/api/v1/hosts/52:54:00:c0:00:06/wol", adm, pw)                  # 200
    a.call("PUT", "/api/v1/hosts/52:54:00:c0:00:06/wol", adm, {"password": "x"})   # 400
    a.call("PUT", "/api/v1/hosts/nobody/wol", adm, pw)                             # 404
    a.too_long("PUT", "/api/v1/hosts/52:54:00:c0:00:06/wol", adm, 2000)          # 413
    a.call("PUT", "/api/v1/hosts/52:54:00:c0:00:06/wol", None, pw)
    a.call("PUT", "/api/v1/hosts/52:54:00:c0:00:06/wol", rd, pw)


def drive_subnets(a, conf):
    adm, rd = a.admin, a.read
    a.call("GET", "/api/v1/subnets", rd)
    a.call("GET", "/api/v1/subnets")
    a.call("GET", "/api/v1/subnets/192.0.2.0/24", rd)
    a.call("GET", "/api/v1/subnets/203.0.113.0/24", rd)                           # 404
    a.call("GET", "/api/v1/subnets/192.0.2.1/24", rd)                             # 400
    a.call("GET", "/api/v1/subnets/192.0.2.0/24")
    for verb in ("enable", "disable"):
        a.call("POST", "/api/v1/subnets/203.0.113.0/24/" + verb, adm, {})          # 200
        a.call("POST", "/api/v1/subnets/192.0.2.0/25/" + verb, adm, {})            # 409
        a.call("POST", "/api/v1/subnets/203.0.113.1/24/" + verb, adm, {})          # 400
        a.too_long("POST", "/api/v1/subnets/203.0.113.0/24/" + verb, adm, 5000)  # 413
        a.call("POST", "/api/v1/subnets/203.0.113.0/24/" + verb, None, {})
        a.call("POST", "/api/v1/subnets/203.0.113.0/24/" + verb, rd, {})
    a.call("POST", "/api/v1/reload", adm, {})                                      # 200
    a.call("POST", "/api/v1/reload", adm, "{")                                     # 400
    a.too_long("POST", "/api/v1/reload", adm, 5000)
    a.call("POST", "/api/v1/reload")
    a.call("POST", "/api/v1/reload", rd)
    with open(conf, "a") as f:
        f.write("no-such-setting = 1\n")
    a.call("POST", "/api/v1/reload", adm, {})                                      # 400


def phase_tls(a, doc):
    """HTTPS is on: every read and change over plain HTTP from the network
    is refused (403) before anything else is looked at."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if op["x-pxed-access"] in ("read", "admin"):
                concrete = re.sub(r"\{[a-z0-9_]+\}", "x", path)
                a.call(method.upper(), concrete, a.admin,
                       {} if "requestBody" in op else None)


def drive(phase, url, token_file, out_path, work):
    adm = open(token_file).read().strip()
    c = http.client.HTTPConnection(urllib.parse.urlparse(url).hostname, timeout=10)
    c.request("GET", "/api/v1/openapi.json")
    doc = json.loads(c.getresponse().read())
    with open(out_path, "a") as out:
        a = Api(url, adm, out, doc_paths(doc))
        if phase == "off":
            phase_off(a)
            return
        if phase == "tls":
            phase_tls(a, doc)
            return
        drive_tokens(a)
        drive_hosts(a)
        drive_groups(a)
        sha, man = drive_capture(a, work)
        drive_manifest_full(a, sha, man)
        drive_images(a)
        drive_tasks(a)
        drive_clamav(a, os.path.join(work, "clamdb"))
        drive_mcast(a, work)
        drive_subnets(a, os.path.join(work, "pxed.conf"))
        drive_rest(a)
        drive_envs(a)
        drive_diag(a)
        drive_wake(a)


def check(doc_path, out_path):
    doc = json.load(open(doc_path))
    promised = set()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status in op["responses"]:
                if status != "5XX":
                    promised.add((method.upper(), path, int(status)))
    seen = set()
    for line in open(out_path):
        m, t, s = line.split()
        seen.add((m, t, int(s)))
    missing = sorted(promised - seen)
    extra = sorted(x for x in seen - promised if x[2] < 500)
    print("# %d operations, %d documented statuses, %d answered" % (
        sum(len(i) for i in doc["paths"].values()), len(promised), len(seen)))
    for m in missing:
        print("# documented but never answered: %s %s %d" % m)
    for e in extra:
        print("# answered but not documented: %s %s %d" % e)
    return 0 if not missing and not extra else 1


def errors(path):
    lines = [line.split(None, 3) for line in open(path)]
    bad = [x for x in lines if x[3].strip() != "ok"]
    print("# %d error answers, %d not JSON {error, code} with their status's code" % (
        len(lines), len(bad)))
    for m, t, s, why in bad[:20]:
        print("# %s %s %s: %s" % (m, t, s, why.strip()))
    return 0 if lines and not bad else 1


if __name__ == "__main__":
    if sys.argv[1] == "drive":
        drive(*sys.argv[2:7])
    elif sys.argv[1] == "errors":
        sys.exit(errors(sys.argv[2]))
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
