package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	sopsconfig "github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/version"
)

// ErrNoRecipients means Encrypt found nothing to encrypt a new SOPS file to.
var ErrNoRecipients = errors.New("no recipients: pass -age RECIPIENT, set SOPS_AGE_RECIPIENTS or secrets.age_recipients, or add a .sops.yaml creation rule")

// Format is a SOPS file format, chosen from the file name as SOPS does.
type Format string

// The SOPS file formats.
const (
	YAML   Format = "yaml"   // .yaml, .yml
	JSON   Format = "json"   // .json
	Dotenv Format = "dotenv" // .env
	INI    Format = "ini"    // .ini
	Binary Format = "binary" // anything else: the whole file is one secret
)

// FormatOf returns the format SOPS uses for a file name. A ".sops" before the extension is ignored
// ("prod.sops.yaml" is YAML).
func FormatOf(path string) Format {
	switch formats.FormatForPath(path) {
	case formats.Yaml:
		return YAML
	case formats.Json:
		return JSON
	case formats.Dotenv:
		return Dotenv
	case formats.Ini:
		return INI
	}
	return Binary
}

func storeFor(path string) common.Store {
	return common.StoreForFormat(formats.FormatForPath(path), sopsconfig.NewStoresConfig())
}

func keyServices() []keyservice.KeyServiceClient {
	return []keyservice.KeyServiceClient{keyservice.NewLocalClient()}
}

// decryptTree loads and decrypts a SOPS file's tree (checking its MAC) with the keys SOPS itself uses:
// SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt, cloud KMS credentials, PGP.
func decryptTree(data []byte, path string) (*sops.Tree, []byte, error) {
	store := storeFor(path)
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a SOPS-encrypted %s file: %w", path, FormatOf(path), err)
	}
	key, err := common.DecryptTree(common.DecryptTreeOpts{Tree: &tree, KeyServices: keyServices(), Cipher: aes.NewCipher()})
	if err != nil {
		return nil, nil, fmt.Errorf("decrypt %s: %s", path, strings.TrimSpace(err.Error()))
	}
	return &tree, key, nil
}

// Decrypt decrypts the SOPS file data (named path, which gives its format) and returns its plaintext
// in the same format.
func Decrypt(data []byte, path string) ([]byte, error) {
	tree, _, err := decryptTree(data, path)
	if err != nil {
		return nil, err
	}
	out, err := storeFor(path).EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s: emit plaintext: %w", path, err)
	}
	return out, nil
}

// EncryptOptions choose the keys a new SOPS file is encrypted to.
type EncryptOptions struct {
	// AgeRecipients, when set (from -age or SOPS_AGE_RECIPIENTS), are used and .sops.yaml is not read.
	AgeRecipients []string
	// DefaultAgeRecipients (secrets.age_recipients) are used when no .sops.yaml creation rule matches.
	DefaultAgeRecipients []string
}

// Encrypt encrypts plain (the content of the file at path, whose name gives its format) as SOPS does:
// to o.AgeRecipients if set, else to the key groups of the first .sops.yaml creation rule that matches
// path (searched upward from the file's directory), else to o.DefaultAgeRecipients.
func Encrypt(plain []byte, path string, o EncryptOptions) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", path, err)
	}
	store := storeFor(path)
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: not a valid %s file: %w", path, FormatOf(path), err)
	}
	if len(branches) == 0 {
		return nil, fmt.Errorf("encrypt %s: the file is empty", path)
	}
	if store.HasSopsTopLevelKey(branches[0]) {
		return nil, fmt.Errorf("encrypt %s: already encrypted (it has SOPS metadata)", path)
	}
	meta := sops.Metadata{Version: version.Version}
	switch {
	case len(o.AgeRecipients) > 0:
		if meta.KeyGroups, err = ageGroup(o.AgeRecipients); err != nil {
			return nil, fmt.Errorf("encrypt %s: %w", path, err)
		}
	default:
		conf, err := creationRule(abs)
		if err != nil {
			return nil, fmt.Errorf("encrypt %s: %w", path, err)
		}
		if conf != nil && len(conf.KeyGroups) > 0 {
			meta.KeyGroups = conf.KeyGroups
			meta.ShamirThreshold = conf.ShamirThreshold
			meta.UnencryptedSuffix, meta.EncryptedSuffix = conf.UnencryptedSuffix, conf.EncryptedSuffix
			meta.UnencryptedRegex, meta.EncryptedRegex = conf.UnencryptedRegex, conf.EncryptedRegex
			meta.UnencryptedCommentRegex, meta.EncryptedCommentRegex = conf.UnencryptedCommentRegex, conf.EncryptedCommentRegex
			meta.MACOnlyEncrypted = conf.MACOnlyEncrypted
		} else if len(o.DefaultAgeRecipients) > 0 {
			if meta.KeyGroups, err = ageGroup(o.DefaultAgeRecipients); err != nil {
				return nil, fmt.Errorf("encrypt %s: %w", path, err)
			}
		} else {
			return nil, fmt.Errorf("encrypt %s: %w", path, ErrNoRecipients)
		}
	}
	tree := sops.Tree{Branches: branches, Metadata: meta, FilePath: abs}
	dataKey, errs := tree.GenerateDataKeyWithKeyServices(keyServices())
	if len(errs) > 0 {
		return nil, fmt.Errorf("encrypt %s: generate data key: %w", path, errors.Join(errs...))
	}
	if err := common.EncryptTree(common.EncryptTreeOpts{DataKey: dataKey, Tree: &tree, Cipher: aes.NewCipher()}); err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", path, err)
	}
	out, err := store.EmitEncryptedFile(tree)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", path, err)
	}
	return out, nil
}

