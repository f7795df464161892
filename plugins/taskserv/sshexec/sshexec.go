// Package sshexec is the execution channel to servers reached over SSH (golang.org/x/crypto/ssh). A Pool
// holds prov's SSH credentials (keys from an ssh-agent and identity files) and its known_hosts policy; Exec
// returns a plugins.Exec for one server that connects on first use and keeps the connection for the rest
// of the run, shared by every taskserv installed on that server. Close ends them all. Commands run as
// /bin/sh -c in the server's root directory; files move through the session's standard streams (cat), so
// a server needs nothing but sshd and a POSIX shell. The plugin that uses the channel never sees a key.
package sshexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/provhq/prov/plugins"
)

// Host key policies, as OpenSSH's StrictHostKeyChecking.
const (
	// Strict refuses a host whose key is not in known_hosts.
	Strict = "yes"
	// AcceptNew records the key of a host known_hosts does not list, and refuses a changed key.
	AcceptNew = "accept-new"
)

// Options are a Pool's credentials and policies.
type Options struct {
	// IdentityFiles are private keys offered in order, before the agent's. A passphrase-protected key
	// must be loaded into the agent instead.
	IdentityFiles []string
	// AgentSocket is the ssh-agent's socket (SSH_AUTH_SOCK); empty means no agent.
	AgentSocket string
	// KnownHosts is the known_hosts file host keys are checked against (and, with AcceptNew, added to).
	KnownHosts string
	// StrictHostKeyChecking is Strict (the default when empty) or AcceptNew.
	StrictHostKeyChecking string
	// ConnectTimeout bounds one connection attempt (TCP and SSH handshake); default 10s.
	ConnectTimeout time.Duration
	// RetryFor is how long failed connection attempts are retried, for a server that is still booting
	// (sshd not listening yet, cloud-init not done installing keys); default 3m. A refused key is
	// retried for 30s at most, host key problems never.
	RetryFor time.Duration
}

// authRetry bounds the retries of a connection whose key the server refuses.
var authRetry = 30 * time.Second

// Target is one server to reach.
type Target struct {
	// Name names the server in errors: its hostname or id.
	Name string
	// Host and Port are where sshd listens; Port 0 means 22.
	Host string
	Port int
	// User logs in; empty means root.
	User string
	// Root is the directory commands run in and relative paths start from; empty means "/".
	Root string
}

func (t Target) addr() string {
	port := t.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(port))
}

func (t Target) user() string {
	if t.User == "" {
		return "root"
	}
	return t.User
}

func (t Target) key() string { return t.user() + "@" + t.addr() }

// Pool keeps one SSH connection per server (user, host and port) for the duration of a run.
type Pool struct {
	opts  Options
	hosts *hostKeys

	mu    sync.Mutex
	conns map[string]*conn
}

// conn is the connection to one server, dialled by the first caller that needs it.
type conn struct {
	mu     sync.Mutex
	client *ssh.Client
}

// NewPool returns a pool with opts; nothing is read or dialled until a channel is used.
func NewPool(opts Options) *Pool {
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.RetryFor == 0 {
		opts.RetryFor = 3 * time.Minute
	}
	return &Pool{opts: opts, hosts: &hostKeys{file: opts.KnownHosts, acceptNew: opts.StrictHostKeyChecking == AcceptNew},
		conns: map[string]*conn{}}
}

// CheckOptions reports a mistake in opts that would make every connection fail.
func CheckOptions(opts Options) error {
	switch opts.StrictHostKeyChecking {
	case "", Strict, AcceptNew:
	default:
		return fmt.Errorf("strict_host_key_checking: want %q or %q, not %q", Strict, AcceptNew, opts.StrictHostKeyChecking)
	}
	if opts.KnownHosts == "" {
		return errors.New("known_hosts: no file: host keys cannot be checked")
	}
	return nil
}

// Exec returns the channel to t. It connects on first use.
func (p *Pool) Exec(t Target) plugins.Exec {
	return &channel{pool: p, target: t}
}

// Close closes every connection the pool opened. The pool stays usable: a later call connects again.
func (p *Pool) Close() error {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[string]*conn{}
	p.mu.Unlock()
	var errs []error
	for _, c := range conns {
		c.mu.Lock()
		if c.client != nil {
			if err := c.client.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
			c.client = nil
		}
		c.mu.Unlock()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ssh: close: %w", err)
	}
	return nil
}

// session opens a session on t's connection, connecting (or reconnecting, when the server dropped the
// connection, e.g. after a reboot) as needed.
func (p *Pool) session(ctx context.Context, t Target) (*ssh.Session, error) {
	p.mu.Lock()
	c := p.conns[t.key()]
	if c == nil {
		c = &conn{}
		p.conns[t.key()] = c
	}
	p.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		s, err := c.client.NewSession()
		if err == nil {
			return s, nil
		}
		// A live connection that refuses a session (sshd's MaxSessions) keeps its other sessions;
		// only a dead one (the server rebooted) is replaced.
		if _, _, kerr := c.client.SendRequest("keepalive@openssh.com", true, nil); kerr == nil {
			return nil, fmt.Errorf("ssh: %s: open session: %w", t.Name, err)
		}
		_ = c.client.Close()
		c.client = nil
	}
	client, err := p.dial(ctx, t)
	if err != nil {
		return nil, err
	}
	c.client = client
	s, err := client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("ssh: %s: open session: %w", t.Name, err)
	}
	return s, nil
}

