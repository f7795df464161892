// Package local is prov's first-party "local" provider, built with the sdk package: real resources on
// the machine prov runs on. local_file and local_directory manage files and directories, local_command
// runs commands on create, update and destroy, local_data stores a value like Terraform's
// terraform_data (it is the cheap resource of the large-plan benchmarks), and local_server stands for
// this machine, or a sandbox directory on it, as a target for taskservs.
//
// Relative paths resolve against the working directory prov runs in: the plugin process inherits it.
//
// For tests, chaos runs and benchmarks the provider can inject latency and failures, configured in a
// fault_injection block that is refused unless PROV_FAULT_INJECTION=1 is set, so no user trips over it.
// When PROV_LOCAL_CREATION_LOG names a file, every successful create of a local_file appends one line
// "PATH<TAB>OPERATION-ID" to it, which crash-safety tests count to prove nothing was created twice.
// local_file and local_command record each finished create by operation id, so a create left in doubt
// by a crash is found by that id (Read with only the operation id) instead of being done again.
package local

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/provhq/prov/sdk"
)

// Version is the local provider's version.
const Version = "0.1.0"

// Environment variables the provider reads.
const (
	// EnvFaultInjection must be "1" for a fault_injection block to be accepted.
	EnvFaultInjection = "PROV_FAULT_INJECTION"
	// EnvCreationLog names the file that local_file creations are appended to.
	EnvCreationLog = "PROV_LOCAL_CREATION_LOG"
)

const description = `Real resources on the machine prov runs on: files, directories, commands, stored values,
and this machine (or a sandbox directory on it) as a target for taskservs. The provider is built into prov:
resources name it as ` + "`\"provider\": \"local\"`" + `, with no providers entry needed.

Relative paths resolve against the working directory prov runs in.

For tests, chaos runs and benchmarks, a ` + "`fault_injection`" + ` block adds latency and failures. It is
refused unless the environment variable ` + "`PROV_FAULT_INJECTION=1`" + ` is set, so nobody trips over it.
When ` + "`PROV_LOCAL_CREATION_LOG`" + ` names a file, every successful create of a local_file appends one line
"PATH<TAB>OPERATION-ID" to it; crash-safety tests count these lines to prove nothing was created twice.
local_file and local_command record every finished create by operation id under operations_dir, so a
create left in doubt by a crash is found by that id instead of being done again.`

// New returns the local provider's declaration; sdk.ServeProvider or sdk.NewProviderServer runs it.
func New() *sdk.Provider {
	p := &sdk.Provider{
		Name:        "local",
		Version:     Version,
		Description: description,
		Config: map[string]*sdk.Attribute{
			"operations_dir": {Type: sdk.String, Optional: true,
				Description: "Where local_file and local_command record finished creates by operation id, so a create " +
					"in doubt after a crash is found, not done twice. Default: prov/local/operations under the user cache directory."},
			"fault_injection": {Type: sdk.Object(map[string]*sdk.Attribute{
				"latency_ms":      {Type: sdk.Number, Optional: true, Validators: []sdk.Validator{sdk.Between(0, 3_600_000)}, Description: "Delay added to every create, update and delete."},
				"plan_latency_ms": {Type: sdk.Number, Optional: true, Validators: []sdk.Validator{sdk.Between(0, 3_600_000)}, Description: "Delay added to every plan."},
				"fail_rate":       {Type: sdk.Number, Optional: true, Validators: []sdk.Validator{sdk.Between(0, 1)}, Description: "Fraction of operations that fail."},
				"fail_matching": {Type: sdk.ListOf(sdk.String), Optional: true,
					Description: "An operation fails when its operation id, or one of the resource's string attributes (path, input, id, …), contains one of these strings."},
				"fail_after": {Type: sdk.Bool, Optional: true,
					Description: "Fail after doing the work instead of before, as when a connection drops after the change was made."},
				"seed": {Type: sdk.Number, Optional: true, Description: "Seed of the random failures, for repeatable runs."},
			}), Optional: true, Validators: []sdk.Validator{faultInjectionAllowed},
				Description: "Latency and failure injection for tests and benchmarks; needs PROV_FAULT_INJECTION=1."},
		},
		Configure: configure,
		Resources: map[string]*sdk.Resource{
			"local_file":      fileResource(),
			"local_directory": directoryResource(),
			"local_command":   commandResource(),
			"local_data":      dataResource(),
			"local_server":    serverResource(),
		},
	}
	for _, r := range p.Resources {
		r.Create, r.Update, r.Delete = withFaults(r.Create), withFaults(r.Update), withFaults(r.Delete)
		r.Plan = withPlanLatency(r.Plan)
	}
	return p
}

