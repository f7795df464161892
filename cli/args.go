package cli

import "strings"

// NormalizeArgs rewrites Terraform's single-dash long flags (-auto-approve, -out=plan.prov, -chdir=dir)
// into the double-dash form pflag parses, so scripts written for terraform work unchanged. One-letter
// flags (-h), negative numbers and everything after a bare "--" are left alone.
func NormalizeArgs(args []string) []string {
	out := make([]string, len(args))
	rest := false
	for i, a := range args {
		switch {
		case rest:
		case a == "--":
			rest = true
		case len(a) > 2 && a[0] == '-' && a[1] != '-' && !isNumber(a[1:]):
			a = "-" + a
		}
		out[i] = a
	}
	return out
}

func isNumber(s string) bool {
	s, _, _ = strings.Cut(s, "=")
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}
