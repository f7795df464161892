package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/settings"
)

func TestWriteIdentity(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keys", "state.txt")
	rec, err := WriteIdentity(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	f, _ := os.Open(p)
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil || len(ids) != 1 {
		t.Fatalf("parse identity file: %v", err)
	}
	if got := ids[0].(*age.X25519Identity).Recipient().String(); got != rec {
		t.Errorf("recipient %s, file holds %s", rec, got)
	}
	if _, err := WriteIdentity(p); !errors.Is(err, os.ErrExist) {
		t.Errorf("second WriteIdentity: %v, want ErrExist", err)
	}
}

func TestAgeCodec(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.txt")
	rec, err := WriteIdentity(key)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := filepath.Join(dir, "other.txt")
	otherRec, _ := WriteIdentity(otherKey)
	state := []byte(`{"version":1,"resources":{"db":{"attributes":{"password":"s3cr3t-db-pass"}}}}`)

	mk := func(recs []string, id string) *AgeCodec {
		c, err := NewAgeCodec(recs, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name    string
		enc     *AgeCodec
		dec     *AgeCodec
		input   []byte // nil: the encoded state
		want    []byte
		wantErr error
	}{
		{name: "recipients and identity", enc: mk([]string{rec}, ""), dec: mk([]string{rec}, key), want: state},
		{name: "identity alone", enc: mk(nil, key), dec: mk(nil, key), want: state},
		{name: "several recipients", enc: mk([]string{otherRec, rec}, ""), dec: mk(nil, key), want: state},
		{name: "wrong key", enc: mk([]string{rec}, ""), dec: mk(nil, otherKey), wantErr: ErrWrongKey},
		{name: "no identity", enc: mk([]string{rec}, ""), dec: mk([]string{rec}, ""), wantErr: ErrNoIdentity},
		{name: "missing identity file", enc: mk([]string{rec}, ""), dec: mk([]string{rec}, filepath.Join(dir, "gone.txt")), wantErr: os.ErrNotExist},
		{name: "plaintext refused", dec: mk(nil, key), input: state, wantErr: ErrNotEncrypted},
		{name: "plaintext migrated", dec: func() *AgeCodec { c := mk(nil, key); c.AcceptPlaintext = true; return c }(), input: state, want: state},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.input
			if in == nil {
				var err error
				if in, err = tt.enc.Encode(state); err != nil {
					t.Fatal(err)
				}
				if !IsAgeEncrypted(in) || strings.Contains(string(in), "s3cr3t") {
					t.Fatalf("Encode did not encrypt")
				}
			}
			got, err := tt.dec.Decode(in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				noSecrets(t, "error", err.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewAgeCodec([]string{"age1bogus"}, ""); err == nil {
		t.Errorf("NewAgeCodec accepted a bad recipient")
	}
	if _, err := NewAgeCodec(nil, ""); err == nil {
		t.Errorf("NewAgeCodec accepted no keys")
	}
}

func TestStateCodec(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k.txt")
	rec, _ := WriteIdentity(key)
	if c, err := StateCodec(settings.Encryption{}); c != nil || err != nil {
		t.Errorf("disabled: %v, %v; want nil, nil", c, err)
	}
	c, err := StateCodec(settings.Encryption{Recipients: []string{rec}, IdentityFile: key, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Decode([]byte("{}")); err != nil || string(got) != "{}" {
		t.Errorf("migrate: Decode plaintext = %q, %v", got, err)
	}
	enc, _ := c.Encode([]byte("{}"))
	if got, err := c.Decode(enc); err != nil || string(got) != "{}" {
		t.Errorf("round trip = %q, %v", got, err)
	}
	if _, err := StateCodec(settings.Encryption{IdentityFile: key + ".missing"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing identity, no recipients: %v", err)
	}
}
