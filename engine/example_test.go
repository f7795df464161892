package engine_test

import (
	"context"
	"fmt"
	"os"

	"github.com/provhq/prov/engine"
	"github.com/provhq/prov/internal/value"
	"github.com/provhq/prov/plan"
	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/plugins/pluginfake"
	"github.com/provhq/prov/state/local"
)

// An apply of two resources, the second referring to the first, with an in-memory provider and the
// local state backend.
func ExampleEngine_Apply() {
	dir, _ := os.MkdirTemp("", "prov-example-")
	defer os.RemoveAll(dir)
	cloud := pluginfake.New("fake", map[string]*plugins.ResourceSchema{
		"fake_thing": {Attributes: map[string]*plugins.Attribute{
			"name": pluginfake.Attr("required"), "peer": pluginfake.Attr("optional"),
		}},
	})
	backend := local.New(dir, local.Options{})
	e := &engine.Engine{
		Providers: plan.Providers{"fake": cloud},
		Backend:   backend,
		Hooks: engine.HookFuncs{Start: func(addr string, a plan.Action) {
			fmt.Println(addr+":", a)
		}},
	}
	ctx := context.Background()
	prior, _ := backend.Read(ctx)
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Lineage: prior.Lineage, Serial: prior.Serial,
		Changes: map[string]*plan.Change{
			"a": {Addr: "a", Type: "fake_thing", Provider: "fake", Action: plan.Create, After: value.Unknown,
				Config: map[string]any{"name": "a"}},
			"b": {Addr: "b", Type: "fake_thing", Provider: "fake", Action: plan.Create, After: value.Unknown,
				Config: map[string]any{"name": "b", "peer": "${a.id}"}, DependsOn: []string{"a"}},
		}}
	res, err := e.Apply(ctx, p, prior)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("added %d, serial %d, b.peer = %v\n", res.Added, res.State.Serial,
		res.State.Resource("b").Attributes.(map[string]any)["peer"])
	// Output:
	// a: create
	// b: create
	// added 2, serial 1, b.peer = fake-1
}
