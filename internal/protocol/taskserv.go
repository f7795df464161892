package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	protov1 "github.com/provhq/prov/internal/protocol/v1"
	"github.com/provhq/prov/plugins"
)

// taskservClient is a plugins.Taskserv that calls a plugin over gRPC and serves each call's Exec back to
// it through the broker.
type taskservClient struct {
	client protov1.TaskservClient
	broker *plugin.GRPCBroker
}

var _ plugins.Taskserv = (*taskservClient)(nil)

// NewTaskservClient returns a plugins.Taskserv that calls the Taskserv service on conn and serves the
// Exec passed to each call on broker. Its Close does not close conn.
func NewTaskservClient(conn grpc.ClientConnInterface, broker *plugin.GRPCBroker) plugins.Taskserv {
	return &taskservClient{client: protov1.NewTaskservClient(conn), broker: broker}
}

func (c *taskservClient) Describe(ctx context.Context) (*plugins.TaskservDescription, error) {
	resp, err := c.client.Describe(ctx, &protov1.Describe_Request{})
	if err != nil {
		return nil, transportError("Describe", err)
	}
	d, err := decodeDescription(resp.Description)
	if err != nil {
		return nil, transportError("Describe: decode description", err)
	}
	return d, nil
}

func encodeTaskservRequest(req plugins.TaskservRequest) (*protov1.TaskservRequest, error) {
	out := &protov1.TaskservRequest{OperationId: req.OperationID, Version: req.Version}
	var err error
	if out.Config, err = encodeValue(req.Config); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if out.Server, err = encodeValue(req.Server); err != nil {
		return nil, fmt.Errorf("encode server: %w", err)
	}
	if out.Prior, err = encodeValue(req.Prior); err != nil {
		return nil, fmt.Errorf("encode prior: %w", err)
	}
	return out, nil
}

// withExec serves exec on a fresh broker id for as long as call runs. The plugin dials the id only if
// it uses the channel; the server is stopped when call returns.
func (c *taskservClient) withExec(exec plugins.Exec, call func(id uint32) error) error {
	if exec == nil || c.broker == nil {
		return call(0)
	}
	id := c.broker.NextId()
	servers := make(chan *grpc.Server, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(opts...)
			protov1.RegisterExecServer(s, &execServer{impl: exec})
			servers <- s
			return s
		})
	}()
	err := call(id)
	select {
	case s := <-servers:
		s.Stop()
		<-done
	case <-done: // the broker could not listen; call has already failed to dial
	}
	return err
}

func (c *taskservClient) Plan(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservPlan, error) {
	preq, err := encodeTaskservRequest(req)
	if err != nil {
		return nil, transportError("Plan", err)
	}
	var resp *protov1.TaskservPlan
	err = c.withExec(exec, func(id uint32) (err error) {
		preq.ExecBrokerId = id
		resp, err = c.client.Plan(ctx, preq)
		return err
	})
	if err != nil {
		return nil, transportError("Plan", err)
	}
	out := &plugins.TaskservPlan{Changed: resp.Changed, Steps: resp.Steps, Diagnostics: decodeDiags(resp.Diagnostics)}
	if out.Planned, err = decodeValue(resp.Planned); err != nil {
		return nil, transportError("Plan: decode planned", err)
	}
	return out, nil
}

func (c *taskservClient) Install(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec, progress func(plugins.Progress)) (*plugins.TaskservResult, error) {
	preq, err := encodeTaskservRequest(req)
	if err != nil {
		return nil, transportError("Install", err)
	}
	var result *protov1.TaskservResult
	err = c.withExec(exec, func(id uint32) error {
		preq.ExecBrokerId = id
		stream, err := c.client.Install(ctx, preq)
		if err != nil {
			return err
		}
		for {
			ev, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			switch e := ev.Event.(type) {
			case *protov1.Install_Event_Progress:
				if progress != nil {
					progress(plugins.Progress{Message: e.Progress.GetMessage(), Percent: int(e.Progress.GetPercent())})
				}
			case *protov1.Install_Event_Result:
				result = e.Result
			}
		}
	})
	if err != nil {
		return nil, transportError("Install", err)
	}
	if result == nil {
		return nil, transportError("Install", errors.New("plugin ended the stream without a result"))
	}
	return decodeResult("Install", result)
}

func decodeResult(op string, r *protov1.TaskservResult) (*plugins.TaskservResult, error) {
	out := &plugins.TaskservResult{Healthy: r.Healthy, Output: r.Output, Diagnostics: decodeDiags(r.Diagnostics)}
	var err error
	if out.State, err = decodeValue(r.State); err != nil {
		return nil, transportError(op+": decode state", err)
	}
	return out, nil
}

