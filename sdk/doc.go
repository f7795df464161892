// Package sdk is the Go API for writing prov plugins, and the only prov package a plugin imports.
//
// A provider declares its resource types as data: each attribute has a Type (String, Number, Bool,
// Dynamic, ListOf, MapOf, Object), is Required, Optional or Computed, and may be ForceNew, Sensitive,
// have a Default and Validators (OneOf, Regexp, Between, LengthBetween, or any func(any) error). The
// author writes Create, Read, Update and Delete (Import and a Plan hook are optional) against Data, a
// small accessor over the attributes as plain Go values. The SDK does the rest of the plugin protocol:
// it validates configurations and reports every problem at once with its attribute path
// ("ingress[0].port"), fills in defaults, diffs the prior state against the configuration, plans
// replacement when a ForceNew attribute changes, marks computed attributes as known only after apply,
// keeps prior computed values when nothing changed, marks sensitive paths, cancels work on Stop and turns
// a panic into a diagnostic instead of a crash.
//
// Create and Update receive an Op whose ID is the operation id: stable across retries and resumes, it is
// the idempotency key that keeps a create from happening twice. Read may be asked to settle an operation
// in doubt: it is then called with an empty Data and op.ID set.
//
// A Taskserv is declared the same way and installs a service on a server through a Task, which runs
// commands and moves files over the channel the host provides.
//
// A plugin's main calls ServeProvider or ServeTaskserv. NewProviderServer and NewTaskservServer return
// the same implementation for use in this process, which is how prov runs its builtin plugins in tests.
// The sdk/plugintest package tests a plugin through the real protocol, one operation at a time, step by
// step, or as whole documents run through prov's planner and engine. Provider.Markdown renders a
// reference of a provider's configuration and resource types for its README.
package sdk
