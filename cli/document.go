package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/nickel"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/taskserv"
	"github.com/provhq/prov/schemas"
)

// configFlags choose the configuration: the working directory's main.ncl / main.json, or -config FILE.
type configFlags struct {
	file string
}

func (c *configFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.file, "config", "", "configuration `FILE` (.ncl or .json); default main.ncl or main.json in the working directory")
}

// loadDocument loads and validates the configuration.
func (p *project) loadDocument(c configFlags) (*document.Document, diag.Diagnostics) {
	return p.readDocument(c, document.LoadOptions{Nickel: p.nickel})
}

// checkDocument loads the configuration for prov validate: a document with errors is returned too,
// its broken entries marked Invalid, so that the providers can check the others.
func (p *project) checkDocument(c configFlags) (*document.Document, diag.Diagnostics) {
	return p.readDocument(c, document.LoadOptions{Nickel: p.nickel, Partial: true})
}

func (p *project) readDocument(c configFlags, opts document.LoadOptions) (*document.Document, diag.Diagnostics) {
	path := p.dir
	if c.file != "" {
		path = c.file
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.dir, path)
		}
	}
	return document.Load(path, opts)
}

// openDocument opens the project and loads its configuration, printing any diagnostics; a configuration
// with errors ends the command.
func openDocument(f *cmdutil.Factory, cf configFlags) (*project, *document.Document, error) {
	p, err := openProject(f)
	if err != nil {
		return nil, nil, err
	}
	doc, diags := p.loadDocument(cf)
	p.printDiags(diags)
	if diags.HasErrors() {
		return nil, nil, cmdutil.SilentExit(cmdutil.ExitFailure)
	}
	return p, doc, nil
}

// nickel evaluates a .ncl configuration with prov's evaluator, or PROV_NICKEL's binary, with the schema
// library importable as "prov/…" and its Document contract applied (schemas.Export).
func (p *project) nickel(path string) ([]byte, map[string]diag.Pos, error) {
	return schemas.Export(path, nickel.Options{Stderr: p.f.IO.ErrOut, Binary: p.ws.Settings.NickelBinary()})
}

// relativize shows file names relative to the working directory, as the user typed them.
func relativize(ds diag.Diagnostics, dir string) diag.Diagnostics {
	for i := range ds {
		if rel, err := filepath.Rel(dir, ds[i].Pos.File); err == nil && filepath.IsAbs(ds[i].Pos.File) && !strings.HasPrefix(rel, "..") {
			ds[i].Pos.File = rel
		}
	}
	return ds
}

// providerConfigs turns the document's providers (declared and implied) into plan provider configs.
func providerConfigs(doc *document.Document) map[string]plan.ProviderConfig {
	out := map[string]plan.ProviderConfig{}
	for name, pc := range doc.Providers {
		out[name] = plan.ProviderConfig{Source: pc.Source, Version: pc.Version, Config: pc.Config}
	}
	for _, r := range doc.Resources {
		if _, ok := out[r.Provider]; !ok {
			out[r.Provider] = plan.ProviderConfig{Source: "builtin/" + r.Provider}
			if _, ok := taskserv.Name(r.Provider); ok {
				// A taskserv the document names: prov's builtin of that name, else a prov-taskserv-NAME
				// binary on the plugin search path.
				out[r.Provider] = plan.ProviderConfig{}
			}
		}
	}
	return out
}

// requirements lists the plugins a set of provider configs needs, for prov init.
func requirements(cfgs map[string]plan.ProviderConfig) []host.Requirement {
	var reqs []host.Requirement
	for _, name := range sortedKeys(cfgs) {
		cfg := cfgs[name]
		if ts, ok := taskserv.Name(name); ok {
			reqs = append(reqs, host.Requirement{Kind: host.Taskserv, Name: ts, Source: taskservSource(name, cfg), Version: cfg.Version})
			continue
		}
		reqs = append(reqs, host.Requirement{Kind: host.Provider, Name: name, Source: cfg.Source, Version: cfg.Version})
	}
	return reqs
}

// hostOptions are the plugin host's options for this project.
func (p *project) hostOptions() host.Options {
	search := p.ws.PluginPaths(p.ws.Settings)
	for _, d := range host.SearchPath(p.dir) {
		if !slices.Contains(search, d) {
			search = append(search, d)
		}
	}
	return host.Options{Dir: p.dir, SearchPath: search, Builtins: builtins.IDs(), ProvVersion: p.f.Version,
		Logger: p.f.Logger.Named("plugins"), SelfExe: selfExe(), TrustedKeys: p.ws.Settings.TrustedKeys()}
}

// selfExe is the binary that serves builtin plugins. PROV_SELF_EXE exists for tests that run the CLI
// in-process, where os.Executable is the test binary.
func selfExe() string { return os.Getenv("PROV_SELF_EXE") }

// openPlugins starts the plugin host and returns a provider source for cfgs. Close both when done.
func (p *project) openPlugins(cfgs map[string]plan.ProviderConfig) (*host.Host, *providerSource, error) {
	h, err := host.New(p.hostOptions())
	if err != nil {
		return nil, nil, err
	}
	servers := taskserv.NewServers(p.dir, sshOptions(p.ws.Settings.SSH()))
	src := newProviderSource(cfgs, func(ctx context.Context, name string, cfg plan.ProviderConfig) (plugins.Provider, error) {
		return p.launchWith(ctx, h, servers, name, cfg)
	}, p.secrets)
	return h, src, nil
}

// launch starts the plugin behind the provider name through h: a provider, or for "taskserv:X" the
// taskserv X behind the adapter that plans and applies its installs as resources.
func (p *project) launch(ctx context.Context, h *host.Host, name string, cfg plan.ProviderConfig) (plugins.Provider, error) {
	return p.launchWith(ctx, h, nil, name, cfg)
}

// launchWith is launch with the taskservs reaching servers through servers (shared SSH connections,
// closed with the last taskserv); nil gives the taskserv its own.
func (p *project) launchWith(ctx context.Context, h *host.Host, servers *taskserv.Servers, name string, cfg plan.ProviderConfig) (plugins.Provider, error) {
	if ts, ok := taskserv.Name(name); ok {
		t, err := h.Taskserv(ctx, ts, taskservSource(name, cfg), cfg.Version)
		if err != nil {
			return nil, err
		}
		if servers == nil {
			servers = taskserv.NewServers(p.dir, sshOptions(p.ws.Settings.SSH()))
		}
		return servers.Provider(t), nil
	}
	return h.Provider(ctx, name, cfg.Source, cfg.Version)
}

// taskservSource is the plugin source of the taskserv provider name: none (the builtin of that name,
// else a discovered binary) unless the configuration gives one; "builtin/taskserv:X", which a provider
// source falls back to, means the same.
func taskservSource(name string, cfg plan.ProviderConfig) string {
	if cfg.Source == "builtin/"+name {
		return ""
	}
	return cfg.Source
}

// printDiags writes diagnostics to stderr, errors in red on a terminal.
func (p *project) printDiags(ds diag.Diagnostics) {
	for _, d := range relativize(ds, p.dir) {
		line := d.String()
		if p.f.IO.Color {
			code := "31"
			if d.Severity == diag.Warning {
				code = "33"
			}
			line = "\x1b[" + code + "m" + line + "\x1b[0m"
		}
		fmt.Fprintln(p.f.IO.ErrOut, line)
	}
}
