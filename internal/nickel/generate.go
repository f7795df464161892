package nickel

import (
	"fmt"
	"strings"
)

// GenerateConfig returns a synthetic infrastructure configuration of n servers, used to benchmark
// the evaluator: each server is a record built by a function, merged with defaults and checked by a
// record contract (with nested array, dictionary and numeric contracts).
func GenerateConfig(n int) string {
	var b strings.Builder
	b.WriteString(`let Server = {
  name | String,
  zone | String,
  plan | String,
  cores | std.number.PosNat,
  storage | Array { size_gb | Number, tier | String | default = "maxiops" },
  labels | { _ : String },
  ..
} in
let defaults = {
  zone | default = "fi-hel1",
  plan | default = "1xCPU-1GB",
  labels | default = {},
} in
let server = fun server_name i => (defaults & {
  name = server_name,
  cores = i % 8 + 1,
  storage = [{ size_gb = 10 + i % 90 }],
  labels.role = if i % 2 == 0 then "web" else "db",
}) | Server in
{
  servers = {
`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    srv-%d = server \"srv-%d\" %d,\n", i, i, i)
	}
	b.WriteString("  },\n}\n")
	return b.String()
}
