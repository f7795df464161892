package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/provhq/prov/internal/diag"
	protov1 "github.com/provhq/prov/internal/protocol/v1"
	"github.com/provhq/prov/plugins"
)

// providerClient is a plugins.Provider that calls a plugin over gRPC.
type providerClient struct {
	client protov1.ProviderClient
	calls  *callStreams
}

var _ plugins.Provider = (*providerClient)(nil)

// NewProviderClient returns a plugins.Provider that calls the Provider service on conn. Its Close does
// not close conn: whoever made the connection (the plugin host) ends it.
func NewProviderClient(conn grpc.ClientConnInterface) plugins.Provider {
	client := protov1.NewProviderClient(conn)
	return &providerClient{client: client, calls: newCallStreams(func(ctx context.Context) (grpc.BidiStreamingClient[protov1.Call_Request, protov1.Call_Event], error) {
		return client.Calls(ctx)
	})}
}

// transportError names the operation that failed to reach the plugin; the gRPC status stays wrapped.
func transportError(op string, err error) error {
	return fmt.Errorf("protocol: %s: %w", op, err)
}

func (c *providerClient) Schema(ctx context.Context) (*plugins.ProviderSchema, diag.Diagnostics, error) {
	resp, err := c.client.GetSchema(ctx, &protov1.GetSchema_Request{})
	if err != nil {
		return nil, nil, transportError("GetSchema", err)
	}
	s, err := decodeSchema(resp.Schema)
	if err != nil {
		return nil, nil, transportError("GetSchema: decode schema", err)
	}
	return s, decodeDiags(resp.Diagnostics), nil
}

func (c *providerClient) ValidateConfig(ctx context.Context, typ string, config any) (diag.Diagnostics, error) {
	cfg, err := encodeValue(config)
	if err != nil {
		return nil, transportError("ValidateConfig: encode config", err)
	}
	resp, err := c.client.ValidateConfig(ctx, &protov1.ValidateConfig_Request{Type: typ, Config: cfg})
	if err != nil {
		return nil, transportError("ValidateConfig", err)
	}
	return decodeDiags(resp.Diagnostics), nil
}

func (c *providerClient) Configure(ctx context.Context, config any) (diag.Diagnostics, error) {
	cfg, err := encodeValue(config)
	if err != nil {
		return nil, transportError("Configure: encode config", err)
	}
	resp, err := c.client.Configure(ctx, &protov1.Configure_Request{Config: cfg})
	if err != nil {
		return nil, transportError("Configure", err)
	}
	return decodeDiags(resp.Diagnostics), nil
}

func (c *providerClient) Plan(ctx context.Context, req plugins.PlanRequest) (*plugins.PlanResponse, error) {
	var (
		preq protov1.Plan_Request
		err  error
	)
	preq.Type = req.Type
	if preq.Prior, err = encodeValue(req.Prior); err != nil {
		return nil, transportError("Plan: encode prior", err)
	}
	if preq.Config, err = encodeValue(req.Config); err != nil {
		return nil, transportError("Plan: encode config", err)
	}
	var resp *protov1.Plan_Response
	ev, err := c.calls.roundTrip(ctx, &protov1.Call_Request{Call: &protov1.Call_Request_Plan{Plan: &preq}}, nil)
	switch {
	case errors.Is(err, errNoCalls):
		resp, err = c.client.Plan(ctx, &preq)
	case err == nil:
		if resp = ev.GetPlan(); resp == nil {
			err = fmt.Errorf("plugin answered a Plan call with %T", ev.Event)
		}
	}
	if err != nil {
		return nil, transportError("Plan", err)
	}
	out := &plugins.PlanResponse{MonthlyCost: resp.MonthlyCost, Diagnostics: decodeDiags(resp.Diagnostics)}
	if out.Planned, err = decodeValue(resp.Planned); err != nil {
		return nil, transportError("Plan: decode planned", err)
	}
	if out.RequiresReplace, err = parsePaths(resp.RequiresReplace); err != nil {
		return nil, transportError("Plan: decode requires_replace", err)
	}
	if out.Sensitive, err = parsePaths(resp.Sensitive); err != nil {
		return nil, transportError("Plan: decode sensitive", err)
	}
	return out, nil
}

