package sshexec

import "time"

// SetAuthRetry shortens the retries of a refused key for a test; the returned function restores it.
func SetAuthRetry(d time.Duration) func() {
	old := authRetry
	authRetry = d
	return func() { authRetry = old }
}
