package upcloud

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value accepts any credentials.
type Options struct {
	// Username and Password, when set, are the only basic-auth credentials accepted.
	Username, Password string
	// Token, when set, is the only bearer token accepted.
	Token string
	// Transition is how long an intermediate state (maintenance) lasts. Default 100ms; tests use a few
	// milliseconds.
	Transition time.Duration
}

// Server is the fake UpCloud API. Serve it with Start or Listen, or mount it anywhere as an
// http.Handler; its API lives under /1.3/.
type Server struct {
	opts Options

	mu       sync.Mutex
	servers  map[string]*server
	order    []string // server uuids in creation order
	storages map[string]*storage
	networks map[string]*network
	faults   []*Fault
	latency  map[string]time.Duration
	requests map[string]int
	nextIP   int

	http *httptest.Server
}

// New returns a fake holding the public templates of the catalogue and nothing else.
func New(opts Options) *Server {
	if opts.Transition == 0 {
		opts.Transition = 100 * time.Millisecond
	}
	s := &Server{opts: opts, servers: map[string]*server{}, storages: map[string]*storage{},
		networks: map[string]*network{}, latency: map[string]time.Duration{}, requests: map[string]int{}}
	for _, t := range Templates {
		s.storages[t.UUID] = &storage{UUID: t.UUID, Title: t.Title, Size: t.Size, Tier: "maxiops",
			Type: "template", Access: "public", Zone: "", Created: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	}
	return s
}

// Start serves a new fake on a loopback port and returns it; URL is its base URL, Close stops it.
func Start(opts Options) *Server {
	s := New(opts)
	s.http = httptest.NewServer(s)
	return s
}

// Listen serves a new fake on addr (e.g. "127.0.0.1:0") with a real listener, for prov's hidden
// __fakecloud command; it returns the base URL and a function that stops serving.
func Listen(addr string, opts Options) (*Server, string, func() error, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("fakecloud upcloud: listen %s: %w", addr, err)
	}
	s := New(opts)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return s, "http://" + l.Addr().String(), srv.Close, nil
}

// URL is the base URL of a server made by Start (the API is under URL + "/1.3").
func (s *Server) URL() string { return s.http.URL }

// Close stops a server made by Start.
func (s *Server) Close() { s.http.Close() }

// Fault is an injected failure: the next Times requests for Op answer with the error Code.
type Fault struct {
	// Op is the operation, e.g. "CreateServer" (see Ops); "" matches every operation.
	Op string
	// Code is the UpCloud error code, e.g. "SERVER_CREATING_LIMIT_REACHED"; for throttling use
	// Status 429 and any code (the fake's default is "TOO_MANY_REQUESTS").
	Code string
	// Message is the error message; a generic one is used when empty.
	Message string
	// Status is the HTTP status; default 429 for TOO_MANY_REQUESTS, 500 for SERVICE_ERROR, 409 otherwise.
	Status int
	// Times is how many requests fail; 0 means one.
	Times int
	// After does the work first and then fails, as when the response is lost.
	After bool
}

// Ops are the operation names the fake knows, for Fault.Op, SetLatency and Requests.
var Ops = []string{"ListServers", "GetServer", "CreateServer", "ModifyServer", "DeleteServer", "StartServer",
	"StopServer", "ListStorages", "GetStorage", "CreateStorage", "ModifyStorage", "DeleteStorage",
	"ListNetworks", "GetNetwork", "CreateNetwork", "ModifyNetwork", "DeleteNetwork", "ListFirewallRules",
	"CreateFirewallRule", "ReplaceFirewallRules", "DeleteFirewallRule", "ListZones", "ListPlans", "ListPrices"}

