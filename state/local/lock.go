package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"time"

	"golang.org/x/sys/unix"

	"github.com/provhq/prov/state"
)

// heldLock is a lock this Backend holds: the open lock file (carrying the flock) and its info.
type heldLock struct {
	f    *os.File
	info state.LockInfo
}

// Lock takes the state lock, waiting up to timeout for a holder to release it (0: fail at once). The
// returned ID is needed to Unlock. Missing fields of info are filled in: ID, Who, PID, Host, Version,
// Created. When someone else holds the lock the error is a *state.LockError naming them.
func (b *Backend) Lock(ctx context.Context, info state.LockInfo, timeout time.Duration) (string, error) {
	fillInfo(&info)
	deadline := time.Now().Add(timeout)
	backoff := 10 * time.Millisecond
	for {
		err := b.tryLock(info)
		if err == nil {
			return info.ID, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return "", fmt.Errorf("state: lock %s: %w", b.path(LockFile), err)
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return "", b.lockError(err, timeout)
		}
		wait = min(wait, backoff)
		backoff = min(2*backoff, 500*time.Millisecond)
		select {
		case <-ctx.Done():
			return "", b.lockError(ctx.Err(), timeout)
		case <-time.After(wait):
		}
	}
}

func fillInfo(info *state.LockInfo) {
	if info.ID == "" {
		info.ID = state.NewLineage()
	}
	if info.Host == "" {
		info.Host, _ = os.Hostname()
	}
	if info.Who == "" {
		name := "unknown"
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		info.Who = name + "@" + info.Host
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	if info.Version == "" {
		info.Version = state.Version()
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC().Truncate(time.Second)
	}
}

// tryLock takes the flock without waiting and records it in b.lk. An error wrapping unix.EWOULDBLOCK
// means someone (perhaps this Backend) holds it.
func (b *Backend) tryLock(info state.LockInfo) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lk != nil {
		return unix.EWOULDBLOCK
	}
	name := b.path(LockFile)
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			return err
		}
		// The holder we waited for may have removed the file on Unlock (or force-unlock did): then we
		// locked an orphan, and must start again on the file now at that name.
		if !samePath(f, name) {
			f.Close()
			continue
		}
		data, err := json.Marshal(info)
		if err == nil {
			err = writeAtomic(b.path(LockInfo), data, 0o644)
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("write lock info: %w", err)
		}
		b.lk = &heldLock{f: f, info: info}
		return nil
	}
}

// samePath reports whether the open file f is still the file at name.
func samePath(f *os.File, name string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	ni, err := os.Stat(name)
	return err == nil && os.SameFile(fi, ni)
}

// lockError describes the current holder. The holder writes its info just after taking the flock, so a
// missing info file is retried briefly before giving up on naming the holder.
func (b *Backend) lockError(cause error, timeout time.Duration) error {
	var info state.LockInfo
	for range 5 {
		var err error
		if info, err = b.readInfo(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.Who == "" {
		info.Who = "an unknown process"
	}
	if timeout > 0 && errors.Is(cause, unix.EWOULDBLOCK) {
		cause = fmt.Errorf("still locked after waiting %v: %w", timeout, cause)
	}
	return &state.LockError{Holder: info, Err: cause}
}

func (b *Backend) readInfo() (state.LockInfo, error) {
	var info state.LockInfo
	data, err := os.ReadFile(b.path(LockInfo))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, fmt.Errorf("%s: %w", b.path(LockInfo), err)
	}
	return info, nil
}

// Unlock releases a lock this Backend took with Lock. It removes the lock and info files, unless
// force-unlock already replaced them with someone else's.
func (b *Backend) Unlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lk == nil || b.lk.info.ID != id {
		return fmt.Errorf("state: unlock: lock ID %s is not held here", id)
	}
	lk := b.lk
	b.lk = nil
	if samePath(lk.f, b.path(LockFile)) {
		if info, err := b.readInfo(); err == nil && info.ID == id {
			if err := os.Remove(b.path(LockInfo)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				lk.f.Close()
				return fmt.Errorf("state: unlock: %w", err)
			}
		}
		// Removing the lock file while holding it is safe: a waiter that then gets the flock of the
		// removed file sees it is no longer at the path and retries (tryLock).
		if err := os.Remove(b.path(LockFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			lk.f.Close()
			return fmt.Errorf("state: unlock: %w", err)
		}
	}
	if err := lk.f.Close(); err != nil { // releases the flock
		return fmt.Errorf("state: unlock: %w", err)
	}
	return nil
}

// ForceUnlock removes the lock with the given ID (prov force-unlock ID), whoever holds it. A lock whose
// holder died is already free (the kernel released its flock) and this only cleans up its files; a
// live holder keeps running unaware, so force-unlock is for locks known to be abandoned.
func (b *Backend) ForceUnlock(id string) error {
	b.mu.Lock()
	own := b.lk != nil && b.lk.info.ID == id
	b.mu.Unlock()
	if own {
		return b.Unlock(id)
	}
	info, err := b.readInfo()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("state: force-unlock %s: the state is not locked", id)
	case err != nil:
		return fmt.Errorf("state: force-unlock %s: %w", id, err)
	case info.ID != id:
		return fmt.Errorf("state: force-unlock %s: the lock is held with ID %s by %s (pid %d); the IDs must match",
			id, info.ID, info.Who, info.PID)
	}
	for _, name := range []string{LockInfo, LockFile} {
		if err := os.Remove(b.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("state: force-unlock %s: %w", id, err)
		}
	}
	return syncDir(b.dir)
}
