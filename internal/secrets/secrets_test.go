package secrets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/value"
)

// The secret values the fixtures hold; no error or diagnostic may contain them.
var secretValues = []string{"hunter2-upcloud", "s3cr3t-db-pass", "tok-0123456789", "BINARY-PRIVATE-KEY-MATERIAL", "ini-s3cret"}

// keyEnv gives the test a fresh age identity that SOPS finds through SOPS_AGE_KEY, and isolates it from
// the user's own SOPS keys. It returns the identity's recipient.
func keyEnv(t *testing.T) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	for _, k := range []string{"SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_RECIPIENTS", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"} {
		unsetenv(t, k)
	}
	t.Setenv("SOPS_AGE_KEY", id.String())
	return id, id.Recipient().String()
}

// unsetenv removes an environment variable for the test's duration (SOPS treats set-but-empty
// differently from unset).
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "")
	os.Unsetenv(k)
}

// fixtures writes SOPS-encrypted files, encrypted through the sops library to rec, under dir.
func fixtures(t *testing.T, dir, rec string) {
	t.Helper()
	plain := map[string]string{
		"secrets/prod.sops.yaml": "upcloud:\n  username: admin\n  password: hunter2-upcloud\n  port: 8443\nhosts:\n  - name: db\n    key: s3cr3t-db-pass\n",
		"secrets/api.json":       `{"token": "tok-0123456789", "nested": {"enabled": true}}`,
		"secrets/app.env":        "API_TOKEN=tok-0123456789\nlog.level=debug\n",
		"secrets/id_ed25519":     "-----BEGIN-----\nBINARY-PRIVATE-KEY-MATERIAL\n-----END-----\n",
		"secrets/db.ini":         "[db]\npassword = ini-s3cret\n",
	}
	for name, text := range plain {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		enc, err := Encrypt([]byte(text), p, EncryptOptions{AgeRecipients: []string{rec}})
		if err != nil {
			t.Fatalf("encrypt %s: %v", name, err)
		}
		for _, s := range secretValues {
			if strings.Contains(string(enc), s) {
				t.Fatalf("encrypted %s contains %q", name, s)
			}
		}
		if err := os.WriteFile(p, enc, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func noSecrets(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range secretValues {
			if strings.Contains(text, s) {
				t.Errorf("%s contains the secret %q: %s", what, s, text)
			}
		}
	}
}

func ref(s string) map[string]any { return map[string]any{RefKey: s} }

func TestResolve(t *testing.T) {
	_, rec := keyEnv(t)
	dir := t.TempDir()
	fixtures(t, dir, rec)

	tests := []struct {
		name      string
		in        any
		want      any
		sensitive []string
		diags     []string
	}{
		{
			name: "yaml, json, dotenv, ini and binary anywhere in a value",
			in: map[string]any{
				"zone": "fi-hel1",
				"auth": map[string]any{"password": ref("secrets/prod.sops.yaml#upcloud.password"), "user": "root"},
				"list": []any{ref("secrets/prod.sops.yaml#hosts[0].key"), "plain", ref("secrets/api.json#token")},
				"env":  ref("secrets/app.env#API_TOKEN"),
				"dots": ref("secrets/app.env#log.level"),
				"ini":  ref("secrets/db.ini#db.password"),
				"key":  ref("secrets/id_ed25519"),
				"port": ref("secrets/prod.sops.yaml#upcloud.port"),
				"flag": ref("secrets/api.json#nested.enabled"),
			},
			want: map[string]any{
				"zone": "fi-hel1",
				"auth": map[string]any{"password": "hunter2-upcloud", "user": "root"},
				"list": []any{"s3cr3t-db-pass", "plain", "tok-0123456789"},
				"env":  "tok-0123456789",
				"dots": "debug",
				"ini":  "ini-s3cret",
				"key":  "-----BEGIN-----\nBINARY-PRIVATE-KEY-MATERIAL\n-----END-----\n",
				"port": float64(8443),
				"flag": true,
			},
			sensitive: []string{"auth.password", "dots", "env", "flag", "ini", "key", "list[0]", "list[2]", "port"},
		},
		{
			name:      "a whole document",
			in:        []any{ref("secrets/prod.sops.yaml#upcloud")},
			want:      []any{map[string]any{"username": "admin", "password": "hunter2-upcloud", "port": float64(8443)}},
			sensitive: []string{"[0]"},
		},
		{
			name: "objects with more keys are not references",
			in:   map[string]any{"$secret": "x", "other": 1.0},
			want: map[string]any{"$secret": "x", "other": 1.0},
		},
		{
			name: "problems name the file and the secret path",
			in: map[string]any{
				"a": ref("secrets/prod.sops.yaml#upcloud.pasword"),
				"b": ref("secrets/missing.yaml#x"),
				"c": ref("secrets/id_ed25519#line"),
				"d": map[string]any{RefKey: 3.0},
				"e": ref("#x"),
				"f": ref("secrets/app.env#NOPE"),
				"g": ref("secrets/prod.sops.yaml#hosts[1]"),
				"h": ref("secrets/prod.sops.yaml#hosts[x]"),
			},
			want: map[string]any{
				"a": ref("secrets/prod.sops.yaml#upcloud.pasword"),
				"b": ref("secrets/missing.yaml#x"),
				"c": ref("secrets/id_ed25519#line"),
				"d": map[string]any{RefKey: 3.0},
				"e": ref("#x"),
				"f": ref("secrets/app.env#NOPE"),
				"g": ref("secrets/prod.sops.yaml#hosts[1]"),
				"h": ref("secrets/prod.sops.yaml#hosts[x]"),
			},
			diags: []string{
				"error: servers.web.a: secret secrets/prod.sops.yaml#upcloud.pasword: secrets/prod.sops.yaml has no value at upcloud.pasword",
				"error: servers.web.b: secret secrets/missing.yaml#x: secrets/missing.yaml does not exist",
				`error: servers.web.c: secret secrets/id_ed25519#line: secrets/id_ed25519 is a binary SOPS file: the whole file is the secret, so write "secrets/id_ed25519" without #line`,
				`error: servers.web.d: "$secret" must be a string "FILE#PATH"`,
				`error: servers.web.e: "$secret" "#x" names no file; write "FILE#PATH"`,
				"error: servers.web.f: secret secrets/app.env#NOPE: secrets/app.env has no variable NOPE",
				"error: servers.web.g: secret secrets/prod.sops.yaml#hosts[1]: secrets/prod.sops.yaml has no value at hosts[1]",
				`error: servers.web.h: secret secrets/prod.sops.yaml#hosts[x]: bad secret path after '#': path "hosts[x]": bad index "x"`,
			},
		},
	}
	r := NewResolver(dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sens, diags := r.Resolve(tt.in, "servers.web")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			var sensStr []string
			for _, p := range sens {
				sensStr = append(sensStr, p.String())
			}
			if diff := cmp.Diff(tt.sensitive, sorted(sensStr)); diff != "" {
				t.Errorf("sensitive (-want +got):\n%s", diff)
			}
			var ds []string
			for _, d := range diags {
				ds = append(ds, d.String())
			}
			if diff := cmp.Diff(tt.diags, ds); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			noSecrets(t, "diagnostics", ds...)
			if _, ok := tt.in.(map[string]any); ok && len(sens) > 0 {
				// The input is not modified.
				if v, _ := value.Get(tt.in, sens[0]); v == nil {
					t.Errorf("input lost its reference at %s", sens[0])
				}
			}
		})
	}
}

