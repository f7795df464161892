package plan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/document"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/pluginfake"
	"github.com/provhq/prov/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeLocal is the provider the test cases plan against.
func fakeLocal() *pluginfake.Provider {
	a := pluginfake.Attr
	dynamic := &plugins.Attribute{Type: plugins.Type{Kind: plugins.Dynamic}, Optional: true}
	return pluginfake.New("local", map[string]*plugins.ResourceSchema{
		"local_file": {Attributes: map[string]*plugins.Attribute{
			"path": a("required", "force_new"), "content": a("optional"), "mode": a("optional"),
		}},
		"local_data": {Attributes: map[string]*plugins.Attribute{
			"input": dynamic, "output": a("computed"),
		}},
		"local_secret": {Attributes: map[string]*plugins.Attribute{
			"value": a("optional", "sensitive"),
		}},
		"local_lookup": {DataSource: true, Attributes: map[string]*plugins.Attribute{
			"name": a("optional"), "result": a("computed"),
		}},
	})
}

// TestMake runs testdata/make/*.txtar. Each case has main.json (the document), optionally state.json
// (the prior state, also what the fake provider holds) and options (one per line: "target ADDR",
// "replace ADDR", "destroy", "no-refresh", "drift ADDR {json attributes}", "gone ADDR", "read-error ADDR",
// "secrets"), and "want",
// the plan as text (or the diagnostics), rewritten by -update.
func TestMake(t *testing.T) {
	files, _ := filepath.Glob("testdata/make/*.txtar")
	if len(files) == 0 {
		t.Fatal("no test cases")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string][]byte{}
			for _, f := range ar.Files {
				sections[f.Name] = f.Data
			}
			got := runCase(t, sections)
			if *update {
				var files []txtar.File
				for _, f := range ar.Files {
					if f.Name != "want" {
						files = append(files, f)
					}
				}
				ar.Files = append(files, txtar.File{Name: "want", Data: []byte(got)})
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := sections["want"]
			if !ok {
				t.Fatal("no want section; run with -update")
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func runCase(t *testing.T, sections map[string][]byte) string {
	t.Helper()
	doc, ds := document.Parse(sections["main.json"], "main.json", nil)
	if ds.HasErrors() {
		return "document:\n" + ds.String() + "\n"
	}
	prior := &state.State{Resources: map[string]*state.Resource{}}
	if data, ok := sections["state.json"]; ok {
		var err error
		if prior, err = state.Decode(data, "state.json"); err != nil {
			t.Fatal(err)
		}
	}
	local := fakeLocal()
	for _, r := range prior.Resources {
		local.Put(r.Attributes.(map[string]any))
	}
	var opts Options
	sc := bufio.NewScanner(bytes.NewReader(sections["options"]))
	for sc.Scan() {
		word, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch word {
		case "":
		case "target":
			opts.Targets = append(opts.Targets, arg)
		case "replace":
			opts.Replace = append(opts.Replace, arg)
		case "destroy":
			opts.Destroy = true
		case "no-refresh":
			opts.SkipRefresh = true
		case "secrets":
			opts.Secrets = fakeSecrets{}
		case "drift":
			addr, attrs, _ := strings.Cut(arg, " ")
			var v map[string]any
			if err := json.Unmarshal([]byte(attrs), &v); err != nil {
				t.Fatalf("drift %s: %v", addr, err)
			}
			v["id"] = prior.Resources[addr].Attributes.(map[string]any)["id"]
			local.Put(v)
		case "read-error":
			id := prior.Resources[arg].Attributes.(map[string]any)["id"]
			local.ReadFunc = func(ctx context.Context, req plugins.ReadRequest) (*plugins.ReadResponse, error) {
				if req.Current.(map[string]any)["id"] == id {
					return &plugins.ReadResponse{Diagnostics: diag.Diagnostics{diag.Errorf("", "permission denied")}}, nil
				}
				return local.Default().Read(ctx, req)
			}
		case "gone":
			local.Remove(prior.Resources[arg].Attributes.(map[string]any)["id"].(string))
		default:
			t.Fatalf("unknown option %q", word)
		}
	}
	p, ds := Make(context.Background(), doc, prior, Providers{"local": local}, opts)
	if ds.HasErrors() {
		return "errors:\n" + ds.String() + "\n"
	}
	var b strings.Builder
	if len(ds) > 0 {
		fmt.Fprintf(&b, "warnings:\n%s\n", ds)
	}
	renderPlan(t, &b, p, doc)
	// The plan survives its file format.
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("s3cret")) {
		t.Errorf("the plan file holds a secret:\n%s", data)
	}
	back, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var again strings.Builder
	renderPlan(t, &again, back, doc)
	if again.String() != b.String() {
		t.Errorf("plan differs after a trip through the plan file:\n%s", again.String())
	}
	fmt.Fprintf(&b, "refresh reads: %d\n", local.Calls("Read"))
	return b.String()
}

func renderPlan(t *testing.T, b *strings.Builder, p *Plan, doc *document.Document) {
	t.Helper()
	for _, addr := range slices.Sorted(maps.Keys(p.Changes)) {
		c := p.Changes[addr]
		sym := "."
		if c.Action != NoOp {
			sym = string(rune(c.Action))
		}
		fmt.Fprintf(b, "%s %s %s (%s, %s)", sym, c.Action, addr, c.Type, c.Provider)
		if c.Reason != "" {
			fmt.Fprintf(b, ": %s", c.Reason)
		}
		b.WriteString("\n")
		if c.Action != NoOp && c.Action != Create {
			fmt.Fprintf(b, "    before: %s\n", show(c.Before, c.BeforeSensitive))
		}
		fmt.Fprintf(b, "    after:  %s\n", show(c.After, c.AfterSensitive))
		if r := doc.Resources[addr]; r != nil && c.Config != nil && !value.Equal(c.Config, r.Config) {
			fmt.Fprintf(b, "    config: %s (to apply, not as written)\n", show(c.Config, nil))
		}
		if len(c.ReplacePaths) > 0 {
			fmt.Fprintf(b, "    replace: %v\n", c.ReplacePaths)
		}
		if len(c.DependsOn) > 0 {
			fmt.Fprintf(b, "    depends on: %s\n", strings.Join(c.DependsOn, ", "))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Outputs)) {
		o := p.Outputs[name]
		var sens []value.Path
		if o.Sensitive {
			sens = []value.Path{nil}
		}
		fmt.Fprintf(b, "output %s: %s %s -> %s\n", name, o.Action, show(o.Before, sens), show(o.After, sens))
	}
	g, err := p.Graph()
	if err != nil {
		t.Fatal(err)
	}
	order, _ := g.Sort()
	fmt.Fprintf(b, "walk order: %s\n", strings.Join(order, ", "))
	s := p.Summary()
	fmt.Fprintf(b, "summary: %d to add, %d to change, %d to destroy (%d replaced), changes=%v\n", s.Add, s.Change, s.Destroy, s.Replace, p.HasChanges())
}

// fakeSecrets resolves {"$secret": NAME} to "s3cret-NAME".
type fakeSecrets struct{}

func (fakeSecrets) Resolve(v any, at string) (any, []value.Path, diag.Diagnostics) {
	var paths []value.Path
	var ds diag.Diagnostics
	value.Walk(v, func(p value.Path, x any) bool {
		m, ok := x.(map[string]any)
		if !ok || len(m) != 1 || m["$secret"] == nil {
			return true
		}
		name, _ := m["$secret"].(string)
		if name == "" {
			ds = append(ds, diag.Errorf(at+"."+p.String(), "bad secret reference"))
			return false
		}
		v, _ = value.Set(v, p, "s3cret-"+name)
		paths = append(paths, slices.Clone(p))
		return false
	})
	return v, paths, ds
}

// show renders v as JSON with unknown values as "(known after apply)" and sensitive ones hidden.
func show(v any, sensitive []value.Path) string {
	for _, p := range sensitive {
		if x, ok := value.Get(v, p); ok && x != nil {
			v, _ = value.Set(v, p, "(sensitive)")
		}
	}
	v = markUnknown(v)
	data, _ := json.Marshal(v)
	return string(data)
}

func markUnknown(v any) any {
	switch c := v.(type) {
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = markUnknown(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = markUnknown(e)
		}
		return out
	}
	if value.IsUnknown(v) {
		return "(known after apply)"
	}
	return v
}

// BenchmarkMakeNoChange plans a no-change plan of n resources in the fan-out shape of `make bench`
// (resource i depends on resource i/10 through a reference) against the in-memory provider.
func BenchmarkMakeNoChange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			doc, prior, local := fanOut(b, n)
			src := Providers{"local": local}
			for b.Loop() {
				p, ds := Make(context.Background(), doc, prior, src, Options{})
				if ds.HasErrors() {
					b.Fatal(ds)
				}
				if p.HasChanges() {
					b.Fatal("changes in a no-change plan")
				}
			}
		})
	}
}

