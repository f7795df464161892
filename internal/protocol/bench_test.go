package protocol

import (
	"context"
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/provhq/prov/plugins"
)

// pluginConn serves p over go-plugin gRPC in process and returns the client and the server, so a test
// can stop the server under the client.
func pluginConn(t testing.TB, p plugins.Provider) (plugins.Provider, *plugin.GRPCServer) {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, plugin.PluginSet{ProviderPluginName: &ProviderPlugin{Impl: p}})
	t.Cleanup(func() { _ = client.Close() }) // Close shuts the server down through go-plugin's controller
	raw, err := client.Dispense(ProviderPluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(plugins.Provider), server
}

// BenchmarkApply measures a no-op Apply through the real protocol in one process, 100 callers at once
// per GOMAXPROCS (b.SetParallelism), the shape of a large apply against one plugin.
func BenchmarkApply(b *testing.B) {
	p := ServeTestProvider(b, &noopProvider{})
	req := plugins.ApplyRequest{Type: "fake_thing", OperationID: "op", Planned: map[string]any{"id": "x", "n": 1.0}, Config: map[string]any{"n": 1.0}}
	b.SetParallelism(50)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Apply(context.Background(), req, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// noopProvider answers Apply with the planned state and records nothing.
type noopProvider struct{ fakeProvider }

func (*noopProvider) Apply(_ context.Context, req plugins.ApplyRequest, _ func(plugins.Progress)) (*plugins.ApplyResponse, error) {
	return &plugins.ApplyResponse{New: req.Planned}, nil
}
