package sshexec_test

import (
	"context"
	"testing"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskserv/sshexec"
)

// BenchmarkRun is one command on the pooled connection; BenchmarkConnectAndRun connects for each one,
// which is what the pool saves every command after a server's first.
func BenchmarkRun(b *testing.B) {
	w := newWorld(b)
	p := sshexec.NewPool(w.options())
	defer p.Close()
	x := p.Exec(w.target())
	ctx := context.Background()
	for b.Loop() {
		if _, err := x.Run(ctx, plugins.ExecCommand{Command: "true"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConnectAndRun(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	for b.Loop() {
		p := sshexec.NewPool(w.options())
		if _, err := p.Exec(w.target()).Run(ctx, plugins.ExecCommand{Command: "true"}); err != nil {
			b.Fatal(err)
		}
		_ = p.Close()
	}
}
