package taskserv_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskserv"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
	"github.com/provhq/prov/plugins/taskserv/sshexec/sshtest"
	"github.com/provhq/prov/plugins/taskservs/motd"
	"github.com/provhq/prov/sdk"
)

// TestOverSSH installs motd on a server reached over SSH (an in-process sshd on loopback), as prov
// installs taskservs on the servers cloud providers make: plan, install, check, remove, through the
// adapter and the real protocol, on one pooled connection that closes with the last provider.
func TestOverSSH(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ctx := context.Background()
			id, signer := sshtest.IdentityFile(t, "")
			srv := sshtest.Start(t, sshtest.Options{Authorized: []ssh.PublicKey{signer.PublicKey()}})
			kh := filepath.Join(t.TempDir(), "known_hosts")
			servers := taskserv.NewServers(t.TempDir(), sshexec.Options{IdentityFiles: []string{id}, KnownHosts: kh,
				StrictHostKeyChecking: sshexec.AcceptNew, RetryFor: time.Second})
			p := servers.Provider(tr.wrap(t, sdk.NewTaskservServer(motd.New())))
			other := servers.Provider(tr.wrap(t, sdk.NewTaskservServer(motd.New())))

			// What upcloud_server and aws_server record, with a root that keeps the test in its sandbox.
			box := map[string]any{"id": "srv-1", "hostname": "box", "ipv4": srv.Host, "port": float64(srv.Port), "user": "ops", "root": srv.Dir}
			cfg := config(box, map[string]any{"message": "over ssh"})
			resp, err := p.Plan(ctx, plugins.PlanRequest{Type: "taskserv", Config: cfg})
			if err != nil || resp.Diagnostics.HasErrors() {
				t.Fatalf("plan: %v %v", err, resp.Diagnostics)
			}
			if diff := cmp.Diff([]any{"write etc/motd (9 bytes)"}, resp.Planned.(map[string]any)["steps"]); diff != "" {
				t.Fatalf("steps (-want +got):\n%s", diff)
			}
			ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op-1", Planned: resp.Planned, Config: cfg}, nil)
			if err != nil || ar.Diagnostics.HasErrors() {
				t.Fatalf("apply: %v %v", err, ar.Diagnostics)
			}
			motdFile := filepath.Join(srv.Dir, "etc", "motd")
			if b, err := os.ReadFile(motdFile); err != nil || string(b) != "over ssh\n" {
				t.Fatalf("motd = %q, %v", b, err)
			}
			rr, err := other.Read(ctx, plugins.ReadRequest{Type: "taskserv", Current: ar.New})
			if err != nil || len(rr.Diagnostics) > 0 || rr.New.(map[string]any)["healthy"] != true {
				t.Fatalf("check: %v %v %v", err, rr.Diagnostics, rr.New)
			}
			if b, _ := os.ReadFile(kh); string(b) != srv.KnownHostsLine()+"\n" {
				t.Fatalf("known_hosts = %q; want the server's key recorded (accept-new)", b)
			}
			ar, err = p.Apply(ctx, plugins.ApplyRequest{Type: "taskserv", OperationID: "op-2", Prior: ar.New}, nil)
			if err != nil || len(ar.Diagnostics) > 0 || ar.New != nil {
				t.Fatalf("remove: %v %v %v", err, ar.Diagnostics, ar.New)
			}
			if _, err := os.Stat(motdFile); !os.IsNotExist(err) {
				t.Fatalf("motd after remove: %v", err)
			}
			if n := srv.Logins(); n != 1 {
				t.Fatalf("logins = %d; want 1: one connection per server for every taskserv", n)
			}

			// The connection closes with the last provider; a later one connects again.
			_ = p.Close()
			_ = other.Close()
			third := servers.Provider(tr.wrap(t, sdk.NewTaskservServer(motd.New())))
			t.Cleanup(func() { _ = third.Close() })
			if _, err := third.Read(ctx, plugins.ReadRequest{Type: "taskserv", Current: rr.New}); err != nil {
				t.Fatal(err)
			}
			if n := srv.Logins(); n != 2 {
				t.Fatalf("logins after the providers closed = %d; want 2", n)
			}
		})
	}
}
