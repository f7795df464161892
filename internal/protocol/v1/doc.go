// Package protov1 is the generated Go code of prov's plugin protocol v1 (prov.proto): the Provider and
// Taskserv services a plugin serves, and the Exec service the host serves back to a taskserv through
// go-plugin's broker. Nothing outside internal/protocol should import it; run generate.sh (or
// `make generate`) after changing prov.proto.
package protov1

//go:generate ./generate.sh
