#!/bin/bash
# The Debian package (make deb) and make install, on this machine:
#  - make install DESTDIR=... PREFIX=/usr/local stages the files with the
#    paths filled in, and creates no user;
#  - make deb builds build/deb/pxed_*.deb; lintian reports no error; the
#    package holds the programs, manual pages, unit, bash completion and
#    /etc/pxed/pxed.conf as a conffile;
#  - dpkg -i: postinst makes the pxed user and /var/lib/pxed (owned by it),
#    enables the unit;
#  - the service runs as its unit says, in the lab's server namespace (so
#    ports 67/69/80/4011 of this machine stay free): under systemd when it
#    runs (a drop-in puts the unit in that namespace: NetworkNamespacePath);
#    otherwise the unit is checked with systemd-analyze verify and its
#    ExecStart run with the unit's User, Group, capabilities and
#    NoNewPrivileges (setpriv), its ProtectSystem=strict, ReadWritePaths and
#    PrivateTmp (a mount namespace: / read-only but the state directory, a
#    /tmp of its own) and UMask;
#  - it runs as pxed with no capability left, serves a boot file from
#    /srv/pxed over TFTP and HTTP, answers DHCP on 67 and 4011, and pxectl
#    works with no option (the token from /var/lib/pxed/api-token);
#  - dpkg -r keeps the config, dpkg -P leaves no file, state, unit link;
#    the user goes too when this test made it.
# The machine is left as found (trap), whatever fails.
LAB_ID=${LAB_ID:-pk$$}
source "$(dirname "$0")/../lib/lab.sh"
lab_plan 38

UNIT=/lib/systemd/system/pxed.service
DROPIN=/etc/systemd/system/pxed.service.d
WANTS=/etc/systemd/system/multi-user.target.wants/pxed.service
TESTFILE=pkgtest-$LAB_ID.bin
SYSTEMD=no
[ -d /run/systemd/system ] && SYSTEMD=yes
echo "# systemd running: $SYSTEMD"

if dpkg-query -W -f='${Status}' pxed 2>/dev/null | grep -q installed; then
	not_ok "setup: a pxed package is installed already: this test would replace it"
	exit 1
fi
had_user=no
getent passwd pxed >/dev/null && had_user=yes
had_group=no
getent group pxed >/dev/null && had_group=yes
had_srv=no
[ -e /srv/pxed ] && had_srv=yes
had_dropin=no
[ -e "$DROPIN" ] && had_dropin=yes

# Put back what the test changed, in order: the daemon, the package, the
# drop-in, the user, /srv/pxed.
package_cleanup() {
	[ "$SYSTEMD" = yes ] && systemctl stop pxed.service 2>/dev/null
	[ -n "${PXED_PID:-}" ] && kill "$PXED_PID" 2>/dev/null && sleep 0.5
	if dpkg-query -W -f='${Status}' pxed 2>/dev/null | grep -qv "not-installed"; then
		dpkg -P pxed >/dev/null 2>&1
	fi
	rm -f "/srv/pxed/$TESTFILE"
	if [ "$had_dropin" = no ] && [ -e "$DROPIN" ]; then
		rm -rf "$DROPIN"
		[ "$SYSTEMD" = yes ] && systemctl daemon-reload
	fi
	[ "$had_user" = no ] && getent passwd pxed >/dev/null && userdel pxed
	[ "$had_group" = no ] && getent group pxed >/dev/null && groupdel pxed
	[ "$had_srv" = no ] && [ -d /srv/pxed ] && rmdir /srv/pxed
	[ "$had_srv" = yes ] && [ ! -e /srv/pxed ] && install -d -m 0755 /srv/pxed
}
LAB_CLEANUPS+=(package_cleanup)

