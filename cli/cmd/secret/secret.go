// Package secret is `prov secret`: age keys and SOPS files — keygen, encrypt, decrypt and edit — for
// the secrets a configuration references with { "$secret": "FILE#PATH" }.
package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provhq/prov/cli/cmdutil"
	"github.com/provhq/prov/internal/secrets"
	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/internal/workspace"
)

// NewCmdSecret returns `prov secret` and its subcommands.
func NewCmdSecret(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret <command>",
		Short: "Create age keys and encrypt, decrypt or edit SOPS files",
		Long: `A configuration refers to a secret with { "$secret": "secrets/prod.sops.yaml#upcloud.password" }:
a SOPS file and a path into it. prov decrypts it at plan and apply time with the keys SOPS itself uses
(SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt, cloud KMS credentials), and never prints,
logs or stores its value in plain text.

YAML (.yaml, .yml), JSON (.json) and INI (.ini) files take a data path after '#'; dotenv files (.env) a
variable name; any other file is binary and the whole file is the secret (no '#').`,
	}
	cmd.AddCommand(newCmdKeygen(f), newCmdEncrypt(f), newCmdDecrypt(f), newCmdEdit(f))
	return cmd
}

// defaultKeyFile is where SOPS looks for age identities by default, so a key written there works for
// prov and sops alike without setting anything.
func defaultKeyFile() (string, error) {
	if p := os.Getenv("SOPS_AGE_KEY_FILE"); p != "" {
		return p, nil
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "sops", "age", "keys.txt"), nil
}

func newCmdKeygen(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Create an age identity and print its public recipient",
		Long: `Create a new age identity in a file with mode 0600 (by default SOPS's own key file,
$SOPS_AGE_KEY_FILE or ~/.config/sops/age/keys.txt, so sops and prov find it with no setup) and print its
public recipient (age1…) on standard output. An existing file is never overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := output
			if path == "" {
				p, err := defaultKeyFile()
				if err != nil {
					return fmt.Errorf("keygen: %w", err)
				}
				path = p
			} else if !filepath.IsAbs(path) {
				path = filepath.Join(f.Dir, path)
			}
			rec, err := secrets.WriteIdentity(path)
			if err != nil {
				if errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("keygen: %s already exists; choose another file with -o", path)
				}
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Wrote a new age identity to %s. Keep it secret; back it up.\n", path)
			fmt.Fprintln(f.IO.Out, rec)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the identity to `FILE`")
	return cmd
}

// resolve makes a FILE argument relative to the working directory after -chdir.
func resolve(f *cmdutil.Factory, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(f.Dir, p)
}

// write puts data on standard output, or in file (mode 0600) when one is given.
func write(f *cmdutil.Factory, file string, data []byte) error {
	if file == "" {
		_, err := f.IO.Out.Write(data)
		return err
	}
	return secrets.WriteFileAtomic(resolve(f, file), data, 0o600)
}

func newCmdEncrypt(f *cmdutil.Factory) *cobra.Command {
	var ageRecipients []string
	var inPlace bool
	var output string
	cmd := &cobra.Command{
		Use:   "encrypt FILE",
		Short: "Encrypt a file with SOPS",
		Long: `Encrypt FILE with SOPS (its format follows its name) and print the result, or write it with
-o FILE or -i (in place). The keys are, first found: -age recipients, $SOPS_AGE_RECIPIENTS, the matching
creation rule of a .sops.yaml above FILE, the secrets.age_recipients setting.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if inPlace && output != "" {
				return fmt.Errorf("encrypt: -i and -o cannot be used together")
			}
			path := resolve(f, args[0])
			plain, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("encrypt: %w", err)
			}
			o := secrets.EncryptOptions{AgeRecipients: ageRecipients}
			if len(o.AgeRecipients) == 0 {
				if env := os.Getenv("SOPS_AGE_RECIPIENTS"); env != "" {
					o.AgeRecipients = []string{env}
				}
			}
			if a, diags := workspace.LoadActive(f.Dir, settings.Options{Env: f.Env}); !diags.HasErrors() {
				o.DefaultAgeRecipients = a.Settings.SecretsRecipients()
			} else if len(o.AgeRecipients) == 0 {
				return fmt.Errorf("encrypt: settings: %w", diags.Err())
			}
			enc, err := secrets.Encrypt(plain, path, o)
			if err != nil {
				return err
			}
			if inPlace {
				return secrets.WriteFileAtomic(path, enc, 0)
			}
			return write(f, output, enc)
		},
	}
	cmd.Flags().StringArrayVar(&ageRecipients, "age", nil, "encrypt to age `RECIPIENT` (repeatable; comma-separated lists too)")
	cmd.Flags().BoolVarP(&inPlace, "in-place", "i", false, "replace FILE with its encryption")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` instead of standard output")
	return cmd
}

func newCmdDecrypt(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "decrypt FILE",
		Short: "Decrypt a SOPS file",
		Long: `Decrypt the SOPS file FILE and print its plaintext, or write it to -o FILE (mode 0600). The keys
are found the way SOPS finds them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := resolve(f, args[0])
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("decrypt: %w", err)
			}
			plain, err := secrets.Decrypt(data, path)
			if err != nil {
				return err
			}
			return write(f, output, plain)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` (mode 0600) instead of standard output")
	return cmd
}

func newCmdEdit(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "edit FILE",
		Short: "Edit a SOPS file in $EDITOR",
		Long: `Decrypt FILE to a temporary file (mode 0600, in a private directory), open it in $VISUAL or
$EDITOR (vi if neither is set), and re-encrypt what you saved with the file's own keys. The temporary
file is removed whatever happens; FILE is untouched if you change nothing or the editor fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := resolve(f, args[0])
			editor := strings.TrimSpace(os.Getenv("VISUAL"))
			if editor == "" {
				editor = strings.TrimSpace(os.Getenv("EDITOR"))
			}
			if editor == "" {
				editor = "vi"
			}
			changed, err := secrets.Edit(path, func(tmp string) error {
				// The editor may carry arguments ("code --wait"); the shell splits them as a user expects.
				c := exec.CommandContext(cmd.Context(), "/bin/sh", "-c", editor+` "$1"`, "editor", tmp)
				c.Stdin, c.Stdout, c.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut
				if err := c.Run(); err != nil {
					return fmt.Errorf("editor %s: %w", strings.Fields(editor)[0], err)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(f.IO.ErrOut, "%s unchanged.\n", args[0])
				return nil
			}
			fmt.Fprintf(f.IO.ErrOut, "%s re-encrypted.\n", args[0])
			return nil
		},
	}
}
