package etcd_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskservs/etcd"
	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/plugins/taskservs/scripted/sandbox"
	"github.com/provhq/prov/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var three = map[string]any{"etcd-01": "10.0.0.11", "etcd-02": "10.0.0.12", "etcd-03": "10.0.0.13"}

func TestLifecycle(t *testing.T) {
	tests := []sandbox.Case{
		{Name: "single", Version: "3.5.16", Config: map[string]any{}},
		{Name: "member", Version: "3.5.17", Server: map[string]any{"hostname": "etcd-02"}, Config: map[string]any{"members": three}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			sandbox.Lifecycle(t, etcd.New(), tc, filepath.Join("testdata", tc.Name+".golden"), *update)
		})
	}
}

func TestEnvironment(t *testing.T) {
	s := sandbox.New(t)
	s.Server["hostname"] = "etcd-02"
	s.Install(t, etcd.New(), "3.5.17", map[string]any{"members": three, "client_port": 12379.0})
	got, err := os.ReadFile(filepath.Join(s.Root, "etc/etcd/etcd.env"))
	if err != nil {
		t.Fatal(err)
	}
	want := `# Written by prov (taskserv etcd); changes here are overwritten.
ETCD_NAME=etcd-02
ETCD_DATA_DIR=/var/lib/etcd
ETCD_LISTEN_PEER_URLS=http://10.0.0.12:2380
ETCD_LISTEN_CLIENT_URLS=http://10.0.0.12:12379,http://127.0.0.1:12379
ETCD_ADVERTISE_CLIENT_URLS=http://10.0.0.12:12379
ETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.0.0.12:2380
ETCD_INITIAL_CLUSTER=etcd-01=http://10.0.0.11:2380,etcd-02=http://10.0.0.12:2380,etcd-03=http://10.0.0.13:2380
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_INITIAL_CLUSTER_TOKEN=prov-etcd
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("etcd.env (-want +got):\n%s", diff)
	}
}

func TestNotAMember(t *testing.T) {
	s := sandbox.New(t)
	p, err := sdk.NewTaskservServer(etcd.New()).Plan(context.Background(), plugins.TaskservRequest{Version: "3.5.16",
		Config: map[string]any{"members": map[string]any{"a": "10.0.0.1", "b": "ten"}}, Server: s.Server}, s.Exec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Diagnostics {
		got = append(got, d.Path+": "+d.Summary)
	}
	if diff := cmp.Diff([]string{`config.members: b: "ten" is not an IP address`}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	p, err = sdk.NewTaskservServer(etcd.New()).Plan(context.Background(), plugins.TaskservRequest{Version: "3.5.16",
		Config: map[string]any{"members": map[string]any{"a": "10.0.0.1"}}, Server: s.Server}, s.Exec)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, d := range p.Diagnostics {
		got = append(got, d.Path+": "+d.Summary)
	}
	if diff := cmp.Diff([]string{`config.members: server box is not a member: add box = "ADDRESS"`}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSyntax(t *testing.T) {
	sandbox.Syntax(t, etcd.Manifest(), map[string]scripted.Input{
		"single": {Version: "3.5.16", Config: map[string]any{"members": map[string]any{}, "client_port": 2379.0, "peer_port": 2380.0,
			"cluster_token": "prov-etcd"}, Server: map[string]any{"hostname": "box"}},
		"member": {Version: "3.5.16", Config: map[string]any{"members": three, "client_port": 2379.0, "peer_port": 2380.0,
			"cluster_token": "t"}, Server: map[string]any{"hostname": "etcd-01"}},
	})
}
