package ec2

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Namespace is the XML namespace of EC2 API version 2016-11-15, the version every SDK speaks.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// Options configure a Server. The zero value is a usable us-east-1.
type Options struct {
	// Region is the region the fake pretends to be; its availability zones are REGION + "a", "b" and
	// "c". Default "us-east-1".
	Region string
	// Transition is how long an intermediate state (pending, stopping, shutting-down, creating,
	// attaching, detaching) lasts. Default 100ms; tests use a few milliseconds.
	Transition time.Duration
	// OwnerID is the account id in responses. Default "123456789012".
	OwnerID string
	// RequestsPerSecond, when positive, throttles the API as EC2 does: requests beyond this rate
	// (with a burst of as many) are answered with RequestLimitExceeded.
	RequestsPerSecond float64
	// Now is the fake's clock, which drives the state transitions; default time.Now. Tests that check
	// intermediate states pass a clock they move themselves.
	Now func() time.Time
}

// Server is the fake EC2 API. Serve it with Start, or mount it anywhere as an http.Handler.
type Server struct {
	opts Options

	mu            sync.Mutex
	now           func() time.Time
	instances     map[string]*instance
	order         []string          // instance ids in launch order
	tokens        map[string]string // ClientToken → reservation id
	reservations  map[string][]string
	keys          map[string]*keyPair // by name
	groups        map[string]*securityGroup
	volumes       map[string]*volume
	modifications map[string]*modification // the latest of each volume, by volume id
	images        []*image
	subnets       []*subnet
	vpcID         string
	faults        []*Fault
	latency       map[string]time.Duration
	requests      map[string]int
	throttled     int
	bucket        float64   // tokens of the rate limit
	refilled      time.Time // when bucket was last topped up

	http *httptest.Server
}

// New returns a fake with the default VPC of the region (one subnet per availability zone and its
// default security group) and a few public AMIs, and nothing else.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Transition == 0 {
		opts.Transition = 100 * time.Millisecond
	}
	if opts.OwnerID == "" {
		opts.OwnerID = "123456789012"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, now: opts.Now, instances: map[string]*instance{}, tokens: map[string]string{},
		reservations: map[string][]string{}, keys: map[string]*keyPair{}, groups: map[string]*securityGroup{},
		volumes: map[string]*volume{}, modifications: map[string]*modification{}, latency: map[string]time.Duration{}, requests: map[string]int{}}
	s.seed()
	return s
}

// Start serves a new fake on a loopback port until Close and returns it; URL is its endpoint.
func Start(opts Options) *Server {
	s := New(opts)
	s.http = httptest.NewServer(s)
	return s
}

// Listen serves a new fake on addr (e.g. "127.0.0.1:0") with a real listener, for prov's hidden
// __fakecloud command; it returns the endpoint URL and a function that stops serving.
func Listen(addr string, opts Options) (*Server, string, func() error, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("fakecloud ec2: listen %s: %w", addr, err)
	}
	s := New(opts)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return s, "http://" + l.Addr().String(), srv.Close, nil
}

// URL is the endpoint of a server made by Start.
func (s *Server) URL() string { return s.http.URL }

// Close stops a server made by Start.
func (s *Server) Close() { s.http.Close() }

// Region is the region the fake serves.
func (s *Server) Region() string { return s.opts.Region }

// Fault is an injected failure: the next Times requests for Action answer with the error Code.
type Fault struct {
	// Action is the API action, e.g. "RunInstances"; "" matches every action.
	Action string
	// Code is the EC2 error code, e.g. "RequestLimitExceeded" or "InternalError".
	Code string
	// Message is the error message; a generic one is used when empty.
	Message string
	// Status is the HTTP status; default 503 for RequestLimitExceeded and Unavailable, 500 for
	// InternalError, 400 otherwise.
	Status int
	// Times is how many requests fail; 0 means one.
	Times int
	// After does the work first and then fails, as when the response is lost.
	After bool
}

