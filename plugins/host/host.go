package host

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/provhq/prov/internal/protocol"
	"github.com/provhq/prov/plugins"
)

// BuiltinCommand is the hidden prov subcommand that serves a builtin plugin:
// "prov __plugin provider NAME".
const BuiltinCommand = "__plugin"

// Default timeouts.
const (
	// DefaultCallTimeout bounds every call but Apply and Install: a plugin that does not answer a Plan or
	// a Read in this time is cut off.
	DefaultCallTimeout = 5 * time.Minute
	// DefaultStartTimeout bounds the start of a plugin process up to its handshake.
	DefaultStartTimeout = 30 * time.Second
)

// Options configure a Host (and Init).
type Options struct {
	// Dir is the working directory: where ./.prov/plugins and prov.lock.json are. Default ".".
	Dir string
	// SearchPath overrides the directories searched for plugins (default SearchPath(Dir)).
	SearchPath []string
	// Builtins are the plugins compiled into SelfExe.
	Builtins []ID
	// SelfExe is the binary that serves builtins as "SelfExe __plugin KIND NAME"; default os.Executable().
	SelfExe string
	// ProvVersion is recorded in the lock for builtins.
	ProvVersion string
	// Logger receives the host's and the plugins' logs (their stderr); default: discard.
	Logger hclog.Logger
	// CallTimeout bounds each call except Apply and Install (default DefaultCallTimeout; negative: none).
	CallTimeout time.Duration
	// ApplyTimeout bounds each Apply and Install (default 0: none).
	ApplyTimeout time.Duration
	// StartTimeout bounds a plugin's start (default DefaultStartTimeout).
	StartTimeout time.Duration
	// TrustedKeys are base64 ed25519 public keys; when set, a third-party binary is locked and started
	// only with a valid signature by one of them beside it (see SignBinary).
	TrustedKeys []string
}

func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.SearchPath == nil {
		o.SearchPath = SearchPath(o.Dir)
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	return o
}

// resolve names the plugin a requirement refers to and says whether it is a builtin.
func (o Options) resolve(req Requirement) (ID, bool, error) {
	src := req.Source
	name := req.Name
	if src != "" {
		name = src[strings.LastIndex(src, "/")+1:]
	}
	id := ID{Kind: req.Kind, Name: name}
	if name == "" {
		return id, false, fmt.Errorf("host: %s %q: no plugin name in source %q", req.Kind, req.Name, src)
	}
	isBuiltin := slices.Contains(o.Builtins, id)
	if rest, ok := strings.CutPrefix(src, "builtin/"); ok {
		if !isBuiltin {
			return id, false, fmt.Errorf("host: %s %q: source %q: prov has no builtin %s %q", req.Kind, req.Name, src, req.Kind, rest)
		}
		return id, true, nil
	}
	return id, src == "" && isBuiltin, nil
}

func sourceOf(req Requirement, id ID, builtin bool) string {
	if builtin {
		return "builtin/" + id.Name
	}
	return req.Source
}

// Host starts plugins on demand, once per name, and ends them on Close. It is safe for concurrent use.
type Host struct {
	opts    Options
	lock    *Lock
	trusted []ed25519.PublicKey

	discoverOnce sync.Once
	found        []Found
	discoverErr  error

	mu      sync.Mutex
	running map[string]*running
	closed  bool
}

type running struct {
	once   sync.Once
	client *plugin.Client
	value  any // the guarded plugins.Provider or plugins.Taskserv
	err    error
}

// New returns a Host for opts, reading the lock file in opts.Dir.
func New(opts Options) (*Host, error) {
	opts = opts.withDefaults()
	if opts.SelfExe == "" && len(opts.Builtins) > 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("host: find own executable for builtin plugins: %w", err)
		}
		opts.SelfExe = exe
	}
	lock, err := ReadLock(opts.Dir)
	if err != nil {
		return nil, err
	}
	trusted, err := parseTrustedKeys(opts.TrustedKeys)
	if err != nil {
		return nil, err
	}
	return &Host{opts: opts, lock: lock, trusted: trusted, running: map[string]*running{}}, nil
}

// Plugins lists the plugin binaries found on the search path.
func (h *Host) Plugins() ([]Found, error) {
	h.discoverOnce.Do(func() { h.found, h.discoverErr = Discover(h.opts.SearchPath) })
	return h.found, h.discoverErr
}

// Lock returns the lock the Host enforces.
func (h *Host) Lock() *Lock { return h.lock }

// Provider returns the provider named name (the key in the document's providers section), starting its
// plugin the first time. source and version are as the document declares them; an empty source means
// the builtin of that name.
func (h *Host) Provider(ctx context.Context, name, source, version string) (plugins.Provider, error) {
	v, err := h.get(ctx, Requirement{Kind: Provider, Name: name, Source: source, Version: version})
	if err != nil {
		return nil, err
	}
	return v.(plugins.Provider), nil
}

