package cli

import (
	"os"

	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
)

// sshOptions are the SSH credentials and policies taskservs reach servers with: the ssh.* settings,
// the ssh-agent of SSH_AUTH_SOCK, and OpenSSH's default keys when no identity file is set.
func sshOptions(s settings.SSH) sshexec.Options {
	o := sshexec.Options{
		KnownHosts:            s.KnownHosts,
		StrictHostKeyChecking: s.StrictHostKeyChecking,
		AgentSocket:           os.Getenv("SSH_AUTH_SOCK"),
		ConnectTimeout:        s.ConnectTimeout,
		RetryFor:              s.BootTimeout,
	}
	if s.IdentityFile != "" {
		o.IdentityFiles = []string{s.IdentityFile}
	} else if home, err := os.UserHomeDir(); err == nil {
		o.IdentityFiles = sshexec.DefaultIdentityFiles(home)
	}
	return o
}
