#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build-deb.sh BINARY MANDIR OUTDIR VERSION - assemble the Debian package of prefixwatch
# with dpkg-deb from a staging tree in OUTDIR/deb/ (run by 'make deb' from the top of the
# checkout). The layout follows Debian policy: the daemon in /usr/sbin, its unit in
# /lib/systemd/system, the example configuration as conffiles in /etc/prefixwatch, data in
# /usr/share/prefixwatch, the manual in /usr/share/doc/prefixwatch.
set -euo pipefail

bin=$1 mandir=$2 out=$(realpath -m "$3") version=$4
arch=$(dpkg --print-architecture)
stage=$out/deb/prefixwatch
deb=$out/prefixwatch_${version}_${arch}.deb

rm -rf "$out/deb"
install -d "$stage/DEBIAN"
inst() { install -D -m "$1" "$2" "$stage/$3"; }

# Binary, stripped as dh_strip would (the symbols stay in the build tree).
inst 0755 "$bin" usr/sbin/prefixwatch
strip --remove-section=.comment --remove-section=.note --strip-unneeded \
	"$stage/usr/sbin/prefixwatch"

inst 0644 deploy/prefixwatch.service lib/systemd/system/prefixwatch.service
inst 0644 deploy/prefixwatch.ini etc/prefixwatch/prefixwatch.ini
inst 0644 deploy/kp.prefixes etc/prefixwatch/kp.prefixes

for f in prometheus-scrape.yml prometheus-alerts.yml prometheus-alerts.test.yml; do
	inst 0644 "deploy/$f" "usr/share/prefixwatch/$f"
done
for f in deploy/grafana/*.json; do
	[ -e "$f" ] && inst 0644 "$f" "usr/share/prefixwatch/grafana/${f##*/}"
done

inst 0644 "$mandir/prefixwatch.8" usr/share/man/man8/prefixwatch.8
inst 0644 "$mandir/prefixwatch.ini.5" usr/share/man/man5/prefixwatch.ini.5
gzip -9n "$stage/usr/share/man/man8/prefixwatch.8" "$stage/usr/share/man/man5/prefixwatch.ini.5"

doc=usr/share/doc/prefixwatch
inst 0644 deploy/debian/copyright "$doc/copyright"
inst 0644 deploy/debian/lintian-overrides usr/share/lintian/overrides/prefixwatch
inst 0644 deploy/debian/changelog "$doc/changelog.Debian"
gzip -9n "$stage/$doc/changelog.Debian"
inst 0644 README.md "$doc/README.md"
for f in docs/*.md; do
	inst 0644 "$f" "$doc/${f##*/}"
done

for f in postinst prerm postrm; do
	inst 0755 "deploy/debian/$f" "DEBIAN/$f"
done
inst 0644 deploy/debian/conffiles DEBIAN/conffiles

# Shared-library dependencies as dpkg-shlibdeps finds them; it reads a debian/control,
# so give it a minimal one in a scratch directory.
shl=$out/deb/shlibdeps
install -d "$shl/debian"
printf 'Source: prefixwatch\n\nPackage: prefixwatch\nArchitecture: any\n' >"$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O "$stage/usr/sbin/prefixwatch" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependency" >&2; exit 1; }

(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
	xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$depends/" deploy/debian/control >"$stage/DEBIAN/control"

find "$stage" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
