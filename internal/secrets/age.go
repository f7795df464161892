package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/provhq/prov/internal/settings"
	"github.com/provhq/prov/state"
)

var _ state.Codec = (*AgeCodec)(nil)

// Sentinel errors of AgeCodec.Decode; the returned errors wrap them.
var (
	// ErrNotEncrypted means the data is plaintext where age-encrypted data was expected.
	ErrNotEncrypted = errors.New("not age-encrypted")
	// ErrNoIdentity means the data is encrypted but no identity file is configured.
	ErrNoIdentity = errors.New("no age identity file configured")
	// ErrWrongKey means no identity in the identity file can decrypt the data.
	ErrWrongKey = errors.New("no identity matches (wrong key?)")
)

// ageMagic starts every binary age file.
var ageMagic = []byte("age-encryption.org/v1\n")

// IsAgeEncrypted reports whether data is an age-encrypted file (binary format).
func IsAgeEncrypted(data []byte) bool { return bytes.HasPrefix(data, ageMagic) }

// AgeCodec encrypts bytes at rest with age: state, its backup, the journal and plan files. Encode needs
// only the recipients; Decode needs the identity file. It is safe for concurrent use.
type AgeCodec struct {
	recipients   []age.Recipient
	identityFile string
	// AcceptPlaintext lets Decode return data that is not age-encrypted unchanged, so a plaintext state
	// can be read once when encryption is turned on; it is encrypted when next written.
	AcceptPlaintext bool

	once       sync.Once
	identities []age.Identity
	idErr      error
}

// NewAgeCodec builds a codec that encrypts to recipients (age1… strings) and decrypts with the
// identities in identityFile. With no recipients, data is encrypted to the identity file's own
// recipients, so a single key file is enough.
func NewAgeCodec(recipients []string, identityFile string) (*AgeCodec, error) {
	c := &AgeCodec{identityFile: identityFile}
	if len(recipients) > 0 {
		rs, err := age.ParseRecipients(strings.NewReader(strings.Join(recipients, "\n")))
		if err != nil {
			return nil, fmt.Errorf("age recipients: %w", err)
		}
		c.recipients = rs
		return c, nil
	}
	if identityFile == "" {
		return nil, fmt.Errorf("age codec: need recipients or an identity file")
	}
	ids, err := c.loadIdentities()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		switch id := id.(type) {
		case *age.X25519Identity:
			c.recipients = append(c.recipients, id.Recipient())
		case *age.HybridIdentity:
			c.recipients = append(c.recipients, id.Recipient())
		}
	}
	if len(c.recipients) == 0 {
		return nil, fmt.Errorf("age identity file %s: no identity with a usable recipient", identityFile)
	}
	return c, nil
}

func (c *AgeCodec) loadIdentities() ([]age.Identity, error) {
	c.once.Do(func() {
		if c.identityFile == "" {
			c.idErr = ErrNoIdentity
			return
		}
		f, err := os.Open(c.identityFile)
		if err != nil {
			c.idErr = fmt.Errorf("age identity file: %w", err)
			return
		}
		defer f.Close()
		c.identities, err = age.ParseIdentities(f)
		if err != nil {
			c.idErr = fmt.Errorf("age identity file %s: %w", c.identityFile, err)
		}
	})
	return c.identities, c.idErr
}

// Encode encrypts plain to the codec's recipients.
func (c *AgeCodec) Encode(plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, c.recipients...)
	if err != nil {
		return nil, fmt.Errorf("age encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("age encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("age encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode decrypts data with the identity file. Plaintext is ErrNotEncrypted unless AcceptPlaintext;
// a missing identity file is ErrNoIdentity (or the file's read error), a key that does not fit
// ErrWrongKey.
func (c *AgeCodec) Decode(data []byte) ([]byte, error) {
	if !IsAgeEncrypted(data) {
		if c.AcceptPlaintext {
			return data, nil
		}
		return nil, fmt.Errorf("age decrypt: %w (set state.encryption_migrate = true to read a plaintext state once)", ErrNotEncrypted)
	}
	ids, err := c.loadIdentities()
	if errors.Is(err, ErrNoIdentity) {
		return nil, fmt.Errorf("age decrypt: data is encrypted but %w (state.encryption_identity_file)", ErrNoIdentity)
	}
	if err != nil {
		return nil, fmt.Errorf("age decrypt: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(data), ids...)
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return nil, fmt.Errorf("age decrypt: identity file %s: %w", c.identityFile, ErrWrongKey)
	}
	if err != nil {
		return nil, fmt.Errorf("age decrypt: %w", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("age decrypt: %w", err)
	}
	return plain, nil
}

// WriteIdentity generates a new age X25519 identity and writes it to path with mode 0600, in the
// format age-keygen uses, refusing to overwrite an existing file. It returns the public recipient.
func WriteIdentity(path string) (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", fmt.Errorf("age keygen: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("age keygen: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("age keygen: %w", err)
	}
	rec := id.Recipient().String()
	_, err = fmt.Fprintf(f, "# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), rec, id)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("age keygen: write %s: %w", path, err)
	}
	return rec, nil
}

// StateCodec returns the codec for state encrypted at rest as the settings describe it, or nil (plain
// JSON) when encryption is off.
func StateCodec(e settings.Encryption) (state.Codec, error) {
	if !e.Enabled() {
		return nil, nil
	}
	c, err := NewAgeCodec(e.Recipients, e.IdentityFile)
	if err != nil {
		return nil, fmt.Errorf("state encryption: %w", err)
	}
	c.AcceptPlaintext = e.Migrate
	return c, nil
}
