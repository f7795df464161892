package host

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestLockFileFormat pins the on-disk form of prov.lock.json.
func TestLockFileFormat(t *testing.T) {
	dir := t.TempDir()
	lock := &Lock{Version: LockVersion, Plugins: map[string]*Locked{
		"provider/acme":  {Kind: Provider, Name: "acme", Source: "example.com/acme/acme", Version: "1.2.0", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		"provider/local": {Kind: Provider, Name: "local", Source: "builtin/local", ProvVersion: "0.3.0"},
		"taskserv/redis": {Kind: Taskserv, Name: "redis", Source: "example.com/acme/redis", SHA256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"},
	}}
	if err := lock.Write(dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "prov.lock.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("prov.lock.json (-want +got):\n%s", diff)
	}
	back, err := ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lock, back); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}

func TestReadLockErrors(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"not json", "{", "host: read lock "},
		{"future version", `{"version": 2, "plugins": {}}`, "format version 2, this prov reads version 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, LockFile), []byte(tt.content), 0o644)
			_, err := ReadLock(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