func (c *providerClient) Apply(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	var (
		preq protov1.Apply_Request
		err  error
	)
	preq.Type, preq.OperationId = req.Type, req.OperationID
	if preq.Prior, err = encodeValue(req.Prior); err != nil {
		return nil, transportError("Apply: encode prior", err)
	}
	if preq.Planned, err = encodeValue(req.Planned); err != nil {
		return nil, transportError("Apply: encode planned", err)
	}
	if preq.Config, err = encodeValue(req.Config); err != nil {
		return nil, transportError("Apply: encode config", err)
	}
	onProgress := func(p *protov1.Progress) {
		if progress != nil {
			progress(plugins.Progress{Message: p.GetMessage(), Percent: int(p.GetPercent())})
		}
	}
	ev, err := c.calls.roundTrip(ctx, &protov1.Call_Request{Call: &protov1.Call_Request_Apply{Apply: &preq}}, onProgress)
	var result *protov1.Apply_Result
	switch {
	case errors.Is(err, errNoCalls):
		result, err = c.applyStream(ctx, &preq, onProgress)
	case err == nil:
		if result = ev.GetApply(); result == nil {
			err = fmt.Errorf("plugin answered an Apply call with %T", ev.Event)
		}
	}
	if err != nil {
		return nil, transportError("Apply", err)
	}
	out := &plugins.ApplyResponse{Diagnostics: decodeDiags(result.Diagnostics)}
	if out.New, err = decodeValue(result.NewState); err != nil {
		return nil, transportError("Apply: decode new state", err)
	}
	if out.Sensitive, err = parsePaths(result.Sensitive); err != nil {
		return nil, transportError("Apply: decode sensitive", err)
	}
	return out, nil
}

// applyStream makes an Apply call as the Apply RPC, for a plugin that does not serve Calls.
func (c *providerClient) applyStream(ctx context.Context, preq *protov1.Apply_Request, progress func(*protov1.Progress)) (*protov1.Apply_Result, error) {
	stream, err := c.client.Apply(ctx, preq)
	if err != nil {
		return nil, err
	}
	var result *protov1.Apply_Result
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch e := ev.Event.(type) {
		case *protov1.Apply_Event_Progress:
			progress(e.Progress)
		case *protov1.Apply_Event_Result:
			result = e.Result
		}
	}
	if result == nil {
		return nil, errors.New("plugin ended the stream without a result")
	}
	return result, nil
}

func (c *providerClient) Read(ctx context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
	cur, err := encodeValue(req.Current)
	if err != nil {
		return nil, transportError("Read: encode current", err)
	}
	rreq := &protov1.Read_Request{Type: req.Type, Current: cur, OperationId: req.OperationID}
	var resp *protov1.Read_Response
	ev, err := c.calls.roundTrip(ctx, &protov1.Call_Request{Call: &protov1.Call_Request_Read{Read: rreq}}, nil)
	switch {
	case errors.Is(err, errNoCalls):
		resp, err = c.client.Read(ctx, rreq)
	case err == nil:
		if resp = ev.GetRead(); resp == nil {
			err = fmt.Errorf("plugin answered a Read call with %T", ev.Event)
		}
	}
	if err != nil {
		return nil, transportError("Read", err)
	}
	out := &plugins.ReadResponse{Diagnostics: decodeDiags(resp.Diagnostics)}
	if out.New, err = decodeValue(resp.NewState); err != nil {
		return nil, transportError("Read: decode new state", err)
	}
	if out.Sensitive, err = parsePaths(resp.Sensitive); err != nil {
		return nil, transportError("Read: decode sensitive", err)
	}
	return out, nil
}

func (c *providerClient) Import(ctx context.Context, req plugins.ImportRequest) (*plugins.ImportResponse, error) {
	resp, err := c.client.Import(ctx, &protov1.Import_Request{Type: req.Type, Id: req.ID})
	if err != nil {
		return nil, transportError("Import", err)
	}
	out := &plugins.ImportResponse{Diagnostics: decodeDiags(resp.Diagnostics)}
	if out.State, err = decodeValue(resp.State); err != nil {
		return nil, transportError("Import: decode state", err)
	}
	if out.Sensitive, err = parsePaths(resp.Sensitive); err != nil {
		return nil, transportError("Import: decode sensitive", err)
	}
	return out, nil
}

func (c *providerClient) Stop(ctx context.Context) error {
	if _, err := c.client.Stop(ctx, &protov1.Stop_Request{}); err != nil {
		return transportError("Stop", err)
	}
	return nil
}

// Close does nothing: the connection belongs to whoever made it.
func (c *providerClient) Close() error { return nil }

// ProviderServer serves a plugins.Provider as the protocol v1 Provider service.
type ProviderServer struct {
	protov1.UnimplementedProviderServer
	impl    plugins.Provider
	workers workers // run the calls of Calls
}

var _ protov1.ProviderServer = (*ProviderServer)(nil)

// NewProviderServer returns a ProviderServer for p; register it with protov1.RegisterProviderServer.
func NewProviderServer(p plugins.Provider) *ProviderServer {
	return &ProviderServer{impl: p, workers: workers{idle: make(chan func())}}
}

// badRequest is the error for a request the host should never have sent.
func badRequest(op string, err error) error {
	return status.Errorf(codes.InvalidArgument, "%s: %v", op, err)
}

