#!/bin/sh
# A stand-in for the commands taskserv scripts run on a Debian/Ubuntu server: it records each call in
# $STUB_STATE/calls and keeps just enough state (installed packages, enabled and running units, loaded
# modules, users, a kubeadm cluster, cilium) under $STUB_STATE and $STUB_ROOT for the scripts' checks to
# see what earlier calls did.
set -eu
name=${STUB_NAME:-${0##*/}}
st=$STUB_STATE
root=$STUB_ROOT
printf '%s\n' "$name $*" >>"$st/calls"

# out FILE ARGS…: the value of -o FILE in ARGS, or empty.
outfile() {
	_o=""
	while [ $# -gt 0 ]; do
		case "$1" in -o) _o=$2; shift ;; esac
		shift
	done
	echo "$_o"
}

case "$name" in
apt-get)
	verb=""
	opt=""
	for a in "$@"; do
		[ -z "$opt" ] || { opt=""; continue; }
		case "$a" in
		-o) opt=yes ;;
		-*) ;;
		install | purge | remove | update) verb=$a ;;
		*)
			case "$verb" in
			install)
				pkg=${a%%=*}
				v=${a#*=}
				[ "$v" = "$a" ] && v=9.9.9-1
				printf '%s\n' "$v" | sed 's/\*/1/' >"$st/dpkg/$pkg"
				;;
			purge | remove) rm -f "$st/dpkg/$a" ;;
			esac
			;;
		esac
	done
	;;
apt-mark)
	verb=$1
	shift
	for p in "$@"; do
		case "$verb" in hold) touch "$st/held/$p" ;; unhold) rm -f "$st/held/$p" ;; esac
	done
	;;
dpkg-query)
	pkg=""
	for a in "$@"; do pkg=$a; done
	[ -f "$st/dpkg/$pkg" ] || { echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; }
	printf '%s' "$(cat "$st/dpkg/$pkg")"
	;;
dpkg)
	[ "$1" = --print-architecture ] && echo amd64
	;;
systemctl)
	verb=$1
	shift
	now=""
	unit=""
	for a in "$@"; do
		case "$a" in --now) now=yes ;; -*) ;; *) unit=$a ;; esac
	done
	case "$verb" in
	is-enabled) [ -f "$st/enabled/$unit" ] ;;
	is-active) [ -f "$st/active/$unit" ] ;;
	enable) touch "$st/enabled/$unit"; [ -z "$now" ] || touch "$st/active/$unit" ;;
	disable) rm -f "$st/enabled/$unit"; [ -z "$now" ] || rm -f "$st/active/$unit" ;;
	start | restart | reload-or-restart) touch "$st/active/$unit" ;;
	stop) rm -f "$st/active/$unit" ;;
	daemon-reload) ;;
	*) echo "systemctl stub: $verb?" >&2; exit 2 ;;
	esac
	;;
modprobe)
	mkdir -p "$root/sys/module/$1"
	;;
sysctl | swapoff | update-ca-certificates) ;;
swapon)
	[ -f "$st/swap" ] && cat "$st/swap"
	;;
curl)
	url=""
	for a in "$@"; do
		case "$a" in http*) url=$a ;; esac
	done
	o=$(outfile "$@")
	case "$url" in
	*/SHA256SUMS)
		out=$(while read -r u; do
			if [ "${u%/*}" = "${url%/*}" ]; then
				printf '%s  %s\n' "$(printf '%s\n' "download of $u" | sha256sum | cut -d' ' -f1)" "${u##*/}"
			fi
		done <"$st/downloads")
		;;
	*.sha256sum | *.sha256)
		body="download of ${url%.*}"
		out="$(printf '%s\n' "$body" | sha256sum | cut -d' ' -f1)  $(basename "${url%.*}")"
		;;
	*)
		out="download of $url"
		echo "$url" >>"$st/downloads"
		;;
	esac
	if [ -n "$o" ]; then printf '%s\n' "$out" >"$o"; else printf '%s\n' "$out"; fi
	;;
gpg)
	o=$(outfile "$@")
	in=""
	for a in "$@"; do in=$a; done
	cp "$in" "$o"
	;;
