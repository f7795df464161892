package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/provhq/prov/plugins"
)

// LocalExec is the execution channel to this machine: commands run with /bin/sh -c, files are read and
// written directly. Relative paths and commands without a Dir are taken relative to Dir.
type LocalExec struct {
	// Dir is the working directory for commands and relative paths; empty means the process's own.
	Dir string
	// Env is added to every command's environment, after prov's own and before the command's Env.
	Env map[string]string
}

var _ plugins.Exec = (*LocalExec)(nil)

func (l *LocalExec) path(p string) string {
	if filepath.IsAbs(p) || l.Dir == "" {
		return p
	}
	return filepath.Join(l.Dir, p)
}

// Run runs cmd.Command with /bin/sh -c. A non-zero exit is a result, not an error; an error means the
// command could not be started or the context ended it.
func (l *LocalExec) Run(ctx context.Context, cmd plugins.ExecCommand) (*plugins.ExecResult, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd.Command)
	c.Dir = l.Dir
	if cmd.Dir != "" {
		c.Dir = l.path(cmd.Dir)
	}
	c.Env = os.Environ()
	for k, v := range l.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	for k, v := range cmd.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	c.Stdin = bytes.NewReader(cmd.Stdin)
	// The command gets its own process group so that cancelling ends everything it started, not just
	// the shell; WaitDelay bounds the wait for pipes a stray grandchild still holds.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && ctx.Err() == nil) {
		return nil, fmt.Errorf("local exec: run %q: %w", cmd.Command, err)
	}
	return &plugins.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: c.ProcessState.ExitCode()}, nil
}

// PutFile writes data to path atomically with the given mode, creating parent directories.
func (l *LocalExec) PutFile(_ context.Context, path string, data []byte, mode uint32) error {
	p := l.path(path)
	if mode == 0 {
		mode = 0o644
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("local exec: put file %s: %w", path, err)
	}
	if err := writeFileAtomic(p, data, os.FileMode(mode)&os.ModePerm); err != nil {
		return fmt.Errorf("local exec: put file %s: %w", path, err)
	}
	return nil
}

// GetFile reads the file at path.
func (l *LocalExec) GetFile(_ context.Context, path string) ([]byte, error) {
	data, err := os.ReadFile(l.path(path))
	if err != nil {
		return nil, fmt.Errorf("local exec: get file: %w", err)
	}
	return data, nil
}
