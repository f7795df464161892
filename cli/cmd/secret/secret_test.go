package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/secrets"
)

const password = "correct-horse-battery-staple"

func run(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Dir: dir}
	cmd := NewCmdSecret(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	if err != nil && err.Error() != "" {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), strings.ReplaceAll(errOut.String(), dir, "$DIR"), cmdutil.ExitCode(err)
}

// isolate keeps the user's SOPS keys and prov settings out of the test; SOPS then finds only the key
// the test writes to SOPS's default key file under the new XDG_CONFIG_HOME.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	for _, k := range []string{"SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "SOPS_AGE_RECIPIENTS", "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "PROV_WORKSPACE", "PROVISIONING_ENV", "VISUAL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return home
}

func TestSecretRoundTrip(t *testing.T) {
	home := isolate(t)
	dir := t.TempDir()

	// keygen writes SOPS's default key file, 0600, and prints the recipient.
	rec, errOut, code := run(t, dir, "keygen")
	if code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	rec = strings.TrimSpace(rec)
	keyFile := filepath.Join(home, ".config/sops/age/keys.txt")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if !strings.HasPrefix(rec, "age1") {
		t.Fatalf("keygen printed %q", rec)
	}
	if _, errOut, code := run(t, dir, "keygen"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("second keygen: exit %d, %s", code, errOut)
	}

	plain := "upcloud:\n    username: admin\n    password: " + password + "\n"
	os.WriteFile(filepath.Join(dir, "prod.sops.yaml"), []byte(plain), 0o600)

	// No recipients anywhere.
	if _, errOut, code := run(t, dir, "encrypt", "prod.sops.yaml"); code != 1 || !strings.Contains(errOut, "no recipients") {
		t.Errorf("encrypt without recipients: exit %d, %s", code, errOut)
	}
	// secrets.age_recipients in prov.toml supplies them.
	os.WriteFile(filepath.Join(dir, "prov.toml"), []byte("[secrets]\nage_recipients = [\""+rec+"\"]\n"), 0o644)
	if out, errOut, code := run(t, dir, "encrypt", "-i", "prod.sops.yaml"); code != 0 || out != "" {
		t.Fatalf("encrypt -i: exit %d, out %q, err %s", code, out, errOut)
	}
	enc, _ := os.ReadFile(filepath.Join(dir, "prod.sops.yaml"))
	if strings.Contains(string(enc), password) || !strings.Contains(string(enc), rec) {
		t.Fatalf("encrypted file holds the password or lacks the recipient:\n%s", enc)
	}

	out, errOut, code := run(t, dir, "decrypt", "prod.sops.yaml")
	if code != 0 {
		t.Fatalf("decrypt: %s", errOut)
	}
	if diff := cmp.Diff(plain, out); diff != "" {
		t.Errorf("decrypt (-want +got):\n%s", diff)
	}
	if _, errOut, code := run(t, dir, "decrypt", "prod.sops.yaml", "-o", "plain.yaml"); code != 0 {
		t.Fatalf("decrypt -o: %s", errOut)
	}
	if fi, err := os.Stat(filepath.Join(dir, "plain.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("decrypt -o: %v %v, want mode 0600", fi, err)
	}

	// -age wins over settings: a recipient we have no key for makes the file unreadable to us, and the
	// error says which file without showing its content.
	other := filepath.Join(t.TempDir(), "other.txt")
	otherRec, _ := secrets.WriteIdentity(other)
	os.WriteFile(filepath.Join(dir, "other.env"), []byte("PASSWORD="+password+"\n"), 0o600)
	if _, errOut, code := run(t, dir, "encrypt", "--age", otherRec, "other.env", "-o", "other.sops.env"); code != 0 {
		t.Fatalf("encrypt --age: %s", errOut)
	}
	out, errOut, code = run(t, dir, "decrypt", "other.sops.env")
	if code != 1 || out != "" || !strings.Contains(errOut, "decrypt $DIR/other.sops.env") || strings.Contains(errOut, password) {
		t.Errorf("decrypt with the wrong key: exit %d, out %q, err %s", code, out, errOut)
	}
}

func TestSecretEdit(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	if _, errOut, code := run(t, dir, "keygen", "-o", "key.txt"); code != 0 {
		t.Fatal(errOut)
	}
	t.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(dir, "key.txt"))
	rec, err := os.ReadFile(filepath.Join(dir, "key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	recipient := strings.TrimSpace(strings.TrimPrefix(strings.Split(string(rec), "\n")[1], "# public key:"))
	os.WriteFile(filepath.Join(dir, "s.json"), []byte(`{"password": "`+password+`"}`), 0o600)
	if _, errOut, code := run(t, dir, "encrypt", "-i", "--age", recipient, "s.json"); code != 0 {
		t.Fatal(errOut)
	}

	// Editors are shell scripts that record the file they were given (their last argument).
	seen := filepath.Join(dir, "seen")
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("#!/bin/sh\nfor a; do last=$a; done\necho \"$last\" > "+seen+"\n"+body+"\n"), 0o755)
		return p
	}
	tests := []struct {
		name     string
		editor   string
		wantErr  string
		wantCode int
		want     string
	}{
		{name: "unchanged", editor: script("noop", "true"), wantErr: "s.json unchanged.\n", want: password},
		{name: "editor fails", editor: script("fail", "exit 3"), wantErr: "error: edit $DIR/s.json: editor " + filepath.Join("$DIR", "fail") + ": exit status 3\n", wantCode: 1, want: password},
		{name: "changed", editor: script("change", `sed -i 's/`+password+`/new-pass/' "$1"`), wantErr: "s.json re-encrypted.\n", want: "new-pass"},
		{name: "editor with arguments", editor: script("args", `[ "$1" = --wait ] && sed -i 's/new-pass/newer-pass/' "$2"`) + " --wait", wantErr: "s.json re-encrypted.\n", want: "newer-pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("EDITOR", tt.editor)
			os.Remove(seen)
			_, errOut, code := run(t, dir, "edit", "s.json")
			if diff := cmp.Diff(tt.wantErr, errOut); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			tmp, err := os.ReadFile(seen)
			if err != nil {
				t.Fatalf("editor did not run: %v", err)
			}
			if _, err := os.Stat(strings.TrimSpace(string(tmp))); !os.IsNotExist(err) {
				t.Errorf("temporary file %s left behind", tmp)
			}
			out, _, _ := run(t, dir, "decrypt", "s.json")
			if !strings.Contains(out, tt.want) {
				t.Errorf("after edit the file holds %q, want %q", out, tt.want)
			}
		})
	}
}
