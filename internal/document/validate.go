package document

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/provhq/prov/internal/diag"
	"github.com/provhq/prov/internal/value"
)

// FormatMarker is the value of the document's "prov" key this build reads.
const FormatMarker = "1"

var topLevelKeys = []string{"prov", "settings", "providers", "resources", "servers", "taskservs", "clusters", "workflows", "outputs"}

// loader checks a decoded document and builds the Document, collecting every problem.
type loader struct {
	source *sourceMap
	diags  diag.Diagnostics
	// configSrc is, per resource address, the source path under which its Config's keys were written
	// (resources.ADDR.config, servers.NAME, taskservs.TS), so diagnostics point at what the user wrote.
	configSrc map[string]value.Path
	// src is, per resource address, the source path of the resource itself.
	src map[string]value.Path
	// rejected holds the entries the Nickel contract rejected (value.Path.String form), already
	// diagnosed: the loader says nothing more about them.
	rejected map[string]bool
	// errs are the data paths of the errors found.
	errs []value.Path
}

func (l *loader) errorf(p value.Path, format string, args ...any) *diag.Diagnostic {
	d := diag.Errorf(Display(p), format, args...)
	if l.isRejected(p) {
		return &d
	}
	d.Pos = locate(l.source.get(), p)
	l.diags = append(l.diags, d)
	l.errs = append(l.errs, p)
	return &l.diags[len(l.diags)-1]
}

// reject records the entries a Nickel contract rejected and their diagnostics.
func (l *loader) reject(r *Rejected) {
	l.rejected = make(map[string]bool, len(r.Pieces))
	for _, p := range r.Pieces {
		l.rejected[p.String()] = true
		l.errs = append(l.errs, p)
	}
	var byDisplay map[string]value.Path
	for _, d := range r.Diagnostics {
		if !d.Pos.IsValid() && d.Path != "" {
			if byDisplay == nil {
				byDisplay = l.displayPaths(r.Pieces)
			}
			if p, ok := byDisplay[d.Path]; ok {
				d.Pos = locate(l.source.get(), p)
			}
		}
		l.diags = append(l.diags, d)
	}
}

// displayPaths maps the display form of each known data path (of a position, or a piece) back to it.
func (l *loader) displayPaths(pieces []value.Path) map[string]value.Path {
	out := map[string]value.Path{}
	for k := range l.source.get() {
		if p, err := value.ParsePath(k); err == nil {
			out[Display(p)] = p
		}
	}
	for _, p := range pieces {
		out[Display(p)] = p
	}
	return out
}

// isRejected reports whether p is inside an entry the contract rejected.
func (l *loader) isRejected(p value.Path) bool {
	if l.rejected == nil {
		return false
	}
	for i := len(p); i >= 0; i-- {
		if l.rejected[p[:i].String()] {
			return true
		}
	}
	return false
}

// invalid returns the addresses of the resources whose entry in the document has an error, or whose
// provider's entry has one: an error anywhere in resources.ADDR or servers.NAME makes that resource
// invalid, and a server's taskserv installs with it.
func (l *loader) invalid(doc *Document) map[string]bool {
	broken := map[string]bool{}
	for _, p := range l.errs {
		for i := range len(p) + 1 {
			broken[p[:i].String()] = true
		}
	}
	bad := func(p value.Path) bool {
		p = p[:min(len(p), 2)]
		return broken[p.String()] || l.isRejected(p)
	}
	out := map[string]bool{}
	for addr, r := range doc.Resources {
		if bad(l.src[addr]) || bad(l.configSrc[addr]) || r.Provider != "" && bad(value.KeyPath("providers", r.Provider)) {
			out[addr] = true
		}
	}
	return out
}

// record returns v as a record; absent (nil) is an empty record.
func (l *loader) record(p value.Path, v any) (map[string]any, bool) {
	switch m := v.(type) {
	case nil:
		return nil, true
	case map[string]any:
		return m, true
	}
	l.errorf(p, "must be a record, not %s", kindOf(v))
	return nil, false
}

// fields reports the keys of m that are not among allowed.
func (l *loader) fields(p value.Path, m map[string]any, what string, allowed ...string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(allowed, k) {
			d := l.errorf(p.Key(k), "unknown %s field %q", what, k)
			d.Detail = "Expected one of: " + strings.Join(allowed, ", ") + "."
		}
	}
}

func (l *loader) str(p value.Path, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		l.errorf(p, "must be a string, not %s", kindOf(v))
	}
	return s, ok
}

