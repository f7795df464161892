// Package engine carries out a plan: Apply walks the plan's graph of changes with a pool of workers,
// journaling every side effect (an intent record, made durable before the provider is called, then a
// commit or fail record) and folding the journal into a new state at the end. Resume finishes an
// apply whose process died, settling the operations left in doubt by asking the provider to Read them
// by operation id; Rollback undoes the journaled operations and returns the state to what it was.
// Hooks report progress to the terminal view, the JSON event stream, logs and the orchestrator.
//
// The walker costs O(1) per operation outside the provider: readiness is counted per node, the
// working state is an overlay on the prior state, and journal appends share fsyncs (group commit).
// A dependent starts only after the commit records of its dependencies are durable.
//
// The caller holds the state lock for the whole of Apply, Resume and Rollback.
package engine
