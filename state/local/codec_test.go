package local_test

import (
	"bytes"
	"errors"
)

// xorCodec is a toy Codec: a magic prefix and every byte XORed with key. The prefix lets Decode reject
// data it did not encode, as a real (authenticated) codec does.
type xorCodec struct{ key byte }

var magic = []byte("XOR1")

func (c xorCodec) Encode(plain []byte) ([]byte, error) {
	out := append([]byte(nil), magic...)
	for _, b := range plain {
		out = append(out, b^c.key)
	}
	return out, nil
}

func (c xorCodec) Decode(stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, magic) {
		return nil, errors.New("xor: not encoded")
	}
	out := make([]byte, 0, len(stored)-len(magic))
	for _, b := range stored[len(magic):] {
		out = append(out, b^c.key)
	}
	return out, nil
}
