// Package settings is prov's own configuration (not the infrastructure): a stack of TOML layers merged
// lowest to highest — the embedded config.defaults.toml, the user's config.user.toml, the project's (and
// workspace's) prov.toml, the chosen environment's config.ENV.toml, PROVISIONING_<SECTION>_<KEY>
// environment variables, then flags. Every key is "section.key"; the defaults file is also the schema,
// so a key it does not list is unknown and its default's type is the key's type. Load merges the layers,
// expands {{…}} interpolations and checks the values, and the resulting Settings remembers where each
// value came from and offers typed accessors for what the engine needs.
package settings