// implDiags turns an error returned by the implementation into diagnostics: the call itself worked,
// the provider could not do what was asked.
func implDiags(op string, err error) diag.Diagnostics {
	ds := diag.FromError(err)
	if len(ds) == 1 && ds[0].Summary == err.Error() {
		ds[0].Summary = fmt.Sprintf("plugin failed during %s", op)
		ds[0].Detail = err.Error()
	}
	return ds
}

// recoverDiags turns a panic in the implementation into an error diagnostic appended to *ds, so a bug
// in one resource type does not take the whole plugin down.
func recoverDiags(op string, ds *[]*protov1.Diagnostic) {
	if r := recover(); r != nil {
		*ds = append(*ds, &protov1.Diagnostic{
			Severity: protov1.Severity_SEVERITY_ERROR,
			Summary:  fmt.Sprintf("plugin panicked during %s: %v", op, r),
			Detail:   string(debug.Stack()),
		})
	}
}

// GetSchema implements protov1.ProviderServer.
func (s *ProviderServer) GetSchema(ctx context.Context, _ *protov1.GetSchema_Request) (resp *protov1.GetSchema_Response, err error) {
	resp = &protov1.GetSchema_Response{}
	defer recoverDiags("GetSchema", &resp.Diagnostics)
	schema, ds, err := s.impl.Schema(ctx)
	if err != nil {
		ds = append(ds, implDiags("GetSchema", err)...)
	}
	if resp.Schema, err = encodeSchema(schema); err != nil {
		ds = append(ds, implDiags("GetSchema", fmt.Errorf("encode schema: %w", err))...)
	}
	resp.Diagnostics = encodeDiags(ds)
	return resp, nil
}

// ValidateConfig implements protov1.ProviderServer.
func (s *ProviderServer) ValidateConfig(ctx context.Context, req *protov1.ValidateConfig_Request) (resp *protov1.ValidateConfig_Response, err error) {
	cfg, err := decodeValue(req.Config)
	if err != nil {
		return nil, badRequest("ValidateConfig: config", err)
	}
	resp = &protov1.ValidateConfig_Response{}
	defer recoverDiags("ValidateConfig", &resp.Diagnostics)
	ds, err := s.impl.ValidateConfig(ctx, req.Type, cfg)
	if err != nil {
		ds = append(ds, implDiags("ValidateConfig", err)...)
	}
	resp.Diagnostics = encodeDiags(ds)
	return resp, nil
}

// Configure implements protov1.ProviderServer.
func (s *ProviderServer) Configure(ctx context.Context, req *protov1.Configure_Request) (resp *protov1.Configure_Response, err error) {
	cfg, err := decodeValue(req.Config)
	if err != nil {
		return nil, badRequest("Configure: config", err)
	}
	resp = &protov1.Configure_Response{}
	defer recoverDiags("Configure", &resp.Diagnostics)
	ds, err := s.impl.Configure(ctx, cfg)
	if err != nil {
		ds = append(ds, implDiags("Configure", err)...)
	}
	resp.Diagnostics = encodeDiags(ds)
	return resp, nil
}

// Plan implements protov1.ProviderServer.
func (s *ProviderServer) Plan(ctx context.Context, req *protov1.Plan_Request) (*protov1.Plan_Response, error) {
	return s.plan(ctx, req)
}

func (s *ProviderServer) plan(ctx context.Context, req *protov1.Plan_Request) (resp *protov1.Plan_Response, err error) {
	preq := plugins.PlanRequest{Type: req.Type}
	if preq.Prior, err = decodeValue(req.Prior); err != nil {
		return nil, badRequest("Plan: prior", err)
	}
	if preq.Config, err = decodeValue(req.Config); err != nil {
		return nil, badRequest("Plan: config", err)
	}
	resp = &protov1.Plan_Response{}
	defer recoverDiags("Plan", &resp.Diagnostics)
	pr, err := s.impl.Plan(ctx, preq)
	if err != nil {
		resp.Diagnostics = encodeDiags(implDiags("Plan", err))
		return resp, nil
	}
	ds := pr.Diagnostics
	if resp.Planned, err = encodeValue(pr.Planned); err != nil {
		ds = append(ds, implDiags("Plan", fmt.Errorf("encode planned: %w", err))...)
	}
	resp.RequiresReplace = pathStrings(pr.RequiresReplace)
	resp.Sensitive = pathStrings(pr.Sensitive)
	resp.MonthlyCost = pr.MonthlyCost
	resp.Diagnostics = encodeDiags(ds)
	return resp, nil
}

