package protocol

import (
	"context"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	protov1 "github.com/provhq/prov/internal/protocol/v1"
	"github.com/provhq/prov/plugins"
)

// Handshake is the go-plugin handshake every prov plugin and the host share. ProtocolVersion is
// plugins.ProtocolVersion; the magic cookie only keeps a plugin binary from being run by hand by mistake.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  plugins.ProtocolVersion,
	MagicCookieKey:   "PROV_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "5f0c1a3e7b9d4c2a8e6f1b3d5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c",
}

// The names under which a plugin binary serves its one service.
const (
	ProviderPluginName = "provider"
	TaskservPluginName = "taskserv"
)

// ProviderPlugin is the go-plugin GRPCPlugin of a provider: Impl on the plugin side, nothing on the host.
type ProviderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl plugins.Provider
}

var _ plugin.GRPCPlugin = (*ProviderPlugin)(nil)

// GRPCServer registers the Provider service for Impl.
func (p *ProviderPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	protov1.RegisterProviderServer(s, NewProviderServer(p.Impl))
	return nil
}

// GRPCClient returns a plugins.Provider calling the plugin on conn.
func (p *ProviderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewProviderClient(conn), nil
}

// TaskservPlugin is the go-plugin GRPCPlugin of a taskserv: Impl on the plugin side, nothing on the host.
type TaskservPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl plugins.Taskserv
}

var _ plugin.GRPCPlugin = (*TaskservPlugin)(nil)

// GRPCServer registers the Taskserv service for Impl.
func (p *TaskservPlugin) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	protov1.RegisterTaskservServer(s, NewTaskservServer(p.Impl, b))
	return nil
}

// GRPCClient returns a plugins.Taskserv calling the plugin on conn.
func (p *TaskservPlugin) GRPCClient(_ context.Context, b *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewTaskservClient(conn, b), nil
}

// PluginSet is what the host passes to go-plugin: both kinds, under protocol version 1.
func PluginSet() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		plugins.ProtocolVersion: {
			ProviderPluginName: &ProviderPlugin{},
			TaskservPluginName: &TaskservPlugin{},
		},
	}
}

// ServeProvider serves p as a prov provider plugin and does not return: it is what a plugin binary's
// main calls (sdk.ServeProvider calls it). The process exits when the host ends it or goes away.
func ServeProvider(p plugins.Provider) {
	serve(plugin.PluginSet{ProviderPluginName: &ProviderPlugin{Impl: p}})
}

// ServeTaskserv serves t as a prov taskserv plugin and does not return.
func ServeTaskserv(t plugins.Taskserv) {
	serve(plugin.PluginSet{TaskservPluginName: &TaskservPlugin{Impl: t}})
}

func serve(ps plugin.PluginSet) {
	go exitWhenOrphaned(os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{plugins.ProtocolVersion: ps},
		GRPCServer:       plugin.DefaultGRPCServer,
		// go-plugin's host side parses JSON log lines on stderr into its own logger.
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "plugin", Level: hclog.Trace, Output: os.Stderr, JSONFormat: true,
		}),
	})
	os.Exit(0)
}

// exitWhenOrphaned ends the plugin once its parent (prov) has gone, even when prov was killed with no
// chance to end its plugins: the parent pid changes when the process is re-parented.
func exitWhenOrphaned(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(2)
		}
	}
}
