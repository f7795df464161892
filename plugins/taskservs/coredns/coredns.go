// Package coredns is the coredns taskserv: CoreDNS as the server's own DNS service (not the cluster
// DNS that kubeadm deploys), for a private zone of host records in front of upstream resolvers. The
// binary is a pinned release from GitHub, checked against its published SHA-256; it runs as the
// unprivileged user coredns under a systemd unit, with a Corefile written from the configuration, and
// is restarted when the binary or the Corefile changes.
package coredns

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"regexp"
	"slices"

	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/sdk"
)

// Name is the taskserv's name.
const Name = "coredns"

//go:embed templates/*.sh.tmpl
var templates embed.FS

// Manifest declares the taskserv; New runs it.
func Manifest() scripted.Manifest {
	tmpls, _ := fs.Sub(templates, "templates")
	return scripted.Manifest{
		Name:        Name,
		Category:    "dns",
		Description: "CoreDNS serving host records and forwarding the rest, as a systemd service.",
		Versions:    []string{"1.11.3", "1.11.4"},
		Config: map[string]*sdk.Attribute{
			"port": {Type: sdk.Number, Optional: true, Default: 53.0, Validators: []sdk.Validator{sdk.Between(1, 65535)},
				Description: "The port to serve DNS on."},
			"bind": {Type: sdk.ListOf(sdk.String), Optional: true, Default: []any{}, Validators: []sdk.Validator{addresses},
				Description: "Addresses to listen on; empty: all. On Ubuntu, systemd-resolved holds 127.0.0.53:53: " +
					"bind the server's own addresses, or turn its DNSStubListener off."},
			"hosts": {Type: sdk.MapOf(sdk.String), Optional: true, Default: map[string]any{}, Validators: []sdk.Validator{hosts},
				Description: "Host records served: name → IPv4 or IPv6 address (e.g. db.internal = \"10.0.0.5\")."},
			"forward": {Type: sdk.ListOf(sdk.String), Optional: true, Default: []any{"1.1.1.1", "9.9.9.9"}, Validators: []sdk.Validator{addresses},
				Description: "Upstream resolvers for every other name."},
			"cache_seconds": {Type: sdk.Number, Optional: true, Default: 30.0, Validators: []sdk.Validator{sdk.Between(0, 86400)},
				Description: "How long answers are cached; 0 turns the cache off."},
		},
		Templates: tmpls,
		Data: func(in scripted.Input) (map[string]any, error) {
			h, _ := in.Config["hosts"].(map[string]any)
			return map[string]any{"HostNames": slices.Sorted(maps.Keys(h))}, nil
		},
		Steps: func(in scripted.Input, _ map[string]any) []string {
			h, _ := in.Config["hosts"].(map[string]any)
			return []string{
				fmt.Sprintf("install CoreDNS %s to /usr/local/bin (github.com/coredns/coredns, SHA-256 checked)", in.Version),
				fmt.Sprintf("write /etc/coredns/Corefile (port %v, %d host records, forward to %v)", in.Config["port"], len(h), in.Config["forward"]),
				"install, enable and start the coredns systemd unit",
			}
		},
	}
}

// New returns the taskserv's declaration; sdk.ServeTaskserv or sdk.NewTaskservServer runs it.
func New() *sdk.Taskserv { return scripted.New(Manifest()) }

func addresses(v any) error {
	l, _ := v.([]any)
	for _, a := range l {
		s, _ := a.(string)
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Errorf("%q is not an IP address", s)
		}
	}
	return nil
}

var hostName = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

func hosts(v any) error {
	m, _ := v.(map[string]any)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if !hostName.MatchString(name) {
			errs = append(errs, fmt.Errorf("%q is not a host name", name))
		}
		s, _ := m[name].(string)
		if _, err := netip.ParseAddr(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not an IP address", name, s))
		}
	}
	return errors.Join(errs...)
}
