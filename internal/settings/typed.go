package settings

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/provhq/prov/internal/diag"
)

// LogLevels are the accepted values of log.level, most verbose first.
var LogLevels = []string{"trace", "debug", "info", "warn", "error", "off"}

// Backends are the accepted values of state.backend.
var Backends = []string{"local"}

// check validates the final values of the keys whose meaning constrains them.
func (s *Settings) check() diag.Diagnostics {
	var diags diag.Diagnostics
	bad := func(key, format string, args ...any) {
		d := diag.Diagnostic{Severity: diag.Error, Path: key, Summary: fmt.Sprintf(format, args...)}
		if pos, ok := s.pos(key); ok {
			d.Pos = pos
		} else {
			d.Summary += " (set by " + s.values[key].Origin + ")"
		}
		diags = diags.Append(d)
	}
	if n := s.int("core.parallelism"); n < 1 {
		bad("core.parallelism", "must be at least 1, found %d", n)
	}
	if l := s.str("log.level"); !slices.Contains(LogLevels, strings.ToLower(l)) {
		bad("log.level", "must be one of %s, found %q", strings.Join(LogLevels, ", "), l)
	}
	if b := s.str("state.backend"); !slices.Contains(Backends, b) {
		bad("state.backend", "unsupported backend %q; supported: %s", b, strings.Join(Backends, ", "))
	}
	if d, err := time.ParseDuration(s.str("state.lock_timeout")); err != nil || d < 0 {
		bad("state.lock_timeout", "must be a duration such as \"30s\" or \"2m\", found %q", s.str("state.lock_timeout"))
	}
	for _, key := range []string{"state.encryption_recipients", "secrets.age_recipients"} {
		for _, r := range s.list(key) {
			if !strings.HasPrefix(r, "age1") {
				bad(key, "%q is not an age recipient (age1…)", r)
			}
		}
	}
	if p := s.str("ssh.strict_host_key_checking"); !slices.Contains(HostKeyPolicies, p) {
		bad("ssh.strict_host_key_checking", "must be one of %s, found %q", strings.Join(HostKeyPolicies, ", "), p)
	}
	for _, key := range []string{"ssh.connect_timeout", "ssh.boot_timeout"} {
		if d, err := time.ParseDuration(s.str(key)); err != nil || d <= 0 {
			bad(key, "must be a positive duration such as \"10s\" or \"3m\", found %q", s.str(key))
		}
	}
	if a := s.str("orchestrator.address"); a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("orchestrator.address", "must be host:port, found %q", a)
		}
	}
	return diags
}

func (s *Settings) str(key string) string { v, _ := s.values[key].Value.(string); return v }
func (s *Settings) int(key string) int64  { v, _ := s.values[key].Value.(int64); return v }
func (s *Settings) bool(key string) bool  { v, _ := s.values[key].Value.(bool); return v }
func (s *Settings) list(key string) []string {
	v, _ := s.values[key].Value.([]string)
	return slices.Clone(v)
}

// Base is paths.base: the absolute directory relative paths are resolved against.
func (s *Settings) Base() string { return s.str("paths.base") }

// Path resolves p against Base unless it is absolute or empty.
func (s *Settings) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Base(), p)
}

// Parallelism is core.parallelism, the number of operations run at once.
func (s *Settings) Parallelism() int { return int(s.int("core.parallelism")) }

// LogLevel is log.level, lower-cased: one of LogLevels.
func (s *Settings) LogLevel() string { return strings.ToLower(s.str("log.level")) }

// LogPath is log.path resolved against Base; "" means standard error.
func (s *Settings) LogPath() string { return s.Path(s.str("log.path")) }

// NickelBinary is nickel.binary; "" means the built-in evaluator. A bare name is looked up in PATH by
// the caller; a relative path is resolved against Base.
func (s *Settings) NickelBinary() string {
	b := s.str("nickel.binary")
	if strings.ContainsRune(b, filepath.Separator) {
		return s.Path(b)
	}
	return b
}

// PluginPaths is plugins.path with each directory resolved against Base.
func (s *Settings) PluginPaths() []string {
	ps := s.list("plugins.path")
	for i, p := range ps {
		ps[i] = s.Path(p)
	}
	return ps
}

// TrustedKeys is plugins.trusted_keys: base64 ed25519 public keys for plugin signatures.
func (s *Settings) TrustedKeys() []string { return s.list("plugins.trusted_keys") }

// StateBackend says where state is kept.
type StateBackend struct {
	// Type is the backend: "local".
	Type string
	// Dir is the local backend's directory as configured: relative to the workspace's directory unless
	// absolute; "" means the workspace's directory itself.
	Dir string
}

// State returns the state backend settings.
func (s *Settings) State() StateBackend {
	return StateBackend{Type: s.str("state.backend"), Dir: s.str("state.dir")}
}

// LockTimeout is state.lock_timeout: how long to wait for the state lock.
func (s *Settings) LockTimeout() time.Duration {
	d, _ := time.ParseDuration(s.str("state.lock_timeout"))
	return d
}

// Encryption is the age encryption of state at rest.
type Encryption struct {
	// Recipients are the age recipients written data is encrypted to.
	Recipients []string
	// IdentityFile is the age identity file that decrypts it (absolute, or "").
	IdentityFile string
	// Migrate allows reading state that is still plaintext.
	Migrate bool
}

// Enabled reports whether state is encrypted.
func (e Encryption) Enabled() bool { return len(e.Recipients) > 0 || e.IdentityFile != "" }

// StateEncryption returns the state.encryption_* settings.
func (s *Settings) StateEncryption() Encryption {
	return Encryption{
		Recipients:   s.list("state.encryption_recipients"),
		IdentityFile: s.Path(s.str("state.encryption_identity_file")),
		Migrate:      s.bool("state.encryption_migrate"),
	}
}

// SecretsRecipients is secrets.age_recipients: the default recipients of new SOPS files.
func (s *Settings) SecretsRecipients() []string { return s.list("secrets.age_recipients") }

// OrchestratorAddress is orchestrator.address (host:port).
func (s *Settings) OrchestratorAddress() string { return s.str("orchestrator.address") }
