package state

import (
	"context"
	"errors"
	"fmt"
)

// ErrPushRefused is wrapped by Push's error when the pushed state would replace a different or newer one.
var ErrPushRefused = errors.New("push refused")

// Pull returns the stored state as JSON (prov state pull): the plain state whatever Codec the backend
// stores it with.
func Pull(ctx context.Context, r Reader) ([]byte, error) {
	s, err := r.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("state: pull: %w", err)
	}
	return s.Encode()
}

// Push replaces the stored state with s (prov state push). Unless force is set it refuses, with an error
// wrapping ErrPushRefused, a state of another lineage or a lower serial than the stored one: either would
// lose track of real infrastructure. The caller holds the lock.
func Push(ctx context.Context, b interface {
	Reader
	Writer
}, s *State, force bool) error {
	if !force {
		cur, err := b.Read(ctx)
		if err != nil {
			return fmt.Errorf("state: push: %w", err)
		}
		// A stored state with serial 0 and no resources is what Read returns when there is none yet.
		empty := cur.Serial == 0 && len(cur.Resources) == 0 && len(cur.Outputs) == 0
		switch {
		case !empty && cur.Lineage != s.Lineage:
			return fmt.Errorf("state: push: %w: lineage %s differs from the stored state's %s (use -force to replace it anyway)",
				ErrPushRefused, s.Lineage, cur.Lineage)
		case s.Serial < cur.Serial:
			return fmt.Errorf("state: push: %w: serial %d is lower than the stored state's %d (use -force to replace it anyway)",
				ErrPushRefused, s.Serial, cur.Serial)
		}
	}
	if err := b.Write(ctx, s); err != nil {
		return fmt.Errorf("state: push: %w", err)
	}
	return nil
}
