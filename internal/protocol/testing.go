package protocol

import (
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/provhq/prov/plugins"
)

// ServeTestProvider serves p through the real protocol (protobuf encoding, gRPC, go-plugin) inside the
// test process and returns the client side. Everything is torn down when the test ends.
func ServeTestProvider(t testing.TB, p plugins.Provider) plugins.Provider {
	t.Helper()
	return dispense(t, ProviderPluginName, &ProviderPlugin{Impl: p}).(plugins.Provider)
}

// ServeTestTaskserv is ServeTestProvider for a taskserv; the Exec passed to each call travels through
// the go-plugin broker as it does between processes.
func ServeTestTaskserv(t testing.TB, ts plugins.Taskserv) plugins.Taskserv {
	t.Helper()
	return dispense(t, TaskservPluginName, &TaskservPlugin{Impl: ts}).(plugins.Taskserv)
}

func dispense(t testing.TB, name string, p plugin.Plugin) any {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, plugin.PluginSet{name: p})
	t.Cleanup(func() { _ = client.Close() }) // Close shuts the server down through go-plugin's controller
	raw, err := client.Dispense(name)
	if err != nil {
		t.Fatalf("protocol: dispense %s: %v", name, err)
	}
	return raw
}
