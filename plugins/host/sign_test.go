package host

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignatures(t *testing.T) {
	trustedKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	otherKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	trusted := []string{base64.StdEncoding.EncodeToString(trustedKey.Public().(ed25519.PublicKey))}
	req := []Requirement{{Kind: Provider, Name: "fake", Source: "example.com/acme/fake"}}

	tests := []struct {
		name    string
		sign    ed25519.PrivateKey // nil: unsigned
		wantErr string
	}{
		{"signed by a trusted key", trustedKey, ""},
		{"unsigned", nil, "is not signed (no "},
		{"signed by another key", otherKey, "is not signed by any key in plugins.trusted_keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := install(t, dir, ".prov/plugins/prov-provider-fake")
			if tt.sign != nil {
				if err := SignBinary(tt.sign, bin); err != nil {
					t.Fatal(err)
				}
			}
			opts := Options{Dir: dir, SearchPath: []string{filepath.Dir(bin)}, TrustedKeys: trusted}
			_, err := Init(opts, req, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Init: err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h := newHost(t, opts)
			if _, err := h.Provider(context.Background(), "fake", "example.com/acme/fake", ""); err != nil {
				t.Fatalf("signed plugin refused: %v", err)
			}
			h.Close()
			// The signature is checked at start too: removing it is refused.
			os.Remove(bin + SigSuffix)
			h2 := newHost(t, opts)
			if _, err := h2.Provider(context.Background(), "fake", "example.com/acme/fake", ""); err == nil || !strings.Contains(err.Error(), "is not signed") {
				t.Fatalf("unsigned start: err = %v", err)
			}
		})
	}
	t.Run("bad trusted key", func(t *testing.T) {
		if _, err := New(Options{Dir: t.TempDir(), TrustedKeys: []string{"not-a-key"}}); err == nil || !strings.Contains(err.Error(), `trusted key "not-a-key"`) {
			t.Fatalf("err = %v", err)
		}
	})
}