// Inject queues f; faults match in the order they were injected.
func (s *Server) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Status == 0 {
		switch f.Code {
		case "RequestLimitExceeded", "Unavailable":
			f.Status = http.StatusServiceUnavailable
		case "InternalError":
			f.Status = http.StatusInternalServerError
		default:
			f.Status = http.StatusBadRequest
		}
	}
	if f.Message == "" {
		f.Message = "Injected fault."
		if f.Code == "RequestLimitExceeded" {
			f.Message = "Request limit exceeded."
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// SetLatency makes every request for action ("" for all) take d longer. The delay comes after the
// work is done and before the response is written, so a client that dies meanwhile has changed the
// cloud without learning so: the in-doubt operation of crash tests.
func (s *Server) SetLatency(action string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency[action] = d
}

// Requests returns how many requests for action ("" for all) the server has received.
func (s *Server) Requests(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if action == "" {
		n := 0
		for _, c := range s.requests {
			n += c
		}
		return n
	}
	return s.requests[action]
}

// ServeHTTP answers one Query API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	if err := r.ParseForm(); err != nil {
		writeError(w, reqID, errorf(http.StatusBadRequest, "MalformedQueryString", "%v", err))
		return
	}
	action := r.Form.Get("Action")
	h, ok := handlers[action]
	s.mu.Lock()
	s.requests[action]++
	fault := s.takeFault(action)
	if fault == nil && !s.allow() {
		s.throttled++
		fault = &Fault{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Status: http.StatusServiceUnavailable}
	}
	delay := s.latency[action] + s.latency[""]
	s.mu.Unlock()
	if !ok {
		writeError(w, reqID, errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action))
		return
	}
	if fault != nil && !fault.After {
		writeError(w, reqID, &apiError{fault.Status, fault.Code, fault.Message})
		return
	}
	s.mu.Lock()
	s.settle()
	resp, err := h(s, params(r.Form))
	var body []byte
	if err == nil {
		resp.setRequestID(reqID)
		body, err = marshal(action, resp)
	}
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	switch {
	case fault != nil:
		writeError(w, reqID, &apiError{fault.Status, fault.Code, fault.Message})
	case err != nil:
		writeError(w, reqID, err)
	default:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.Write(body)
	}
}

// allow takes a token of the rate limit, reporting false when there is none.
func (s *Server) allow() bool {
	rate := s.opts.RequestsPerSecond
	if rate <= 0 {
		return true
	}
	burst := max(1, rate)
	now := s.now()
	if s.refilled.IsZero() {
		s.bucket = burst
	} else {
		s.bucket = min(burst, s.bucket+now.Sub(s.refilled).Seconds()*rate)
	}
	s.refilled = now
	if s.bucket < 1 {
		return false
	}
	s.bucket--
	return true
}

// Throttled returns how many requests the rate limit refused.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

