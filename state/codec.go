package state

// Codec transforms bytes at rest: a backend applies Encode to the state, its backup and every journal
// record before they reach storage, and Decode after reading them back. It is how encryption at rest
// (age, KMS) plugs into any backend without the backend knowing. A nil Codec stores plain JSON.
//
// Decode must reject data Encode did not produce (an authentication failure, a wrong key) with an error
// rather than return garbage.
type Codec interface {
	Encode(plain []byte) ([]byte, error)
	Decode(stored []byte) ([]byte, error)
}
