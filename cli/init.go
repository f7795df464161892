package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins/host"
	"github.com/provhq/prov/plugins/taskserv"
)

func newCmdInit(f *cmdutil.Factory) *cobra.Command {
	var cf configFlags
	var upgrade bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Find the plugins the configuration needs and lock them in prov.lock.json",
		Long: `Find the provider plugins the configuration needs — builtin, or prov-provider-NAME binaries under
./.prov/plugins, $PROV_PLUGIN_PATH and $XDG_DATA_HOME/prov/plugins — and record each one's source, version
and SHA-256 in prov.lock.json. Later commands refuse a plugin binary whose hash changed; run
prov init -upgrade to accept new versions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, doc, err := openDocument(f, cf)
			if err != nil {
				return err
			}
			lock, err := host.Init(p.hostOptions(), requirements(providerConfigs(doc)), upgrade)
			if err != nil {
				return err
			}
			for _, key := range sortedKeys(lock.Plugins) {
				l := lock.Plugins[key]
				switch {
				case l.SHA256 != "":
					fmt.Fprintf(f.IO.Out, "- %s %s: %s %s (sha256 %s…)\n", l.Kind, l.Name, l.Source, l.Version, l.SHA256[:12])
				default:
					fmt.Fprintf(f.IO.Out, "- %s %s: %s (built into prov %s)\n", l.Kind, l.Name, l.Source, l.ProvVersion)
				}
			}
			fmt.Fprintln(f.IO.Out, "\nprov has been initialized: plugins are locked in prov.lock.json.")
			return nil
		},
	}
	cf.register(cmd.Flags())
	cmd.Flags().BoolVar(&upgrade, "upgrade", false, "accept newer plugin versions and changed binaries, and re-lock them")
	return cmd
}

func newCmdValidate(f *cmdutil.Factory) *cobra.Command {
	var cf configFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration: document, references and every provider's schema",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openProject(f)
			if err != nil {
				return err
			}
			doc, diags := p.checkDocument(cf)
			if doc != nil {
				diags = append(diags, p.validateWithProviders(cmd, doc)...)
			}
			if asJSON {
				out := map[string]any{"format_version": "1.0", "valid": !diags.HasErrors(),
					"error_count": len(diags.Errors()), "warning_count": len(diags) - len(diags.Errors()),
					"diagnostics": nonNil(relativize(diags, p.dir))}
				if err := writeJSON(f.IO.Out, out); err != nil {
					return err
				}
			} else {
				p.printDiags(diags)
				if !diags.HasErrors() {
					fmt.Fprintln(f.IO.Out, "Success! The configuration is valid.")
				}
			}
			if diags.HasErrors() {
				return cmdutil.SilentExit(cmdutil.ExitFailure)
			}
			return nil
		},
	}
	cf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")
	return cmd
}

func nonNil(ds diag.Diagnostics) diag.Diagnostics {
	if ds == nil {
		return diag.Diagnostics{}
	}
	return ds
}

// validateWithProviders asks each resource's provider to check its configuration. References are
// replaced by unknown values first: validation must not depend on what exists.
func (p *project) validateWithProviders(cmd *cobra.Command, doc *document.Document) diag.Diagnostics {
	ctx := cmd.Context()
	h, src, err := p.openPlugins(providerConfigs(doc))
	if err != nil {
		return diag.FromError(err)
	}
	defer h.Close()
	defer src.Close()
	unknown := func(addr string) (any, bool) {
		_, ok := doc.Resources[addr]
		return value.Unknown, ok
	}
	var (
		mu    sync.Mutex
		diags diag.Diagnostics
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, 10)
	for _, addr := range sortedKeys(doc.Resources) {
		r := doc.Resources[addr]
		if doc.Invalid[addr] {
			continue // its errors are reported already
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ds := p.validateResource(ctx, src, doc, r, unknown)
			mu.Lock()
			diags = append(diags, ds...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	diags = append(diags, taskserv.Order(ctx, doc, src)...)
	slices.SortStableFunc(diags, func(a, b diag.Diagnostic) int { return strings.Compare(a.Address, b.Address) })
	return diags
}

func (p *project) validateResource(ctx context.Context, src *providerSource, doc *document.Document, r *document.Resource, lookup func(string) (any, bool)) diag.Diagnostics {
	prov, err := src.Provider(ctx, r.Provider)
	if err != nil {
		return diag.FromError(err).WithAddress(r.Addr)
	}
	cfg, diags := document.Resolve(r.Config, lookup)
	if diags.HasErrors() {
		return diags.WithAddress(r.Addr)
	}
	ds, err := prov.ValidateConfig(ctx, r.Type, cfg)
	if err != nil {
		return diag.FromError(err).WithAddress(r.Addr)
	}
	return doc.ConfigDiagnostics(r.Addr, ds)
}
