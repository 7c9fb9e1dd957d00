#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the Debian 6.12 kernel release we build and test against:
#   - with "installed" (default): the newest 6.12 amd64 release whose image,
#     modules and headers are all installed, or nothing;
#   - with "candidate": the newest 6.12 amd64 release for which the mirror
#     offers both linux-image-<rel>-unsigned and linux-headers-<rel>.
set -eu
mode=${1:-installed}

if [ "$mode" = installed ]; then
	for v in $(ls -1 /boot 2>/dev/null | sed -n 's/^vmlinuz-\(6\.12\..*-amd64\)$/\1/p' | sort -rV); do
		if [ -d "/lib/modules/$v/kernel" ] && [ -f "/usr/src/linux-headers-$v/Makefile" ]; then
			echo "$v"
			exit 0
		fi
	done
	exit 0
fi

img=$(apt-cache pkgnames linux-image-6.12 2>/dev/null |
	sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb[0-9]*-amd64\)-unsigned$/\1/p' | sort -rV)
hdr=$(apt-cache pkgnames linux-headers-6.12 2>/dev/null |
	sed -n 's/^linux-headers-\(6\.12\.[0-9]*+deb[0-9]*-amd64\)$/\1/p')
for v in $img; do
	if echo "$hdr" | grep -qxF "$v"; then
		echo "$v"
		exit 0
	fi
done
exit 1