func fanOut(tb testing.TB, n int) (*document.Document, *state.State, *pluginfake.Provider) {
	resources := map[string]any{}
	prior := &state.State{Lineage: "bench", Resources: map[string]*state.Resource{}}
	local := fakeLocal()
	for i := range n {
		addr := fmt.Sprintf("data.r%d", i)
		cfg := map[string]any{"input": fmt.Sprintf("value %d", i)}
		attrs := map[string]any{"id": fmt.Sprintf("id-%d", i), "input": cfg["input"], "output": fmt.Sprintf("out-%d", i)}
		var deps []string
		if i > 0 {
			parent := fmt.Sprintf("data.r%d", i/10)
			cfg["input"] = fmt.Sprintf("child of ${%s.output}", parent)
			attrs["input"] = fmt.Sprintf("child of out-%d", i/10)
			deps = []string{parent}
		}
		resources[addr] = map[string]any{"type": "local_data", "config": cfg}
		prior.Resources[addr] = &state.Resource{Type: "local_data", Provider: "local", Attributes: attrs, Dependencies: deps}
		local.Put(attrs)
	}
	data, err := json.Marshal(map[string]any{"prov": "1", "resources": resources})
	if err != nil {
		tb.Fatal(err)
	}
	doc, ds := document.Parse(data, "bench.json", nil)
	if ds.HasErrors() {
		tb.Fatal(ds)
	}
	return doc, prior, local
}
