//go:build race

package state_test

// raceEnabled: the race detector slows everything down, so timing budgets are not checked.
const raceEnabled = true
