package sshexec

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks host keys against a known_hosts file and, with acceptNew, records the keys of hosts it
// does not list. The file is read for every check, so keys recorded by another connection (or by ssh
// itself) are seen at once.
type hostKeys struct {
	file      string
	acceptNew bool

	mu sync.Mutex // serialises reading and appending, so a new host is recorded once
}

// load returns the file's callback, or nil when the file does not exist (no host is known).
func (h *hostKeys) load() (ssh.HostKeyCallback, error) {
	cb, err := knownhosts.New(h.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	return cb, nil
}

// check accepts key for addr when known_hosts lists it, records it when the host is unknown and the
// policy is accept-new, and otherwise returns a *HostKeyError.
func (h *hostKeys) check(addr string, remote net.Addr, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	cb, err := h.load()
	if err != nil {
		return err
	}
	keyErr := &knownhosts.KeyError{}
	if cb != nil {
		err = cb(addr, remote, key)
		if err == nil {
			return nil
		}
		var revoked *knownhosts.RevokedError
		if errors.As(err, &revoked) {
			return h.refuse(addr, key, nil, true)
		}
		if !errors.As(err, &keyErr) {
			return fmt.Errorf("known_hosts: %w", err)
		}
	}
	if len(keyErr.Want) > 0 {
		return h.refuse(addr, key, keyErr.Want, false)
	}
	if !h.acceptNew {
		return h.refuse(addr, key, nil, false)
	}
	return h.record(addr, key)
}

func (h *hostKeys) refuse(addr string, key ssh.PublicKey, want []knownhosts.KnownKey, revoked bool) error {
	e := &HostKeyError{Addr: addr, Fingerprint: ssh.FingerprintSHA256(key), Type: key.Type(), Revoked: revoked, File: h.file}
	for _, k := range want {
		e.Known = append(e.Known, fmt.Sprintf("%s (line %d)", ssh.FingerprintSHA256(k.Key), k.Line))
	}
	return e
}

// record appends the host's key to the file, as OpenSSH's accept-new does.
func (h *hostKeys) record(addr string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return fmt.Errorf("known_hosts: record %s: %w", addr, err)
	}
	f, err := os.OpenFile(h.file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("known_hosts: record %s: %w", addr, err)
	}
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(addr)}, key))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("known_hosts: record %s: %w", addr, err)
	}
	return nil
}

// probeKey is a key no known_hosts lists: checking it returns the keys a host is known by.
var probeKey = func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
}()

// algorithms returns the host key algorithms to ask addr for: those of the keys known_hosts lists for
// it, so that a host known by its ed25519 key is not asked for an ECDSA one (which would look like a
// changed key). Nil, the library's default, for a host known_hosts does not list.
func (h *hostKeys) algorithms(addr string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cb, err := h.load()
	if err != nil || cb == nil {
		return nil, err
	}
	var keyErr *knownhosts.KeyError
	if !errors.As(cb(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, probeKey), &keyErr) {
		return nil, nil
	}
	var algos []string
	for _, k := range keyErr.Want {
		names := []string{k.Key.Type()}
		if k.Key.Type() == ssh.KeyAlgoRSA {
			names = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, n := range names {
			if !slices.Contains(algos, n) {
				algos = append(algos, n)
			}
		}
	}
	return algos, nil
}