func ageGroup(recipients []string) ([]sops.KeyGroup, error) {
	var group sops.KeyGroup
	for _, r := range recipients {
		for _, one := range strings.Split(r, ",") {
			if one = strings.TrimSpace(one); one == "" {
				continue
			}
			k, err := sopsage.MasterKeyFromRecipient(one)
			if err != nil {
				return nil, fmt.Errorf("age recipient %q: %w", one, err)
			}
			group = append(group, keys.MasterKey(k))
		}
	}
	if len(group) == 0 {
		return nil, ErrNoRecipients
	}
	return []sops.KeyGroup{group}, nil
}

// creationRule finds the .sops.yaml above path and its rule for path; nil when there is no file.
func creationRule(abs string) (*sopsconfig.Config, error) {
	confPath, err := sopsconfig.FindConfigFile(abs)
	if err != nil {
		return nil, nil // no .sops.yaml: not an error
	}
	conf, err := sopsconfig.LoadCreationRuleForFile(confPath, abs, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", confPath, err)
	}
	return conf, nil
}

// Edit decrypts the SOPS file at path to a 0600 temporary file in a private directory, calls edit with
// that file's path (to run $EDITOR), and re-encrypts the result with the file's own data key and
// recipients. The temporary file is removed whatever happens. It reports whether the file changed.
func Edit(path string, edit func(tmp string) error) (changed bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("edit: %w", err)
	}
	tree, key, err := decryptTree(data, path)
	if err != nil {
		return false, fmt.Errorf("edit: %w", err)
	}
	store := storeFor(path)
	plain, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return false, fmt.Errorf("edit %s: %w", path, err)
	}
	dir, err := os.MkdirTemp("", "prov-secret-")
	if err != nil {
		return false, fmt.Errorf("edit %s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(tmp, plain, 0o600); err != nil {
		return false, fmt.Errorf("edit %s: %w", path, err)
	}
	if err := edit(tmp); err != nil {
		return false, fmt.Errorf("edit %s: %w", path, err)
	}
	edited, err := os.ReadFile(tmp)
	if err != nil {
		return false, fmt.Errorf("edit %s: %w", path, err)
	}
	if bytes.Equal(edited, plain) {
		return false, nil
	}
	branches, err := store.LoadPlainFile(edited)
	if err != nil {
		return false, fmt.Errorf("edit %s: the edited text is not a valid %s file: %w", path, FormatOf(path), err)
	}
	tree.Branches = branches
	if err := common.EncryptTree(common.EncryptTreeOpts{DataKey: key, Tree: tree, Cipher: aes.NewCipher()}); err != nil {
		return false, fmt.Errorf("edit %s: %w", path, err)
	}
	out, err := store.EmitEncryptedFile(*tree)
	if err != nil {
		return false, fmt.Errorf("edit %s: %w", path, err)
	}
	if err := WriteFileAtomic(path, out, 0); err != nil {
		return false, fmt.Errorf("edit: %w", err)
	}
	return true, nil
}

// WriteFileAtomic replaces path with data: a temporary file in the same directory, fsync, rename,
// fsync of the directory. perm 0 keeps the existing file's mode (0600 for a new file).
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if perm == 0 {
		perm = 0o600
		if fi, err := os.Stat(path); err == nil {
			perm = fi.Mode().Perm()
		}
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
