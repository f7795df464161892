#!/bin/sh
# Regenerates prov.pb.go and prov_grpc.pb.go from prov.proto.
# Usage: generate.sh [OUTDIR]   (default: this directory; the up-to-date test passes a temp dir)
#
# The generators are pinned as tools in go.mod (protoc-gen-go at the protobuf module's version,
# protoc-gen-go-grpc v1.5.1), so they build from the module cache like any other dependency;
# change them with `go get -tool PKG@VERSION`.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
command -v protoc >/dev/null 2>&1 || { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$here" && go build -o "$bin/" google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc)

mkdir -p "$out"
PATH="$bin:$PATH" protoc -I "$here" \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
	"$here/prov.proto"