func (l *loader) boolean(p value.Path, v any) bool {
	if v == nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		l.errorf(p, "must be true or false, not %s", kindOf(v))
	}
	return b
}

func (l *loader) strs(p value.Path, v any) []string {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		l.errorf(p, "must be a list of strings, not %s", kindOf(v))
		return nil
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		if s, ok := l.str(p.Index(i), e); ok {
			out = append(out, s)
		}
	}
	return out
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a bool"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "a record"
	}
	return fmt.Sprintf("%T", v)
}

// validName reports whether s is one address segment: letters, digits, _ and -.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if !nameByte(s[i]) {
			return false
		}
	}
	return true
}

// ValidAddr reports whether addr is a resource address: dot-separated segments of [A-Za-z0-9_-].
func ValidAddr(addr string) bool {
	for seg := range strings.SplitSeq(addr, ".") {
		if !validName(seg) {
			return false
		}
	}
	return true
}

func (l *loader) document(root any) *Document {
	top, ok := root.(map[string]any)
	if !ok {
		l.errorf(nil, "the document must be a record, not %s", kindOf(root))
		return nil
	}
	doc := &Document{
		Providers: map[string]*Provider{},
		Resources: map[string]*Resource{},
		Outputs:   map[string]*Output{},
		Workflows: map[string]any{},
	}
	l.configSrc = map[string]value.Path{}
	l.src = map[string]value.Path{}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !slices.Contains(topLevelKeys, k) {
			d := l.errorf(value.KeyPath(k), "unknown top-level key %q", k)
			d.Detail = "Expected one of: " + strings.Join(topLevelKeys, ", ") + "."
		}
	}
	switch marker, ok := top["prov"]; {
	case !ok:
		d := l.errorf(nil, `missing the format marker "prov": %q`, FormatMarker)
		d.Detail = `Every prov document starts with "prov": "1", so prov knows which format it is reading.`
	case marker != FormatMarker:
		l.errorf(value.KeyPath("prov"), "unsupported document format %s; this prov reads %q", jsonText(marker), FormatMarker)
	}
	l.settings(top["settings"], &doc.Settings)
	l.providers(top["providers"], doc)
	l.resources(top["resources"], doc)
	l.servers(top["servers"], top["taskservs"], doc)
	l.record(value.KeyPath("clusters"), top["clusters"])
	if wf, ok := l.record(value.KeyPath("workflows"), top["workflows"]); ok && wf != nil {
		doc.Workflows = wf
	}
	l.outputs(top["outputs"], doc)
	l.link(doc)
	return doc
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return kindOf(v)
}

func (l *loader) settings(v any, s *Settings) {
	p := value.KeyPath("settings")
	m, ok := l.record(p, v)
	if !ok {
		return
	}
	l.fields(p, m, "settings", "parallelism", "rollback_on_failure")
	if x, ok := m["parallelism"]; ok {
		n, isNum := x.(float64)
		if !isNum || n < 1 || n != math.Trunc(n) || n > math.MaxInt32 {
			l.errorf(p.Key("parallelism"), "must be a whole number of at least 1")
		} else {
			s.Parallelism = int(n)
		}
	}
	s.RollbackOnFailure = l.boolean(p.Key("rollback_on_failure"), m["rollback_on_failure"])
}

func (l *loader) providers(v any, doc *Document) {
	p := value.KeyPath("providers")
	m, ok := l.record(p, v)
	if !ok {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		pp := p.Key(name)
		if !validName(name) {
			l.errorf(pp, "invalid provider name %q: use letters, digits, _ and -", name)
			continue
		}
		rec, ok := l.record(pp, m[name])
		if !ok {
			continue
		}
		l.fields(pp, rec, "provider", "source", "version", "config")
		prov := &Provider{Name: name, Source: "builtin/" + name, Config: map[string]any{}}
		if s, ok := rec["source"]; ok {
			prov.Source, _ = l.str(pp.Key("source"), s)
		}
		if s, ok := rec["version"]; ok {
			prov.Version, _ = l.str(pp.Key("version"), s)
		}
		if c, ok := l.record(pp.Key("config"), rec["config"]); ok && c != nil {
			prov.Config = c
		}
		doc.Providers[name] = prov
	}
}

