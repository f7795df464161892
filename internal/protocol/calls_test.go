package protocol

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	protov1 "github.com/provhq/prov/internal/protocol/v1"
	"github.com/provhq/prov/plugins"
)

// echoProvider answers every call with its own input, after progress events, so crossed calls show.
func echoProvider() *fakeProvider {
	return &fakeProvider{
		PlanFunc: func(r plugins.PlanRequest) (*plugins.PlanResponse, error) {
			return &plugins.PlanResponse{Planned: r.Config}, nil
		},
		ApplyFunc: func(_ context.Context, r plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
			for i := range 3 {
				progress(plugins.Progress{Message: r.OperationID, Percent: i})
			}
			return &plugins.ApplyResponse{New: r.Config}, nil
		},
		ReadFunc: func(r plugins.ReadRequest) (*plugins.ReadResponse, error) {
			return &plugins.ReadResponse{New: r.Current}, nil
		},
	}
}

// TestCallsManyAtOnce makes many calls of each kind at once on the one stream: each gets its own answer
// and its own progress.
func TestCallsManyAtOnce(t *testing.T) {
	p := ServeTestProvider(t, echoProvider())
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			ctx, in := context.Background(), map[string]any{"i": float64(i)}
			op := fmt.Sprintf("op-%d", i)
			var progress []plugins.Progress
			ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: "t", OperationID: op, Config: in}, func(pr plugins.Progress) { progress = append(progress, pr) })
			if err != nil {
				t.Error(err)
				return
			}
			want := []plugins.Progress{{Message: op, Percent: 0}, {Message: op, Percent: 1}, {Message: op, Percent: 2}}
			if diff := cmp.Diff(want, progress); diff != "" {
				t.Errorf("%s progress (-want +got):\n%s", op, diff)
			}
			pr, err := p.Plan(ctx, plugins.PlanRequest{Type: "t", Config: in})
			if err != nil {
				t.Error(err)
				return
			}
			rr, err := p.Read(ctx, plugins.ReadRequest{Type: "t", Current: in})
			if err != nil {
				t.Error(err)
				return
			}
			for name, got := range map[string]any{"apply": ar.New, "plan": pr.Planned, "read": rr.New} {
				if diff := cmp.Diff(in, got); diff != "" {
					t.Errorf("%s %s (-want +got):\n%s", op, name, diff)
				}
			}
		})
	}
	wg.Wait()
}

