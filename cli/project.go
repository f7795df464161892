package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/secrets"
	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/internal/workspace"
	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
)

// project is the working directory a command acts on: its state backend, and (opened lazily by the
// commands that need them) its document and plugins.
type project struct {
	f   *cmdutil.Factory
	dir string
	// ws is the current workspace, with its merged settings and state directory.
	ws      *workspace.Active
	backend state.Backend
	// stored is the backend without the secrets wrapper: the state as it is on disk, secrets as
	// references (for state pull and push).
	stored  state.Backend
	secrets *secrets.Resolver
	// codec encrypts state, journal and plan files at rest when state encryption is configured.
	codec state.Codec
}

// openProject opens the working directory's current workspace: its settings, and its state backend
// (encrypted at rest when state encryption is configured).
func openProject(f *cmdutil.Factory) (*project, error) {
	ws, diags := workspace.LoadActive(f.Dir, settings.Options{Env: f.Env})
	for _, d := range diags {
		fmt.Fprintln(f.IO.ErrOut, d.String())
	}
	if diags.HasErrors() {
		return nil, cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	codec, err := secrets.StateCodec(ws.Settings.StateEncryption())
	if err != nil {
		return nil, fmt.Errorf("state encryption: %w", err)
	}
	resolver := secrets.NewResolver(ws.Settings.Base())
	stored := local.New(ws.StateDir, local.Options{Codec: codec})
	return &project{f: f, dir: f.Dir, ws: ws, backend: secrets.NewBackend(stored, resolver), stored: stored,
		secrets: resolver, codec: codec}, nil
}

// lockFlags are the flags of every command that takes the state lock.
type lockFlags struct {
	lock    bool
	timeout time.Duration
}

func (l *lockFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&l.lock, "lock", true, "hold the state lock while the command runs")
	fs.DurationVar(&l.timeout, "lock-timeout", 0, "how long to wait for the state lock (e.g. 30s)")
}

// lock takes the state lock for operation and returns its release.
func (p *project) lock(ctx context.Context, l lockFlags, operation string) (func(), error) {
	if !l.lock {
		return func() {}, nil
	}
	if l.timeout == 0 {
		l.timeout = p.ws.Settings.LockTimeout()
	}
	host, _ := os.Hostname()
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	info := state.LockInfo{Operation: operation, Who: who + "@" + host, PID: os.Getpid(), Host: host,
		Version: p.f.Version, Created: time.Now().UTC()}
	id, err := p.backend.Lock(ctx, info, l.timeout)
	if err != nil {
		var le *state.LockError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%w\nWait for it to finish, retry with -lock-timeout, or if that process is gone run: prov force-unlock %s", err, le.Holder.ID)
		}
		return nil, fmt.Errorf("lock state: %w", err)
	}
	return func() {
		if err := p.backend.Unlock(id); err != nil {
			fmt.Fprintf(p.f.IO.ErrOut, "warning: release state lock: %v\n", err)
		}
	}, nil
}

// openState opens the project and reads its state, for the commands that only look at it.
func openState(cmd *cobra.Command, f *cmdutil.Factory) (*project, *state.State, error) {
	p, err := openProject(f)
	if err != nil {
		return nil, nil, err
	}
	s, err := p.readState(cmd.Context())
	return p, s, err
}

// readState reads the current state.
func (p *project) readState(ctx context.Context) (*state.State, error) {
	s, err := p.backend.Read(ctx)
	if err != nil {
		if errors.Is(err, state.ErrCorrupt) {
			return nil, fmt.Errorf("%w\nThe file was left untouched. Restore it from prov.state.json.backup, or fix it by hand.", err)
		}
		return nil, err
	}
	return s, nil
}

// checkNoJournal refuses to go on when an earlier apply was interrupted.
func (p *project) checkNoJournal(ctx context.Context) error {
	_, pending, err := p.backend.Records(ctx)
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	if pending {
		return errors.New("the last apply was interrupted and its journal (prov.state.journal) is still here.\n" +
			"Finish it with:  prov apply -resume\nor undo it with: prov rollback")
	}
	return nil
}