func (l *loader) resources(v any, doc *Document) {
	p := value.KeyPath("resources")
	m, ok := l.record(p, v)
	if !ok {
		return
	}
	for _, addr := range slices.Sorted(maps.Keys(m)) {
		rp := p.Key(addr)
		if !ValidAddr(addr) {
			d := l.errorf(rp, "invalid resource address %q", addr)
			d.Detail = "An address is dot-separated segments of letters, digits, _ and -, like files.motd."
			continue
		}
		rec, ok := l.record(rp, m[addr])
		if !ok {
			continue
		}
		l.fields(rp, rec, "resource", "type", "provider", "config", "depends_on", "lifecycle")
		r := &Resource{Addr: addr, Config: map[string]any{}}
		if t, ok := rec["type"]; !ok {
			l.errorf(rp, "missing resource type")
		} else if r.Type, ok = l.str(rp.Key("type"), t); ok && !validName(r.Type) {
			l.errorf(rp.Key("type"), "invalid resource type %q", r.Type)
		}
		if x, ok := rec["provider"]; ok {
			if r.Provider, ok = l.str(rp.Key("provider"), x); ok && !validName(r.Provider) {
				l.errorf(rp.Key("provider"), "invalid provider name %q", r.Provider)
			}
		} else if prefix, _, found := strings.Cut(r.Type, "_"); found && prefix != "" {
			r.Provider = prefix
		} else if r.Type != "" {
			d := l.errorf(rp.Key("type"), "cannot tell the provider of type %q", r.Type)
			d.Detail = `A type is named PROVIDER_KIND (local_file → local); otherwise set "provider".`
		}
		if c, ok := l.record(rp.Key("config"), rec["config"]); ok && c != nil {
			r.Config = c
		}
		r.DependsOn = l.strs(rp.Key("depends_on"), rec["depends_on"])
		r.Lifecycle = l.lifecycle(rp.Key("lifecycle"), rec["lifecycle"])
		doc.Resources[addr] = r
		l.src[addr] = rp
		l.configSrc[addr] = rp.Key("config")
	}
}

func (l *loader) lifecycle(p value.Path, v any) Lifecycle {
	var lc Lifecycle
	m, ok := l.record(p, v)
	if !ok || m == nil {
		return lc
	}
	l.fields(p, m, "lifecycle", "prevent_destroy", "create_before_destroy", "ignore_changes")
	lc.PreventDestroy = l.boolean(p.Key("prevent_destroy"), m["prevent_destroy"])
	lc.CreateBeforeDestroy = l.boolean(p.Key("create_before_destroy"), m["create_before_destroy"])
	lc.IgnoreChanges = l.strs(p.Key("ignore_changes"), m["ignore_changes"])
	for i, s := range lc.IgnoreChanges {
		if _, err := value.ParsePath(s); err != nil || s == "" {
			l.errorf(p.Key("ignore_changes").Index(i), "invalid attribute path %q", s)
		}
	}
	return lc
}

// servers expands servers.NAME into a resource of type PROVIDER_server, and each of its taskservs into
// taskservs.NAME.TASKSERV of type "taskserv" (provider "taskserv:TASKSERV") that depends on the server.
// The server's config is its record without provider and taskservs, so a server can move between
// providers; a taskserv install's config is {name, version, config, server: "${servers.NAME}"}.
func (l *loader) servers(sv, tv any, doc *Document) {
	tp := value.KeyPath("taskservs")
	taskservs, _ := l.record(tp, tv)
	for _, name := range slices.Sorted(maps.Keys(taskservs)) {
		pp := tp.Key(name)
		if !validName(name) {
			l.errorf(pp, "invalid taskserv name %q: use letters, digits, _ and -", name)
			continue
		}
		if rec, ok := l.record(pp, taskservs[name]); ok {
			l.fields(pp, rec, "taskserv", "version", "config")
			if x, ok := rec["version"]; ok {
				l.str(pp.Key("version"), x)
			}
			l.record(pp.Key("config"), rec["config"])
		}
	}
	p := value.KeyPath("servers")
	m, ok := l.record(p, sv)
	if !ok {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		sp := p.Key(name)
		if !validName(name) {
			l.errorf(sp, "invalid server name %q: use letters, digits, _ and -", name)
			continue
		}
		rec, ok := l.record(sp, m[name])
		if !ok || rec == nil {
			continue
		}
		addr := "servers." + name
		if _, dup := doc.Resources[addr]; dup {
			l.errorf(sp, "%s is declared twice: in servers and in resources", addr)
			continue
		}
		r := &Resource{Addr: addr, Config: make(map[string]any, len(rec))}
		for k, v := range rec {
			if k != "provider" && k != "taskservs" {
				r.Config[k] = v
			}
		}
		if x, ok := rec["provider"]; !ok {
			l.errorf(sp, "missing provider")
		} else if r.Provider, ok = l.str(sp.Key("provider"), x); ok {
			if !validName(r.Provider) {
				l.errorf(sp.Key("provider"), "invalid provider name %q", r.Provider)
			}
			r.Type = r.Provider + "_server"
		}
		doc.Resources[addr] = r
		l.src[addr], l.configSrc[addr] = sp, sp
		for i, ts := range l.strs(sp.Key("taskservs"), rec["taskservs"]) {
			ip := sp.Key("taskservs").Index(i)
			if !validName(ts) {
				l.errorf(ip, "invalid taskserv name %q", ts)
				continue
			}
			taddr := "taskservs." + name + "." + ts
			if _, dup := doc.Resources[taddr]; dup {
				l.errorf(ip, "taskserv %q is listed twice for server %s", ts, name)
				continue
			}
			def, _ := taskservs[ts].(map[string]any)
			cfg := map[string]any{"name": ts, "server": "${" + addr + "}", "config": map[string]any{}}
			if v, ok := def["version"].(string); ok {
				cfg["version"] = v
			}
			if c, ok := def["config"].(map[string]any); ok {
				cfg["config"] = c
			}
			doc.Resources[taddr] = &Resource{
				Addr: taddr, Type: "taskserv", Provider: "taskserv:" + ts, Config: cfg, DependsOn: []string{addr},
			}
			l.src[taddr], l.configSrc[taddr] = ip, tp.Key(ts)
		}
	}
}

