package settings

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSSH(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		name    string
		toml    string
		environ []string
		want    SSH
		errs    []string
	}{
		{"defaults", "", nil, SSH{KnownHosts: filepath.Join(home, ".ssh/known_hosts"), StrictHostKeyChecking: "yes",
			ConnectTimeout: 10 * time.Second, BootTimeout: 3 * time.Minute}, nil},
		{"set", "[ssh]\nidentity_file = \"~/.ssh/deploy\"\nknown_hosts = \"ssh/known_hosts\"\nstrict_host_key_checking = \"accept-new\"\nconnect_timeout = \"3s\"\n",
			[]string{"PROVISIONING_SSH_BOOT_TIMEOUT=10m"},
			SSH{IdentityFile: filepath.Join(home, ".ssh/deploy"), KnownHosts: "$PROJECT/ssh/known_hosts", StrictHostKeyChecking: "accept-new",
				ConnectTimeout: 3 * time.Second, BootTimeout: 10 * time.Minute}, nil},
		{"invalid", "[ssh]\nstrict_host_key_checking = \"no\"\nconnect_timeout = \"soon\"\nboot_timeout = \"0s\"\n", nil, SSH{},
			[]string{
				`prov.toml:2:1: error: ssh.strict_host_key_checking: must be one of yes, accept-new, found "no"`,
				`prov.toml:3:1: error: ssh.connect_timeout: must be a positive duration such as "10s" or "3m", found "soon"`,
				`prov.toml:4:1: error: ssh.boot_timeout: must be a positive duration such as "10s" or "3m", found "0s"`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, map[string]string{"prov.toml": tc.toml})
			s, diags := Load(Options{ProjectDir: dir, UserDir: filepath.Join(dir, "none"), Environ: append([]string{}, tc.environ...)})
			var errs []string
			for _, d := range diags {
				errs = append(errs, strings.ReplaceAll(d.String(), dir+string(filepath.Separator), ""))
			}
			if diff := cmp.Diff(tc.errs, errs); diff != "" {
				t.Fatalf("diagnostics (-want +got):\n%s", diff)
			}
			if tc.errs != nil {
				return
			}
			got := s.SSH()
			got.KnownHosts = strings.ReplaceAll(got.KnownHosts, dir, "$PROJECT")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SSH() (-want +got):\n%s", diff)
			}
		})
	}
}
