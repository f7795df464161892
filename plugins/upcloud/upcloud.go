// Package upcloud is prov's first-party "upcloud" provider, built with the sdk package on
// upcloud-go-api v8: servers (upcloud_server, the "upcloud" server: plan, zone, hostname, disks cloned
// from a template, networking, SSH keys, labels, user data), storages, private networks and server
// firewall rules.
//
// Credentials come from the provider configuration (username and password, or token — either may be
// a {"$secret": …}) or from UPCLOUD_USERNAME/UPCLOUD_PASSWORD or UPCLOUD_TOKEN; endpoint (or
// UPCLOUD_API_URL, or the SDK's UPCLOUD_DEBUG_API_BASE_URL) points the provider at another API, such as
// prov's fake for local runs. Creates are idempotent: every object is made with the label
// prov-op=<operation id>, so an apply that died mid-create finds its object (Read by operation id)
// instead of making a second one. Throttled calls (HTTP 429) are retried with exponential backoff;
// state changes are polled at poll_interval, not the SDK's fixed 5 s. Errors carry UpCloud's own code
// ("CreateServer: SERVER_CREATING_LIMIT_REACHED: …"). Plans carry a monthly cost estimate from the
// dated price table in prices.json.
package upcloud

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/client"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/service"

	"github.com/provhq/prov/sdk"
)

// Version is the upcloud provider's version.
const Version = "0.1.0"

// OperationLabel is the label that records which prov operation created an object, so a create whose
// outcome is in doubt can be found again.
const OperationLabel = "prov-op"

// EnvAPIURL overrides the API base URL when the configuration has no endpoint.
const EnvAPIURL = "UPCLOUD_API_URL"

const description = `UpCloud: servers (upcloud_server), storages, private networks and server firewall rules,
through upcloud-go-api v8.

Credentials: ` + "`username` and `password`, or `token`" + ` (each may be a $secret), else the environment's
UPCLOUD_USERNAME and UPCLOUD_PASSWORD, or UPCLOUD_TOKEN. ` + "`endpoint`" + ` (or UPCLOUD_API_URL) points the
provider at another API base URL, such as prov's fake for local runs.

Every object is made with the label ` + "`prov-op=<operation id>`" + `: an apply that died mid-create finds
its object with ` + "`prov apply -resume`" + ` instead of making a second one. Throttled calls are retried
with backoff. Plans estimate each server's and storage's monthly cost from a dated price table.`

// New returns the upcloud provider's declaration; sdk.ServeProvider or sdk.NewProviderServer runs it.
func New() *sdk.Provider {
	return &sdk.Provider{
		Name:        "upcloud",
		Version:     Version,
		Description: description,
		Config: map[string]*sdk.Attribute{
			"username": {Type: sdk.String, Optional: true, Description: "API user name. Default: UPCLOUD_USERNAME."},
			"password": {Type: sdk.String, Optional: true, Sensitive: true, Description: "API password. Default: UPCLOUD_PASSWORD."},
			"token":    {Type: sdk.String, Optional: true, Sensitive: true, Description: "API token (ucat_…), instead of a user name and password. Default: UPCLOUD_TOKEN."},
			"endpoint": {Type: sdk.String, Optional: true, Validators: []sdk.Validator{sdk.Regexp(`^https?://`)},
				Description: "API base URL, without /1.3. Default: UPCLOUD_API_URL, else https://api.upcloud.com."},
			"max_retries": {Type: sdk.Number, Optional: true, Default: 8, Validators: []sdk.Validator{sdk.Between(0, 100)},
				Description: "Retries of a throttled call (HTTP 429), with exponential backoff."},
			"retry_max_backoff": {Type: sdk.String, Optional: true, Default: "20s", Validators: []sdk.Validator{sdk.Duration},
				Description: "Longest wait between two retries."},
			"poll_interval": {Type: sdk.String, Optional: true, Default: "2s", Validators: []sdk.Validator{sdk.Duration},
				Description: "How often to look at a server or storage while waiting for a state change."},
			"timeout": {Type: sdk.String, Optional: true, Default: "10m", Validators: []sdk.Validator{sdk.Duration},
				Description: "Longest wait for a server or storage to reach a state, and for one API call."},
		},
		Configure:    configure,
		Capabilities: []string{"read_by_operation_id", "cost_estimate"},
		Resources: map[string]*sdk.Resource{
			"upcloud_server":         serverResource(),
			"upcloud_storage":        storageResource(),
			"upcloud_network":        networkResource(),
			"upcloud_firewall_rules": firewallResource(),
		},
	}
}

// apiClient is what Configure returns: the UpCloud service and the provider's settings.
type apiClient struct {
	svc     *service.Service
	poll    time.Duration
	timeout time.Duration
}

