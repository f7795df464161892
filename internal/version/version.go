// Package version is prov's own version, written into state, plan files and the lock file.
package version

// Version is set at build time with -ldflags "-X github.com/provhq/prov/internal/version.Version=…".
var Version = "0.1.0-dev"