func (s *Server) takeFault(action string) *Fault {
	for i, f := range s.faults {
		if f.Action == "" || f.Action == action {
			f.Times--
			if f.Times <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

// handler runs one action under the server's lock.
type handler func(s *Server, p params) (responder, error)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"RunInstances":                  (*Server).runInstances,
		"DescribeInstances":             (*Server).describeInstances,
		"TerminateInstances":            (*Server).terminateInstances,
		"StopInstances":                 (*Server).stopInstances,
		"StartInstances":                (*Server).startInstances,
		"ModifyInstanceAttribute":       (*Server).modifyInstanceAttribute,
		"DescribeInstanceAttribute":     (*Server).describeInstanceAttribute,
		"CreateTags":                    (*Server).createTags,
		"DeleteTags":                    (*Server).deleteTags,
		"ImportKeyPair":                 (*Server).importKeyPair,
		"DescribeKeyPairs":              (*Server).describeKeyPairs,
		"DeleteKeyPair":                 (*Server).deleteKeyPair,
		"CreateSecurityGroup":           (*Server).createSecurityGroup,
		"DescribeSecurityGroups":        (*Server).describeSecurityGroups,
		"DeleteSecurityGroup":           (*Server).deleteSecurityGroup,
		"AuthorizeSecurityGroupIngress": (*Server).authorizeIngress,
		"AuthorizeSecurityGroupEgress":  (*Server).authorizeEgress,
		"RevokeSecurityGroupIngress":    (*Server).revokeIngress,
		"RevokeSecurityGroupEgress":     (*Server).revokeEgress,
		"CreateVolume":                  (*Server).createVolume,
		"DescribeVolumes":               (*Server).describeVolumes,
		"DeleteVolume":                  (*Server).deleteVolume,
		"AttachVolume":                  (*Server).attachVolume,
		"DetachVolume":                  (*Server).detachVolume,
		"ModifyVolume":                  (*Server).modifyVolume,
		"DescribeVolumesModifications":  (*Server).describeVolumesModifications,
		"DescribeImages":                (*Server).describeImages,
		"DescribeSubnets":               (*Server).describeSubnets,
		"DescribeAvailabilityZones":     (*Server).describeAvailabilityZones,
	}
}

// responder is a response body; every one embeds response, which carries the request id.
type responder interface{ setRequestID(string) }

type response struct {
	RequestID string `xml:"requestId"`
}

func (r *response) setRequestID(id string) { r.RequestID = id }

// returnResponse is the body of actions that answer only <return>true</return>.
type returnResponse struct {
	response
	Return bool `xml:"return"`
}

func marshal(action string, body responder) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: Namespace}}}
	if err := enc.EncodeElement(body, start); err != nil {
		return nil, fmt.Errorf("fakecloud ec2: encode %s: %w", action, err)
	}
	return b.Bytes(), nil
}

// apiError is an EC2 error response.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, code, format, args...)
}

func writeError(w http.ResponseWriter, reqID string, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{http.StatusInternalServerError, "InternalError", "An internal error has occurred."}
	}
	type xmlError struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	body := struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []xmlError `xml:"Errors>Error"`
		RequestID string     `xml:"RequestID"`
	}{Errors: []xmlError{{e.Code, e.Message}}, RequestID: reqID}
	out, _ := xml.Marshal(body)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	w.Write([]byte(xml.Header))
	w.Write(out)
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newID returns a resource id in EC2's form: prefix, a dash and 17 hex digits.
func newID(prefix string) string {
	var b [9]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

func (s *Server) timestamp() string { return s.now().UTC().Format("2006-01-02T15:04:05.000Z") }

// params are a request's form values, with the Query API's conventions for lists ("InstanceId.1"),
// structures ("Placement.AvailabilityZone") and lists of structures ("Filter.1.Value.2").
type params url.Values

func (p params) str(key string) string { return url.Values(p).Get(key) }

func (p params) has(key string) bool { _, ok := p[key]; return ok }

// list returns the values of key.1, key.2, … up to the first gap.
func (p params) list(key string) []string {
	var out []string
	for i := 1; ; i++ {
		k := key + "." + strconv.Itoa(i)
		if !p.has(k) {
			return out
		}
		out = append(out, p.str(k))
	}
}

// members returns the structures key.1.*, key.2.*, … each with its keys relative to it.
func (p params) members(key string) []params {
	var out []params
	for i := 1; ; i++ {
		prefix := key + "." + strconv.Itoa(i) + "."
		m := params{}
		for k, v := range p {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				m[rest] = v
			}
		}
		if len(m) == 0 {
			return out
		}
		out = append(out, m)
	}
}

// int returns the integer at key, def when it is absent.
func (p params) int(key string, def int) (int, error) {
	if !p.has(key) {
		return def, nil
	}
	n, err := strconv.Atoi(p.str(key))
	if err != nil {
		return 0, badRequest("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected an integer.", p.str(key), key)
	}
	return n, nil
}

func (p params) bool(key string) bool { return p.str(key) == "true" }

func (p params) require(keys ...string) error {
	for _, k := range keys {
		if p.str(k) == "" {
			return badRequest("MissingParameter", "The request must contain the parameter %s", k)
		}
	}
	return nil
}
