// Package secrets keeps secrets out of prov's plain text. A Resolver replaces
// { "$secret": "secrets/prod.sops.yaml#upcloud.password" } objects in a configuration value with what
// they name in a SOPS file (YAML, JSON, INI, dotenv or binary; age, KMS or any key SOPS supports,
// found the way SOPS finds it) and returns the paths that are now sensitive. Encrypt, Decrypt and Edit
// are the SOPS file operations behind `prov secret`. AgeCodec encrypts state, its backup, the journal
// and plan files at rest with age. No error from this package contains a secret's value.
package secrets
