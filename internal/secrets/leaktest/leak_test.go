// Package leaktest checks, end to end, that a secret a configuration references never reaches plain
// text: it plans and applies (twice, so a backup exists) a document whose resource takes a SOPS secret,
// through the real planner, engine and local state backend, with a trace-level log, and scans the log,
// the diagnostics and the plan file, and — with state encryption on — every file the backend leaves on
// disk and checks that every state and journal record went through the age codec. With encryption off,
// the secrets.Backend wrapper keeps even a secret the provider echoes into its attributes out of every
// state, backup and journal record written.
package leaktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/hashicorp/go-hclog"

	"github.com/provhq/prov/engine"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/secrets"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/pluginfake"
	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

const secretValue = "Sup3r-S3cret-P4ssw0rd-xyzzy"

// recorder is a state.Codec that keeps a copy of every plaintext the backend stores at rest.
type recorder struct {
	mu    sync.Mutex
	inner state.Codec
	seen  [][]byte
}

func (r *recorder) Encode(plain []byte) ([]byte, error) {
	r.mu.Lock()
	r.seen = append(r.seen, bytes.Clone(plain))
	r.mu.Unlock()
	if r.inner == nil {
		return plain, nil
	}
	return r.inner.Encode(plain)
}

func (r *recorder) Decode(stored []byte) ([]byte, error) {
	if r.inner == nil {
		return stored, nil
	}
	return r.inner.Decode(stored)
}

func TestSecretNeverReachesPlainText(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		name := "plain state"
		if encrypted {
			name = "age-encrypted state"
		}
		t.Run(name, func(t *testing.T) { run(t, encrypted) })
	}
}

func run(t *testing.T, encrypted bool) {
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	for _, k := range []string{"SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("SOPS_AGE_KEY", id.String())
	secretFile := filepath.Join(dir, "secrets", "prod.sops.yaml")
	os.MkdirAll(filepath.Dir(secretFile), 0o755)
	enc, err := secrets.Encrypt([]byte("db:\n  password: "+secretValue+"\n"), secretFile, secrets.EncryptOptions{AgeRecipients: []string{id.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(secretFile, enc, 0o600)

	var log bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &log})
	rec := &recorder{}
	if encrypted {
		keyFile := filepath.Join(dir, "state.key")
		if _, err := secrets.WriteIdentity(keyFile); err != nil {
			t.Fatal(err)
		}
		c, err := secrets.NewAgeCodec(nil, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		rec.inner = c
	}
	stateDir := filepath.Join(dir, "state")
	os.MkdirAll(stateDir, 0o755)
	resolver := secrets.NewResolver(dir)
	backend := secrets.NewBackend(local.New(stateDir, local.Options{Codec: rec}), resolver)
	fake := pluginfake.New("fake", map[string]*plugins.ResourceSchema{
		"fake_thing": {Attributes: map[string]*plugins.Attribute{
			"name":  pluginfake.Attr("required"),
			"value": pluginfake.Attr("optional"),
		}},
	})
	providers := plan.Providers{"fake": fake}

	var texts []string // everything a user or a file could see
	for i, name := range []string{"db", "db-renamed"} {
		doc, diags := document.Parse([]byte(`{"prov": "1", "providers": {"fake": {}}, "resources": {"things.db": {"type": "fake_thing", "provider": "fake",
			"config": {"name": "`+name+`", "value": {"$secret": "secrets/prod.sops.yaml#db.password"}}}}}`), "main.json", nil)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		prior, err := backend.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		p, diags := plan.Make(context.Background(), doc, prior, providers, plan.Options{Secrets: resolver})
		texts = append(texts, fmt.Sprint(diags))
		if diags.HasErrors() {
			t.Fatalf("plan %d: %v", i, diags)
		}
		planFile := filepath.Join(dir, "plan.prov")
		if err := p.WriteFile(planFile, rec); err != nil {
			t.Fatal(err)
		}
		pf, _ := os.ReadFile(planFile)
		texts = append(texts, string(pf))
		if encrypted && !secrets.IsAgeEncrypted(pf) {
			t.Errorf("the plan file is not age-encrypted")
		}
		p, err = plan.ReadFile(planFile, rec)
		if err != nil {
			t.Fatal(err)
		}
		e := &engine.Engine{Providers: providers, Backend: backend, Logger: logger, Secrets: resolver}
		res, err := e.Apply(context.Background(), p, prior)
		if err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
		texts = append(texts, fmt.Sprint(res.Diagnostics))
		if res.Failed() {
			t.Fatalf("apply %d failed: %v", i, res.Diagnostics)
		}
	}
	// The provider did receive the secret: the test can fail.
	if got, _ := json.Marshal(fake.Objects()); !strings.Contains(string(got), secretValue) {
		t.Fatalf("the provider never received the secret; the test would prove nothing")
	}

	texts = append(texts, log.String())
	// Every blob the backend stored (state, backup, each journal record), before any encryption.
	for _, b := range rec.seen {
		texts = append(texts, string(b))
	}
	if len(rec.seen) < 6 {
		t.Errorf("only %d blobs went through the codec; want every state and journal record", len(rec.seen))
	}
	// What the state says must still be usable: reading it back gives the provider's attributes.
	st, err := backend.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(st.Resource("things.db").Attributes); !strings.Contains(string(got), secretValue) {
		t.Errorf("reading the state back does not reveal the attribute the provider returned: %s", got)
	}
	if encrypted {
		// At rest, every state, backup and journal record is ciphertext.
		filepath.WalkDir(stateDir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			texts = append(texts, string(b))
			if base := filepath.Base(p); (base == local.StateFile || base == local.BackupFile) && !secrets.IsAgeEncrypted(b) {
				t.Errorf("%s is not age-encrypted", base)
			}
			return nil
		})
		if _, err := os.Stat(filepath.Join(stateDir, local.BackupFile)); err != nil {
			t.Errorf("no state backup was written: %v", err)
		}
	}
	for i, s := range texts {
		if strings.Contains(s, secretValue) {
			t.Errorf("text %d contains the secret:\n%s", i, s)
		}
	}
}
