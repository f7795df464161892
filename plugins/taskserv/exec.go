package taskserv

import (
	"fmt"
	"path/filepath"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
)

// ServerExec returns the ExecFunc prov uses: a server whose transport is "local" (the local provider's
// local_server) is reached by host.LocalExec rooted at its root attribute ("/" when unset; a relative
// root is taken from dir, the directory the local provider runs in). Taskservs address files and
// commands relative to the server's root, so a sandbox root keeps them inside it. Every other
// transport is refused with an error naming the server: only local exists for now.
func ServerExec(dir string) ExecFunc {
	return func(server any) (plugins.Exec, error) {
		m, ok := server.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want the server's attributes (a record), not %T", server)
		}
		transport, _ := m["transport"].(string)
		if transport == "" {
			transport = "ssh" // servers made by cloud providers are reached over SSH
		}
		if transport != "local" {
			return nil, fmt.Errorf("server %s is reached by %s, which is not supported yet: taskservs run only on servers with transport \"local\" (local_server) for now",
				serverName(m), transport)
		}
		root, _ := m["root"].(string)
		switch {
		case root == "":
			root = "/"
		case !filepath.IsAbs(root):
			root = filepath.Join(dir, root)
		}
		return &host.LocalExec{Dir: root}, nil
	}
}

// serverName names a server by what its state says of it.
func serverName(m map[string]any) string {
	for _, k := range []string{"hostname", "id", "address"} {
		if s, ok := m[k].(string); ok && s != "" {
			return fmt.Sprintf("%q", s)
		}
	}
	return "(unnamed)"
}
