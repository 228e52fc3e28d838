"""Seeds of fuzz_boot_script, fuzz_config, fuzz_json_body and fuzz_sse."""
import os

from common import write


def boot_script():
    d = "fuzz/corpus/fuzz_boot_script"
    mac = bytes([0x02, 0, 0, 0, 0, 0x42])
    hosts = {"plain": b"pxed.example", "port": b"192.0.2.1:8080", "v6": b"[2001:db8::1]:80",
             "space": b"pxed.example evil", "newline": b"pxed\nchain http://x/",
             "quote": b"a\"b", "control": b"pxe\x08d", "empty": b"", "var": b"${password}",
             "long": b"h" * 400}
    for kind in range(4):
        for who in range(4):
            for name, host in hosts.items():
                if who != 2 and name not in ("plain", "newline", "control"):
                    continue
                first = bytes([who | kind << 2 | (0x10 if name == "port" else 0)])
                body = first + (mac if who == 2 else b"") + host
                write(d, f"k{kind}_h{who}_{name}", body)


def config():
    d = "fuzz/corpus/fuzz_config"
    with open("etc/pxed.conf", "rb") as f:
        write(d, "example", f.read())
    write(d, "subnets", b"""listen = 192.0.2.1
dhcp-lease-time = 1h
boot = bios undionly.kpxe
boot = efi64 ipxe.efi
boot = ipxe http://${next-server}/api/v1/boot/${mac}.ipxe
[subnet 192.0.2.0/24]
range = 192.0.2.100 192.0.2.200
router = 192.0.2.1
dns = 192.0.2.1
lease-time = 10m
[subnet 198.51.100.0/24]
proxy = yes
[host 52:54:00:12:34:56]
address = 192.0.2.50
boot = efi64 special.efi
[relay sw1-port7]
circuit-id = 7377312d706f727437
boot = bios other.kpxe
[global]
mtftp-file = pxelinux.0 239.255.1.1 3001
""")
    write(d, "empty_values", b"dhcp-lease-time =\nmcast-group =\nrouter\n")
    write(d, "bad_section", b"[subnet 192.0.2.1/24]\n[host zz]\n[relay]\n[nope]\n")
    write(d, "long_line", b"root = /" + b"a" * 3000 + b"\n")
    write(d, "windows", b"root = /srv/pxed\r\nlog-level = debug\r\n")


def json_body():
    d = "fuzz/corpus/fuzz_json_body"
    bodies = {
        "host": b'{"mac":"52:54:00:12:34:56","name":"lab-1"}',
        "task": b'{"host":"lab-1","type":"deploy","image":"win11","verify":true,"after":"reboot"}',
        "mcast": b'{"name":"m","image":"i","hosts":["a","b"],"fec":"16,2","rate_mbit":500}',
        "inventory": b'{"disks":[{"name":"nvme0n1","size":512110190592,"model":"x\\u00e9"}]}',
        "deep": b"[" * 33 + b"]" * 33,
        "many": b"[" + b"0," * 100 + b"0]",
        "nul_hides_values": b"[1\x00" + b",1" * 50 + b"]",
        "dup_keys": b'{"a":1,"a":2}',
        "bad_utf8": b'{"a":"\xff"}',
        "big_number": b"[1e400,-0,18446744073709551616]",
        "trailing": b'{"a":1} x',
    }
    for i, (name, body) in enumerate(bodies.items()):
        write(d, name, bytes([i % 5]) + body)


def sse():
    d = "fuzz/corpus/fuzz_sse"
    stream = (b"id: 1\nevent: host\ndata: {\"mac\":\"52:54:00:12:34:56\",\"change\":\"added\"}\n\n"
              b": keepalive\n\n"
              b"id: 2\nevent: task\ndata: {\"id\":3,\"state\":\"running\"}\n\n"
              b"event: gap\ndata: {\"lost\":12}\n\n")
    write(d, "events", b"\x06" + stream)
    write(d, "crlf", b"\x00" + stream.replace(b"\n", b"\r\n"))
    write(d, "multiline", b"\x03event:x\ndata:a\ndata:b\n\n")
    write(d, "no_blank", b"\x10data: " + b"z" * 300)
    write(d, "nul", b"\x01event: ta\x00sk\ndata: {}\n\n")


def seeds():
    boot_script()
    config()
    json_body()
    sse()
