package upcloud_test

import (
	"context"
	"strings"
	"testing"

	fake "github.com/provhq/prov/internal/fakecloud/upcloud"
	"github.com/provhq/prov/plugins/upcloud"
	"github.com/provhq/prov/sdk"
	"github.com/provhq/prov/sdk/plugintest"
)

// TestCredentials: basic auth or a bearer token, from the configuration or the environment, reach the
// API; wrong or missing ones are reported.
func TestCredentials(t *testing.T) {
	tests := []struct {
		name    string
		config  map[string]any
		env     map[string]string
		wantErr string
	}{
		{"password in config", map[string]any{"username": "ops", "password": "s3cret"}, nil, ""},
		{"token in config", map[string]any{"token": "ucat_good"}, nil, ""},
		{"password from env", nil, map[string]string{"UPCLOUD_USERNAME": "ops", "UPCLOUD_PASSWORD": "s3cret"}, ""},
		{"token from env", nil, map[string]string{"UPCLOUD_TOKEN": "ucat_good"}, ""},
		{"config wins over env", map[string]any{"username": "ops", "password": "s3cret"}, map[string]string{"UPCLOUD_USERNAME": "x", "UPCLOUD_PASSWORD": "y"}, ""},
		{"wrong password", map[string]any{"username": "ops", "password": "nope"}, nil, "AUTHENTICATION_FAILED"},
		{"wrong token", map[string]any{"token": "ucat_bad"}, nil, "AUTHENTICATION_FAILED"},
		{"none", nil, nil, "no UpCloud credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"UPCLOUD_USERNAME", "UPCLOUD_PASSWORD", "UPCLOUD_TOKEN", upcloud.EnvAPIURL} {
				t.Setenv(k, tt.env[k])
			}
			f := fake.Start(fake.Options{Username: "ops", Password: "s3cret", Token: "ucat_good", Transition: 1})
			t.Cleanup(f.Close)
			cfg := map[string]any{"endpoint": f.URL(), "poll_interval": "1ms"}
			for k, v := range tt.config {
				cfg[k] = v
			}
			var ds []string
			if tt.wantErr == "no UpCloud credentials" {
				// Configure itself fails, before any call.
				cds, err := sdk.NewProviderServer(upcloud.New()).Configure(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range cds {
					ds = append(ds, d.Summary)
				}
			} else {
				h := plugintest.New(t, upcloud.New(), cfg)
				r := h.Apply(h.Plan("upcloud_storage", nil, map[string]any{"title": "d", "zone": "fi-hel1", "size_gb": 1}))
				ds = r.Diagnostics
			}
			got := strings.Join(ds, "\n")
			if tt.wantErr == "" && got != "" || !strings.Contains(got, tt.wantErr) {
				t.Errorf("diagnostics %q, want %q", got, tt.wantErr)
			}
		})
	}
}
