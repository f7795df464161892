package state

import "errors"

// ErrJournalExists is wrapped by JournalStore.Create's error when a journal is already there: the last
// apply was interrupted, and must be resumed or rolled back first.
var ErrJournalExists = errors.New("a journal of an interrupted apply exists")
