package local_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/provhq/prov/state"
	"github.com/provhq/prov/state/local"
	"github.com/provhq/prov/state/statetest"
)

func TestContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Backend {
		return local.New(t.TempDir(), local.Options{})
	}, localHooks)
}

func TestContractWithCodec(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Backend {
		return local.New(t.TempDir(), local.Options{Codec: xorCodec{key: 0x5a}})
	}, localHooks)
}

var localHooks = statetest.Hooks{
	Reopen: func(t *testing.T, b state.Backend) state.Backend {
		return local.New(b.(*local.Backend).Dir(), local.Options{})
	},
	TearJournal: func(t *testing.T, b state.Backend) {
		name := filepath.Join(b.(*local.Backend).Dir(), local.JournalFile)
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		// Cut the last line in its middle.
		if err := os.Truncate(name, fi.Size()-10); err != nil {
			t.Fatal(err)
		}
	},
}
