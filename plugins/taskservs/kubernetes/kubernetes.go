// Package kubernetes is the kubernetes taskserv: kubelet, kubeadm and kubectl from the Kubernetes apt
// repository (pkgs.k8s.io, pinned and held at the requested version), the kernel modules, sysctls and
// swap setting the kubelet needs, and the node's place in a cluster made with kubeadm. Every server
// that lists it shares one configuration: the server whose hostname is config.control_plane runs
// kubeadm init, the others kubeadm join it with the bootstrap token config.token; with no
// control_plane, each server is a single-node cluster that also runs workloads. It needs containerd on
// the same server. Debian and Ubuntu servers.
package kubernetes

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"regexp"
	"strings"

	"github.com/provhq/prov/plugins/taskservs/scripted"
	"github.com/provhq/prov/sdk"
)

// Name is the taskserv's name.
const Name = "kubernetes"

// Roles a server has in the cluster.
const (
	Single       = "single-node"
	ControlPlane = "control-plane"
	Worker       = "worker"
)

//go:embed templates/*.sh.tmpl
var templates embed.FS

// Manifest declares the taskserv; New runs it.
func Manifest() scripted.Manifest {
	tmpls, _ := fs.Sub(templates, "templates")
	return scripted.Manifest{
		Name:         Name,
		Category:     "kubernetes",
		Description:  "A Kubernetes node (kubeadm): the control plane or a worker joining it.",
		Versions:     []string{"1.30.6", "1.31.2", "1.31.4"},
		Dependencies: []string{"containerd"},
		Config: map[string]*sdk.Attribute{
			"control_plane": {Type: sdk.String, Optional: true, Default: "",
				Description: "Hostname of the control-plane server; servers with another hostname join it as workers. " +
					"Empty: every server is a single-node cluster."},
			"control_plane_endpoint": {Type: sdk.String, Optional: true, Default: "", Validators: []sdk.Validator{hostPort},
				Description: "host:port of the API server that workers join and clients use; default control_plane:6443."},
			"pod_cidr": {Type: sdk.String, Optional: true, Default: "10.244.0.0/16", Validators: []sdk.Validator{cidr},
				Description: "The pods' address range (kubeadm podSubnet)."},
			"service_cidr": {Type: sdk.String, Optional: true, Default: "10.96.0.0/12", Validators: []sdk.Validator{cidr},
				Description: "The services' address range (kubeadm serviceSubnet)."},
			"token": {Type: sdk.String, Optional: true, Default: "", Sensitive: true,
				Validators: []sdk.Validator{bootstrapToken},
				Description: "The kubeadm bootstrap token (abcdef.0123456789abcdef) workers join with; required with " +
					"control_plane. It does not expire: change it to rotate it. Best kept in a secret."},
			"ca_cert_hash": {Type: sdk.String, Optional: true, Default: "", Validators: []sdk.Validator{sdk.Regexp(`^(sha256:[a-f0-9]{64})?$`)},
				Description: "sha256:… of the cluster CA's public key, pinned by joining workers; without it they trust " +
					"the first API server they reach (--discovery-token-unsafe-skip-ca-verification). The control plane's " +
					"install records it: taskservs.CP.kubernetes.state.ca_cert_hash."},
		},
		Templates: tmpls,
		Data:      data,
		Steps: func(in scripted.Input, d map[string]any) []string {
			steps := []string{
				"turn swap off; load overlay and br_netfilter; enable IP forwarding and bridge netfilter (sysctl)",
				fmt.Sprintf("add the Kubernetes apt repository (pkgs.k8s.io %s)", d["Minor"]),
				fmt.Sprintf("install kubelet, kubeadm and kubectl %s and hold them", in.Version),
			}
			switch d["Role"] {
			case Worker:
				steps = append(steps, fmt.Sprintf("join the cluster at %s as a worker (kubeadm join)", d["Endpoint"]))
			case ControlPlane:
				steps = append(steps, fmt.Sprintf("initialise the control plane (kubeadm init, pods %s, services %s)",
					in.Config["pod_cidr"], in.Config["service_cidr"]))
			default:
				steps = append(steps, fmt.Sprintf("initialise a single-node cluster (kubeadm init, pods %s) that also runs workloads",
					in.Config["pod_cidr"]))
			}
			return steps
		},
	}
}

// New returns the taskserv's declaration; sdk.ServeTaskserv or sdk.NewTaskservServer runs it.
func New() *sdk.Taskserv { return scripted.New(Manifest()) }

// data derives the server's role, the join endpoint and the package coordinates.
func data(in scripted.Input) (map[string]any, error) {
	cp, _ := in.Config["control_plane"].(string)
	endpoint, _ := in.Config["control_plane_endpoint"].(string)
	token, _ := in.Config["token"].(string)
	hostname, _ := in.Server["hostname"].(string)
	role := Single
	if cp != "" {
		role = Worker
		if strings.EqualFold(cp, hostname) {
			role = ControlPlane
		}
		if token == "" {
			return nil, sdk.AttrErrorf("config.token", "servers join the control plane %s with a bootstrap token: set token "+
				"(6 and 16 characters of [a-z0-9] joined by a dot, e.g. from `kubeadm token generate`)", cp)
		}
		if endpoint == "" {
			endpoint = cp + ":6443"
		}
	}
	parts := strings.Split(in.Version, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", in.Version)
	}
	return map[string]any{
		"Role":           role,
		"Endpoint":       endpoint,
		"Minor":          "v" + parts[0] + "." + parts[1],
		"PackageVersion": in.Version + "-*",
	}, nil
}

// tokenPattern is a kubeadm bootstrap token: an id and a secret.
var tokenPattern = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)

// bootstrapToken accepts a kubeadm bootstrap token, or nothing; it never repeats the value, a secret.
func bootstrapToken(v any) error {
	if s, _ := v.(string); s != "" && !tokenPattern.MatchString(s) {
		return errors.New("want a kubeadm bootstrap token: 6 and 16 characters of [a-z0-9] joined by a dot")
	}
	return nil
}

func cidr(v any) error {
	s, _ := v.(string)
	if _, err := netip.ParsePrefix(s); err != nil {
		return fmt.Errorf("want an address range such as 10.244.0.0/16: %v", err)
	}
	return nil
}

func hostPort(v any) error {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	i := strings.LastIndex(s, ":")
	if i <= 0 || i == len(s)-1 {
		return fmt.Errorf("want host:port, such as cp-01.internal:6443")
	}
	return nil
}
