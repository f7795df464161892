package host

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// A third-party plugin binary may be signed: BINARY.sig beside it holds the base64 ed25519 signature
// of the binary's SHA-256 digest (the 32 raw bytes). When Options.TrustedKeys is set, only binaries
// signed by one of those keys are locked or started.

// SigSuffix is appended to a plugin binary's path to name its signature file.
const SigSuffix = ".sig"

// SignBinary writes path+".sig", signing the binary at path with key.
func SignBinary(key ed25519.PrivateKey, path string) error {
	sum, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("host: sign %s: %w", path, err)
	}
	digest, _ := hex.DecodeString(sum)
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, digest))
	if err := writeFileAtomic(path+SigSuffix, []byte(sig+"\n"), 0o644); err != nil {
		return fmt.Errorf("host: sign %s: %w", path, err)
	}
	return nil
}

// parseTrustedKeys decodes base64 ed25519 public keys.
func parseTrustedKeys(keys []string) ([]ed25519.PublicKey, error) {
	out := make([]ed25519.PublicKey, 0, len(keys))
	for _, k := range keys {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("host: trusted key %q is not a base64 ed25519 public key", k)
		}
		out = append(out, ed25519.PublicKey(b))
	}
	return out, nil
}

// verifySignature checks the signature beside the binary at path, whose SHA-256 is sum (hex), against
// trusted. With no trusted keys there is nothing to check.
func verifySignature(id ID, path, sum string, trusted []ed25519.PublicKey) error {
	if len(trusted) == 0 {
		return nil
	}
	data, err := os.ReadFile(path + SigSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("host: plugin %s: %s is not signed (no %s) and plugins.trusted_keys requires a signature", id, path, path+SigSuffix)
	}
	if err != nil {
		return fmt.Errorf("host: plugin %s: read signature: %w", id, err)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("host: plugin %s: %s: not a base64 signature", id, path+SigSuffix)
	}
	digest, _ := hex.DecodeString(sum)
	for _, k := range trusted {
		if ed25519.Verify(k, digest, sig) {
			return nil
		}
	}
	return fmt.Errorf("host: plugin %s: %s is not signed by any key in plugins.trusted_keys", id, path)
}
