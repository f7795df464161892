package protocol

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	protov1 "github.com/provhq/prov/internal/protocol/v1"
)

// Plan, Apply and Read travel on Calls streams, many calls on each: a gRPC stream of its own per call
// (headers, trailers, a server goroutine and a context watcher each) costs more CPU than a no-op
// call's work, and an apply keeps thousands in flight. On a shared stream a call is a request and its
// result, plus any progress. The unary RPCs stay for plugins built before Calls existed.

// errNoCalls says the plugin does not serve Calls: the caller makes the unary RPC instead. The call
// never reached the plugin's implementation, so making it again is safe.
var errNoCalls = errors.New("plugin does not serve Calls")

// progressRoom is how many progress events may wait for a slow caller before newer ones are dropped;
// one more place is kept for the result, so delivering it never blocks the stream.
const progressRoom = 15

// callStreams spreads calls over a few Calls streams. One goroutine receives and decodes each
// stream's events, and its requests are sent one at a time: with a thousand calls in flight on one
// stream, those become the queue.
type callStreams struct {
	streams [4]callStream
	next    atomic.Uint32
	noCalls atomic.Bool // the plugin answered UNIMPLEMENTED: use the unary RPCs
}

func newCallStreams(open func(context.Context) (grpc.BidiStreamingClient[protov1.Call_Request, protov1.Call_Event], error)) *callStreams {
	cs := &callStreams{}
	for i := range cs.streams {
		cs.streams[i] = callStream{open: open, noCalls: &cs.noCalls}
	}
	return cs
}

// roundTrip makes a call on the next stream in turn; see callStream.roundTrip.
func (cs *callStreams) roundTrip(ctx context.Context, req *protov1.Call_Request, progress func(*protov1.Progress)) (*protov1.Call_Event, error) {
	return cs.streams[cs.next.Add(1)%uint32(len(cs.streams))].roundTrip(ctx, req, progress)
}

// callStream is the host side of one Calls stream of a plugin connection. The stream is opened by the
// first call and opened again by the call after one that broke it.
type callStream struct {
	open    func(context.Context) (grpc.BidiStreamingClient[protov1.Call_Request, protov1.Call_Event], error)
	noCalls *atomic.Bool

	mu       sync.Mutex
	stream   *openStream
	nextID   uint64
	sendLock sync.Mutex // gRPC streams take one sender at a time
}

// openStream is one opened Calls stream and the calls waiting on it.
type openStream struct {
	grpc.BidiStreamingClient[protov1.Call_Request, protov1.Call_Event]
	cancel  context.CancelFunc
	pending map[uint64]*pendingCall // guarded by callStream.mu
}

// pendingCall receives the events of one call. When the stream breaks, err is set and events closed.
type pendingCall struct {
	events chan *protov1.Call_Event
	err    error
}

