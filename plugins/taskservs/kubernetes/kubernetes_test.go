package kubernetes_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskservs/containerd"
	"github.com/provhq/prov/plugins/taskservs/kubernetes"
	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/plugins/taskservs/scripted/sandbox"
	"github.com/provhq/prov/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const token = "abcdef.0123456789abcdef"

func withContainerd(t testing.TB, s *sandbox.Sandbox) {
	s.Install(t, containerd.New(), "1.7.22", map[string]any{})
}

func TestLifecycle(t *testing.T) {
	tests := []sandbox.Case{
		{Name: "single-node", Version: "1.31.2", Config: map[string]any{}, Setup: withContainerd},
		{Name: "control-plane", Version: "1.31.2", Server: map[string]any{"hostname": "cp-01"}, Setup: withContainerd,
			Config: map[string]any{"control_plane": "cp-01", "token": token, "pod_cidr": "10.42.0.0/16"}},
		{Name: "worker", Version: "1.30.6", Server: map[string]any{"hostname": "wk-01"}, Setup: withContainerd,
			Config: map[string]any{"control_plane": "cp-01", "control_plane_endpoint": "10.0.0.10:6443", "token": token,
				"ca_cert_hash": "sha256:" + strings.Repeat("ab", 32)}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			sandbox.Lifecycle(t, kubernetes.New(), tc, filepath.Join("testdata", tc.Name+".golden"), *update)
		})
	}
}