func configure(_ context.Context, cfg *sdk.Data) (any, error) {
	maxBackoff, _ := time.ParseDuration(cfg.String("retry_max_backoff"))
	poll, _ := time.ParseDuration(cfg.String("poll_interval"))
	timeout, _ := time.ParseDuration(cfg.String("timeout"))
	user := cmp.Or(cfg.String("username"), os.Getenv(client.EnvUsername))
	pass := cmp.Or(cfg.String("password"), os.Getenv(client.EnvPassword))
	token := cmp.Or(cfg.String("token"), os.Getenv(client.EnvToken))
	var auth client.ConfigFn
	switch {
	case cfg.String("token") != "" || token != "" && user == "":
		auth = client.WithBearerAuth(token)
	case user != "" && pass != "":
		auth = client.WithBasicAuth(user, pass)
	default:
		return nil, sdk.AttrErrorf("username", "no UpCloud credentials: set username and password or token here, "+
			"or UPCLOUD_USERNAME and UPCLOUD_PASSWORD, or UPCLOUD_TOKEN")
	}
	hc := &http.Client{Timeout: timeout, Transport: &retrying{
		next: http.DefaultTransport, attempts: cfg.Int("max_retries") + 1, maxBackoff: maxBackoff}}
	opts := []client.ConfigFn{client.WithHTTPClient(hc), auth}
	if u := cmp.Or(cfg.String("endpoint"), os.Getenv(EnvAPIURL)); u != "" {
		opts = append(opts, client.WithBaseURL(u))
	}
	return &apiClient{svc: service.New(client.New("", "", opts...)), poll: poll, timeout: timeout}, nil
}

func clientOf(op *sdk.Op) (*apiClient, error) {
	c, ok := op.Client.(*apiClient)
	if !ok {
		return nil, errors.New("the upcloud provider is not configured")
	}
	return c, nil
}

// retrying is an http.RoundTripper that retries a throttled request (HTTP 429, which UpCloud answers
// before doing anything) with exponential backoff, honouring Retry-After.
type retrying struct {
	next       http.RoundTripper
	attempts   int
	maxBackoff time.Duration
}

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt >= t.attempts {
			return resp, err
		}
		wait := min(backoff, t.maxBackoff)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
		backoff *= 2
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		} else if req.Body != nil && req.Body != http.NoBody {
			return nil, errors.New("cannot retry a request whose body cannot be read again")
		}
	}
}

// apiError words an UpCloud error as the call, UpCloud's own code and message:
// "CreateServer: STORAGE_NOT_FOUND: The storage … does not exist." (HTTP status as detail).
func apiError(call string, err error) error {
	var p *upcloud.Problem
	if !errors.As(err, &p) {
		return fmt.Errorf("%s: %w", call, err)
	}
	return &codedError{code: p.ErrorCode(), msg: fmt.Sprintf("%s: %s: %s\nHTTP status %d", call, p.ErrorCode(), p.Title, p.Status), err: err}
}

// codedError keeps UpCloud's error code while reading well.
type codedError struct {
	code, msg string
	err       error
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.err }

// errorCode returns UpCloud's error code of err, "" when it has none.
func errorCode(err error) string {
	var p *upcloud.Problem
	if errors.As(err, &p) {
		return p.ErrorCode()
	}
	return ""
}

// wait polls check every poll interval until it reports done, fails, or the timeout passes.
func (c *apiClient) wait(ctx context.Context, what string, check func(ctx context.Context) (bool, error)) error {
	deadline := time.Now().Add(c.timeout)
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", c.timeout, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(c.poll):
		}
	}
}

// labelsOf returns labels as a map without the operation label, nil when empty.
func labelsOf(ls []upcloud.Label) map[string]any {
	out := map[string]any{}
	for _, l := range ls {
		if l.Key != OperationLabel {
			out[l.Key] = l.Value
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// setLabels sets d's "labels" to ls without prov's own labels, unsetting it when none are left.
func setLabels(d *sdk.Data, ls []upcloud.Label) {
	m := labelsOf(ls)
	delete(m, InputsLabel)
	if len(m) == 0 {
		d.Delete("labels")
		return
	}
	d.Set("labels", m)
}

// operationOf returns the value of the operation label, "" without one.
func operationOf(ls []upcloud.Label) string {
	for _, l := range ls {
		if l.Key == OperationLabel {
			return l.Value
		}
	}
	return ""
}

// labelList is want as UpCloud labels, sorted by key, with the operation label opID when set.
func labelList(want map[string]string, opID string) []upcloud.Label {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]upcloud.Label, 0, len(keys)+1)
	for _, k := range keys {
		out = append(out, upcloud.Label{Key: k, Value: want[k]})
	}
	if opID != "" {
		out = append(out, upcloud.Label{Key: OperationLabel, Value: opID})
	}
	return out
}

// labelKey checks a label key as UpCloud does.
func labelKeys(v any) error {
	m, _ := v.(map[string]any)
	var buf bytes.Buffer
	for k := range m {
		switch {
		case k == OperationLabel:
			fmt.Fprintf(&buf, "label %q is prov's own; ", k)
		case len(k) == 0 || len(k) > 32 || k[0] == '_':
			fmt.Fprintf(&buf, "label key %q: want 1 to 32 characters, not starting with _; ", k)
		}
	}
	if buf.Len() > 0 {
		return errors.New(string(bytes.TrimSuffix(buf.Bytes(), []byte("; "))))
	}
	return nil
}