# --- make install into a staging directory ------------------------------------
build_and_lint() {
	STAGE=$LAB_DIR/stage
	make -s install DESTDIR="$STAGE" PREFIX=/usr/local >"$LAB_DIR/install.log" 2>&1 ||
		{ cat "$LAB_DIR/install.log"; not_ok "setup: make install DESTDIR"; exit 1; }
	missing=""
	for f in usr/local/sbin/pxed usr/local/sbin/pxe-agent usr/local/bin/pxectl \
		usr/local/share/man/man8/pxed.8 usr/local/share/man/man8/pxectl.8 \
		usr/local/share/man/man5/pxed.conf.5 etc/pxed/pxed.conf \
		lib/systemd/system/pxed.service usr/local/share/bash-completion/completions/pxectl; do
		[ -e "$STAGE/$f" ] || missing="$missing $f"
	done
	check "make install DESTDIR: programs, man pages, config, unit, completion (missing:${missing:-none})" \
		[ -z "$missing" ]
	check "make install PREFIX=/usr/local: the unit runs /usr/local/sbin/pxed" \
		grep -qx "ExecStart=/usr/local/sbin/pxed --config /etc/pxed/pxed.conf --foreground" \
		"$STAGE/lib/systemd/system/pxed.service"
	user_now=no
	getent passwd pxed >/dev/null && user_now=yes
	check "make install DESTDIR: no user created" [ "$user_now" = "$had_user" ]
	# make check builds the imaging environment before the tests
	bootenv_installed() {
		cmp -s build/bootenv/initrd "$STAGE/srv/pxed/bootenv/initrd" &&
			cmp -s build/bootenv/diag.initrd "$STAGE/srv/pxed/bootenv/diag.initrd"
	}
	check "make install: the imaging environment and its diag layer into the boot root" \
		bootenv_installed
	check "make install: the console (ui/) into share/pxed/ui" \
		diff -r ui "$STAGE/usr/local/share/pxed/ui"

	# --- make deb, lintian ------------------------------------------------------------
	rm -rf build/deb
	make -s deb >"$LAB_DIR/deb.log" 2>&1 || { tail -30 "$LAB_DIR/deb.log"; not_ok "setup: make deb"; exit 1; }
	DEB=$(ls build/deb/pxed_*.deb 2>/dev/null | head -1)
	check "make deb: build/deb/pxed_VERSION_ARCH.deb" [ -f "$DEB" ]
	[ -f "$DEB" ] || lab_finish
	lintian --no-tag-display-limit "$DEB" >"$LAB_DIR/lintian.log" 2>&1
	sed 's/^/# lintian: /' "$LAB_DIR/lintian.log"
	check "lintian: no error" sh -c "! grep -q '^E:' '$LAB_DIR/lintian.log'"
	contents=$(dpkg-deb -c "$DEB")
	missing=""
	for f in ./usr/sbin/pxed ./usr/sbin/pxe-agent ./usr/bin/pxectl ./lib/systemd/system/pxed.service \
		./usr/share/man/man8/pxed.8.gz ./usr/share/man/man5/pxed.conf.5.gz \
		./usr/share/bash-completion/completions/pxectl ./etc/pxed/pxed.conf; do
		grep -q " $f$" <<<"$contents" || missing="$missing $f"
	done
	check "the package holds programs, man pages, unit, completion, config (missing:${missing:-none})" \
		[ -z "$missing" ]
	check "the package ships nothing under /srv (Debian policy)" sh -c '! grep -q " ./srv/"' <<<"$contents"
	check "/etc/pxed/pxed.conf is a conffile" \
		sh -c "dpkg-deb -I '$DEB' conffiles | grep -qx /etc/pxed/pxed.conf"
}

# PKG_DEB=FILE: test that package as it is (e.g. in a machine without the
# build tools), without make install, make deb and lintian
if [ -n "${PKG_DEB:-}" ]; then
	DEB=$PKG_DEB
	echo "# PKG_DEB=$DEB: not built here; make install, make deb and lintian not run"
else
	build_and_lint
fi

# --- install ------------------------------------------------------------------------
lab_up || { not_ok "setup: lab_up"; exit 1; }
if [ "$SYSTEMD" = yes ]; then
	# before the install: postinst starts the unit, and it must start in
	# the lab's namespace, never on this machine's own ports
	mkdir -p "$DROPIN"
	printf '[Service]\nNetworkNamespacePath=/run/netns/%s\n' "$LAB_SRV" >"$DROPIN/50-pkgtest.conf"
	systemctl daemon-reload
fi
dpkg -i "$DEB" >"$LAB_DIR/dpkg-i.log" 2>&1
rc=$?
sed 's/^/# dpkg -i: /' "$LAB_DIR/dpkg-i.log"
check "dpkg -i installs it" [ $rc -eq 0 ]
[ $rc -eq 0 ] || lab_finish
check "postinst: the system user pxed" sh -c "getent passwd pxed | grep -q ':/var/lib/pxed:'"
check "postinst: /var/lib/pxed owned by pxed, mode 750" \
	[ "$(stat -c '%U:%G %a' /var/lib/pxed)" = "pxed:pxed 750" ]
