package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one prov process started by the harness, in a process group of its own so that whatever it
// leaves running (its plugin processes) can be killed when the trial ends.
type proc struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
	err  error
}

// start runs prov with args in dir. The process is killed (with its group) when ctx ends.
func (h *harness) start(ctx context.Context, dir string, env []string, args ...string) (*proc, error) {
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(h.cfg.Prov, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(append(os.Environ(), h.cfg.Env...), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start prov %s: %w", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			p.killGroup()
		case <-p.done:
		}
	}()
	return p, nil
}

// wait waits for the process to end, at most d; past it the group is killed and wait reports a timeout.
func (p *proc) wait(d time.Duration) (code int, err error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.killGroup()
		<-p.done
		return -1, fmt.Errorf("prov %s did not end within %s:\n%s", strings.Join(p.cmd.Args[1:], " "), d, tail(p.out.String(), 1500))
	}
	return exitCode(p.err), nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) signal(sig syscall.Signal) error { return syscall.Kill(p.pid(), sig) }

// killGroup kills prov and everything in its process group (the plugins it started).
func (p *proc) killGroup() { _ = syscall.Kill(-p.pid(), syscall.SIGKILL) }

// output is what the process printed (stdout and stderr interleaved); call it once the process ended.
func (p *proc) output() string { return p.out.String() }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// run runs prov to the end, at most timeout, and returns its exit code and output.
func (h *harness) run(ctx context.Context, dir string, env []string, timeout time.Duration, args ...string) (int, string, error) {
	p, err := h.start(ctx, dir, env, args...)
	if err != nil {
		return -1, "", err
	}
	code, err := p.wait(timeout)
	return code, p.output(), err
}

// children lists the live child processes of pid, from /proc/PID/task/*/children.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// alive reports whether pid still runs (a zombie counts as ended).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state letter follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// waitGone waits until none of pids runs, at most d, and returns those still running.
func waitGone(pids []int, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		var left []int
		for _, pid := range pids {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
