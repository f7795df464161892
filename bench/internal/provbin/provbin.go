// Package provbin finds the prov binary a benchmark runs: the one its -prov flag names, or bin/prov
// at the module root, built with go build when it is missing.
package provbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Resolve returns the absolute path of name, or of bin/prov of the module when name is empty.
func Resolve(name string) (string, error) {
	if name != "" {
		return filepath.Abs(name)
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the prov module: name the binary with -prov")
	}
	root := filepath.Dir(gomod)
	bin := filepath.Join(root, "bin", "prov")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintln(os.Stderr, "building", bin, "…")
	cmd := exec.Command("go", "build", "-o", bin, "./cli/prov")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build prov: %w", err)
	}
	return bin, nil
}
