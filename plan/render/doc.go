// Package render turns plans and states into what people and programs read: Human writes Terraform-style
// text (`+ ~ - -/+` blocks with attribute-level diffs), JSON writes the shape of `terraform show -json`,
// Markdown writes a pull-request comment, HumanState and StateJSON show a state, and Stream writes the
// JSON-lines event stream of `prov plan -json` and `prov apply -json`.
//
// Every renderer redacts sensitive values: a value at a sensitive path is shown as "(sensitive value)" in
// text and as null (with its mask set) in JSON, so no renderer can leak a secret. Output is deterministic:
// resources are ordered by address (numbers inside addresses compared as numbers), keys by name.
// The JSON formats are described, with their versions and stability promise, in docs/json-formats.md.
package render