func faultInjectionAllowed(any) error {
	if os.Getenv(EnvFaultInjection) != "1" {
		return fmt.Errorf("fault injection is for tests and benchmarks; set %s=1 to allow it", EnvFaultInjection)
	}
	return nil
}

// client is what Configure returns: the provider's settings for every resource function.
type client struct {
	opsDir      string
	creationLog string
	faults      *faults // nil when not injecting
}

// defaultClient serves functions called before Configure (never by prov, which configures first).
var defaultClient = &client{}

func clientOf(op *sdk.Op) *client {
	if c, ok := op.Client.(*client); ok {
		return c
	}
	return defaultClient
}

func configure(_ context.Context, cfg *sdk.Data) (any, error) {
	c := &client{opsDir: cfg.String("operations_dir"), creationLog: os.Getenv(EnvCreationLog)}
	if c.opsDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			c.opsDir = filepath.Join(dir, "prov", "local", "operations")
		} else {
			c.opsDir = filepath.Join(os.TempDir(), "prov-local-operations")
		}
	}
	if fi := cfg.Map("fault_injection"); fi != nil {
		f := &faults{
			latency:     time.Duration(cfg.Float("fault_injection.latency_ms") * float64(time.Millisecond)),
			planLatency: time.Duration(cfg.Float("fault_injection.plan_latency_ms") * float64(time.Millisecond)),
			rate:        cfg.Float("fault_injection.fail_rate"),
			after:       cfg.Bool("fault_injection.fail_after"),
		}
		for _, m := range cfg.List("fault_injection.fail_matching") {
			f.matching = append(f.matching, m.(string))
		}
		seed := uint64(cfg.Int("fault_injection.seed"))
		if _, ok := fi["seed"]; !ok {
			seed = uint64(time.Now().UnixNano())
		}
		f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		c.faults = f
	}
	return c, nil
}

// faults is the configured fault injection.
type faults struct {
	latency, planLatency time.Duration
	rate                 float64
	matching             []string
	after                bool

	mu  sync.Mutex
	rng *rand.Rand
}

// ErrInjected is the error of an injected failure.
var ErrInjected = errors.New("injected failure (fault_injection)")

func (f *faults) fail(op *sdk.Op, d *sdk.Data) bool {
	for _, m := range f.matching {
		if strings.Contains(op.ID, m) {
			return true
		}
		for _, v := range d.Raw() {
			if s, ok := v.(string); ok && strings.Contains(s, m) {
				return true
			}
		}
	}
	if f.rate <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.rate
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// withFaults wraps a create, update or delete function with the configured latency and failures.
func withFaults(fn sdk.Func) sdk.Func {
	if fn == nil {
		return nil
	}
	return func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
		f := clientOf(op).faults
		if f == nil {
			return fn(ctx, op, d)
		}
		if err := sleep(ctx, f.latency); err != nil {
			return err
		}
		fail := f.fail(op, d)
		if fail && !f.after {
			return ErrInjected
		}
		if err := fn(ctx, op, d); err != nil {
			return err
		}
		if fail {
			return ErrInjected
		}
		return nil
	}
}

// withPlanLatency wraps a plan hook (nil for none) with the configured plan latency.
func withPlanLatency(fn sdk.Func) sdk.Func {
	return func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
		if f := clientOf(op).faults; f != nil {
			if err := sleep(ctx, f.planLatency); err != nil {
				return err
			}
		}
		if fn == nil {
			return nil
		}
		return fn(ctx, op, d)
	}
}