// Apply implements protov1.ProviderServer: progress events as the provider reports them, then the result.
func (s *ProviderServer) Apply(req *protov1.Apply_Request, stream grpc.ServerStreamingServer[protov1.Apply_Event]) error {
	var mu sync.Mutex // the provider may report progress from several goroutines
	progress := func(p *protov1.Progress) {
		mu.Lock()
		defer mu.Unlock()
		// A failed send means the host has gone; the context tells the provider.
		_ = stream.Send(&protov1.Apply_Event{Event: &protov1.Apply_Event_Progress{Progress: p}})
	}
	result, err := s.apply(stream.Context(), req, progress)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return stream.Send(&protov1.Apply_Event{Event: &protov1.Apply_Event_Result{Result: result}})
}

// apply decodes req, applies it and encodes the result; its error is a request that could not be decoded.
func (s *ProviderServer) apply(ctx context.Context, req *protov1.Apply_Request, progress func(*protov1.Progress)) (*protov1.Apply_Result, error) {
	areq := plugins.ApplyRequest{Type: req.Type, OperationID: req.OperationId}
	var err error
	if areq.Prior, err = decodeValue(req.Prior); err != nil {
		return nil, badRequest("Apply: prior", err)
	}
	if areq.Planned, err = decodeValue(req.Planned); err != nil {
		return nil, badRequest("Apply: planned", err)
	}
	if areq.Config, err = decodeValue(req.Config); err != nil {
		return nil, badRequest("Apply: config", err)
	}
	return s.applyDecoded(ctx, areq, func(p plugins.Progress) {
		progress(&protov1.Progress{Message: p.Message, Percent: int32(p.Percent)})
	}), nil
}

func (s *ProviderServer) applyDecoded(ctx context.Context, req plugins.ApplyRequest, progress func(plugins.Progress)) (result *protov1.Apply_Result) {
	result = &protov1.Apply_Result{}
	defer recoverDiags("Apply", &result.Diagnostics)
	ar, err := s.impl.Apply(ctx, req, progress)
	if err != nil {
		result.Diagnostics = encodeDiags(implDiags("Apply", err))
		return result
	}
	ds := ar.Diagnostics
	if result.NewState, err = encodeValue(ar.New); err != nil {
		ds = append(ds, implDiags("Apply", fmt.Errorf("encode new state: %w", err))...)
	}
	result.Sensitive = pathStrings(ar.Sensitive)
	result.Diagnostics = encodeDiags(ds)
	return result
}

// Read implements protov1.ProviderServer.
func (s *ProviderServer) Read(ctx context.Context, req *protov1.Read_Request) (*protov1.Read_Response, error) {
	return s.read(ctx, req)
}

func (s *ProviderServer) read(ctx context.Context, req *protov1.Read_Request) (resp *protov1.Read_Response, err error) {
	rreq := plugins.ReadRequest{Type: req.Type, OperationID: req.OperationId}
	if rreq.Current, err = decodeValue(req.Current); err != nil {
		return nil, badRequest("Read: current", err)
	}
	resp = &protov1.Read_Response{}
	defer recoverDiags("Read", &resp.Diagnostics)
	rr, err := s.impl.Read(ctx, rreq)
	if err != nil {
		resp.Diagnostics = encodeDiags(implDiags("Read", err))
		return resp, nil
	}
	ds := rr.Diagnostics
	if resp.NewState, err = encodeValue(rr.New); err != nil {
		ds = append(ds, implDiags("Read", fmt.Errorf("encode new state: %w", err))...)
	}
	resp.Sensitive = pathStrings(rr.Sensitive)
	resp.Diagnostics = encodeDiags(ds)
	return resp, nil
}

// Import implements protov1.ProviderServer.
func (s *ProviderServer) Import(ctx context.Context, req *protov1.Import_Request) (resp *protov1.Import_Response, err error) {
	resp = &protov1.Import_Response{}
	defer recoverDiags("Import", &resp.Diagnostics)
	ir, err := s.impl.Import(ctx, plugins.ImportRequest{Type: req.Type, ID: req.Id})
	if err != nil {
		resp.Diagnostics = encodeDiags(implDiags("Import", err))
		return resp, nil
	}
	ds := ir.Diagnostics
	if resp.State, err = encodeValue(ir.State); err != nil {
		ds = append(ds, implDiags("Import", fmt.Errorf("encode state: %w", err))...)
	}
	resp.Sensitive = pathStrings(ir.Sensitive)
	resp.Diagnostics = encodeDiags(ds)
	return resp, nil
}

// Stop implements protov1.ProviderServer.
func (s *ProviderServer) Stop(ctx context.Context, _ *protov1.Stop_Request) (*protov1.Stop_Response, error) {
	if err := s.impl.Stop(ctx); err != nil {
		return nil, status.Errorf(codes.Internal, "Stop: %v", err)
	}
	return &protov1.Stop_Response{}, nil
}
