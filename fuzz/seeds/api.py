"""Seeds of fuzz_api: one request per route of the API, with the
credentials and a body it accepts, and a few it refuses (see the input
format at the top of fuzz/fuzz_api.c)."""
import hashlib
import subprocess
import tempfile

from common import write

DIR = "fuzz/corpus/fuzz_api"
METHOD = {"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3, "HEAD": 4, "PATCH": 5}
AUTH = {"none": 0, "admin": 1, "read": 2, "task": 3, "bearer": 4, "basic": 5,
        "wrong": 6, "empty": 7}
SECURE = 0x08
MAC = "52:54:00:12:34:56"


def request(method, target, auth="admin", body=b"", host="192.0.2.1",
            leid="", length=None, bearer=None, secure=True):
    flags = AUTH[auth] | (SECURE if secure else 0)
    head = [target, host, leid]
    if length is not None:
        flags |= 0x10
        head.append(length)
    if auth == "bearer":
        head.append(bearer or "")
    text = "\n".join(head) + "\n"
    return bytes([METHOD[method], flags]) + text.encode() + body


def zstd_frame(data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return subprocess.run(["zstd", "-q", "-c", f.name], stdout=subprocess.PIPE,
                              check=True).stdout


def seeds():
    frame = zstd_frame(b"pxed chunk " * 100)
    sha = hashlib.sha256(b"pxed chunk " * 100).hexdigest()
    manifest = (b'{"format":1,"name":"fuzzed","created":1795622799,'
                b'"disk":{"size":1048576,"sector_size":512,"table":"none"},'
                b'"chunk_size":4194304,"partitions":[],"table_chunks":[],'
                b'"chunks":[[0,1100,"' + sha.encode() + b'"]]}')
    out = {
        "hosts_list": request("GET", "/api/v1/hosts?limit=2&after=00", "read"),
        "hosts_add": request("POST", "/api/v1/hosts", body=b'{"mac":"52:54:00:00:00:09","name":"b"}'),
        "host_show": request("GET", "/api/v1/hosts/" + MAC, "read"),
        "host_remove": request("DELETE", "/api/v1/hosts/" + MAC),
        "host_approve": request("POST", "/api/v1/hosts/" + MAC + "/approve"),
        "host_deny": request("POST", "/api/v1/hosts/" + MAC + "/deny"),
        "groups_list": request("GET", "/api/v1/groups", "read"),
        "group_show": request("GET", "/api/v1/groups/lab", "read"),
        "group_add": request("POST", "/api/v1/groups/lab/add", body=b'{"hosts":["' + MAC.encode() + b'"]}'),
        "group_remove": request("POST", "/api/v1/groups/lab/remove", body=b'{"hosts":["' + MAC.encode() + b'"]}'),
        "group_delete": request("DELETE", "/api/v1/groups/lab"),
        "tasks_list": request("GET", "/api/v1/tasks?state=active&type=capture", "read"),
        "task_add": request("POST", "/api/v1/tasks", body=b'{"host":"52:54:00:00:00:09","type":"wipe","after":"poweroff"}'),
        "task_group": request("POST", "/api/v1/tasks", body=b'{"group":"lab","type":"deploy","image":"x"}'),
        "task_show": request("GET", "/api/v1/tasks/1", "read"),
        "task_cancel": request("POST", "/api/v1/tasks/1/cancel"),
        "task_delete": request("DELETE", "/api/v1/tasks/1"),
        "images_list": request("GET", "/api/v1/images", "read"),
        "image_show": request("GET", "/api/v1/images/fuzzed", "read"),
        "image_manifest": request("GET", "/api/v1/images/fuzzed/manifest"),
        "image_verify": request("POST", "/api/v1/images/fuzzed/verify"),
        "image_remove": request("DELETE", "/api/v1/images/fuzzed"),
        "mcast_list": request("GET", "/api/v1/mcast", "read"),
        "mcast_add": request("POST", "/api/v1/mcast", body=b'{"name":"m","image":"fuzzed","hosts":["' + MAC.encode() + b'"],"fec":"16,2"}'),
        "mcast_show": request("GET", "/api/v1/mcast/m", "read"),
        "mcast_start": request("POST", "/api/v1/mcast/m/start"),
        "mcast_cancel": request("POST", "/api/v1/mcast/m/cancel"),
        "mcast_delete": request("DELETE", "/api/v1/mcast/m"),
        "agent_task": request("GET", "/api/v1/agent/task", "task"),
        "agent_inventory": request("POST", "/api/v1/agent/inventory", "task", b'{"disks":[{"name":"sda","size":1}],"cpu":"x"}'),
        "agent_progress": request("POST", "/api/v1/agent/progress", "task", b'{"phase":"capture","bytes":10,"total":100,"rate":1,"resume_offset":0}'),
        "agent_result": request("POST", "/api/v1/agent/result", "task", b'{"ok":false,"message":"disk\\u00e9 gone","log":"a\\nb"}'),
        "agent_missing": request("POST", "/api/v1/agent/chunks/missing", "task", b'["' + sha.encode() + b'"]'),
        "agent_chunk": request("PUT", "/api/v1/agent/chunks/" + sha, "task", frame),
        "agent_manifest": request("PUT", "/api/v1/agent/manifest", "task", manifest),
        "boot_ipxe": request("GET", "/api/v1/boot/52-54-00-12-34-56.ipxe", "none", host="pxed.example:8080"),
        "boot_grub": request("GET", "/api/v1/boot/52:54:00:12:34:56.grub", "none"),
        "boot_pxelinux": request("GET", "/api/v1/boot/pxelinux.cfg/01-52-54-00-12-34-56", "none"),
        "boot_new": request("GET", "/api/v1/boot/02-00-00-00-00-07.pxelinux", "none"),
        "clients": request("GET", "/api/v1/clients?limit=10", "read"),
        "client": request("GET", "/api/v1/clients/" + MAC, "read"),
        "events": request("GET", "/api/v1/events", "read", leid="0"),
        "leases": request("GET", "/api/v1/leases?limit=5", "read"),
        "openapi": request("GET", "/api/v1/openapi.json", "none"),
        "status": request("GET", "/api/v1/status", "none"),
        "metrics": request("GET", "/metrics", "none"),
        "subnets": request("GET", "/api/v1/subnets", "read"),
        "subnet_show": request("GET", "/api/v1/subnets/192.0.2.0/24", "read"),
        "subnet_enable": request("POST", "/api/v1/subnets/192.0.2.0/24/enable", body=b'{"proxy":true}'),
        "subnet_disable": request("POST", "/api/v1/subnets/192.0.2.0/24/disable", body=b'{}'),
        "reload": request("POST", "/api/v1/reload", body=b'{}'),
        "tokens_list": request("GET", "/api/v1/tokens"),
        "token_add": request("POST", "/api/v1/tokens", body=b'{"name":"ops","scope":"admin"}'),
        "token_revoke": request("DELETE", "/api/v1/tokens/reader"),
        # refusals
        "no_token": request("GET", "/api/v1/hosts", "none"),
        "read_changes": request("POST", "/api/v1/hosts", "read", b'{"mac":"52:54:00:00:00:09"}'),
        "wrong_token": request("GET", "/api/v1/hosts", "wrong"),
        "bearer_text": request("GET", "/api/v1/agent/task", "bearer", bearer="0123"),
        "basic": request("GET", "/api/v1/tasks", "basic"),
        "too_long": request("POST", "/api/v1/tokens", length="99999", body=b"{}"),
        "no_length": request("POST", "/api/v1/hosts", length="", body=b'{"mac":"52:54:00:00:00:0a"}'),
        "deep_json": request("POST", "/api/v1/tasks", body=b"[" * 40 + b"]" * 40),
        "many_values": request("POST", "/api/v1/hosts", body=b"[" + b"1," * 40 + b"1]"),
        "bad_escape": request("GET", "/api/v1/hosts/%zz", "read"),
        "nul_escape": request("GET", "/api/v1/hosts/52%0054", "read"),
        "traversal": request("GET", "/api/v1/../v1/hosts", "read"),
        "method": request("PATCH", "/api/v1/hosts"),
        "not_found": request("GET", "/api/v2/x", "read"),
        "plain_http": request("GET", "/api/v1/hosts", "read", secure=False),
        "bad_leid": request("GET", "/api/v1/events", "read", leid="x1"),
        "query_bad": request("GET", "/api/v1/hosts?limit=%", "read"),
    }
    for name, data in out.items():
        write(DIR, name, data)