func (c *taskservClient) unary(ctx context.Context, op string, req plugins.TaskservRequest, exec plugins.Exec,
	call func(context.Context, *protov1.TaskservRequest, ...grpc.CallOption) (*protov1.TaskservResult, error)) (*plugins.TaskservResult, error) {
	preq, err := encodeTaskservRequest(req)
	if err != nil {
		return nil, transportError(op, err)
	}
	var resp *protov1.TaskservResult
	err = c.withExec(exec, func(id uint32) (err error) {
		preq.ExecBrokerId = id
		resp, err = call(ctx, preq)
		return err
	})
	if err != nil {
		return nil, transportError(op, err)
	}
	return decodeResult(op, resp)
}

func (c *taskservClient) Check(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	return c.unary(ctx, "Check", req, exec, c.client.Check)
}

func (c *taskservClient) Remove(ctx context.Context, req plugins.TaskservRequest, exec plugins.Exec) (*plugins.TaskservResult, error) {
	return c.unary(ctx, "Remove", req, exec, c.client.Remove)
}

// Close does nothing: the connection belongs to whoever made it.
func (c *taskservClient) Close() error { return nil }

// TaskservServer serves a plugins.Taskserv as the protocol v1 Taskserv service. Each call hands the
// implementation an Exec that reaches the host's execution channel through the broker.
type TaskservServer struct {
	protov1.UnimplementedTaskservServer
	impl   plugins.Taskserv
	broker *plugin.GRPCBroker
}

var _ protov1.TaskservServer = (*TaskservServer)(nil)

// NewTaskservServer returns a TaskservServer for t that dials each call's Exec on broker.
func NewTaskservServer(t plugins.Taskserv, broker *plugin.GRPCBroker) *TaskservServer {
	return &TaskservServer{impl: t, broker: broker}
}

// Describe implements protov1.TaskservServer.
func (s *TaskservServer) Describe(ctx context.Context, _ *protov1.Describe_Request) (*protov1.Describe_Response, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "Describe: %v", err)
	}
	pd, err := encodeDescription(d)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "Describe: %v", err)
	}
	return &protov1.Describe_Response{Description: pd}, nil
}

func (s *TaskservServer) decode(op string, req *protov1.TaskservRequest) (plugins.TaskservRequest, *brokerExec, error) {
	out := plugins.TaskservRequest{OperationID: req.OperationId, Version: req.Version}
	var err error
	if out.Config, err = decodeValue(req.Config); err != nil {
		return out, nil, badRequest(op+": config", err)
	}
	if out.Server, err = decodeValue(req.Server); err != nil {
		return out, nil, badRequest(op+": server", err)
	}
	if out.Prior, err = decodeValue(req.Prior); err != nil {
		return out, nil, badRequest(op+": prior", err)
	}
	return out, &brokerExec{broker: s.broker, id: req.ExecBrokerId}, nil
}

// Plan implements protov1.TaskservServer.
func (s *TaskservServer) Plan(ctx context.Context, req *protov1.TaskservRequest) (resp *protov1.TaskservPlan, err error) {
	treq, exec, err := s.decode("Plan", req)
	if err != nil {
		return nil, err
	}
	defer exec.close()
	resp = &protov1.TaskservPlan{}
	defer recoverDiags("Plan", &resp.Diagnostics)
	p, err := s.impl.Plan(ctx, treq, exec)
	if err != nil {
		resp.Diagnostics = encodeDiags(implDiags("Plan", err))
		return resp, nil
	}
	ds := p.Diagnostics
	if resp.Planned, err = encodeValue(p.Planned); err != nil {
		ds = append(ds, implDiags("Plan", fmt.Errorf("encode planned: %w", err))...)
	}
	resp.Changed, resp.Steps, resp.Diagnostics = p.Changed, p.Steps, encodeDiags(ds)
	return resp, nil
}

// Install implements protov1.TaskservServer.
func (s *TaskservServer) Install(req *protov1.TaskservRequest, stream grpc.ServerStreamingServer[protov1.Install_Event]) error {
	treq, exec, err := s.decode("Install", req)
	if err != nil {
		return err
	}
	defer exec.close()
	var mu sync.Mutex
	progress := func(p plugins.Progress) {
		mu.Lock()
		defer mu.Unlock()
		_ = stream.Send(&protov1.Install_Event{Event: &protov1.Install_Event_Progress{
			Progress: &protov1.Progress{Message: p.Message, Percent: int32(p.Percent)},
		}})
	}
	result := s.result("Install", func() (*plugins.TaskservResult, error) {
		return s.impl.Install(stream.Context(), treq, exec, progress)
	})
	mu.Lock()
	defer mu.Unlock()
	return stream.Send(&protov1.Install_Event{Event: &protov1.Install_Event_Result{Result: result}})
}

// Check implements protov1.TaskservServer.
func (s *TaskservServer) Check(ctx context.Context, req *protov1.TaskservRequest) (*protov1.TaskservResult, error) {
	treq, exec, err := s.decode("Check", req)
	if err != nil {
		return nil, err
	}
	defer exec.close()
	return s.result("Check", func() (*plugins.TaskservResult, error) { return s.impl.Check(ctx, treq, exec) }), nil
}

