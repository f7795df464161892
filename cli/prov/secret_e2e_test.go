package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/provhq/prov/internal/secrets"
)

// TestSecretNeverShown applies a configuration that takes a SOPS secret, through the built binary, and
// then looks for the secret's bytes in everything prov printed or wrote: stdout and stderr of every
// command, the trace-level log, the plan file, the state, its backup, and the journal of an apply killed
// mid-way. The local_data resource copies its input into a computed output, as many providers echo
// their inputs, so the state would hold the secret twice if nothing kept it out.
func TestSecretNeverShown(t *testing.T) {
	const secret = "s3cr3t-Hunter2-e2e-xyzzy"
	p := newProject(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	p.setenv("SOPS_AGE_KEY="+id.String(), "PROV_LOG=trace", "PROV_LOG_PATH="+p.path("prov.log"),
		"PROV_FAULT_INJECTION=1")
	enc, err := secrets.Encrypt([]byte("db:\n  password: "+secret+"\n"), p.path("secrets/prod.sops.yaml"),
		secrets.EncryptOptions{AgeRecipients: []string{id.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	p.write("secrets/prod.sops.yaml", string(enc))
	ref := map[string]any{"$secret": "secrets/prod.sops.yaml#db.password"}
	config := func(rev int, latency time.Duration) {
		resources := map[string]any{"data.db": data(map[string]any{"user": "app", "password": ref, "rev": rev})}
		for i := range 8 {
			resources["data.filler"+string(rune('a'+i))] = data(map[string]any{"rev": rev})
		}
		p.writeJSON("main.json", doc(resources, faultInjection(latency), map[string]any{"outputs": map[string]any{
			"password": map[string]any{"value": "${data.db.output.password}", "sensitive": true},
			"user":     map[string]any{"value": "${data.db.output.user}"},
		}}))
	}

	var seen []string
	run := func(want int, args ...string) result {
		r := p.expect(want, args...)
		seen = append(seen, r.stdout, r.stderr)
		return r
	}
	config(1, 0)
	run(0, "init")
	run(0, "validate")
	run(2, "plan", "-out=plan.prov", "-detailed-exitcode")
	run(0, "show", "plan.prov")
	run(0, "show", "-json", "plan.prov")
	run(0, "show", "-format=markdown", "plan.prov")
	run(0, "plan", "-json")
	run(0, "apply", "plan.prov")
	run(0, "output")
	run(0, "output", "-json")
	run(0, "show")
	run(0, "show", "-json")
	run(0, "state", "show", "data.db")
	run(0, "state", "pull")
	if r := p.expect(0, "output", "-raw", "password"); r.stdout != secret {
		t.Fatalf("output -raw password = %q; the secret should be readable on purpose, and only so", r.stdout)
	}

	// An apply killed mid-way leaves its journal: it must not hold the secret either.
	config(2, 1500*time.Millisecond)
	cmd := p.command(t.Context(), "apply", "-auto-approve", "-parallelism=2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(readOr(p.path("prov.state.journal")), `"commit"`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	journal := readOr(p.path("prov.state.journal"))
	if !strings.Contains(journal, `"intent"`) {
		t.Fatalf("the killed apply left no journal to inspect:\n%s", journal)
	}
	files := []string{p.read("plan.prov"), p.read("prov.state.json"), journal}
	run(0, "apply", "-resume")
	files = append(files, p.read("prov.state.json"), p.read("prov.state.json.backup"), p.read("prov.log"))

	for i, text := range append(seen, files...) {
		if strings.Contains(text, secret) {
			t.Errorf("text %d shows the secret:\n%s", i, text)
		}
	}
	if !strings.Contains(p.read("prov.state.json"), `"$secret"`) {
		t.Errorf("the state keeps no reference to the secret; the test may prove nothing")
	}
}

// readOr is the file's content, or "" when it cannot be read.
func readOr(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