func (l *loader) outputs(v any, doc *Document) {
	p := value.KeyPath("outputs")
	m, ok := l.record(p, v)
	if !ok {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		op := p.Key(name)
		if !validName(name) {
			l.errorf(op, "invalid output name %q: use letters, digits, _ and -", name)
			continue
		}
		rec, ok := l.record(op, m[name])
		if !ok || rec == nil {
			continue
		}
		l.fields(op, rec, "output", "value", "sensitive", "description")
		o := &Output{Name: name, Value: rec["value"]}
		if _, ok := rec["value"]; !ok {
			l.errorf(op, "missing value")
		}
		o.Sensitive = l.boolean(op.Key("sensitive"), rec["sensitive"])
		if d, ok := rec["description"]; ok {
			o.Description, _ = l.str(op.Key("description"), d)
		}
		doc.Outputs[name] = o
	}
}

// link implies undeclared providers, checks depends_on, and finds references, once every resource is
// known.
func (l *loader) link(doc *Document) {
	has := func(addr string) bool { _, ok := doc.Resources[addr]; return ok }
	for _, addr := range slices.Sorted(maps.Keys(doc.Resources)) {
		r := doc.Resources[addr]
		if _, ok := doc.Providers[r.Provider]; !ok && r.Provider != "" && !strings.HasPrefix(r.Provider, "taskserv:") {
			doc.Providers[r.Provider] = &Provider{Name: r.Provider, Source: "builtin/" + r.Provider, Config: map[string]any{}}
		}
		for i, dep := range r.DependsOn {
			if !has(dep) {
				l.errorf(l.src[addr].Key("depends_on").Index(i), "depends_on names undeclared resource %q", dep)
			}
		}
		var ds diag.Diagnostics
		r.References, ds = findReferences(r.Config, l.configSrc[addr], has)
		l.add(ds, l.configSrc[addr], r.Config)
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Outputs)) {
		o := doc.Outputs[name]
		vp := value.KeyPath("outputs", name, "value")
		var ds diag.Diagnostics
		o.References, ds = findReferences(o.Value, vp, has)
		l.add(ds, vp, o.Value)
	}
}

// add records reference diagnostics found under prefix, locating each by finding the string it is about.
func (l *loader) add(ds diag.Diagnostics, prefix value.Path, v any) {
	if len(ds) == 0 {
		return
	}
	// findReferences reports display paths; map them back to value paths for positions.
	byDisplay := map[string]value.Path{}
	value.Walk(v, func(p value.Path, _ any) bool {
		full := append(slices.Clip(prefix), p...)
		byDisplay[Display(full)] = full
		return true
	})
	for _, d := range ds {
		p, ok := byDisplay[d.Path]
		if !ok {
			p = prefix
		}
		if l.isRejected(p) {
			continue
		}
		if ok {
			d.Pos = locate(l.source.get(), p)
		}
		l.diags = append(l.diags, d)
		if d.Severity == diag.Error {
			l.errs = append(l.errs, p)
		}
	}
}