// TestProblems: what is refused before anything runs, and what fails on the server.
func TestProblems(t *testing.T) {
	ctx := context.Background()
	ts := sdk.NewTaskservServer(kubernetes.New())
	s := sandbox.New(t)
	diags := func(ds []string, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	plan := func(cfg map[string]any) ([]string, error) {
		p, err := ts.Plan(ctx, plugins.TaskservRequest{Version: "1.31.2", Config: cfg, Server: s.Server}, s.Exec)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, d := range p.Diagnostics {
			out = append(out, d.Path+": "+d.Summary)
		}
		return out, nil
	}
	tests := []struct {
		name   string
		config map[string]any
		want   []string
	}{
		{"no token", map[string]any{"control_plane": "cp-01"},
			[]string{"config.token: servers join the control plane cp-01 with a bootstrap token: set token (6 and 16 characters of [a-z0-9] joined by a dot, e.g. from `kubeadm token generate`)"}},
		{"bad values", map[string]any{"pod_cidr": "10.42.0.0", "token": "secret", "control_plane_endpoint": "cp-01", "ca_cert_hash": "abc"},
			[]string{
				`config.ca_cert_hash: "abc" does not match ^(sha256:[a-f0-9]{64})?$`,
				`config.control_plane_endpoint: want host:port, such as cp-01.internal:6443`,
				`config.pod_cidr: want an address range such as 10.244.0.0/16: netip.ParsePrefix("10.42.0.0"): no '/'`,
				`config.token: want a kubeadm bootstrap token: 6 and 16 characters of [a-z0-9] joined by a dot`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := diags(plan(tc.config))
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("without containerd", func(t *testing.T) {
		res, err := ts.Install(ctx, plugins.TaskservRequest{Version: "1.31.2", Config: map[string]any{}, Server: s.Server}, s.Exec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Diagnostics) != 1 || !strings.Contains(res.Diagnostics[0].Summary,
			"containerd is not running on this server: list the containerd taskserv before kubernetes") {
			t.Fatalf("diagnostics = %v", res.Diagnostics)
		}
		if calls := s.Calls(t); slices.ContainsFunc(calls, sandbox.Mutating) {
			t.Fatalf("a failed precondition still changed the server: %q", calls)
		}
	})
}

// TestUpgrade moves a control plane to a newer version: packages, then kubeadm upgrade apply.
func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	ts := sdk.NewTaskservServer(kubernetes.New())
	s := sandbox.New(t)
	withContainerd(t, s)
	cfg := map[string]any{}
	st := s.Install(t, kubernetes.New(), "1.31.2", cfg)
	res, err := ts.Install(ctx, plugins.TaskservRequest{Version: "1.31.4", Config: cfg, Server: s.Server, Prior: st}, s.Exec, nil)
	if err != nil || res.Diagnostics.HasErrors() {
		t.Fatalf("upgrade: %v %v", err, res.Diagnostics)
	}
	var got []string
	for _, c := range s.Calls(t) {
		if sandbox.Mutating(c) {
			got = append(got, c)
		}
	}
	want := []string{
		"apt-mark unhold kubelet kubeadm kubectl",
		"apt-get -o DPkg::Lock::Timeout=600 install -y -q --allow-downgrades --allow-change-held-packages kubelet=1.31.4-* kubeadm=1.31.4-* kubectl=1.31.4-*",
		"apt-mark hold kubelet kubeadm kubectl",
		"kubeadm upgrade apply --yes v1.31.4",
		"systemctl restart kubelet",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("upgrade calls (-want +got):\n%s", diff)
	}
}

func TestSyntax(t *testing.T) {
	base := map[string]any{"control_plane": "", "control_plane_endpoint": "", "pod_cidr": "10.244.0.0/16",
		"service_cidr": "10.96.0.0/12", "token": "", "ca_cert_hash": ""}
	with := func(kv ...string) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	sandbox.Syntax(t, kubernetes.Manifest(), map[string]scripted.Input{
		"single-node":   {Version: "1.31.2", Config: with(), Server: map[string]any{"hostname": "box"}},
		"control-plane": {Version: "1.31.2", Config: with("control_plane", "cp", "token", token), Server: map[string]any{"hostname": "cp"}},
		"worker":        {Version: "1.30.6", Config: with("control_plane", "cp", "token", token), Server: map[string]any{"hostname": "wk"}},
		"worker pinned": {Version: "1.30.6", Config: with("control_plane", "cp", "token", token, "ca_cert_hash", "sha256:ab"), Server: map[string]any{}},
	})
}

// TestFailedInit: a kubeadm init that fails half way is reset, so that the next install starts over.
func TestFailedInit(t *testing.T) {
	ctx := context.Background()
	s := sandbox.New(t)
	withContainerd(t, s)
	ts := sdk.NewTaskservServer(kubernetes.New())
	req := plugins.TaskservRequest{Version: "1.31.2", Config: map[string]any{}, Server: s.Server}
	s.Exec.Env["STUB_FAIL"] = "kubeadm init"
	res, err := ts.Install(ctx, req, s.Exec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnostics) != 1 ||
		res.Diagnostics[0].Summary != "kubernetes configure failed (exit code 1): kubeadm init failed; the node was reset for the next apply to try again" ||
		res.Diagnostics[0].Detail != "error execution phase wait-control-plane: couldn't initialize a Kubernetes cluster" {
		t.Fatalf("diagnostics = %v", res.Diagnostics)
	}
	calls := s.Calls(t)
	if !slices.Contains(calls, "kubeadm reset --force") {
		t.Fatalf("no reset after the failed init: %q", calls)
	}
	delete(s.Exec.Env, "STUB_FAIL")
	res, err = ts.Install(ctx, req, s.Exec, nil)
	if err != nil || res.Diagnostics.HasErrors() {
		t.Fatalf("install again: %v %v", err, res.Diagnostics)
	}
	if calls := s.Calls(t); !slices.Contains(calls, "kubeadm init --config $ROOT/etc/kubernetes/prov/kubeadm.yaml") {
		t.Fatalf("the next install did not initialise the control plane: %q", calls)
	}
}

// TestState: the install records the server's role, and the control plane the hash workers pin.
func TestState(t *testing.T) {
	s := sandbox.New(t)
	withContainerd(t, s)
	st := s.Install(t, kubernetes.New(), "1.31.2", map[string]any{})
	sum := sha256.Sum256([]byte("public key of stub cluster CA\n"))
	if st["role"] != "single-node" || st["ca_cert_hash"] != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("state = %v", st)
	}
}
