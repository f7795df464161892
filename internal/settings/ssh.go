package settings

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// HostKeyPolicies are the accepted values of ssh.strict_host_key_checking.
var HostKeyPolicies = []string{"yes", "accept-new"}

// SSH are the ssh.* settings: how prov reaches servers over SSH.
type SSH struct {
	// IdentityFile is the private key file to offer (absolute), or "" for the default keys.
	IdentityFile string
	// KnownHosts is the known_hosts file (absolute); ~/.ssh/known_hosts unless set.
	KnownHosts string
	// StrictHostKeyChecking is one of HostKeyPolicies.
	StrictHostKeyChecking string
	// ConnectTimeout bounds one connection attempt; BootTimeout is how long attempts are retried.
	ConnectTimeout, BootTimeout time.Duration
}

// SSH returns the ssh.* settings, paths resolved against Base ("~/" against the home directory).
func (s *Settings) SSH() SSH {
	connect, _ := time.ParseDuration(s.str("ssh.connect_timeout"))
	boot, _ := time.ParseDuration(s.str("ssh.boot_timeout"))
	o := SSH{
		IdentityFile:          s.homePath(s.str("ssh.identity_file")),
		KnownHosts:            s.homePath(s.str("ssh.known_hosts")),
		StrictHostKeyChecking: s.str("ssh.strict_host_key_checking"),
		ConnectTimeout:        connect,
		BootTimeout:           boot,
	}
	if o.KnownHosts == "" {
		o.KnownHosts = s.homePath("~/.ssh/known_hosts")
	}
	return o
}

// homePath is Path, with a leading "~/" standing for the user's home directory.
func (s *Settings) homePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return s.Path(p)
}
