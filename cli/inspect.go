package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/schemagen"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/taskserv"
	"github.com/provhq/prov/state"
)

func newCmdGraph(f *cmdutil.Factory) *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "graph [PLANFILE]",
		Short: "Print the dependency graph in DOT (render it with: prov graph | dot -Tsvg > graph.svg)",
		Long: `Print the dependency graph of the configuration, or of a saved plan with each node coloured by its
action, in Graphviz DOT. An edge points from a resource to what it depends on.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openProject(f)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				pl, err := plan.ReadFile(args[0], p.codec)
				if err != nil {
					return fmt.Errorf("read plan %s: %w", args[0], err)
				}
				nodes := map[string]graphNode{}
				for addr, c := range pl.Changes {
					nodes[addr] = graphNode{deps: c.DependsOn, action: c.Action, label: c.Type}
				}
				return writeDOT(f.IO.Out, nodes)
			}
			doc, diags := p.loadDocument(cf)
			p.printDiags(diags)
			if diags.HasErrors() {
				return cmdutil.SilentExit(cmdutil.ExitFailure)
			}
			nodes := map[string]graphNode{}
			for addr, r := range doc.Resources {
				deps := append([]string(nil), r.DependsOn...)
				for _, ref := range r.References {
					deps = append(deps, ref.Addr)
				}
				nodes[addr] = graphNode{deps: deps, action: plan.NoOp, label: r.Type}
			}
			return writeDOT(f.IO.Out, nodes)
		},
	}
	cf.register(cmd.Flags())
	return cmd
}

type graphNode struct {
	deps   []string
	action plan.Action
	label  string
}

// writeDOT writes nodes as a Graphviz digraph, deterministically.
func writeDOT(w io.Writer, nodes map[string]graphNode) error {
	var b strings.Builder
	b.WriteString("digraph prov {\n  rankdir = \"RL\";\n  node [shape = box, fontname = \"Helvetica\"];\n")
	colors := map[plan.Action]string{plan.Create: "#2da44e", plan.Update: "#bf8700", plan.Delete: "#cf222e",
		plan.DeleteThenCreate: "#8250df", plan.CreateThenDelete: "#8250df", plan.Read: "#0969da"}
	for _, addr := range sortedKeys(nodes) {
		n := nodes[addr]
		attrs := fmt.Sprintf("label = %s", strconv.Quote(addr+"\n"+n.label))
		if c, ok := colors[n.action]; ok {
			attrs += fmt.Sprintf(", color = %q, fontcolor = %q", c, c)
		}
		fmt.Fprintf(&b, "  %s [%s];\n", strconv.Quote(addr), attrs)
	}
	for _, addr := range sortedKeys(nodes) {
		seen := map[string]bool{}
		for _, d := range nodes[addr].deps {
			if _, ok := nodes[d]; !ok || seen[d] {
				continue
			}
			seen[d] = true
			fmt.Fprintf(&b, "  %s -> %s;\n", strconv.Quote(addr), strconv.Quote(d))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func newCmdProviders(f *cmdutil.Factory) *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:   "providers",
		Short: "List the providers the configuration uses, and how they are locked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, doc, err := openDocument(f, cf)
			if err != nil {
				return err
			}
			cfgs := providerConfigs(doc)
			h, src, err := p.openPlugins(cfgs)
			if err != nil {
				return err
			}
			defer h.Close()
			defer src.Close()
			users := map[string][]string{}
			for _, addr := range sortedKeys(doc.Resources) {
				r := doc.Resources[addr]
				users[r.Provider] = append(users[r.Provider], addr)
			}
			fmt.Fprintln(f.IO.Out, "Providers required by this configuration:")
			for _, name := range sortedKeys(cfgs) {
				cfg := cfgs[name]
				lock, key, source := "not locked: run prov init", "provider/"+name, cfg.Source
				if ts, ok := taskserv.Name(name); ok {
					key = "taskserv/" + ts
					if source = taskservSource(name, cfg); source == "" {
						source = "builtin or plugin path"
					}
				}
				if l := h.Lock().Plugins[key]; l != nil {
					lock = "locked " + l.Source
					if l.Version != "" {
						lock += " " + l.Version
					}
					if l.SHA256 != "" {
						lock += " sha256 " + l.SHA256[:12] + "…"
					}
				}
				fmt.Fprintf(f.IO.Out, "├── provider %s (%s) — %s — %d resource(s)\n", name, source, lock, len(users[name]))
			}
			return nil
		},
	}
	cf.register(cmd.Flags())
	cmd.AddCommand(newCmdProvidersSchema(f))
	return cmd
}

func newCmdProvidersSchema(f *cmdutil.Factory) *cobra.Command {
	var cf configFlags
	var asJSON, asNickel bool
	cmd := &cobra.Command{
		Use:   "schema -json | -nickel",
		Short: "Print the schemas of the configuration's providers, as JSON or as Nickel contracts",
		Long: `Print the schemas of the configuration's providers (run prov init first).

