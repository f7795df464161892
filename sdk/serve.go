package sdk

import "github.com/provhq/prov/internal/protocol"

// ServeProvider serves p as a prov provider plugin over gRPC and does not return; a plugin binary's
// main calls it. The process ends when prov ends it or goes away. It panics if p.Validate reports a
// mistake in the declaration.
func ServeProvider(p *Provider) {
	protocol.ServeProvider(NewProviderServer(p))
}

// ServeTaskserv serves ts as a prov taskserv plugin over gRPC and does not return.
func ServeTaskserv(ts *Taskserv) {
	protocol.ServeTaskserv(NewTaskservServer(ts))
}
