// Package protocol carries prov's plugin interfaces (plugins.Provider, plugins.Taskserv, plugins.Exec)
// over protocol v1 (package protov1) and hashicorp/go-plugin gRPC. It is the only package that sees the
// generated types: the client side (NewProviderClient, NewTaskservClient) turns a gRPC connection into a
// plain plugins.Provider or plugins.Taskserv; the server side wraps any implementation for serving, and
// ServeProvider / ServeTaskserv are what a plugin binary's main calls (through the SDK).
//
// A Go error from a client method means the transport failed (the plugin crashed, hung up or could not
// be reached); everything the plugin has to say about the user's configuration travels as diagnostics in
// the response. On the server side, an error or panic from the implementation becomes an error
// diagnostic, so one bad resource does not take the plugin down.
//
// A taskserv call hands the plugin an execution channel: the client serves the caller's plugins.Exec on a
// fresh go-plugin broker id for the duration of the call, and the server dials it lazily the first time
// the taskserv runs a command or moves a file.
package protocol