tar)
	archive=""
	dir=.
	members=""
	strip=0
	while [ $# -gt 0 ]; do
		case "$1" in
		-C) dir=$2; shift ;;
		--strip-components=*) strip=${1#*=} ;;
		-*f) archive=$2; shift ;;
		-*) ;;
		*) members="$members $1" ;;
		esac
		shift
	done
	version=$(sed -n 's|.*/v\{0,1\}\([0-9][0-9.]*\)/.*|\1|p' "$archive")
	for m in $members; do
		[ "$strip" = 0 ] || m=${m#*/}
		printf '#!/bin/sh\nSTUB_NAME=%s STUB_VERSION=%s exec %s "$@"\n' "${m##*/}" "$version" "$STUB_BIN/stub" >"$dir/$m"
		chmod 755 "$dir/$m"
	done
	;;
getent)
	[ -f "$st/users/$2" ] && echo "$2:x:999:999::/nonexistent:/usr/sbin/nologin"
	;;
useradd)
	for a in "$@"; do u=$a; done
	touch "$st/users/$u"
	;;
userdel)
	rm -f "$st/users/$1"
	;;
kubeadm)
	if [ "${STUB_FAIL:-}" = "kubeadm $1" ]; then
		mkdir -p "$root/etc/kubernetes"
		echo "half" >"$root/etc/kubernetes/admin.conf"
		echo "error execution phase wait-control-plane: couldn't initialize a Kubernetes cluster" >&2
		exit 1
	fi
	case "$1" in
	init)
		mkdir -p "$root/etc/kubernetes/pki"
		echo "stub cluster CA" >"$root/etc/kubernetes/pki/ca.crt"
		echo "stub admin.conf" >"$root/etc/kubernetes/admin.conf"
		echo "stub kubelet.conf" >"$root/etc/kubernetes/kubelet.conf"
		touch "$st/tainted"
		;;
	join)
		mkdir -p "$root/etc/kubernetes"
		echo "stub kubelet.conf" >"$root/etc/kubernetes/kubelet.conf"
		;;
	reset)
		rm -f "$root/etc/kubernetes/admin.conf" "$root/etc/kubernetes/kubelet.conf" "$st/tainted"
		;;
	upgrade) ;;
	version) echo "v$(cut -d- -f1 "$st/dpkg/kubeadm")" ;;
	esac
	;;
kubectl)
	case "$*" in
	*--raw*) echo ok ;;
	*"get nodes"*) [ -f "$st/tainted" ] && echo "node-role.kubernetes.io/control-plane" || true ;;
	*taint*) rm -f "$st/tainted" ;;
	esac
	;;
cilium)
	case "${1:-}" in
	version)
		echo "cilium-cli: v$STUB_VERSION compiled with go1.23.2 on linux/amd64"
		if [ -f "$st/cilium/version" ]; then echo "cilium image (running): $(cat "$st/cilium/version")"; else echo "cilium image (running): unknown. Unable to obtain cilium version. Reason: release: not found"; fi
		;;
	install | upgrade)
		v=""
		prev=""
		for a in "$@"; do [ "$prev" = --version ] && v=$a; prev=$a; done
		echo "$v" >"$st/cilium/version"
		;;
	uninstall) rm -f "$st/cilium/version" ;;
	status) [ -f "$st/cilium/version" ] ;;
	esac
	;;
coredns)
	echo "CoreDNS-$STUB_VERSION"
	;;
openssl)
	case "$1" in
	x509)
		in=""
		prev=""
		for a in "$@"; do [ "$prev" = -in ] && in=$a; prev=$a; done
		echo "public key of $(cat "$in")"
		;;
	pkey)
		in=""
		prev=""
		for a in "$@"; do [ "$prev" = -in ] && in=$a; prev=$a; done
		cat "$in"
		;;
	esac
	;;
etcd)
	printf 'etcd Version: %s\nGit SHA: stub\nGo Version: go1.22.7\n' "$STUB_VERSION"
	;;
etcdctl | etcdutl) ;;
*)
	echo "stub: unknown command $name" >&2
	exit 2
	;;
esac
