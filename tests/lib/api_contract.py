#!/usr/bin/env python3
"""Drive pxed's API to every status its OpenAPI document promises.

api_contract.py drive PHASE URL ADMIN_TOKEN_FILE OUT WORKDIR
    Run the requests of one phase against a running pxed and append, for
    each answer, "METHOD TEMPLATE STATUS" to OUT (TEMPLATE: the document's
    path the request matched).
api_contract.py check DOC OUT
    Compare: every documented (operation, status) was answered at least
    once, and every status answered is documented.  5XX is documented for
    every operation and not driven (the state store failing).

Phases (tests/integration/api_contract.sh starts pxed for each):
    off   no DHCP, metrics-auth = read: the subnets' 409s, counters' 401s
    tls   HTTPS on: every read and change over plain HTTP: 403
    main  DHCP on a subnet, an image repository on a 4 MiB tmpfs: the rest
"""
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse


class Api:
    def __init__(self, url, admin, out, docpaths):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.admin = admin
        self.out = out
        self.docpaths = docpaths
        self.read = None

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
        self.out.write("%s %s %d\n" % (method, self.template(path), r.status))
        self.out.flush()
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
        r.read()
        c.close()
        self.out.write("%s %s %d\n" % (method, self.template(path), r.status))
        self.out.flush()


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
    a.too_long("POST", "/api/v1/agent/result", tok, 70000)                       # 413
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


def drive_mcast(a):
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
    a.call("GET", "/api/v1/events", rd, stream=True)
    a.call("GET", "/api/v1/events", rd, headers={"Last-Event-ID": "x"})
    a.call("GET", "/api/v1/events")
    a.call("GET", "/api/v1/openapi.json")
    a.call("GET", "/api/v1/status")
    a.call("GET", "/metrics")


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
        drive_mcast(a)
        drive_subnets(a, os.path.join(work, "pxed.conf"))
        drive_rest(a)


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


if __name__ == "__main__":
    if sys.argv[1] == "drive":
        drive(*sys.argv[2:7])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
