package taskserv

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"sync"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
)

// Servers builds the execution channels to servers from their state, the ExecFunc prov uses. A server
// whose transport is "local" (the local provider's local_server) is reached by host.LocalExec rooted at
// its root attribute ("/" when unset; a relative root is taken from the directory the local provider
// runs in). Every other server (transport "ssh", or none: the servers cloud providers make) is reached
// over SSH at its address (address, ipv4 or public_ip), port (default 22) and user (default root),
// through one pool of connections shared by every taskserv of a run. Taskservs address files and
// commands relative to the server's root, so a sandbox root keeps them inside it.
type Servers struct {
	dir     string
	ssh     *sshexec.Pool
	sshErr  error // a mistake in the SSH options, reported for every SSH server
	mu      sync.Mutex
	clients int
}

// NewServers returns the channels to servers: local ones relative to dir, SSH ones with opts.
func NewServers(dir string, opts sshexec.Options) *Servers {
	s := &Servers{dir: dir, ssh: sshexec.NewPool(opts)}
	if err := sshexec.CheckOptions(opts); err != nil {
		s.sshErr = fmt.Errorf("ssh settings: %w", err)
	}
	return s
}

// Provider returns NewProvider(ts, s.Exec). The SSH connections are closed when the last provider
// Servers made is closed.
func (s *Servers) Provider(ts plugins.Taskserv) plugins.Provider {
	s.mu.Lock()
	s.clients++
	s.mu.Unlock()
	p := NewProvider(ts, s.Exec).(*provider)
	p.onClose = s.release
	return p
}

func (s *Servers) release() error {
	s.mu.Lock()
	s.clients--
	last := s.clients == 0
	s.mu.Unlock()
	if last {
		return s.ssh.Close()
	}
	return nil
}

// Close closes the SSH connections; a later channel connects again.
func (s *Servers) Close() error { return s.ssh.Close() }

// Exec returns the channel to server. SSH channels connect on first use, so a server whose address
// is not known yet (planning before it exists) gets a channel that is only checked, never used.
func (s *Servers) Exec(server any) (plugins.Exec, error) {
	m, ok := server.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want the server's attributes (a record), not %T", server)
	}
	transport, _ := m["transport"].(string)
	root, _ := m["root"].(string)
	switch transport {
	case "local":
		switch {
		case root == "":
			root = "/"
		case !filepath.IsAbs(root):
			root = filepath.Join(s.dir, root)
		}
		return &host.LocalExec{Dir: root}, nil
	case "", "ssh":
	default:
		return nil, fmt.Errorf("server %s is reached by %q, which prov does not know: taskservs reach servers by \"ssh\" or \"local\"",
			serverName(m), transport)
	}
	if s.sshErr != nil {
		return nil, s.sshErr
	}
	t, err := target(m)
	if err != nil {
		return nil, err
	}
	if t.Host == "" {
		return pending{t.Name}, nil
	}
	return s.ssh.Exec(t), nil
}

// pending is the channel to a server whose address is not known yet: planning may build it, nothing
// may use it.
type pending struct{ name string }

func (p pending) err() error {
	return fmt.Errorf("server %s does not exist yet: its address is known after apply", p.name)
}

func (p pending) Run(context.Context, plugins.ExecCommand) (*plugins.ExecResult, error) {
	return nil, p.err()
}

func (p pending) PutFile(context.Context, string, []byte, uint32) error { return p.err() }

func (p pending) GetFile(context.Context, string) ([]byte, error) { return nil, p.err() }

// target reads where to reach a server over SSH from its state.
func target(m map[string]any) (sshexec.Target, error) {
	t := sshexec.Target{Name: serverName(m)}
	unknown := false
	for _, k := range []string{"address", "ipv4", "public_ip"} {
		if value.IsUnknown(m[k]) {
			unknown = true // t.Host stays empty: a pending server
			break
		}
		if a, _ := m[k].(string); a != "" {
			t.Host = a
			break
		}
	}
	if t.Host == "" && !unknown {
		return t, fmt.Errorf("server %s has no address to reach it over SSH: its state has no ipv4, public_ip or address", t.Name)
	}
	switch p := m["port"].(type) {
	case nil:
	case float64:
		t.Port = int(p)
	case int:
		t.Port = p
	case int64:
		t.Port = int(p)
	case json.Number:
		n, _ := p.Int64()
		t.Port = int(n)
	default:
		if !value.IsUnknown(p) {
			return t, fmt.Errorf("server %s: port %v is not a number", t.Name, p)
		}
	}
	if t.Port < 0 || t.Port > 65535 {
		return t, fmt.Errorf("server %s: port %d is out of range", t.Name, t.Port)
	}
	t.User, _ = m["user"].(string)
	t.Root, _ = m["root"].(string)
	if t.Root != "" && !path.IsAbs(t.Root) {
		return t, fmt.Errorf("server %s: root %q must be an absolute path on the server", t.Name, t.Root)
	}
	return t, nil
}

// serverName names a server by what its state says of it.
func serverName(m map[string]any) string {
	for _, k := range []string{"hostname", "id", "address", "ipv4", "public_ip"} {
		if s, ok := m[k].(string); ok && s != "" {
			return fmt.Sprintf("%q", s)
		}
	}
	return "(unnamed)"
}
