#!/bin/sh
# make install: copy pxed into place (docs/INSTALL.md).  The Makefile
# passes the directories; DESTDIR stages everything below it (a package
# build), and then nothing outside it is touched: no user is created and
# no ownership is changed (the package's postinst does that).
#
#   DESTDIR PREFIX SBINDIR BINDIR MANDIR DATADIR SYSCONFDIR UNITDIR
#   COMPLETIONDIR STATEDIR BOOTROOT INSTALL_BOOTENV (yes|no)
set -eu

: "${DESTDIR:=}" "${PREFIX:=/usr/local}" "${INSTALL_BOOTENV:=yes}"
: "${SBINDIR:=$PREFIX/sbin}" "${BINDIR:=$PREFIX/bin}" "${MANDIR:=$PREFIX/share/man}"
: "${DATADIR:=$PREFIX/share/pxed}" "${SYSCONFDIR:=/etc}" "${UNITDIR:=/lib/systemd/system}"
: "${COMPLETIONDIR:=$PREFIX/share/bash-completion/completions}"
: "${STATEDIR:=/var/lib/pxed}" "${BOOTROOT:=/srv/pxed}"
D=$DESTDIR

say() { echo "install: $*"; }

# Programs, manual pages, bash completion, the systemd unit.
install -d "$D$SBINDIR" "$D$BINDIR" "$D$MANDIR/man5" "$D$MANDIR/man8" \
	"$D$COMPLETIONDIR" "$D$UNITDIR" "$D$SYSCONFDIR/pxed"
install -m 0755 build/pxed build/pxe-agent "$D$SBINDIR/"
install -m 0755 build/pxectl "$D$BINDIR/"
install -m 0644 man/pxed.8 man/pxectl.8 man/pxe-agent.8 "$D$MANDIR/man8/"
install -m 0644 man/pxed.conf.5 "$D$MANDIR/man5/"
install -m 0644 etc/pxectl.bash-completion "$D$COMPLETIONDIR/pxectl"
sed -e "s|@SBINDIR@|$SBINDIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" \
	-e "s|@STATEDIR@|$STATEDIR|g" etc/pxed.service.in >"$D$UNITDIR/pxed.service"
chmod 0644 "$D$UNITDIR/pxed.service"

# The example configuration; an administrator's file is never replaced.
conf=$D$SYSCONFDIR/pxed/pxed.conf
if [ -n "$D" ] || [ ! -e "$conf" ]; then
	install -m 0644 etc/pxed.conf "$conf"
else
	install -m 0644 etc/pxed.conf "$conf.example"
	say "$conf kept; the example is $conf.example"
fi

# The web console's files, when the tree has them (ui/), served under /ui/.
if [ -d ui ]; then
	rm -rf "$D$DATADIR/ui"
	install -d "$D$DATADIR"
	cp -R ui "$D$DATADIR/ui"
	find "$D$DATADIR/ui" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
fi

# The imaging environment, when built (make bootenv), into the boot root.
if [ "$INSTALL_BOOTENV" = yes ] && [ -f build/bootenv/vmlinuz ] && [ -f build/bootenv/initrd ]; then
	install -d "$D$BOOTROOT/bootenv"
	install -m 0644 build/bootenv/vmlinuz build/bootenv/initrd build/bootenv/manifest \
		"$D$BOOTROOT/bootenv/"
	# its layers (docs/IMAGING.md): NAME.initrd and NAME.manifest each
	for layer in build/bootenv/*.initrd; do
		[ -f "$layer" ] && [ -f "${layer%.initrd}.manifest" ] || continue
		install -m 0644 "$layer" "${layer%.initrd}.manifest" "$D$BOOTROOT/bootenv/"
	done
fi

[ -n "$D" ] && exit 0

# A real install: the system user, its state directory, the boot root.
if ! getent passwd pxed >/dev/null; then
	useradd --system --user-group --home-dir "$STATEDIR" --no-create-home \
		--shell /usr/sbin/nologin --comment "pxed network boot server" pxed
	say "created the system user pxed"
fi
install -d -o pxed -g pxed -m 0750 "$STATEDIR"
install -d -m 0755 "$BOOTROOT"
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	say "start it with: systemctl enable --now pxed"
fi
