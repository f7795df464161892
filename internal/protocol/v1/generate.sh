#!/bin/sh
# Regenerates prov.pb.go and prov_grpc.pb.go from prov.proto with pinned generator versions.
# Usage: generate.sh [OUTDIR]   (default: this directory; the up-to-date test passes a temp dir)
set -eu

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
command -v protoc >/dev/null 2>&1 || { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# Built outside the module so the generators' own pinned dependencies are used, not prov's.
for pkg in "$PROTOC_GEN_GO" "$PROTOC_GEN_GO_GRPC"; do
	(cd "$bin" && GOFLAGS=-mod=mod GOBIN="$bin" go install "$pkg")
done

mkdir -p "$out"
PATH="$bin:$PATH" protoc -I "$here" \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
	"$here/prov.proto"
