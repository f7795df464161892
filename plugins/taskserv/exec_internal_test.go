package taskserv

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
)

// TestTarget reads where to reach a server from the states the providers record.
func TestTarget(t *testing.T) {
	tests := []struct {
		name   string
		server map[string]any
		want   sshexec.Target
	}{
		{"upcloud_server", map[string]any{"id": "00a1", "hostname": "web-01", "ipv4": "94.237.1.2", "user": "root"},
			sshexec.Target{Name: `"web-01"`, Host: "94.237.1.2", User: "root"}},
		{"aws_server, private", map[string]any{"id": "i-1", "hostname": "db-01", "address": "10.0.1.5", "private_ip": "10.0.1.5", "user": "ubuntu"},
			sshexec.Target{Name: `"db-01"`, Host: "10.0.1.5", User: "ubuntu"}},
		{"address before ipv4", map[string]any{"id": "i-2", "address": "10.0.0.2", "ipv4": "54.1.2.3", "public_ip": "54.1.2.3"},
			sshexec.Target{Name: `"i-2"`, Host: "10.0.0.2"}},
		{"public_ip", map[string]any{"public_ip": "54.1.2.3", "port": json.Number("2222"), "root": "/srv/chroot"},
			sshexec.Target{Name: `"54.1.2.3"`, Host: "54.1.2.3", Port: 2222, Root: "/srv/chroot"}},
		{"pending", map[string]any{"hostname": "web-02", "ipv4": value.Unknown, "port": value.Unknown},
			sshexec.Target{Name: `"web-02"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := target(tc.server)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPending: the channel to a server not made yet can be built while planning, never used.
func TestPending(t *testing.T) {
	s := NewServers(t.TempDir(), sshexec.Options{KnownHosts: "kh"})
	x, err := s.Exec(map[string]any{"hostname": "web-02", "ipv4": value.Unknown})
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.Run(context.Background(), plugins.ExecCommand{Command: "true"})
	if err == nil || err.Error() != `server "web-02" does not exist yet: its address is known after apply` {
		t.Fatalf("run on a pending server: %v", err)
	}
}