// Inject queues f; faults match in the order they were injected.
func (s *Server) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Code == "" {
		f.Code = "TOO_MANY_REQUESTS"
	}
	if f.Status == 0 {
		switch f.Code {
		case "TOO_MANY_REQUESTS":
			f.Status = http.StatusTooManyRequests
		case "SERVICE_ERROR":
			f.Status = http.StatusInternalServerError
		default:
			f.Status = http.StatusConflict
		}
	}
	if f.Message == "" {
		f.Message = "Injected fault."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// SetLatency delays the answer to every request for op (or every request, for "") by d, after the
// work is done.
func (s *Server) SetLatency(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency[op] = d
}

// Requests is how many requests for op the fake has received, faults included.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// apiError is an UpCloud error answer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// route is one endpoint: an operation name and its handler, which runs with s.mu held and returns the
// HTTP status and the body to answer with (nil for 204).
type route struct {
	op string
	fn func(r *http.Request, args []string, body []byte) (int, any, error)
}

// match finds the route for a method and path (without the /1.3 prefix and trailing slash).
func (s *Server) match(method, path string) (route, []string, bool) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	n := len(seg)
	is := func(m string, parts ...string) bool {
		if method != m || n != len(parts) {
			return false
		}
		for i, p := range parts {
			if p != "*" && p != seg[i] {
				return false
			}
		}
		return true
	}
	switch {
	case is("GET", "server"):
		return route{"ListServers", s.listServers}, nil, true
	case is("POST", "server"):
		return route{"CreateServer", s.createServer}, nil, true
	case is("GET", "server", "*"):
		return route{"GetServer", s.getServer}, seg[1:], true
	case is("PUT", "server", "*"):
		return route{"ModifyServer", s.modifyServer}, seg[1:], true
	case is("DELETE", "server", "*"):
		return route{"DeleteServer", s.deleteServer}, seg[1:], true
	case is("POST", "server", "*", "start"):
		return route{"StartServer", s.startServer}, seg[1:2], true
	case is("POST", "server", "*", "stop"):
		return route{"StopServer", s.stopServer}, seg[1:2], true
	case is("GET", "server", "*", "firewall_rule"):
		return route{"ListFirewallRules", s.listFirewallRules}, seg[1:2], true
	case is("POST", "server", "*", "firewall_rule"):
		return route{"CreateFirewallRule", s.createFirewallRule}, seg[1:2], true
	case is("PUT", "server", "*", "firewall_rule"):
		return route{"ReplaceFirewallRules", s.replaceFirewallRules}, seg[1:2], true
	case is("DELETE", "server", "*", "firewall_rule", "*"):
		return route{"DeleteFirewallRule", s.deleteFirewallRule}, []string{seg[1], seg[3]}, true
	case method == "GET" && seg[0] == "storage" && (n == 1 || n == 2 && isStorageFilter(seg[1]) || n == 3):
		return route{"ListStorages", s.listStorages}, seg[1:], true
	case is("POST", "storage"):
		return route{"CreateStorage", s.createStorage}, nil, true
	case is("GET", "storage", "*"):
		return route{"GetStorage", s.getStorage}, seg[1:], true
	case is("PUT", "storage", "*"):
		return route{"ModifyStorage", s.modifyStorage}, seg[1:], true
	case is("DELETE", "storage", "*"):
		return route{"DeleteStorage", s.deleteStorage}, seg[1:], true
	case is("GET", "network"):
		return route{"ListNetworks", s.listNetworks}, nil, true
	case is("POST", "network"):
		return route{"CreateNetwork", s.createNetwork}, nil, true
	case is("GET", "network", "*"):
		return route{"GetNetwork", s.getNetwork}, seg[1:], true
	case is("PUT", "network", "*"):
		return route{"ModifyNetwork", s.modifyNetwork}, seg[1:], true
	case is("DELETE", "network", "*"):
		return route{"DeleteNetwork", s.deleteNetwork}, seg[1:], true
	case is("GET", "zone"):
		return route{"ListZones", s.listZones}, nil, true
	case is("GET", "plan"):
		return route{"ListPlans", s.listPlans}, nil, true
	case is("GET", "price"):
		return route{"ListPrices", s.listPrices}, nil, true
	}
	return route{}, nil, false
}

