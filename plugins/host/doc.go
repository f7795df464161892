// Package host finds, locks, starts and supervises prov's plugins.
//
// Plugins are executables speaking protocol v1 over hashicorp/go-plugin gRPC (AutoMTLS on). Third-party
// binaries are named prov-provider-NAME or prov-taskserv-NAME and are discovered (Discover) in
// ./.prov/plugins, each directory of $PROV_PLUGIN_PATH and $XDG_DATA_HOME/prov/plugins, either directly
// or in versioned folders NAME/VERSION/; the highest version satisfying the requested constraint wins.
// First-party plugins are compiled into prov and started as separate processes of the prov binary
// itself ("prov __plugin provider NAME"), through the same go-plugin path.
//
// Init records every plugin the configuration needs in prov.lock.json (kind, source, version, and the
// binary's SHA-256, or the prov version for a builtin). A Host refuses to start a third-party binary
// that is not locked or whose hash changed, and enforces the hash again through go-plugin's SecureConfig.
//
// Each plugin the Host hands out is wrapped so that a crash or a hang becomes an error naming the
// plugin and the operation (never a panic trace or a hang), with a per-call timeout. Host.Close ends
// every plugin process; a plugin also exits by itself when prov dies (see protocol.ServeProvider).
package host