func sorted(s []string) []string {
	if s == nil {
		return nil
	}
	out := append([]string{}, s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestResolveCachesDecryptedFiles(t *testing.T) {
	_, rec := keyEnv(t)
	dir := t.TempDir()
	fixtures(t, dir, rec)
	r := NewResolver(dir)
	if _, _, diags := r.Resolve(ref("secrets/prod.sops.yaml#upcloud.username"), ""); len(diags) > 0 {
		t.Fatal(diags)
	}
	// With the file gone and the key gone, a second lookup in the same file still answers from the cache.
	os.Remove(filepath.Join(dir, "secrets/prod.sops.yaml"))
	unsetenv(t, "SOPS_AGE_KEY")
	got, _, diags := r.Resolve(ref("secrets/prod.sops.yaml#upcloud.password"), "")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if got != "hunter2-upcloud" {
		t.Errorf("got %v", got)
	}
}

func TestResolveWithWrongKeyNeverShowsSecrets(t *testing.T) {
	_, rec := keyEnv(t)
	dir := t.TempDir()
	fixtures(t, dir, rec)
	other, _ := age.GenerateX25519Identity()
	t.Setenv("SOPS_AGE_KEY", other.String())
	r := NewResolver(dir)
	_, sens, diags := r.Resolve(map[string]any{"p": ref("secrets/prod.sops.yaml#upcloud.password")}, "")
	if len(diags) != 1 || len(sens) != 0 {
		t.Fatalf("want one diagnostic and nothing sensitive, got %v %v", diags, sens)
	}
	msg := diags[0].String()
	for _, want := range []string{"p:", "secret secrets/prod.sops.yaml#upcloud.password", "decrypt secrets/prod.sops.yaml"} {
		if !strings.Contains(msg, want) {
			t.Errorf("diagnostic %q does not contain %q", msg, want)
		}
	}
	noSecrets(t, "diagnostic", msg)
	if strings.Contains(msg, other.String()) {
		t.Errorf("diagnostic contains the private key")
	}
}

func TestDecryptRoundTrip(t *testing.T) {
	_, rec := keyEnv(t)
	dir := t.TempDir()
	for _, tc := range []struct{ name, text string }{
		{"a.yaml", "a: 1\nb:\n    - x\n"},
		{"b.json", "{\n\t\"a\": \"x\"\n}\n"},
		{"c.env", "A=1\nB=two\n"},
		{"d.bin", "any bytes \x00\x01 at all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			enc, err := Encrypt([]byte(tc.text), p, EncryptOptions{AgeRecipients: []string{rec}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Encrypt(enc, p, EncryptOptions{AgeRecipients: []string{rec}}); tc.name != "d.bin" && err == nil {
				t.Errorf("encrypting an encrypted file succeeded")
			}
			got, err := Decrypt(enc, p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.text, string(got)); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncryptChoosesRecipients(t *testing.T) {
	_, rec := keyEnv(t)
	other, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	if _, err := Encrypt([]byte("a: b\n"), p, EncryptOptions{}); !errors.Is(err, ErrNoRecipients) {
		t.Errorf("no recipients: got %v, want ErrNoRecipients", err)
	}
	// A default recipient that is not ours: we cannot decrypt.
	enc, err := Encrypt([]byte("a: b\n"), p, EncryptOptions{DefaultAgeRecipients: []string{other.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(enc, p); err == nil {
		t.Errorf("decrypt with the wrong key succeeded")
	}
	// A .sops.yaml creation rule wins over the default.
	os.WriteFile(filepath.Join(dir, ".sops.yaml"), []byte("creation_rules:\n  - path_regex: .*\\.yaml$\n    age: "+rec+"\n"), 0o644)
	enc, err = Encrypt([]byte("a: b\n"), p, EncryptOptions{DefaultAgeRecipients: []string{other.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Decrypt(enc, p); err != nil || string(got) != "a: b\n" {
		t.Errorf("decrypt = %q, %v", got, err)
	}
	if _, err := Encrypt([]byte("a: b\n"), p, EncryptOptions{AgeRecipients: []string{"age1nope"}}); err == nil || !strings.Contains(err.Error(), `age recipient "age1nope"`) {
		t.Errorf("bad recipient: got %v", err)
	}
}

func TestEdit(t *testing.T) {
	_, rec := keyEnv(t)
	dir := t.TempDir()
	fixtures(t, dir, rec)
	p := filepath.Join(dir, "secrets/prod.sops.yaml")
	before, _ := os.ReadFile(p)

	tests := []struct {
		name        string
		edit        func(tmp string) error
		wantChanged bool
		wantErr     string
		wantValue   string
	}{
		{
			name: "unchanged",
			edit: func(tmp string) error { return nil },
		},
		{
			name:    "editor fails",
			edit:    func(tmp string) error { return errors.New("editor exited with status 1") },
			wantErr: "editor exited with status 1",
		},
		{
			name:    "invalid result",
			edit:    func(tmp string) error { return os.WriteFile(tmp, []byte("a: [\n"), 0o600) },
			wantErr: "not a valid yaml file",
		},
		{
			name: "changed",
			edit: func(tmp string) error {
				b, _ := os.ReadFile(tmp)
				return os.WriteFile(tmp, []byte(strings.Replace(string(b), "hunter2-upcloud", "hunter3-upcloud", 1)), 0o600)
			},
			wantChanged: true,
			wantValue:   "hunter3-upcloud",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tmpPath string
			changed, err := Edit(p, func(tmp string) error {
				tmpPath = tmp
				fi, err := os.Stat(tmp)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("temp file mode %v, want 0600", fi.Mode().Perm())
				}
				return tt.edit(tmp)
			})
			if _, statErr := os.Stat(filepath.Dir(tmpPath)); !os.IsNotExist(statErr) {
				t.Errorf("temp dir %s left behind", filepath.Dir(tmpPath))
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				noSecrets(t, "error", err.Error())
			} else if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			after, _ := os.ReadFile(p)
			if !tt.wantChanged && string(after) != string(before) {
				t.Errorf("file rewritten although nothing changed")
			}
			if tt.wantValue != "" {
				got, err := NewResolver(dir).Lookup(Ref{File: "secrets/prod.sops.yaml", Path: "upcloud.password"})
				if err != nil || got != tt.wantValue {
					t.Errorf("after edit: %v, %v; want %q", got, err, tt.wantValue)
				}
			}
		})
	}
}

func TestResolveConcurrently(t *testing.T) {
	_, rec := keyEnv(t)
	dir := t.TempDir()
	fixtures(t, dir, rec)
	r := NewResolver(dir)
	in := map[string]any{"a": ref("secrets/prod.sops.yaml#upcloud.password"), "b": ref("secrets/api.json#token")}
	want := map[string]any{"a": "hunter2-upcloud", "b": "tok-0123456789"}
	errs := make(chan string, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _, diags := r.Resolve(in, "")
			if len(diags) > 0 || !cmp.Equal(want, got) {
				errs <- fmt.Sprintf("got %v, %v", got, diags)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