// ServeHTTP serves the API under /1.3/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/1.3/")
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "NOT_FOUND", "API version not found: %s", r.URL.Path))
		return
	}
	if err := s.authenticate(r); err != nil {
		writeError(w, err)
		return
	}
	rt, args, ok := s.match(r.Method, path)
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "NOT_FOUND", "The requested resource %s %s does not exist.", r.Method, r.URL.Path))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, errorf(http.StatusBadRequest, "INVALID_REQUEST", "read body: %v", err))
		return
	}

	s.mu.Lock()
	s.requests[rt.op]++
	delay := s.latency[rt.op] + s.latency[""]
	fault := s.takeFault(rt.op)
	s.mu.Unlock()
	if fault != nil && !fault.After {
		writeError(w, errorf(fault.Status, fault.Code, "%s", fault.Message))
		return
	}

	s.mu.Lock()
	status, out, err := rt.fn(r, args, body)
	s.mu.Unlock()
	// The work is done whatever becomes of the client; a slow answer is the window in which a crash
	// leaves an operation in doubt.
	time.Sleep(delay)
	if fault != nil {
		writeError(w, errorf(fault.Status, fault.Code, "%s", fault.Message))
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	if out == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(out)
}

func (s *Server) takeFault(op string) *Fault {
	for i, f := range s.faults {
		if f.Op == "" || f.Op == op {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func (s *Server) authenticate(r *http.Request) error {
	failed := errorf(http.StatusUnauthorized, "AUTHENTICATION_FAILED", "Authentication failed using the given username and password.")
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if tok == "" || s.opts.Token != "" && tok != s.opts.Token {
			return failed
		}
		return nil
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" {
		return failed
	}
	if s.opts.Username != "" && (user != s.opts.Username || pass != s.opts.Password) {
		return failed
	}
	return nil
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errorf(http.StatusInternalServerError, "SERVICE_ERROR", "%v", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(ae.status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"error_code": ae.code, "error_message": ae.message}})
}

// decode unmarshals the body's object under key (UpCloud wraps every request: {"server": {...}}).
func decode(body []byte, key string, v any) error {
	var wrap map[string]json.RawMessage
	if err := json.Unmarshal(body, &wrap); err != nil {
		return errorf(http.StatusBadRequest, "INVALID_REQUEST", "The request body is not valid JSON: %v", err)
	}
	raw, ok := wrap[key]
	if !ok {
		return errorf(http.StatusBadRequest, "INVALID_REQUEST", "The request body has no %q object.", key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errorf(http.StatusBadRequest, "INVALID_REQUEST", "The %q object is malformed: %v", key, err)
	}
	return nil
}

// num is a number UpCloud accepts either as a JSON number or as a string of digits.
type num int

func (n *num) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = num(i)
	return nil
}

// yesno is UpCloud's boolean: "yes"/"no" on the wire, also accepting true/false and "1"/"0".
type yesno int

func (b *yesno) UnmarshalJSON(buf []byte) error {
	switch strings.Trim(string(buf), `"`) {
	case "yes", "true", "1":
		*b = 1
	case "", "null":
		*b = 0
	default:
		*b = -1
	}
	return nil
}

func (b yesno) wire() string {
	if b > 0 {
		return "yes"
	}
	return "no"
}

func yn(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// label is a key/value label of a server, storage or network.
type label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func checkLabels(ls []label) error {
	seen := map[string]bool{}
	for _, l := range ls {
		if l.Key == "" || len(l.Key) > 32 || strings.HasPrefix(l.Key, "_") {
			return errorf(http.StatusBadRequest, "INVALID_LABEL_KEY", "Label key %q is invalid.", l.Key)
		}
		if len(l.Value) > 255 {
			return errorf(http.StatusBadRequest, "INVALID_LABEL_VALUE", "Label value of %q is too long.", l.Key)
		}
		if seen[l.Key] {
			return errorf(http.StatusBadRequest, "DUPLICATE_LABEL_KEYS", "Label key %q is given twice.", l.Key)
		}
		seen[l.Key] = true
	}
	return nil
}

func labelsWire(ls []label) []any {
	out := make([]any, 0, len(ls))
	for _, l := range ls {
		out = append(out, map[string]any{"key": l.Key, "value": l.Value})
	}
	return out
}

// matchLabels reports whether ls satisfy every label filter of the query (label=KEY or label=KEY=VALUE).
func matchLabels(ls []label, filters []string) bool {
	for _, f := range filters {
		k, v, hasValue := strings.Cut(f, "=")
		found := false
		for _, l := range ls {
			if l.Key == k && (!hasValue || l.Value == v) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func newUUID(prefix byte) string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%02x%s-%s-4%s-8%s-%s", prefix, h[:6], h[6:10], h[11:14], h[15:18], h[18:30])
}
