package settings

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/provhq/prov/internal/diag"
)

var refRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// interpolator expands {{name}} in the final values. Each key is expanded once; a key met again while
// it is being expanded is a cycle.
type interpolator struct {
	s       *Settings
	env     map[string]string
	now     time.Time
	done    map[string]bool
	failed  map[string]bool
	stack   []string
	diags   diag.Diagnostics
	gitMemo *string
}

// interpolate expands every value. paths.base goes first and is made absolute (relative to project)
// before anything interpolates it.
func (s *Settings) interpolate(env map[string]string, now func() time.Time, project string) diag.Diagnostics {
	in := &interpolator{s: s, env: env, now: now().UTC(), done: map[string]bool{}, failed: map[string]bool{}}
	if in.expand("paths.base") {
		base := s.values["paths.base"]
		if p := base.Value.(string); !filepath.IsAbs(p) {
			abs, err := filepath.Abs(filepath.Join(project, p))
			if err != nil {
				in.fail("paths.base", "%v", err)
			}
			base.Value = abs
			s.values["paths.base"] = base
		}
	}
	for _, key := range sortedKeys {
		in.expand(key)
	}
	return in.diags
}

// expand resolves key's value in place; it reports false when the key could not be resolved.
func (in *interpolator) expand(key string) bool {
	if in.done[key] {
		return true
	}
	if in.failed[key] {
		return false
	}
	for i, k := range in.stack {
		if k == key {
			cycle := append(append([]string{}, in.stack[i:]...), key)
			in.fail(key, "interpolation cycle: %s", strings.Join(cycle, " → "))
			return false
		}
	}
	in.stack = append(in.stack, key)
	defer func() { in.stack = in.stack[:len(in.stack)-1] }()

	v := in.s.values[key]
	ok := true
	switch x := v.Value.(type) {
	case string:
		v.Value, ok = in.text(key, x)
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			var good bool
			if out[i], good = in.text(key, e); !good {
				ok = false
			}
		}
		v.Value = out
	}
	if ok {
		in.s.values[key] = v
		in.done[key] = true
	} else {
		in.failed[key] = true
	}
	return ok
}

func (in *interpolator) text(key, s string) (string, bool) {
	if !strings.Contains(s, "{{") {
		return s, true
	}
	ok := true
	out := refRE.ReplaceAllStringFunc(s, func(m string) string {
		name := refRE.FindStringSubmatch(m)[1]
		r, err := in.lookup(key, name)
		if err != nil {
			// Report each value's first problem only, and a failing referenced key only at its root.
			if ok && !errors.Is(err, errReported) {
				in.fail(key, "{{%s}}: %v", name, err)
			}
			ok = false
			return m
		}
		return r
	})
	return out, ok
}

// errReported says the problem was already reported (a failing referenced key, a cycle).
var errReported = errors.New("reported")

func (in *interpolator) lookup(key, name string) (string, error) {
	ns, rest, _ := strings.Cut(name, ".")
	switch ns {
	case "env":
		v, ok := in.env[rest]
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", rest)
		}
		return v, nil
	case "now":
		switch rest {
		case "date":
			return in.now.Format(time.DateOnly), nil
		case "timestamp":
			return in.now.Format(time.RFC3339), nil
		}
		return "", fmt.Errorf("unknown name; {{now.date}} and {{now.timestamp}} are known")
	case "git":
		if rest != "branch" {
			return "", fmt.Errorf("unknown name; {{git.branch}} is known")
		}
		return in.gitBranch()
	}
	if _, known := schema[name]; !known {
		msg := "unknown name; use {{section.key}}, {{env.NAME}}, {{now.date}} or {{git.branch}}"
		if sug := Suggest(name); sug != "" {
			msg = fmt.Sprintf("unknown name; did you mean {{%s}}?", sug)
		}
		return "", fmt.Errorf("%s", msg)
	}
	if !in.expand(name) {
		return "", errReported
	}
	switch v := in.s.values[name].Value.(type) {
	case []string:
		return "", fmt.Errorf("%s is a list and cannot be placed in a string", name)
	default:
		return fmt.Sprint(v), nil
	}
}

func (in *interpolator) fail(key, format string, args ...any) {
	d := diag.Diagnostic{Severity: diag.Error, Path: key, Summary: fmt.Sprintf(format, args...)}
	if pos, ok := in.s.pos(key); ok {
		d.Pos = pos
	} else {
		d.Summary = fmt.Sprintf("%s (set by %s)", d.Summary, in.s.values[key].Origin)
	}
	in.diags = in.diags.Append(d)
}

// gitBranch reads the branch checked out in the repository containing paths.base from .git/HEAD,
// following a .git file ("gitdir: …") as worktrees and submodules have. A detached HEAD gives the
// commit id's first 12 digits.
func (in *interpolator) gitBranch() (string, error) {
	if in.gitMemo != nil {
		return *in.gitMemo, nil
	}
	if !in.expand("paths.base") {
		return "", errReported
	}
	base, _ := in.s.values["paths.base"].Value.(string)
	b, err := GitBranch(base)
	if err != nil {
		return "", err
	}
	in.gitMemo = &b
	return b, nil
}

// GitBranch returns the branch checked out in the git repository containing dir, read from .git/HEAD
// without running git. A detached HEAD gives the commit id's first 12 digits.
func GitBranch(dir string) (string, error) {
	for d := dir; ; {
		gitPath := filepath.Join(d, ".git")
		fi, err := os.Stat(gitPath)
		if err == nil {
			gitDir := gitPath
			if !fi.IsDir() {
				data, err := os.ReadFile(gitPath)
				if err != nil {
					return "", fmt.Errorf("read %s: %w", gitPath, err)
				}
				target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
				if !ok {
					return "", fmt.Errorf("%s: not a gitdir file", gitPath)
				}
				gitDir = strings.TrimSpace(target)
				if !filepath.IsAbs(gitDir) {
					gitDir = filepath.Join(d, gitDir)
				}
			}
			head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
			if err != nil {
				return "", fmt.Errorf("read git HEAD: %w", err)
			}
			head = bytes.TrimSpace(head)
			if ref, ok := bytes.CutPrefix(head, []byte("ref:")); ok {
				ref = bytes.TrimSpace(ref)
				return strings.TrimPrefix(string(ref), "refs/heads/"), nil
			}
			if len(head) >= 12 {
				return string(head[:12]), nil
			}
			return "", fmt.Errorf("%s: unreadable HEAD", gitDir)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%s is not inside a git repository", dir)
		}
		d = parent
	}
}