// TestCallsCancel cancels one call: the caller returns at once, the plugin sees its context cancelled,
// and the calls beside it are untouched.
func TestCallsCancel(t *testing.T) {
	cancelled := make(chan string, 1)
	f := echoProvider()
	f.ApplyFunc = func(ctx context.Context, r plugins.ApplyRequest, _ func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		if r.OperationID != "slow" {
			return &plugins.ApplyResponse{New: r.Config}, nil
		}
		<-ctx.Done()
		cancelled <- r.OperationID
		return nil, ctx.Err()
	}
	p := ServeTestProvider(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Apply(ctx, plugins.ApplyRequest{Type: "t", OperationID: "slow"}, nil)
		done <- err
	}()
	if _, err := p.Apply(context.Background(), plugins.ApplyRequest{Type: "t", OperationID: "fast"}, nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if status.Code(errors.Unwrap(err)) != codes.Canceled {
			t.Errorf("cancelled Apply: err = %v, want a Canceled status", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled Apply did not return")
	}
	select {
	case op := <-cancelled:
		if op != "slow" {
			t.Errorf("plugin cancelled %q, want slow", op)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin's call was not cancelled")
	}
	if _, err := p.Plan(context.Background(), plugins.PlanRequest{Type: "t"}); err != nil {
		t.Errorf("a call after the cancelled one: %v", err)
	}
}

// TestCallsStreamBreaks stops the plugin's server with calls in flight: each fails as a transport
// error instead of waiting forever.
func TestCallsStreamBreaks(t *testing.T) {
	started := make(chan struct{}, 10)
	f := echoProvider()
	f.ApplyFunc = func(ctx context.Context, _ plugins.ApplyRequest, _ func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	p, server := pluginConn(t, f)
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			_, err := p.Apply(context.Background(), plugins.ApplyRequest{Type: "t"}, nil)
			errs <- err
		}()
	}
	for range 10 {
		<-started
	}
	server.Stop()
	for range 10 {
		select {
		case err := <-errs:
			if err == nil || !strings.HasPrefix(err.Error(), "protocol: Apply: ") {
				t.Errorf("Apply when the plugin went away: err = %v, want a transport error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("an Apply in flight when the plugin went away did not return")
		}
	}
}

// TestCallsRefusesBadRequest: a request the plugin cannot decode is an InvalidArgument error, as it is
// from the unary RPC, and the stream goes on serving.
func TestCallsRefusesBadRequest(t *testing.T) {
	p := ServeTestProvider(t, echoProvider()).(*providerClient)
	bad := &protov1.Call_Request{Call: &protov1.Call_Request_Plan{Plan: &protov1.Plan_Request{Type: "t", Config: &protov1.DynamicValue{Json: []byte("{")}}}}
	_, err := p.calls.roundTrip(context.Background(), bad, nil)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Plan: config") {
		t.Errorf("undecodable Plan: err = %v, want InvalidArgument naming Plan: config", err)
	}
	if _, err := p.Plan(context.Background(), plugins.PlanRequest{Type: "t"}); err != nil {
		t.Errorf("a call after the refused one: %v", err)
	}
}

// unaryOnly is a plugin built before the Calls stream: it serves the unary RPCs only.
type unaryOnly struct {
	*ProviderServer
	calls atomic.Int32
}

func (u *unaryOnly) Calls(grpc.BidiStreamingServer[protov1.Call_Request, protov1.Call_Event]) error {
	u.calls.Add(1)
	return status.Error(codes.Unimplemented, "method Calls not implemented")
}

// TestCallsFallBackToUnary: against a plugin without Calls, every call still works, through the unary
// RPCs, and the stream is tried only until the plugin says it does not serve it.
func TestCallsFallBackToUnary(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	legacy := &unaryOnly{ProviderServer: NewProviderServer(echoProvider())}
	protov1.RegisterProviderServer(server, legacy)
	go func() { _ = server.Serve(lis) }()
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	p := NewProviderClient(conn)
	ctx, in := context.Background(), map[string]any{"a": "b"}
	for range 3 {
		var progress int
		ar, err := p.Apply(ctx, plugins.ApplyRequest{Type: "t", OperationID: "op", Config: in}, func(plugins.Progress) { progress++ })
		if err != nil {
			t.Fatal(err)
		}
		pr, err := p.Plan(ctx, plugins.PlanRequest{Type: "t", Config: in})
		if err != nil {
			t.Fatal(err)
		}
		rr, err := p.Read(ctx, plugins.ReadRequest{Type: "t", Current: in})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{in, in, in}, []any{ar.New, pr.Planned, rr.New}); diff != "" {
			t.Errorf("answers (-want +got):\n%s", diff)
		}
		if progress != 3 {
			t.Errorf("Apply reported %d progress events, want 3", progress)
		}
	}
	if n := legacy.calls.Load(); n != 1 {
		t.Errorf("Calls was tried %d times, want once", n)
	}
}

// TestCallsCarryDeadline: the plugin's context has the caller's deadline, as gRPC sends it on a unary call.
func TestCallsCarryDeadline(t *testing.T) {
	f := echoProvider()
	left := make(chan time.Duration, 1)
	f.ApplyFunc = func(ctx context.Context, _ plugins.ApplyRequest, _ func(plugins.Progress)) (*plugins.ApplyResponse, error) {
		d, ok := ctx.Deadline()
		if !ok {
			left <- 0
		} else {
			left <- time.Until(d)
		}
		return &plugins.ApplyResponse{}, nil
	}
	p := ServeTestProvider(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.Apply(ctx, plugins.ApplyRequest{Type: "t"}, nil); err != nil {
		t.Fatal(err)
	}
	if d := <-left; d <= 50*time.Second || d > time.Minute {
		t.Errorf("the plugin's call had %v left, want about a minute", d)
	}
}
