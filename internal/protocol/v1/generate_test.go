package protov1

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// protocVersion matches the header line naming the protoc release, which may differ between machines
// without changing the code.
var protocVersion = regexp.MustCompile(`(?m)^//\s+(-\s+)?protoc\s+.*$`)

func TestGeneratedCodeUpToDate(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("protoc not installed (CI installs it and runs this test)")
		}
		t.Fatal("protoc not installed but CI is set: install protobuf-compiler")
	}
	out := t.TempDir()
	cmd := exec.Command("./generate.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, b)
	}
	for _, name := range []string{"prov.pb.go", "prov_grpc.pb.go"} {
		t.Run(name, func(t *testing.T) {
			want := readGenerated(t, filepath.Join(out, name))
			got := readGenerated(t, name)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s is out of date with prov.proto; run `make generate` (-fresh +committed):\n%s", name, diff)
			}
		})
	}
}

func readGenerated(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(protocVersion.ReplaceAll(b, []byte("// protoc")))
}