With -json, the schemas as JSON. With -nickel, a Nickel file whose value holds one contract per
resource type, keyed by type name, with each attribute's type, whether it is required, its default and
its documentation. Save it and use a contract on a resource's config:

  prov providers schema -nickel > providers.ncl
  config | (import "providers.ncl").acme_bucket = { … }

The contracts accept references and secrets wherever a value can go, like prov's own schema library,
which they import as "prov/lib.ncl".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON == asNickel {
				return errUsage(cmd, "prov providers schema needs one of -json and -nickel")
			}
			p, doc, err := openDocument(f, cf)
			if err != nil {
				return err
			}
			schemas, err := p.providerSchemas(cmd, providerConfigs(doc))
			if err != nil {
				return err
			}
			if asNickel {
				var list []*plugins.ProviderSchema
				for _, name := range sortedKeys(schemas) {
					list = append(list, schemas[name])
				}
				_, err := f.IO.Out.Write(schemagen.Contracts(list...))
				return err
			}
			return writeJSON(f.IO.Out, map[string]any{"format_version": "1.0", "provider_schemas": schemas})
		},
	}
	cf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")
	cmd.Flags().BoolVar(&asNickel, "nickel", false, "Nickel contracts, one per resource type")
	return cmd
}

// providerSchemas starts each provider (unconfigured) and returns its schema, by provider name.
func (p *project) providerSchemas(cmd *cobra.Command, cfgs map[string]plan.ProviderConfig) (map[string]*plugins.ProviderSchema, error) {
	h, _, err := p.openPlugins(cfgs)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	out := map[string]*plugins.ProviderSchema{}
	for _, name := range sortedKeys(cfgs) {
		cfg := cfgs[name]
		prov, err := p.launch(cmd.Context(), h, name, cfg)
		if err != nil {
			return nil, err
		}
		schema, diags, err := prov.Schema(cmd.Context())
		if err == nil {
			err = diags.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("provider %s: schema: %w", name, err)
		}
		out[name] = schema
	}
	return out, nil
}

func newCmdImport(f *cmdutil.Factory) *cobra.Command {
	var cf configFlags
	var lf lockFlags
	cmd := &cobra.Command{
		Use:   "import ADDRESS ID",
		Short: "Bring an existing object under management at ADDRESS",
		Long: `Read the existing object ID from the provider of the resource declared at ADDRESS and record it in
the state. Run prov plan afterwards to see how it differs from the configuration.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, id := args[0], args[1]
			ctx := cmd.Context()
			p, doc, err := openDocument(f, cf)
			if err != nil {
				return err
			}
			r, ok := doc.Resources[addr]
			if !ok {
				return fmt.Errorf("import: no resource %q is declared in the configuration; declare it first, then import", addr)
			}
			s, err := p.begin(ctx, lf, "import", false)
			if err != nil {
				return err
			}
			defer s.close()
			if s.prior.Resource(addr) != nil {
				return fmt.Errorf("import: %s is already managed; to import another object there, first run prov state rm %s", addr, addr)
			}
			if err := s.startPlugins(providerConfigs(doc)); err != nil {
				return err
			}
			prov, err := s.src.Provider(ctx, r.Provider)
			if err != nil {
				return err
			}
			resp, err := prov.Import(ctx, plugins.ImportRequest{Type: r.Type, ID: id})
			if err != nil {
				return fmt.Errorf("import %s: %w", addr, err)
			}
			if resp.Diagnostics.HasErrors() {
				p.printDiags(resp.Diagnostics.WithAddress(addr))
				return cmdutil.SilentExit(cmdutil.ExitFailure)
			}
			next := s.prior.Clone()
			next.SetResource(addr, &state.Resource{Type: r.Type, Provider: r.Provider, Attributes: resp.State,
				Sensitive: resp.Sensitive, Dependencies: importDeps(r)})
			next.Serial = s.prior.NextSerial()
			if err := p.backend.Write(ctx, next); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "%s: Import prepared and recorded in the state (id %s).\nRun prov plan to compare it with the configuration.\n", addr, id)
			return nil
		},
	}
	cf.register(cmd.Flags())
	lf.register(cmd.Flags())
	return cmd
}

func importDeps(r *document.Resource) []string {
	deps := append([]string(nil), r.DependsOn...)
	for _, ref := range r.References {
		deps = append(deps, ref.Addr)
	}
	return deps
}
