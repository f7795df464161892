package sshexec_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
	"github.com/provhq/prov/plugins/taskserv/sshexec/sshtest"
)

// world is a test SSH server with one authorised identity file and a known_hosts that lists it.
type world struct {
	srv        *sshtest.Server
	identity   string
	knownHosts string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	id, signer := sshtest.IdentityFile(t, "")
	srv := sshtest.Start(t, sshtest.Options{Authorized: []ssh.PublicKey{signer.PublicKey()}})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("# prov test\n"+srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, identity: id, knownHosts: kh}
}

func (w *world) options() sshexec.Options {
	return sshexec.Options{IdentityFiles: []string{w.identity}, KnownHosts: w.knownHosts, RetryFor: time.Millisecond}
}

func (w *world) target() sshexec.Target {
	return sshexec.Target{Name: "box", Host: w.srv.Host, Port: w.srv.Port, User: "prov", Root: w.srv.Dir}
}

func pool(t *testing.T, o sshexec.Options) *sshexec.Pool {
	p := sshexec.NewPool(o)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// TestAuth connects with each source of credentials and refuses what sshd would refuse.
func TestAuth(t *testing.T) {
	w := newWorld(t)
	agentKey, agentPub := sshtest.NewKey(t)
	srvAgent := sshtest.Start(t, sshtest.Options{Authorized: []ssh.PublicKey{agentPub}})
	locked, lockedSigner := sshtest.IdentityFile(t, "s3cret")
	srvLocked := sshtest.Start(t, sshtest.Options{Authorized: []ssh.PublicKey{lockedSigner.PublicKey()}})
	stranger, _ := sshtest.IdentityFile(t, "")
	kh := filepath.Join(t.TempDir(), "known_hosts")
	lines := w.srv.KnownHostsLine() + "\n" + srvAgent.KnownHostsLine() + "\n" + srvLocked.KnownHostsLine() + "\n"
	if err := os.WriteFile(kh, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	otherAgentKey, _ := sshtest.NewKey(t)
	lockedAgent := sshtest.Agent(t, otherAgentKey)
	tests := []struct {
		name    string
		srv     *sshtest.Server
		opts    sshexec.Options
		wantErr string
	}{
		{"identity file", w.srv, sshexec.Options{IdentityFiles: []string{w.identity}}, ""},
		{"agent", srvAgent, sshexec.Options{AgentSocket: sshtest.Agent(t, agentKey)}, ""},
		{"identity file then agent", srvAgent, sshexec.Options{IdentityFiles: []string{stranger}, AgentSocket: sshtest.Agent(t, agentKey)}, ""},
		{"unknown key", w.srv, sshexec.Options{IdentityFiles: []string{stranger}}, "unable to authenticate"},
		{"passphrase without agent", srvLocked, sshexec.Options{IdentityFiles: []string{locked}},
			"is protected by a passphrase; load it into ssh-agent"},
		{"passphrase, agent holds another key", srvLocked, sshexec.Options{IdentityFiles: []string{locked}, AgentSocket: lockedAgent},
			"unable to authenticate"},
		{"no credentials", w.srv, sshexec.Options{}, "no SSH key: set ssh.identity_file or run an ssh-agent"},
		{"missing identity file", w.srv, sshexec.Options{IdentityFiles: []string{filepath.Join(t.TempDir(), "nope")}}, "no such file"},
		{"agent socket gone", w.srv, sshexec.Options{AgentSocket: filepath.Join(t.TempDir(), "sock")}, "ssh-agent (SSH_AUTH_SOCK="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.KnownHosts, tc.opts.RetryFor = kh, time.Millisecond
			x := pool(t, tc.opts).Exec(sshexec.Target{Name: "box", Host: tc.srv.Host, Port: tc.srv.Port, Root: tc.srv.Dir})
			r, err := x.Run(context.Background(), plugins.ExecCommand{Command: "echo hi"})
			if tc.wantErr == "" {
				if err != nil || string(r.Stdout) != "hi\n" {
					t.Fatalf("run = %+v, %v; want hi", r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v; want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestKnownHosts checks the host key policies: known, unknown, changed, accept-new.
func TestKnownHosts(t *testing.T) {
	w := newWorld(t)
	other := sshtest.Start(t, sshtest.Options{}) // another host key
	fingerprint := ssh.FingerprintSHA256(w.srv.HostKey)
	changed := strings.Replace(other.KnownHostsLine(), knownAddr(other), knownAddr(w.srv), 1)
	tests := []struct {
		name      string
		known     string // known_hosts content; "-" for no file
		policy    string
		wantErr   []string
		wantAfter string // known_hosts afterwards, when it should change
	}{
		{"known", w.srv.KnownHostsLine() + "\n", "", nil, ""},
		{"known among others", other.KnownHostsLine() + "\n" + w.srv.KnownHostsLine() + "\n", sshexec.Strict, nil, ""},
		{"unknown", other.KnownHostsLine() + "\n", "", []string{"server box (" + w.srv.Addr + ") is not in", fingerprint, "accept-new",
			fmt.Sprintf("ssh-keyscan -p %d 127.0.0.1 >> ", w.srv.Port)}, ""},
		{"no file", "-", "", []string{"is not in", fingerprint}, ""},
		{"changed", changed + "\n", "", []string{"CHANGED host key ssh-ed25519 " + fingerprint, "ssh-keygen -R " + knownAddr(w.srv) + " -f "}, ""},
		{"changed, accept-new", changed + "\n", sshexec.AcceptNew, []string{"CHANGED host key"}, ""},
		{"revoked", "@revoked * " + strings.SplitN(w.srv.KnownHostsLine(), " ", 2)[1] + "\n", sshexec.AcceptNew, []string{"marks as revoked"}, ""},
		{"accept-new records", other.KnownHostsLine() + "\n", sshexec.AcceptNew, nil,
			other.KnownHostsLine() + "\n" + w.srv.KnownHostsLine() + "\n"},
		{"accept-new creates the file", "-", sshexec.AcceptNew, nil, w.srv.KnownHostsLine() + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "ssh", "known_hosts")
			if tc.known != "-" {
				if err := os.MkdirAll(filepath.Dir(kh), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(kh, []byte(tc.known), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			o := w.options()
			o.KnownHosts, o.StrictHostKeyChecking = kh, tc.policy
			_, err := pool(t, o).Exec(w.target()).Run(context.Background(), plugins.ExecCommand{Command: "true"})
			if tc.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v; want one containing %q", err, want)
				}
			}
			if tc.wantErr != nil {
				var he *sshexec.HostKeyError
				if !errors.As(err, &he) || he.Server != "box" {
					t.Fatalf("err = %#v; want a *HostKeyError naming the server", err)
				}
			}
			if tc.wantAfter != "" {
				got, _ := os.ReadFile(kh)
				if diff := cmp.Diff(tc.wantAfter, string(got)); diff != "" {
					t.Fatalf("known_hosts (-want +got):\n%s", diff)
				}
				// The recorded key is now checked strictly.
				o.StrictHostKeyChecking = sshexec.Strict
				if _, err := pool(t, o).Exec(w.target()).Run(context.Background(), plugins.ExecCommand{Command: "true"}); err != nil {
					t.Fatalf("strict after accept-new: %v", err)
				}
			}
		})
	}
}

// knownAddr is the host pattern known_hosts lists srv under.
func knownAddr(srv *sshtest.Server) string { return strings.Fields(srv.KnownHostsLine())[0] }

// TestRun runs commands and moves files through the channel.
func TestRun(t *testing.T) {
	w := newWorld(t)
	x := pool(t, w.options()).Exec(w.target())
	ctx := context.Background()
	if err := os.Mkdir(filepath.Join(w.srv.Dir, "sub dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cmd  plugins.ExecCommand
		want plugins.ExecResult
	}{
		{"stdout", plugins.ExecCommand{Command: "echo out"}, plugins.ExecResult{Stdout: []byte("out\n")}},
		{"stderr and exit code", plugins.ExecCommand{Command: "echo oops >&2; exit 3"}, plugins.ExecResult{Stderr: []byte("oops\n"), ExitCode: 3}},
		{"stdin", plugins.ExecCommand{Command: "tr a-z A-Z", Stdin: []byte("quiet")}, plugins.ExecResult{Stdout: []byte("QUIET")}},
		{"env", plugins.ExecCommand{Command: `printf '%s|%s' "$GREETING" "$EMPTY"`, Env: map[string]string{"GREETING": "it's \"me\" $HOME", "EMPTY": ""}},
			plugins.ExecResult{Stdout: []byte(`it's "me" $HOME|`)}},
		{"root is the default dir", plugins.ExecCommand{Command: "pwd"}, plugins.ExecResult{Stdout: []byte(w.srv.Dir + "\n")}},
		{"relative dir", plugins.ExecCommand{Command: "pwd", Dir: "sub dir"}, plugins.ExecResult{Stdout: []byte(filepath.Join(w.srv.Dir, "sub dir") + "\n")}},
		{"missing dir", plugins.ExecCommand{Command: "pwd", Dir: "nowhere"}, plugins.ExecResult{ExitCode: 1}},
		{"killed", plugins.ExecCommand{Command: "kill -9 $$"}, plugins.ExecResult{ExitCode: 137}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := x.Run(ctx, tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.ExitCode != 0 && tc.want.Stderr == nil {
				r.Stderr = nil // the shell's wording
			}
			if diff := cmp.Diff(tc.want, *r, cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })); diff != "" {
				t.Fatalf("result (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := x.Run(ctx, plugins.ExecCommand{Command: "true", Env: map[string]string{"A B": "x"}}); err == nil {
		t.Fatal("an invalid environment variable name was accepted")
	}

	t.Run("files", func(t *testing.T) {
		data := []byte("line 1\n'quoted' $x\x00binary\n")
		if err := x.PutFile(ctx, "etc/app/conf", data, 0o640); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(w.srv.Dir, "etc/app/conf"))
		if err != nil || st.Mode().Perm() != 0o640 {
			t.Fatalf("stat = %v, %v; want mode 0640", st, err)
		}
		got, err := x.GetFile(ctx, "etc/app/conf")
		if err != nil || string(got) != string(data) {
			t.Fatalf("get = %q, %v", got, err)
		}
		abs := filepath.Join(w.srv.Dir, "abs")
		if err := x.PutFile(ctx, abs, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(abs); err != nil || st.Mode().Perm() != 0o644 {
			t.Fatalf("stat = %v, %v; want the default mode 0644", st, err)
		}
		if _, err := x.GetFile(ctx, "etc/nope"); err == nil || !strings.Contains(err.Error(), "No such file") {
			t.Fatalf("get of a missing file: %v", err)
		}
		if err := x.PutFile(ctx, "abs/under-a-file", []byte("x"), 0); err == nil {
			t.Fatal("put under a file succeeded")
		}
	})

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := x.Run(ctx, plugins.ExecCommand{Command: "sleep 30"})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("err = %v after %v; want the deadline, soon", err, time.Since(start))
		}
	})

	// One connection served everything above, and survives the cancelled command.
	if _, err := x.Run(ctx, plugins.ExecCommand{Command: "true"}); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.Logins(); n != 1 {
		t.Fatalf("logins = %d; want 1 (one pooled connection)", n)
	}
}

// TestPool shares a connection per server, reconnects after Close and after the server drops it.
func TestPool(t *testing.T) {
	w := newWorld(t)
	p := pool(t, w.options())
	ctx := context.Background()
	run := func(x plugins.Exec) {
		t.Helper()
		if _, err := x.Run(ctx, plugins.ExecCommand{Command: "true"}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := p.Exec(w.target()), p.Exec(w.target())
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			_, _ = a.Run(ctx, plugins.ExecCommand{Command: "true"})
		}()
	}
	for range 4 {
		<-done
	}
	run(b)
	if n := w.srv.Logins(); n != 1 {
		t.Fatalf("logins = %d; want 1", n)
	}
	root := w.target()
	root.User = "root" // another user is another connection
	run(p.Exec(root))
	if n := w.srv.Logins(); n != 2 {
		t.Fatalf("logins = %d; want 2", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	run(a)
	if n := w.srv.Logins(); n != 3 {
		t.Fatalf("logins after Close = %d; want 3", n)
	}
}

// TestBooting retries while the server is not listening yet, and gives up after RetryFor.
func TestBooting(t *testing.T) {
	id, signer := sshtest.IdentityFile(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	_ = ln.Close() // nothing listens until the server "boots"
	kh := filepath.Join(t.TempDir(), "known_hosts")
	target := sshexec.Target{Name: "fresh", Host: "127.0.0.1", Port: addr.Port}

	o := sshexec.Options{IdentityFiles: []string{id}, KnownHosts: kh, StrictHostKeyChecking: sshexec.AcceptNew, RetryFor: 300 * time.Millisecond}
	_, err = pool(t, o).Exec(target).Run(context.Background(), plugins.ExecCommand{Command: "true"})
	if err == nil || !strings.Contains(err.Error(), "connect to fresh (root@"+addr.String()+") after") {
		t.Fatalf("err = %v; want a connect error after retries", err)
	}

	started := make(chan *sshtest.Server, 1)
	time.AfterFunc(400*time.Millisecond, func() {
		started <- sshtest.Start(t, sshtest.Options{Addr: addr.String(), Authorized: []ssh.PublicKey{signer.PublicKey()}})
	})
	o.RetryFor = 30 * time.Second
	target.Root = t.TempDir()
	r, err := pool(t, o).Exec(target).Run(context.Background(), plugins.ExecCommand{Command: "echo up"})
	if err != nil || string(r.Stdout) != "up\n" {
		t.Fatalf("run on a booting server = %v, %v", r, err)
	}
	<-started
}

func TestCheckOptions(t *testing.T) {
	tests := []struct {
		opts    sshexec.Options
		wantErr string
	}{
		{sshexec.Options{KnownHosts: "kh"}, ""},
		{sshexec.Options{KnownHosts: "kh", StrictHostKeyChecking: "accept-new"}, ""},
		{sshexec.Options{KnownHosts: "kh", StrictHostKeyChecking: "no"}, `strict_host_key_checking: want "yes" or "accept-new", not "no"`},
		{sshexec.Options{}, "known_hosts: no file: host keys cannot be checked"},
	}
	for _, tc := range tests {
		t.Run(tc.opts.KnownHosts+"/"+tc.opts.StrictHostKeyChecking, func(t *testing.T) {
			err := sshexec.CheckOptions(tc.opts)
			if got := errString(err); got != tc.wantErr {
				t.Fatalf("err = %q; want %q", got, tc.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRefusedKey retries a refused key briefly (cloud-init may still be installing it), not for the
// whole boot timeout.
func TestRefusedKey(t *testing.T) {
	defer sshexec.SetAuthRetry(400 * time.Millisecond)()
	w := newWorld(t)
	stranger, _ := sshtest.IdentityFile(t, "")
	o := w.options()
	o.IdentityFiles, o.RetryFor = []string{stranger}, time.Hour
	start := time.Now()
	_, err := pool(t, o).Exec(w.target()).Run(context.Background(), plugins.ExecCommand{Command: "true"})
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") || strings.Contains(err.Error(), "after 1 attempts") {
		t.Fatalf("err = %v; want an authentication error after some attempts", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("gave up after %v; want about 400ms", d)
	}
}

// TestMaxSessions: a connection that refuses one more session (sshd's MaxSessions) is kept, with the
// command running on it.
func TestMaxSessions(t *testing.T) {
	id, signer := sshtest.IdentityFile(t, "")
	srv := sshtest.Start(t, sshtest.Options{Authorized: []ssh.PublicKey{signer.PublicKey()}, MaxSessions: 1})
	o := sshexec.Options{IdentityFiles: []string{id}, KnownHosts: filepath.Join(t.TempDir(), "kh"),
		StrictHostKeyChecking: sshexec.AcceptNew, RetryFor: time.Millisecond}
	x := pool(t, o).Exec(sshexec.Target{Name: "box", Host: srv.Host, Port: srv.Port, Root: srv.Dir})
	ctx := context.Background()
	long := make(chan *plugins.ExecResult)
	go func() {
		r, err := x.Run(ctx, plugins.ExecCommand{Command: "touch started; sleep 1; echo done"})
		if err != nil {
			t.Error(err)
		}
		long <- r
	}()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(srv.Dir, "started")); err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the long command did not start")
		}
	}
	if _, err := x.Run(ctx, plugins.ExecCommand{Command: "true"}); err == nil || !strings.Contains(err.Error(), "open session") {
		t.Fatalf("a session beyond MaxSessions: %v", err)
	}
	if r := <-long; r == nil || string(r.Stdout) != "done\n" {
		t.Fatalf("the running command = %+v; want it finished on the kept connection", r)
	}
	if n := srv.Logins(); n != 1 {
		t.Fatalf("logins = %d; want 1", n)
	}
}