// roundTrip makes the call req (its id is set here) and returns its final event, passing progress
// events to progress. It returns errNoCalls when the plugin does not serve Calls.
func (cs *callStream) roundTrip(ctx context.Context, req *protov1.Call_Request, progress func(*protov1.Progress)) (*protov1.Call_Event, error) {
	s, id, call, err := cs.start()
	if err != nil {
		return nil, err
	}
	req.Id = id
	if deadline, ok := ctx.Deadline(); ok {
		req.TimeoutMs = uint64(max(time.Until(deadline).Milliseconds(), 1))
	}
	if err := cs.send(s, req); err != nil {
		cs.forget(s, id)
		return nil, err
	}
	for {
		select {
		case ev, ok := <-call.events:
			if !ok {
				return nil, call.err
			}
			if p, isProgress := ev.Event.(*protov1.Call_Event_Progress); isProgress {
				if progress != nil {
					progress(p.Progress)
				}
				continue
			}
			if r, refused := ev.Event.(*protov1.Call_Event_Refused); refused {
				return nil, status.Error(codes.InvalidArgument, r.Refused)
			}
			return ev, nil
		case <-ctx.Done():
			if cs.forget(s, id) {
				// Best effort: the plugin cancels the call's context; its result is dropped.
				_ = cs.send(s, &protov1.Call_Request{Id: id, Call: &protov1.Call_Request_Cancel{Cancel: &protov1.Call_Cancel{}}})
			}
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
}

// start registers a new call on the open stream, opening it first if need be.
func (cs *callStream) start() (*openStream, uint64, *pendingCall, error) {
	if cs.noCalls.Load() {
		return nil, 0, nil, errNoCalls
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.stream == nil {
		// The stream outlives any one call, so it does not take a call's context.
		ctx, cancel := context.WithCancel(context.Background())
		stream, err := cs.open(ctx)
		if err != nil {
			cancel()
			return nil, 0, nil, err
		}
		cs.stream = &openStream{BidiStreamingClient: stream, cancel: cancel, pending: make(map[uint64]*pendingCall)}
		go cs.receive(cs.stream)
	}
	cs.nextID++
	call := &pendingCall{events: make(chan *protov1.Call_Event, progressRoom+1)}
	cs.stream.pending[cs.nextID] = call
	return cs.stream, cs.nextID, call, nil
}

func (cs *callStream) send(s *openStream, req *protov1.Call_Request) error {
	cs.sendLock.Lock()
	defer cs.sendLock.Unlock()
	err := s.Send(req)
	if errors.Is(err, io.EOF) {
		// The stream has ended; RecvMsg has the status, and receive hands it to every pending call.
		return nil
	}
	return err
}

// forget removes call id from s and reports whether it was still pending.
func (cs *callStream) forget(s *openStream, id uint64) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	_, ok := s.pending[id]
	delete(s.pending, id)
	return ok
}

// receive hands s's events to their calls until the stream ends, then fails the calls still pending
// with the stream's error, or errNoCalls when the plugin does not serve Calls.
func (cs *callStream) receive(s *openStream) {
	defer s.cancel()
	for {
		ev, err := s.Recv()
		if err != nil {
			cs.mu.Lock()
			defer cs.mu.Unlock()
			if status.Code(err) == codes.Unimplemented {
				cs.noCalls.Store(true)
				err = errNoCalls
			} else if errors.Is(err, io.EOF) {
				err = errors.New("plugin ended the Calls stream")
			}
			if cs.stream == s {
				cs.stream = nil
			}
			for id, call := range s.pending {
				call.err = err
				close(call.events)
				delete(s.pending, id)
			}
			return
		}
		_, isProgress := ev.Event.(*protov1.Call_Event_Progress)
		cs.mu.Lock()
		call := s.pending[ev.Id]
		if call != nil && !isProgress {
			delete(s.pending, ev.Id)
		}
		cs.mu.Unlock()
		switch {
		case call == nil:
			// A call given up on (cancelled); its result has nowhere to go.
		case !isProgress:
			call.events <- ev // there is always room for the result
		case len(call.events) < progressRoom:
			call.events <- ev
		}
	}
}

// Calls implements protov1.ProviderServer: each call runs in its own goroutine with its own context,
// and its events go back on the stream as they come.
func (s *ProviderServer) Calls(stream grpc.BidiStreamingServer[protov1.Call_Request, protov1.Call_Event]) error {
	ctx, cancelAll := context.WithCancel(stream.Context())
	defer cancelAll()
	var (
		mu       sync.Mutex // guards cancels
		cancels  = make(map[uint64]context.CancelFunc)
		sendLock sync.Mutex // gRPC streams take one sender at a time
		running  sync.WaitGroup
	)
	send := func(ev *protov1.Call_Event) {
		sendLock.Lock()
		defer sendLock.Unlock()
		_ = stream.Send(ev) // a failed send means the host has gone; the calls' contexts tell them
	}
	for {
		req, err := stream.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				cancelAll() // the host has gone: cancel what runs; on EOF, let it finish
			}
			running.Wait()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		id := req.Id
		if _, ok := req.Call.(*protov1.Call_Request_Cancel); ok {
			mu.Lock()
			if cancel := cancels[id]; cancel != nil {
				cancel()
			}
			mu.Unlock()
			continue
		}
		callCtx, cancel := context.WithCancel(ctx)
		if req.TimeoutMs > 0 {
			callCtx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMs)*time.Millisecond)
		}
		mu.Lock()
		cancels[id] = cancel
		mu.Unlock()
		running.Add(1)
		s.workers.run(func() {
			defer running.Done()
			ev := s.serveCall(callCtx, req, func(p *protov1.Progress) {
				send(&protov1.Call_Event{Id: id, Event: &protov1.Call_Event_Progress{Progress: p}})
			})
			ev.Id = id
			mu.Lock()
			delete(cancels, id)
			mu.Unlock()
			cancel()
			send(ev)
		})
	}
}

// workers runs functions on goroutines kept from earlier ones. A call on a new goroutine grows its
// stack by copying on the way down (decode, provider, encode, send), which costs as much CPU as a
// no-op call itself; a kept goroutine has grown already. A goroutine idle for idleWorker ends.
type workers struct {
	idle chan func() // unbuffered: a send succeeds only when a worker is waiting
}

const idleWorker = 10 * time.Second

func (w *workers) run(f func()) {
	select {
	case w.idle <- f:
	default:
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	timer := time.NewTimer(idleWorker)
	defer timer.Stop()
	for {
		f()
		timer.Reset(idleWorker)
		select {
		case f = <-w.idle:
		case <-timer.C:
			return
		}
	}
}

// serveCall runs one call and returns its final event.
func (s *ProviderServer) serveCall(ctx context.Context, req *protov1.Call_Request, progress func(*protov1.Progress)) *protov1.Call_Event {
	var (
		ev  protov1.Call_Event
		err error
	)
	switch c := req.Call.(type) {
	case *protov1.Call_Request_Plan:
		var resp *protov1.Plan_Response
		resp, err = s.plan(ctx, c.Plan)
		ev.Event = &protov1.Call_Event_Plan{Plan: resp}
	case *protov1.Call_Request_Apply:
		var result *protov1.Apply_Result
		result, err = s.apply(ctx, c.Apply, progress)
		ev.Event = &protov1.Call_Event_Apply{Apply: result}
	case *protov1.Call_Request_Read:
		var resp *protov1.Read_Response
		resp, err = s.read(ctx, c.Read)
		ev.Event = &protov1.Call_Event_Read{Read: resp}
	default:
		err = status.Errorf(codes.InvalidArgument, "Calls: call %d has no request this plugin knows", req.Id)
	}
	if err != nil {
		ev.Event = &protov1.Call_Event_Refused{Refused: status.Convert(err).Message()}
	}
	return &ev
}
