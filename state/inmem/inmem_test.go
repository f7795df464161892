package inmem_test

import (
	"testing"

	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/inmem"
	"github.com/provhq/prov/state/statetest"
)

func TestContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Backend { return inmem.New() }, statetest.Hooks{
		Reopen:      func(t *testing.T, b state.Backend) state.Backend { return b },
		TearJournal: func(t *testing.T, b state.Backend) { b.(*inmem.Backend).TearJournal() },
	})
}