// HostKeyError is a host key that known_hosts does not accept: unknown, changed or revoked. It is never
// retried.
type HostKeyError struct {
	// Server names the server, Addr is where it was reached.
	Server, Addr string
	// Fingerprint is the SHA256 fingerprint of the key the server presented; Type is its algorithm.
	Fingerprint, Type string
	// Known lists the known_hosts lines the key was expected to match (empty: the host is unknown).
	Known []string
	// Revoked is set when known_hosts marks the key @revoked.
	Revoked bool
	// File is the known_hosts file.
	File string
}

func (e *HostKeyError) Error() string {
	host, port, err := net.SplitHostPort(e.Addr)
	if err != nil {
		host, port = e.Addr, "22"
	}
	switch {
	case e.Revoked:
		return fmt.Sprintf("server %s (%s) presented the host key %s %s, which %s marks as revoked", e.Server, e.Addr, e.Type, e.Fingerprint, e.File)
	case len(e.Known) == 0:
		return fmt.Sprintf("server %s (%s) is not in %s: its host key is %s %s; check the fingerprint and add it "+
			"(ssh-keyscan -p %s %s >> %s), or set ssh.strict_host_key_checking = %q to record new hosts",
			e.Server, e.Addr, e.File, e.Type, e.Fingerprint, port, host, e.File, AcceptNew)
	default:
		return fmt.Sprintf("server %s (%s) presented a CHANGED host key %s %s; %s expects %s. If the server was "+
			"rebuilt, remove the old key (ssh-keygen -R %s -f %s); otherwise someone may be intercepting the connection",
			e.Server, e.Addr, e.Type, e.Fingerprint, e.File, strings.Join(e.Known, ", "), knownhosts.Normalize(e.Addr), e.File)
	}
}

// dial connects to t, retrying while the server may still be booting.
func (p *Pool) dial(ctx context.Context, t Target) (*ssh.Client, error) {
	auth, closeAgent, err := p.auth()
	if err != nil {
		return nil, fmt.Errorf("ssh: %s: %w", t.Name, err)
	}
	defer closeAgent()
	algos, err := p.hosts.algorithms(t.addr())
	if err != nil {
		return nil, fmt.Errorf("ssh: %s: %w", t.Name, err)
	}
	var keyErr error // a host key refused: never retried
	cfg := &ssh.ClientConfig{
		User:              t.user(),
		Auth:              auth,
		HostKeyAlgorithms: algos,
		Timeout:           p.opts.ConnectTimeout,
		HostKeyCallback: func(_ string, remote net.Addr, key ssh.PublicKey) error {
			keyErr = p.hosts.check(t.addr(), remote, key)
			if he, ok := keyErr.(*HostKeyError); ok {
				he.Server = t.Name
			}
			return keyErr
		},
	}
	start := time.Now()
	deadline := start.Add(p.opts.RetryFor)
	// A key refused is retried only briefly: cloud-init installs keys soon after sshd starts, and a
	// wrong key should not cost the whole boot timeout.
	authDeadline := start.Add(min(p.opts.RetryFor, authRetry))
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		client, err := dialContext(ctx, t.addr(), cfg)
		if err == nil {
			return client, nil
		}
		if keyErr != nil {
			return nil, fmt.Errorf("ssh: %w", keyErr)
		}
		end := deadline
		if strings.Contains(err.Error(), "unable to authenticate") {
			end = authDeadline
		}
		if ctx.Err() != nil || time.Now().Add(delay).After(end) {
			return nil, fmt.Errorf("ssh: connect to %s (%s@%s) after %d attempts: %w", t.Name, t.user(), t.addr(), attempt, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ssh: connect to %s (%s@%s): %w", t.Name, t.user(), t.addr(), ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// dialContext is ssh.Dial that the context can end.
func dialContext(ctx context.Context, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(cfg.Timeout))
	c, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// auth returns the authentication methods: the identity files' keys, then the agent's. The agent's
// connection is closed by the returned function once the handshake is over.
func (p *Pool) auth() ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	var locked []string
	for _, f := range p.opts.IdentityFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("identity file: %w", err)
		}
		s, err := ssh.ParsePrivateKey(b)
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			locked = append(locked, f) // the agent may hold it
		case err != nil:
			return nil, nil, fmt.Errorf("identity file %s: %w", f, err)
		default:
			signers = append(signers, s)
		}
	}
	closeAgent := func() {}
	if p.opts.AgentSocket != "" {
		nc, err := net.Dial("unix", p.opts.AgentSocket)
		if err != nil {
			return nil, nil, fmt.Errorf("ssh-agent (SSH_AUTH_SOCK=%s): %w", p.opts.AgentSocket, err)
		}
		closeAgent = func() { _ = nc.Close() }
		as, err := agent.NewClient(nc).Signers()
		if err != nil {
			closeAgent()
			return nil, nil, fmt.Errorf("ssh-agent: list keys: %w", err)
		}
		signers = append(signers, as...)
	}
	if len(signers) == 0 {
		closeAgent()
		if len(locked) > 0 {
			return nil, nil, fmt.Errorf("no usable SSH key: %s is protected by a passphrase; load it into ssh-agent (ssh-add %s)",
				strings.Join(locked, ", "), locked[0])
		}
		return nil, nil, errors.New("no SSH key: set ssh.identity_file or run an ssh-agent (SSH_AUTH_SOCK) holding a key")
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closeAgent, nil
}

