package sdk

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// Digest is stored by providers in the cloud (a label, a tag): it must not change across versions.
// It is the first 128 bits of the SHA-256 of the values as encoding/json writes them, in key order.
func TestDigestStable(t *testing.T) {
	d := newData(map[string]any{"user_data": "#!/bin/sh\ntrue && echo <ok>", "ssh_keys": []any{"ssh-ed25519 AAAA"}, "n": 2.0}, nil)
	sum := sha256.Sum256([]byte(`["#!/bin/sh\ntrue \u0026\u0026 echo \u003cok\u003e",["ssh-ed25519 AAAA"],null,2]`))
	want := hex.EncodeToString(sum[:16])
	if got := d.Digest("user_data", "ssh_keys", "missing", "n"); got != want {
		t.Errorf("Digest = %s, want %s", got, want)
	}
	if d.Digest("n", "user_data") == d.Digest("user_data", "n") {
		t.Error("Digest ignores the order of keys")
	}
}
