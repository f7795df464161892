package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fileSet is a set of local_file resources: address → the file's relative path and content.
type fileSet map[string]file

type file struct{ Path, Content string }

// sets are the prior and desired sets of one trial: the prior set is applied first, and the faulted
// apply turns it into the desired set by deleting some files, updating some and creating new ones.
func sets(n int) (prior, desired fileSet) {
	prior, desired = fileSet{}, fileSet{}
	del, upd := n/5, 2*n/5
	for i := range n {
		addr, path := fmt.Sprintf("files.p%04d", i), fmt.Sprintf("out/p%04d.txt", i)
		prior[addr] = file{path, fmt.Sprintf("prior %d\n", i)}
		switch {
		case i < del:
		case i < del+upd:
			desired[addr] = file{path, fmt.Sprintf("desired %d\n", i)}
		default:
			desired[addr] = prior[addr]
		}
	}
	for i := range n {
		desired[fmt.Sprintf("files.n%04d", i)] = file{fmt.Sprintf("out/n%04d.txt", i), fmt.Sprintf("new %d\n", i)}
	}
	return prior, desired
}

// changed lists the addresses whose file the apply from prior to desired touches, sorted.
func changed(prior, desired fileSet) []string {
	var out []string
	for addr, f := range desired {
		if p, ok := prior[addr]; !ok || p != f {
			out = append(out, addr)
		}
	}
	for addr := range prior {
		if _, ok := desired[addr]; !ok {
			out = append(out, addr)
		}
	}
	slices.Sort(out)
	return out
}

// docOptions are what a trial varies in a document besides its files.
type docOptions struct {
	parallelism       int
	latencyMS         int
	failMatching      []string
	failAfter         bool
	rollbackOnFailure bool
	seed              uint64
}

// writeDoc writes set as the JSON document main.json in dir.
func writeDoc(dir string, set fileSet, o docOptions) error {
	res := map[string]any{}
	for addr, f := range set {
		res[addr] = map[string]any{"type": "local_file", "provider": "local",
			"config": map[string]any{"path": f.Path, "content": f.Content}}
	}
	fi := map[string]any{"latency_ms": o.latencyMS, "seed": o.seed}
	if len(o.failMatching) > 0 {
		fi["fail_matching"] = o.failMatching
		fi["fail_after"] = o.failAfter
	}
	doc := map[string]any{
		"prov":      "1",
		"settings":  map[string]any{"parallelism": o.parallelism, "rollback_on_failure": o.rollbackOnFailure},
		"providers": map[string]any{"local": map[string]any{"source": "builtin/local", "config": map[string]any{"fault_injection": fi}}},
		"resources": res,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("write document: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "main.json"), b, 0o644)
}

// stateFile is the part of prov.state.json the checks read.
type stateFile struct {
	Serial    int `json:"serial"`
	Resources map[string]struct {
		Type       string         `json:"type"`
		Attributes map[string]any `json:"attributes"`
	} `json:"resources"`
}

// readState reads dir's state; a missing state is serial 0 with no resources.
func readState(dir string) (*stateFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, "prov.state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return &stateFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s stateFile
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return &s, nil
}

// files returns the local_file resources of the state as a fileSet.
func (s *stateFile) files() fileSet {
	out := fileSet{}
	for addr, r := range s.Resources {
		if r.Type != "local_file" {
			continue
		}
		path, _ := r.Attributes["path"].(string)
		content, _ := r.Attributes["content"].(string)
		out[addr] = file{path, content}
	}
	return out
}

// disk reads the files under dir/out: relative path → content. Temporary files a killed plugin left
// half-written (".NAME.tmp…", never renamed into place) are counted apart: they are litter, not
// resources.
func disk(dir string) (files map[string]string, litter int, err error) {
	files = map[string]string{}
	err = filepath.WalkDir(filepath.Join(dir, "out"), func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".tmp") {
			litter++
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel] = string(b)
		return nil
	})
	return files, litter, err
}

// compareSets describes how got differs from want, or returns "" when they are the same.
func compareSets(what string, want, got fileSet) string {
	var b strings.Builder
	n := 0
	for _, addr := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[addr]
		switch {
		case !ok:
			n++
			if n <= 3 {
				fmt.Fprintf(&b, " %s missing;", addr)
			}
		case g != want[addr]:
			n++
			if n <= 3 {
				fmt.Fprintf(&b, " %s is %q, want %q;", addr, g.Content, want[addr].Content)
			}
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[addr]; !ok {
			n++
			if n <= 3 {
				fmt.Fprintf(&b, " %s unexpected;", addr)
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d differences:%s", what, n, strings.TrimSuffix(b.String(), ";"))
}

// byPath re-keys a fileSet by path, as disk returns it.
func (s fileSet) byPath() fileSet {
	out := fileSet{}
	for _, f := range s {
		out[f.Path] = f
	}
	return out
}

// diskSet turns disk's result into a fileSet keyed by path.
func diskSet(files map[string]string) fileSet {
	out := fileSet{}
	for p, c := range files {
		out[p] = file{p, c}
	}
	return out
}

// creations counts the lines of the creation log per path.
func creations(log string) (map[string]int, error) {
	b, err := os.ReadFile(log)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read creation log: %w", err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		path, _, _ := strings.Cut(line, "\t")
		out[path]++
	}
	return out, nil
}