// channel is the plugins.Exec of one target.
type channel struct {
	pool   *Pool
	target Target
}

var _ plugins.Exec = (*channel)(nil)

func (c *channel) root() string {
	if c.target.Root == "" {
		return "/"
	}
	return c.target.Root
}

// path resolves p against the target's root, as host.LocalExec does.
func (c *channel) path(p string) string {
	if path.IsAbs(p) {
		return p
	}
	return path.Join(c.root(), p)
}

// Run runs cmd with /bin/sh -c in its directory (the root when empty), its environment exported first.
// sshd runs an exec request with the user's login shell; the command is handed to /bin/sh so that the
// script means the same whatever that shell is. A non-zero exit is a result, not an error.
func (c *channel) Run(ctx context.Context, cmd plugins.ExecCommand) (*plugins.ExecResult, error) {
	dir := c.root()
	if cmd.Dir != "" {
		dir = c.path(cmd.Dir)
	}
	var script strings.Builder
	fmt.Fprintf(&script, "cd %s || exit 1\n", Quote(dir))
	for _, k := range slices.Sorted(maps.Keys(cmd.Env)) {
		if !envName.MatchString(k) {
			return nil, fmt.Errorf("ssh: %s: run %q: environment variable name %q is not valid in a shell", c.target.Name, cmd.Command, k)
		}
		fmt.Fprintf(&script, "%s=%s; export %s\n", k, Quote(cmd.Env[k]), k)
	}
	script.WriteString(cmd.Command)
	var stdout, stderr bytes.Buffer
	code, err := c.run(ctx, "/bin/sh -c "+Quote(script.String()), cmd.Stdin, &stdout, &stderr)
	if err != nil {
		return nil, fmt.Errorf("ssh: %s: run %q: %w", c.target.Name, cmd.Command, err)
	}
	return &plugins.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}, nil
}

// PutFile writes data to a temporary file beside path and renames it over path, so a reader never sees
// half a file; parent directories are created.
func (c *channel) PutFile(ctx context.Context, p string, data []byte, mode uint32) error {
	if mode == 0 {
		mode = 0o644
	}
	full := c.path(p)
	tmp := full + ".prov-tmp"
	cmd := fmt.Sprintf("umask 077 && mkdir -p %s && cat > %s && chmod %o %s && mv -f %s %s",
		Quote(path.Dir(full)), Quote(tmp), mode&0o7777, Quote(tmp), Quote(tmp), Quote(full))
	var stderr bytes.Buffer
	code, err := c.run(ctx, cmd, data, nil, &stderr)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit code %d: %s", code, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return fmt.Errorf("ssh: %s: put file %s: %w", c.target.Name, p, err)
	}
	return nil
}

// GetFile reads the file at path.
func (c *channel) GetFile(ctx context.Context, p string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	code, err := c.run(ctx, "cat -- "+Quote(c.path(p)), nil, &stdout, &stderr)
	if err == nil && code != 0 {
		err = fmt.Errorf("%s", strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return nil, fmt.Errorf("ssh: %s: get file %s: %w", c.target.Name, p, err)
	}
	return stdout.Bytes(), nil
}

// run runs command in a new session and returns its exit code. Ending ctx kills the command (a signal,
// then closing the session).
func (c *channel) run(ctx context.Context, command string, stdin []byte, stdout, stderr *bytes.Buffer) (int, error) {
	s, err := c.pool.session(ctx, c.target)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	s.Stdin = bytes.NewReader(stdin)
	if stdout != nil {
		s.Stdout = stdout
	}
	s.Stderr = stderr
	stop := context.AfterFunc(ctx, func() {
		_ = s.Signal(ssh.SIGKILL)
		_ = s.Close()
	})
	defer stop()
	err = s.Run(command)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		return exit.ExitStatus(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// envName matches the names a shell accepts as variables.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// DefaultIdentityFiles returns the keys OpenSSH offers by default that exist under home:
// ~/.ssh/id_ed25519, id_ecdsa and id_rsa.
func DefaultIdentityFiles(home string) []string {
	var out []string
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		f := path.Join(home, ".ssh", name)
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			out = append(out, f)
		}
	}
	return out
}
