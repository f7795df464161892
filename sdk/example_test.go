package sdk_test

import (
	"context"
	"fmt"

	"github.com/provhq/prov/plugins"
	"github.com/provhq/prov/sdk"
)

// A minimal provider: one resource type whose objects live in a map.
func Example() {
	greetings := map[string]string{}
	p := &sdk.Provider{
		Name:    "hello",
		Version: "0.1.0",
		Resources: map[string]*sdk.Resource{
			"hello_greeting": {
				Attributes: map[string]*sdk.Attribute{
					"name":     {Type: sdk.String, Required: true, ForceNew: true},
					"greeting": {Type: sdk.String, Optional: true, Default: "Hello", Validators: []sdk.Validator{sdk.OneOf("Hello", "Hi")}},
					"text":     {Type: sdk.String, Computed: true},
				},
				Create: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
					d.SetID(op.ID)
					d.Set("text", d.String("greeting")+", "+d.String("name")+"!")
					greetings[d.ID()] = d.String("text")
					return nil
				},
				Read: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
					text, ok := greetings[d.ID()]
					if !ok {
						return sdk.ErrNotFound
					}
					d.Set("text", text)
					return nil
				},
				Delete: func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
					delete(greetings, d.ID())
					return nil
				},
			},
		},
	}
	// In a plugin binary, main would call sdk.ServeProvider(p). Here we drive it in process.
	srv := sdk.NewProviderServer(p)
	ctx := context.Background()

	ds, _ := srv.ValidateConfig(ctx, "hello_greeting", map[string]any{"greeting": "Howdy"})
	fmt.Println(ds)

	config := map[string]any{"name": "world"}
	plan, _ := srv.Plan(ctx, plugins.PlanRequest{Type: "hello_greeting", Config: config})
	fmt.Println("planned text:", plan.Planned.(map[string]any)["text"])

	applied, _ := srv.Apply(ctx, plugins.ApplyRequest{Type: "hello_greeting", OperationID: "op-1",
		Planned: plan.Planned, Config: config}, nil)
	fmt.Println("text:", applied.New.(map[string]any)["text"])

	replan, _ := srv.Plan(ctx, plugins.PlanRequest{Type: "hello_greeting", Prior: applied.New,
		Config: map[string]any{"name": "prov"}})
	fmt.Println("replace because of:", replan.RequiresReplace)
	// Output:
	// error: greeting: must be one of "Hello", "Hi", got "Howdy"
	// error: name: missing required attribute
	// planned text: (known after apply)
	// text: Hello, world!
	// replace because of: [name]
}
