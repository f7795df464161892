package host

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/go-plugin"

	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/plugins"
)

// Builtins are the plugins compiled into the prov binary, by name, as constructors.
type Builtins struct {
	Providers map[string]func() plugins.Provider
	Taskservs map[string]func() plugins.Taskserv
}

// IDs lists the builtins, sorted, for Options.Builtins.
func (b Builtins) IDs() []ID {
	var ids []ID
	for _, name := range slices.Sorted(maps.Keys(b.Providers)) {
		ids = append(ids, ID{Kind: Provider, Name: name})
	}
	for _, name := range slices.Sorted(maps.Keys(b.Taskservs)) {
		ids = append(ids, ID{Kind: Taskserv, Name: name})
	}
	return ids
}

// Serve serves the builtin kind/name as a plugin process; on success it does not return. It is what the
// hidden command "prov __plugin KIND NAME" runs. An unknown builtin is an error.
func (b Builtins) Serve(kind, name string) error {
	switch Kind(kind) {
	case Provider:
		if newProvider, ok := b.Providers[name]; ok {
			protocol.ServeProvider(newProvider())
		}
	case Taskserv:
		if newTaskserv, ok := b.Taskservs[name]; ok {
			protocol.ServeTaskserv(newTaskserv())
		}
	}
	return fmt.Errorf("host: no builtin %s %q (have %v)", kind, name, b.IDs())
}

// KillAll ends every plugin process any Host in this process started. Call it on the way out of prov
// (deferred in main, and on a second Ctrl-C) so that no plugin outlives prov even when a Host was not
// closed.
func KillAll() { plugin.CleanupClients() }