// Remove implements protov1.TaskservServer.
func (s *TaskservServer) Remove(ctx context.Context, req *protov1.TaskservRequest) (*protov1.TaskservResult, error) {
	treq, exec, err := s.decode("Remove", req)
	if err != nil {
		return nil, err
	}
	defer exec.close()
	return s.result("Remove", func() (*plugins.TaskservResult, error) { return s.impl.Remove(ctx, treq, exec) }), nil
}

func (s *TaskservServer) result(op string, call func() (*plugins.TaskservResult, error)) (out *protov1.TaskservResult) {
	out = &protov1.TaskservResult{}
	defer recoverDiags(op, &out.Diagnostics)
	r, err := call()
	if err != nil {
		out.Diagnostics = encodeDiags(implDiags(op, err))
		return out
	}
	ds := r.Diagnostics
	if out.State, err = encodeValue(r.State); err != nil {
		ds = append(ds, implDiags(op, fmt.Errorf("encode state: %w", err))...)
	}
	out.Healthy, out.Output, out.Diagnostics = r.Healthy, r.Output, encodeDiags(ds)
	return out
}

// execServer serves a host-side plugins.Exec to the plugin.
type execServer struct {
	protov1.UnimplementedExecServer
	impl plugins.Exec
}

func (s *execServer) Run(ctx context.Context, req *protov1.Run_Request) (*protov1.Run_Response, error) {
	r, err := s.impl.Run(ctx, plugins.ExecCommand{Command: req.Command, Stdin: req.Stdin, Env: req.Env, Dir: req.Dir})
	if err != nil {
		return nil, status.Error(codes.Unknown, err.Error())
	}
	return &protov1.Run_Response{Stdout: r.Stdout, Stderr: r.Stderr, ExitCode: int32(r.ExitCode)}, nil
}

func (s *execServer) PutFile(ctx context.Context, req *protov1.PutFile_Request) (*protov1.PutFile_Response, error) {
	if err := s.impl.PutFile(ctx, req.Path, req.Data, req.Mode); err != nil {
		return nil, status.Error(codes.Unknown, err.Error())
	}
	return &protov1.PutFile_Response{}, nil
}

func (s *execServer) GetFile(ctx context.Context, req *protov1.GetFile_Request) (*protov1.GetFile_Response, error) {
	data, err := s.impl.GetFile(ctx, req.Path)
	if err != nil {
		return nil, status.Error(codes.Unknown, err.Error())
	}
	return &protov1.GetFile_Response{Data: data}, nil
}

// errNoExec is what a taskserv gets when it uses an execution channel the host did not provide.
var errNoExec = errors.New("exec: the host gave this call no execution channel")

// brokerExec is the plugin side of the execution channel: it dials the host's Exec service the first
// time it is used.
type brokerExec struct {
	broker *plugin.GRPCBroker
	id     uint32

	once   sync.Once
	conn   *grpc.ClientConn
	client protov1.ExecClient
	err    error
}

var _ plugins.Exec = (*brokerExec)(nil)

func (e *brokerExec) dial() (protov1.ExecClient, error) {
	if e.id == 0 || e.broker == nil {
		return nil, errNoExec
	}
	e.once.Do(func() {
		e.conn, e.err = e.broker.Dial(e.id)
		if e.err != nil {
			e.err = fmt.Errorf("exec: dial host: %w", e.err)
			return
		}
		e.client = protov1.NewExecClient(e.conn)
	})
	return e.client, e.err
}

func (e *brokerExec) close() {
	if e.conn != nil {
		_ = e.conn.Close()
	}
}

// execError strips the gRPC wrapping from an error the host's Exec returned.
func execError(op string, err error) error {
	if st, ok := status.FromError(err); ok && st.Code() == codes.Unknown {
		return fmt.Errorf("exec: %s: %s", op, st.Message())
	}
	return fmt.Errorf("exec: %s: %w", op, err)
}

func (e *brokerExec) Run(ctx context.Context, cmd plugins.ExecCommand) (*plugins.ExecResult, error) {
	c, err := e.dial()
	if err != nil {
		return nil, err
	}
	r, err := c.Run(ctx, &protov1.Run_Request{Command: cmd.Command, Stdin: cmd.Stdin, Env: cmd.Env, Dir: cmd.Dir})
	if err != nil {
		return nil, execError("run", err)
	}
	return &plugins.ExecResult{Stdout: r.Stdout, Stderr: r.Stderr, ExitCode: int(r.ExitCode)}, nil
}

func (e *brokerExec) PutFile(ctx context.Context, path string, data []byte, mode uint32) error {
	c, err := e.dial()
	if err != nil {
		return err
	}
	if _, err := c.PutFile(ctx, &protov1.PutFile_Request{Path: path, Data: data, Mode: mode}); err != nil {
		return execError("put file "+path, err)
	}
	return nil
}

func (e *brokerExec) GetFile(ctx context.Context, path string) ([]byte, error) {
	c, err := e.dial()
	if err != nil {
		return nil, err
	}
	r, err := c.GetFile(ctx, &protov1.GetFile_Request{Path: path})
	if err != nil {
		return nil, execError("get file "+path, err)
	}
	return r.Data, nil
}
