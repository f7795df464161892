// Package etcd is the etcd taskserv: a member of an etcd cluster (a pinned release from GitHub, checked
// against the release's SHA256SUMS), run by systemd as the unprivileged user etcd with its data in
// /var/lib/etcd. Every server that lists it shares one configuration whose members map names each
// member's hostname to its address; the cluster bootstraps from that list. Members talk plain HTTP:
// put them on a private network.
package etcd

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/sdk"
)

// Name is the taskserv's name.
const Name = "etcd"

//go:embed templates/*.sh.tmpl
var templates embed.FS

// Manifest declares the taskserv; New runs it.
func Manifest() scripted.Manifest {
	tmpls, _ := fs.Sub(templates, "templates")
	return scripted.Manifest{
		Name:        Name,
		Category:    "database",
		Description: "A member of an etcd cluster, as a systemd service (plain HTTP: private networks only).",
		Versions:    []string{"3.5.16", "3.5.17"},
		Config: map[string]*sdk.Attribute{
			"members": {Type: sdk.MapOf(sdk.String), Optional: true, Default: map[string]any{}, Validators: []sdk.Validator{members},
				Description: "The cluster's members at bootstrap: hostname → address. Empty: each server is a one-member " +
					"cluster on its own address. Later changes do not add or remove members of a running cluster (etcdctl member)."},
			"client_port": {Type: sdk.Number, Optional: true, Default: 2379.0, Validators: []sdk.Validator{sdk.Between(1, 65535)},
				Description: "The port clients connect to."},
			"peer_port": {Type: sdk.Number, Optional: true, Default: 2380.0, Validators: []sdk.Validator{sdk.Between(1, 65535)},
				Description: "The port members talk to each other on."},
			"cluster_token": {Type: sdk.String, Optional: true, Default: "prov-etcd", Validators: []sdk.Validator{sdk.Regexp(`^[A-Za-z0-9._-]+$`)},
				Description: "Tells this cluster's members from another's at bootstrap."},
		},
		Templates: tmpls,
		Data:      data,
		Steps: func(in scripted.Input, d map[string]any) []string {
			return []string{
				fmt.Sprintf("install etcd, etcdctl and etcdutl %s to /usr/local/bin (github.com/etcd-io/etcd, SHA256SUMS checked)", in.Version),
				fmt.Sprintf("write /etc/etcd/etcd.env (member %s at %s, cluster %s)", d["Member"], d["Address"], d["InitialCluster"]),
				"install, enable and start the etcd systemd unit",
			}
		},
	}
}

// New returns the taskserv's declaration; sdk.ServeTaskserv or sdk.NewTaskservServer runs it.
func New() *sdk.Taskserv { return scripted.New(Manifest()) }

// data derives this member's name and address and the initial cluster.
func data(in scripted.Input) (map[string]any, error) {
	hostname, _ := in.Server["hostname"].(string)
	if hostname == "" {
		return nil, errors.New("the server has no hostname, which names its etcd member")
	}
	ms, _ := in.Config["members"].(map[string]any)
	peer := func(addr string) string {
		return fmt.Sprintf("http://%s", hostPort(addr, in.Config["peer_port"]))
	}
	var addr string
	var cluster []string
	if len(ms) == 0 {
		for _, k := range []string{"private_ip", "address", "ipv4"} {
			if a, _ := in.Server[k].(string); a != "" {
				addr = a
				break
			}
		}
		if addr == "" {
			addr = "127.0.0.1"
		}
		cluster = []string{hostname + "=" + peer(addr)}
	} else {
		a, ok := ms[hostname].(string)
		if !ok {
			return nil, sdk.AttrErrorf("config.members", "server %s is not a member: add %s = \"ADDRESS\"", hostname, hostname)
		}
		addr = a
		for _, name := range slices.Sorted(maps.Keys(ms)) {
			cluster = append(cluster, name+"="+peer(fmt.Sprint(ms[name])))
		}
	}
	return map[string]any{
		"Member":         hostname,
		"Address":        addr,
		"PeerURL":        peer(addr),
		"ClientURL":      fmt.Sprintf("http://%s", hostPort(addr, in.Config["client_port"])),
		"InitialCluster": strings.Join(cluster, ","),
	}, nil
}

func hostPort(addr string, port any) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() {
		addr = "[" + addr + "]"
	}
	return fmt.Sprintf("%s:%v", addr, port)
}

func members(v any) error {
	m, _ := v.(map[string]any)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(m)) {
		s, _ := m[name].(string)
		if _, err := netip.ParseAddr(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not an IP address", name, s))
		}
	}
	return errors.Join(errs...)
}
