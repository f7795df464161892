#!/bin/sh
# prov taskserv prelude: shared by every script of the catalogue.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
umask 022
# The server's root: "" on a real server (commands run in /), the sandbox directory otherwise.
ROOT=${PWD%/}

changed() { echo "changed: $*"; }
# record KEY VALUE: records VALUE in the install's state as KEY.
record() { echo "state: $1=$2"; }
die() { echo "$*" >&2; exit 1; }

# write_file PATH MODE < content: writes PATH (under $ROOT) when its content or mode differs.
# Succeeds when it wrote, fails when nothing changed, so: if write_file …; then restart …; fi
write_file() {
	_dst="$ROOT$1"
	_tmp=$(mktemp "${TMPDIR:-/tmp}/prov.XXXXXX")
	cat >"$_tmp"
	if [ -f "$_dst" ] && cmp -s "$_tmp" "$_dst" && [ "$(stat -c %a "$_dst")" = "$2" ]; then
		rm -f "$_tmp"
		return 1
	fi
	mkdir -p "$(dirname "$_dst")"
	chmod "$2" "$_tmp"
	mv -f "$_tmp" "$_dst"
	changed "wrote $1"
}

# remove_file PATH…: removes the files (under $ROOT) that exist.
remove_file() {
	for _f in "$@"; do
		if [ -e "$ROOT$_f" ] || [ -L "$ROOT$_f" ]; then
			rm -rf "$ROOT$_f"
			changed "removed $_f"
		fi
	done
}

# apt_get ARGS…: apt-get, waiting for the package manager's lock (cloud-init and unattended-upgrades
# hold it on a fresh server; another taskserv may hold it on this one) instead of failing at once.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }

# pkg_version PKG: the installed version of a Debian package, empty when not installed.
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

# apt_install VERSION PKG…: installs (or moves to) VERSION of each package from the configured
# repositories, and holds them there so that unattended upgrades leave them alone. VERSION is an apt
# version glob such as 1.7.22-*; "" installs the newest, once.
apt_install() {
	_want=$1
	shift
	_args=""
	for _p in "$@"; do
		_have=$(pkg_version "$_p")
		case "$_have" in
		'') ;;
		$_want) continue ;;
		esac
		if [ -z "$_want" ]; then
			[ -n "$_have" ] && continue
			_args="$_args $_p"
		else
			_args="$_args $_p=$_want"
		fi
	done
	[ -n "$_args" ] || return 0
	# shellcheck disable=SC2086
	apt-mark unhold "$@" >/dev/null 2>&1 || true
	# shellcheck disable=SC2086
	apt_get install -y -q --allow-downgrades --allow-change-held-packages $_args
	[ -z "$_want" ] || apt-mark hold "$@" >/dev/null
	changed "installed$_args"
}

# apt_purge PKG…: removes the installed packages and their configuration.
apt_purge() {
	_args=""
	for _p in "$@"; do
		[ -n "$(pkg_version "$_p")" ] && _args="$_args $_p"
	done
	[ -n "$_args" ] || return 0
	# shellcheck disable=SC2086
	apt-mark unhold $_args >/dev/null 2>&1 || true
	# shellcheck disable=SC2086
	apt_get purge -y -q $_args
	changed "purged$_args"
}

# apt_repository NAME KEY_URL DEARMOR LINE: installs a signing key as /etc/apt/keyrings/NAME.gpg
# (through gpg --dearmor when DEARMOR is yes) and the source list /etc/apt/sources.list.d/NAME.list,
# then refreshes the package lists when either changed.
apt_repository() {
	_key=/etc/apt/keyrings/$1.gpg
	_refresh=""
	if [ ! -s "$ROOT$_key" ]; then
		mkdir -p "$ROOT/etc/apt/keyrings"
		if [ "$3" = yes ]; then
			curl -fsSL "$2" -o "$ROOT$_key.asc"
			gpg --batch --yes --dearmor -o "$ROOT$_key" "$ROOT$_key.asc"
			rm -f "$ROOT$_key.asc"
		else
			curl -fsSL "$2" -o "$ROOT$_key"
		fi
		chmod 644 "$ROOT$_key"
		changed "added the signing key $_key"
		_refresh=yes
	fi
	if printf '%s\n' "$4" | write_file "/etc/apt/sources.list.d/$1.list" 644; then
		_refresh=yes
	fi
	if [ -n "$_refresh" ]; then
		apt_get update -q
	fi
}

# enable_service UNIT: enables UNIT at boot and starts it, when it is not already.
enable_service() {
	if ! systemctl is-enabled --quiet "$1" 2>/dev/null; then
		systemctl enable "$1"
		changed "enabled $1"
	fi
	if ! systemctl is-active --quiet "$1" 2>/dev/null; then
		systemctl start "$1"
		changed "started $1"
	fi
}

# disable_service UNIT: stops UNIT and disables it, when it is enabled or running.
disable_service() {
	if systemctl is-active --quiet "$1" 2>/dev/null; then
		systemctl stop "$1"
		changed "stopped $1"
	fi
	if systemctl is-enabled --quiet "$1" 2>/dev/null; then
		systemctl disable "$1"
		changed "disabled $1"
	fi
}

# load_module NAME: loads a kernel module that is not loaded.
load_module() {
	if [ ! -d "$ROOT/sys/module/$1" ]; then
		modprobe "$1"
		changed "loaded the kernel module $1"
	fi
}

# arch: the Debian architecture (amd64, arm64).
arch() { dpkg --print-architecture; }

# fetch URL FILE SUFFIX: downloads URL to FILE, checked against the SHA-256 published beside it at
# URL.SUFFIX.
fetch() {
	mkdir -p "$(dirname "$2")"
	curl -fsSL "$1" -o "$2"
	_sum=$(curl -fsSL "$1.$3" | cut -d' ' -f1)
	echo "$_sum  $2" | sha256sum -c - >/dev/null || die "checksum mismatch for $1"
}

# fetch_listed URL FILE SUMS_URL: downloads URL to FILE, checked against its line in the SHA256SUMS
# file of the release.
fetch_listed() {
	mkdir -p "$(dirname "$2")"
	curl -fsSL "$1" -o "$2"
	_sum=$(curl -fsSL "$3" | awk -v f="${1##*/}" '$2 == f || $2 == "*" f { print $1 }')
	[ -n "$_sum" ] || die "${1##*/} is not listed in $3"
	echo "$_sum  $2" | sha256sum -c - >/dev/null || die "checksum mismatch for $1"
}
