package aws

import (
	"flag"
	"testing"

	"github.com/provhq/prov/sdk/plugintest"
)

var update = flag.Bool("update", false, "rewrite README.md from the schema")

// README.md is the provider's reference, generated from its declaration; -update rewrites it.
func TestReadme(t *testing.T) { plugintest.Readme(t, New(), *update) }