// Taskserv returns the taskserv named name, starting its plugin the first time.
func (h *Host) Taskserv(ctx context.Context, name, source, version string) (plugins.Taskserv, error) {
	v, err := h.get(ctx, Requirement{Kind: Taskserv, Name: name, Source: source, Version: version})
	if err != nil {
		return nil, err
	}
	return v.(plugins.Taskserv), nil
}

func (h *Host) get(ctx context.Context, req Requirement) (any, error) {
	key := string(req.Kind) + "/" + req.Name
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errors.New("host: closed")
	}
	r := h.running[key]
	if r == nil {
		r = &running{}
		h.running[key] = r
	}
	h.mu.Unlock()
	r.once.Do(func() {
		r.client, r.value, r.err = h.start(ctx, key, req)
	})
	if r.err != nil {
		h.mu.Lock()
		if h.running[key] == r { // let a later call try again
			delete(h.running, key)
		}
		h.mu.Unlock()
	}
	return r.value, r.err
}

// release ends one plugin process and forgets it.
func (h *Host) release(key string) {
	h.mu.Lock()
	r := h.running[key]
	delete(h.running, key)
	h.mu.Unlock()
	if r != nil && r.client != nil {
		r.client.Kill()
	}
}

// Close ends every plugin process. A Host cannot be used after Close.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	rs := h.running
	h.running = map[string]*running{}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() {
			r.once.Do(func() { r.err = errors.New("host: closed") }) // a start still in flight finishes first
			if r.client != nil {
				r.client.Kill()
			}
		})
	}
	wg.Wait()
	return nil
}

func (h *Host) start(ctx context.Context, key string, req Requirement) (*plugin.Client, any, error) {
	id, builtin, err := h.opts.resolve(req)
	if err != nil {
		return nil, nil, err
	}
	var (
		cmd    *exec.Cmd
		secure *plugin.SecureConfig
		path   string
	)
	if builtin {
		path = h.opts.SelfExe
		cmd = exec.Command(path, BuiltinCommand, string(id.Kind), id.Name)
	} else {
		locked := h.lock.Get(id)
		if locked == nil || locked.SHA256 == "" {
			return nil, nil, fmt.Errorf("host: plugin %s (%s %q) is not in %s; run `prov init`", id, req.Kind, req.Name, LockFile)
		}
		if locked.Source != req.Source {
			return nil, nil, fmt.Errorf("host: plugin %s: source %q differs from %q in %s; run `prov init -upgrade`", id, req.Source, locked.Source, LockFile)
		}
		if req.Version != "" && !satisfies(locked.Version, req.Version) {
			return nil, nil, fmt.Errorf("host: plugin %s: locked version %q does not satisfy %q; run `prov init -upgrade`", id, locked.Version, req.Version)
		}
		found, err := h.Plugins()
		if err != nil {
			return nil, nil, err
		}
		f, err := selectLocked(found, locked)
		if err != nil {
			return nil, nil, fmt.Errorf("host: %w", err)
		}
		path = f.Path
		// Checked here for a clear message naming both hashes; go-plugin checks again as it starts.
		sum, err := fileSHA256(path)
		if err != nil {
			return nil, nil, fmt.Errorf("host: hash plugin %s: %w", id, err)
		}
		if sum != locked.SHA256 {
			return nil, nil, &ChecksumError{ID: id, Path: path, Expected: locked.SHA256, Actual: sum}
		}
		if err := verifySignature(id, path, sum, h.trusted); err != nil {
			return nil, nil, err
		}
		want, _ := hex.DecodeString(locked.SHA256)
		secure = &plugin.SecureConfig{Checksum: want, Hash: sha256.New()}
		cmd = exec.Command(path)
	}
	cmd.Dir = h.opts.Dir
	logger := h.opts.Logger.Named(id.String())
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  protocol.Handshake,
		VersionedPlugins: protocol.PluginSet(),
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          true,
		StartTimeout:     h.opts.StartTimeout,
		Logger:           logger,
	})
	fail := func(err error) (*plugin.Client, any, error) {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			sum, _ := fileSHA256(path)
			return nil, nil, &ChecksumError{ID: id, Path: path, Expected: hex.EncodeToString(secure.Checksum), Actual: sum}
		}
		return nil, nil, fmt.Errorf("host: start plugin %s (%s): %w", id, path, err)
	}
	rpc, err := client.Client()
	if err != nil {
		return fail(err)
	}
	raw, err := rpc.Dispense(string(id.Kind))
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	g := guard{id: id, client: client, callTimeout: h.opts.CallTimeout, applyTimeout: h.opts.ApplyTimeout, release: func() { h.release(key) }}
	logger.Debug("plugin started", "path", path, "pid", client.ReattachConfig().Pid)
	switch v := raw.(type) {
	case plugins.Provider:
		return client, &guardedProvider{guard: g, inner: v}, nil
	case plugins.Taskserv:
		return client, &guardedTaskserv{guard: g, inner: v}, nil
	}
	return fail(fmt.Errorf("dispensed %T", raw))
}
