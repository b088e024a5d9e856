#!/bin/sh
# Installs Debian's chromium package, which the browser test of `idr report` drives headless.
# Idempotent: does nothing when /usr/bin/chromium is already there. Uses sudo only when not root.
set -eu

if [ -x /usr/bin/chromium ]; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-chromium: apt-get not found; install Chromium yourself or set IDR_SKIP_BROWSER=1" >&2
	exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-chromium: not root and no sudo; install the chromium package or set IDR_SKIP_BROWSER=1" >&2
		exit 0
	fi
fi
echo "install-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium
