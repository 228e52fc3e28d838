#!/bin/bash
# PXE boot menus on the wire (no menu-capable PXE ROM exists in the QEMU
# lab, so a synthetic client plays the firmware): the OFFER to a PXE ROM
# carries the menu (43.9), prompt (43.10), boot servers (43.8) and a
# discovery control that sends the client to 4011; the 4011 request for
# the item chosen (43.71) gets that item's file; an unknown item gets
# nothing; iPXE and plain clients get no menu.
cd "$(dirname "$0")/../.." || exit 1
LAB_ID=pm$$
source tests/lib/lab.sh
lab_plan 21
lab_up || exit 1
make_file deploy.kpxe 1000
make_file capture.kpxe 2000
make_file undionly.kpxe 3000
cat >"$LAB_DIR/pxed.conf" <<CONF
pxe-menu = Deploy image | deploy.kpxe
pxe-menu = Capture image | capture.kpxe
pxe-menu = Boot local disk | local
pxe-prompt = Press F8 for the menu
pxe-menu-timeout = 7
boot = ipxe http://\${next-server}/boot.ipxe
[subnet 192.0.2.0/24]
range = 192.0.2.100 192.0.2.150
CONF
pxed_start --config "$LAB_DIR/pxed.conf" || exit 1

BIOS=(--vendor PXEClient:Arch:00000:UNDI:002001 --arch 0 --max-size 1472 --prl 1,3,43,60,66,67)
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:05:01 \
	--xid 0b000001 "${BIOS[@]}" --wait-ms 2500
P=$(reply_from $LAB_SRV_IP)
o43=$(rfield "$P" o43)
# offer_in_range: $P is an OFFER of an address of the range (not a proxy OFFER)
offer_in_range() {
	[ "$(rfield "$P" type)" = OFFER ] &&
		case $(rfield "$P" yiaddr) in 192.0.2.1[0-4][0-9]|192.0.2.150) ;; *) false ;; esac
}
check "PXE ROM gets an OFFER with an address of the range ($(rfield "$P" yiaddr))" offer_in_range
check "OFFER carries 60 PXEClient" [ "$(rfield "$P" o60)" = "$(hexstr PXEClient)" ]
check "43 has the menu item 'Deploy image' as type 0x8000" grep -q "8000$(printf %02x 12)$(hexstr 'Deploy image')" <<<"$o43"
check "43 has 'Capture image' as type 0x8001" grep -q "8001$(printf %02x 13)$(hexstr 'Capture image')" <<<"$o43"
check "43 has 'Boot local disk' as type 0 (local)" grep -q "0000$(printf %02x 15)$(hexstr 'Boot local disk')" <<<"$o43"
check "43 has the prompt with timeout 7 (sub-option 10)" \
	grep -q "0a$(printf %02x 22)07$(hexstr 'Press F8 for the menu')" <<<"$o43"
check "43 lists this server for types 0x8000 and 0x8001 (sub-option 8)" \
	grep -q "080e800001c0000201800101c0000201" <<<"$o43"
check "discovery control 7: no broadcast/multicast, listed servers only, show the menu" \
	grep -qE '^(..)*060107(..)*ff$' <<<"$o43"
lease=$(rfield "$P" yiaddr)

# the firmware's discovery of item 0x8001 (Capture image), layer 0, on 4011
ip -n "$LAB_CLI" addr add "$lease/24" dev c0
pick() {   # type xid
	dprobe --bind "$lease:4011" --to $LAB_SRV_IP:4011 --type request --ciaddr "$lease" \
		--mac 52:54:00:00:05:01 --xid "$2" "${BIOS[@]}" --boot-item "$1,0" --wait-ms 2000
	A=$(reply_from $LAB_SRV_IP)
}
pick 32769 0b000002
check "4011: choosing 'Capture image' gives capture.kpxe" [ "$(rfield "$A" file)" = capture.kpxe ]
check "4011: the ACK echoes 71 with type 0x8001, layer 0 ($(o43_sub "$(rfield "$A" o43)" 71))" \
	[ "$(o43_sub "$(rfield "$A" o43)" 71)" = 80010000 ]
check "4011: the ACK comes from 4011 back to the client's socket on 4011" \
	grep -q "^reply from=$LAB_SRV_IP:4011 to=$lease " <<<"$A"
pick 32768 0b000003
check "4011: choosing 'Deploy image' gives deploy.kpxe" [ "$(rfield "$A" file)" = deploy.kpxe ]
pick 36864 0b000004
check "4011: an item not on the menu gets no answer" [ -z "$A" ]
check "... and a log line says so" wait_log "type 36864 is not on the menu" 3
in_cli timeout 10 curl -s -o "$LAB_DIR/cap" "tftp://$LAB_SRV_IP/capture.kpxe"
check "the chosen file downloads" cmp -s "$LAB_DIR/cap" "$LAB_ROOT/capture.kpxe"
ip -n "$LAB_CLI" addr flush dev c0

# iPXE (user class) gets its script, not the menu; a plain client gets neither
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:05:02 \
	--xid 0b000005 "${BIOS[@]}" --opt-str 77=iPXE --wait-ms 2500
P=$(reply_from $LAB_SRV_IP)
check "iPXE gets the script URL" [ "$(rfield "$P" file)" = "http://192.0.2.1/boot.ipxe" ]
no_menu() { [ -n "$P" ] && ! grep -q "$(hexstr 'Deploy image')" <<<"$(rfield "$P" o43)"; }
check "iPXE gets no menu" no_menu
dprobe --iface c0 --to 255.255.255.255:67 --broadcast --mac 52:54:00:00:05:03 \
	--xid 0b000006 --wait-ms 2500
P=$(reply_from $LAB_SRV_IP)
check "a plain client gets an address" [ "$(rfield "$P" type)" = OFFER ]
no_43_no_file() { rlacks "$P" o43 && [ -z "$(rfield "$P" file)" ]; }
check "a plain client gets no 43 and no file" no_43_no_file

check "pxed stops cleanly" pxed_stop
check "sanitizer clean" pxed_log_clean
lab_finish