check "postinst: the unit is enabled (multi-user.target wants it)" [ -L "$WANTS" ]
check "the unit file is the one make install wrote for /usr" \
	grep -qx "ExecStart=/usr/sbin/pxed --config /etc/pxed/pxed.conf --foreground" "$UNIT"

# DHCP on, and a boot file, in the installed config and the boot root
head -c 200000 /dev/urandom >"/srv/pxed/$TESTFILE"
chmod 644 "/srv/pxed/$TESTFILE"
cat >>/etc/pxed/pxed.conf <<CONF
# added by tests/integration/package.sh
dhcp-range = 192.0.2.100,192.0.2.150
boot = bios=$TESTFILE
CONF

# unit_get KEY: the unit's last KEY= value; caps "CAP_A CAP_B" -> "+a,+b"
unit_get() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
caps() {
	local c out=""
	for c in $1; do c=${c#CAP_}; out="$out,+${c,,}"; done
	echo "${out#,}"
}

start_as_unit() {
	local user group amb bnd umask nnp=() exec
	user=$(unit_get User)
	group=$(unit_get Group)
	amb=$(caps "$(unit_get AmbientCapabilities)")
	bnd=$(caps "$(unit_get CapabilityBoundingSet)")
	umask=$(unit_get UMask)
	[ "$(unit_get NoNewPrivileges)" = yes ] && nnp=(--no-new-privs)
	exec=$(unit_get ExecStart)
	echo "# as the unit: user $user, group $group, ambient $amb, bounding $bnd, umask $umask, ${nnp[*]}, $exec"
	[ "$(unit_get ProtectSystem)" = strict ] && [ "$(unit_get ReadWritePaths)" = /var/lib/pxed ] &&
		[ "$(unit_get PrivateTmp)" = yes ] || { not_ok "setup: the unit's sandbox changed: update this test"; return 1; }
	# the mount namespace: / read-only but /var/lib/pxed, a /tmp of its own
	# shellcheck disable=SC2086  # ExecStart is split into words as systemd does
	ip netns exec "$LAB_SRV" unshare --mount --propagation private sh -c '
		mount --bind /var/lib/pxed /var/lib/pxed &&
		mount -o remount,bind,ro / &&
		mount -t tmpfs -o mode=1777 tmpfs /tmp &&
		umask "$0" && exec "$@"' "$umask" \
		setpriv --reuid="$user" --regid="$group" --init-groups \
		--inh-caps=-all,"$amb" --ambient-caps=-all,"$amb" --bounding-set=-all,"$bnd" \
		"${nnp[@]}" -- $exec >"$LAB_DIR/pxed.log" 2>&1 &
	PXED_PID=$!
}

if [ "$SYSTEMD" = yes ]; then
	check "systemd started the service at install" systemctl is-active --quiet pxed.service
	systemctl restart pxed.service
	PXED_PID=$(systemctl show -p MainPID --value pxed.service)
	pxed_log() { journalctl -u pxed.service -b --no-pager -o cat; }
else
	verify=$(systemd-analyze verify "$UNIT" 2>&1)
	rc=$?
	sed 's/^/# systemd-analyze verify: /' <<<"$verify"
	check "systemd-analyze verify: the unit is valid (exit 0, no message)" \
		[ "$rc:$verify" = "0:" ]
	start_as_unit || lab_finish
	pxed_log() { cat "$LAB_DIR/pxed.log"; }
fi

# wait until it serves the boot file over HTTP (bounded)
for _ in $(seq 1 100); do
	in_cli timeout 2 curl -sf -o "$LAB_DIR/http.bin" "http://$LAB_SRV_IP/$TESTFILE" && break
	sleep 0.1
done
pxed_log | tail -20 | sed 's/^/# pxed: /'
check "pxed runs (pid ${PXED_PID:-none})" \
	[ "$(readlink "/proc/${PXED_PID:-0}/exe" 2>/dev/null)" = /usr/sbin/pxed ]
status=$(cat "/proc/${PXED_PID:-0}/status" 2>/dev/null)
check "it runs as user pxed" [ "$(awk '/^Uid:/ { print $2 }' <<<"$status")" = "$(id -u pxed)" ]
capsnow=$(awk '/^Cap(Eff|Prm|Amb):/ { printf "%s %s ", $1, $2 }' <<<"$status")
echo "# $capsnow"
check "with no capability left (effective, permitted, ambient)" \
	[ "$capsnow" = "CapPrm: 0000000000000000 CapEff: 0000000000000000 CapAmb: 0000000000000000 " ]
log=$(pxed_log)
check "its log says so" grep -q "capabilities dropped" <<<"$log"
check "HTTP: the boot file from /srv/pxed, byte for byte" cmp -s "/srv/pxed/$TESTFILE" "$LAB_DIR/http.bin"
in_cli timeout 10 curl -sf -o "$LAB_DIR/tftp.bin" "tftp://$LAB_SRV_IP/$TESTFILE"
check "TFTP: the boot file, byte for byte" cmp -s "/srv/pxed/$TESTFILE" "$LAB_DIR/tftp.bin"
PXE=(--vendor PXEClient:Arch:00000:UNDI:002001 --arch 0 --mac 52:54:00:ee:00:01)
offer=$(in_cli timeout 10 build/tools/dhcp-probe --iface c0 --to 255.255.255.255:67 \
	--broadcast "${PXE[@]}" --expect-replies 1 --wait-ms 3000)
check "DHCP on 67: an OFFER with the boot file" grep -q "type=OFFER .*file=$TESTFILE" <<<"$offer"
ack=$(in_cli timeout 10 build/tools/dhcp-probe --bind "$LAB_CLI_IP:4011" \
	--to "$LAB_SRV_IP:4011" --type request --ciaddr "$LAB_CLI_IP" "${PXE[@]}" \
	--expect-replies 1 --wait-ms 3000)
check "PXE boot server on 4011: an ACK with the boot file" grep -q "type=ACK .*file=$TESTFILE" <<<"$ack"
# The console: installed to /usr/share/pxed/ui
in_cli timeout 10 curl -sf -o "$LAB_DIR/ui.html" "http://$LAB_SRV_IP/ui/"
check "console: /ui/ serves the installed index.html" \
	cmp -s /usr/share/pxed/ui/index.html "$LAB_DIR/ui.html"
out=$(in_srv timeout 10 pxectl status 2>&1)
check "pxectl status with no option (the local pxed from /etc/pxed/pxed.conf)" \
	grep -q "^dhcp  *server  *0.0.0.0:67" <<<"$out"
out=$(in_srv timeout 10 pxectl host add 52:54:00:ee:00:02 pkgtest 2>&1)
check "pxectl host add with no option (the token from /var/lib/pxed/api-token)" \
	grep -q "approved  yes" <<<"$out"
check "the API token: mode 600, owned by pxed" \
	[ "$(stat -c '%U %a' /var/lib/pxed/api-token)" = "pxed 600" ]
check "bash completion installed where bash-completion looks" \
	[ -f /usr/share/bash-completion/completions/pxectl ]

# --- stop, remove, purge ------------------------------------------------------------
if [ "$SYSTEMD" = yes ]; then
	systemctl stop pxed.service
	check "systemctl stop: inactive" sh -c "! systemctl is-active --quiet pxed.service"
else
	kill -TERM "$PXED_PID"
	timeout 10 tail --pid="$PXED_PID" -f /dev/null
	check "pxed stops on SIGTERM" sh -c "! kill -0 $PXED_PID 2>/dev/null"
fi
PXED_PID=
rm -f "/srv/pxed/$TESTFILE"
dpkg -r pxed >"$LAB_DIR/dpkg-r.log" 2>&1
check "dpkg -r removes it" [ $? -eq 0 ]
check "dpkg -r: the programs are gone" sh -c "[ ! -e /usr/sbin/pxed ] && [ ! -e /usr/bin/pxectl ]"
check "dpkg -r: the config stays (conffile)" [ -f /etc/pxed/pxed.conf ]
dpkg -P pxed >"$LAB_DIR/dpkg-p.log" 2>&1
check "dpkg -P purges it" [ $? -eq 0 ]
left=""
for f in /etc/pxed /var/lib/pxed "$UNIT" "$WANTS" /usr/share/bash-completion/completions/pxectl; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
check "dpkg -P: no file, state or unit link left (left:${left:-none})" [ -z "$left" ]
check "dpkg -P: /srv/pxed gone when it was made by the package and is empty" \
	sh -c "[ $had_srv = yes ] || [ ! -e /srv/pxed ]"
check "dpkg: not installed any more" \
	sh -c "! dpkg-query -W -f='\${Status}' pxed 2>/dev/null | grep -q installed"
package_cleanup
check "the machine as before: the pxed user only if it was there" \
	sh -c "[ \$(getent passwd pxed >/dev/null && echo yes || echo no) = $had_user ]"
lab_finish
