package main

import (
	"regexp"
	"sort"
	"strings"
)

// Ref is one deployment.toml key a template reads, in the flattened notation the fidelity
// checker uses: dotted segments, "[]" after a segment that is an array of tables, and a final
// "*" where the template iterates a map with .items() (any key below is read).
type Ref struct {
	Key     string
	Guarded bool // inside an {% if %}/{% for %} block or given a |default filter
}

var (
	tagRe = regexp.MustCompile(`(?s)\{\{(.*?)\}\}|\{%-?(.*?)-?%\}|\{#.*?#\}`)
	// A reference: identifier, then .ident / ['quoted'] / [0] / (call) segments.
	pathRe    = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(?:\s*(?:\.\s*[A-Za-z_][A-Za-z0-9_]*|\[\s*'[^']*'\s*\]|\[\s*"[^"]*"\s*\]|\[\s*[0-9]+\s*\]|\(\s*\)))*`)
	segRe     = regexp.MustCompile(`\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[\s*([0-9]+)\s*\]|(\(\s*\))`)
	strLitRe  = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	forRe     = regexp.MustCompile(`^\s*for\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s*,\s*([A-Za-z_][A-Za-z0-9_]*))?\s+in\s+(.+?)\s*$`)
	setRe     = regexp.MustCompile(`^\s*set\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$`)
	macroRe   = regexp.MustCompile(`^\s*macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(([^)]*)\)`)
	filterArg = regexp.MustCompile(`\|\s*[A-Za-z_][A-Za-z0-9_]*`)
)

// Words that are Jinja syntax, tests, filters or builtins, never deployment.toml roots.
var jinjaWords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "if": true, "else": true,
	"elif": true, "endif": true, "for": true, "endfor": true, "set": true, "defined": true,
	"undefined": true, "none": true, "None": true, "true": true, "false": true, "True": true,
	"False": true, "loop": true, "range": true, "macro": true, "endmacro": true, "call": true,
	"endcall": true, "raw": true, "endraw": true, "include": true, "import": true, "from": true,
	"as": true, "with": true, "without": true, "context": true, "block": true, "endblock": true,
	"extends": true, "filter": true, "endfilter": true, "null": true, "string": true,
	"number": true, "sameas": true, "iterable": true, "mapping": true, "equalto": true,
	"divisibleby": true, "lower": true, "upper": true, "odd": true, "even": true,
	"self": true, "super": true, "caller": true, "varargs": true, "kwargs": true,
	"containing": true, "truthy": true, "endset": true, "do": true, "exptest": true,
}

type loopVar struct {
	base   string // resolved key of the iterated expression
	isKey  bool   // key variable of .items(): the name of a child, not a key itself
	isItem bool   // value var of .items() (base ends in "*") or element of an array ("[]")
}

type analyzer struct {
	scopes  []map[string]loopVar
	blocks  []string // stack of open block kinds ("if", "for", "macro", ...)
	aliases map[string]string
	refs    map[string]bool // key -> guarded (false wins: any unguarded reference makes it unguarded)
}

// AnalyzeTemplate returns the deployment.toml keys that a Jinja template reads.
func AnalyzeTemplate(src string) []Ref {
	a := &analyzer{aliases: map[string]string{}, refs: map[string]bool{}}
	a.scopes = []map[string]loopVar{{}}
	for _, m := range tagRe.FindAllStringSubmatch(src, -1) {
		switch {
		case strings.HasPrefix(m[0], "{{"):
			a.expr(m[1], strings.Contains(m[1], "|default") || strings.Contains(m[1], "| default"))
		case strings.HasPrefix(m[0], "{%"):
			a.stmt(strings.TrimSpace(m[2]))
		}
	}
	out := make([]Ref, 0, len(a.refs))
	for k, g := range a.refs {
		out = append(out, Ref{Key: k, Guarded: g})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (a *analyzer) guarded() bool {
	for _, b := range a.blocks {
		if b == "if" || b == "for" || b == "macro" {
			return true
		}
	}
	return false
}

func (a *analyzer) stmt(s string) {
	word := s
	if i := strings.IndexAny(s, " \t\n"); i >= 0 {
		word = s[:i]
	}
	switch word {
	case "for":
		m := forRe.FindStringSubmatch(s)
		if m == nil {
			return
		}
		expr := m[3]
		if i := strings.Index(expr, " if "); i >= 0 { // {% for x in xs if cond %}
			expr = expr[:i]
		}
		base, isItems := a.resolveIter(expr)
		a.expr(expr, false)
		a.blocks = append(a.blocks, "for")
		sc := map[string]loopVar{}
		switch {
		case base == "":
			// iterating a literal or unknown: loop variables resolve to nothing
			sc[m[1]] = loopVar{}
			if m[2] != "" {
				sc[m[2]] = loopVar{}
			}
		case isItems && m[2] != "":
			sc[m[1]] = loopVar{base: base + ".*", isKey: true}
			sc[m[2]] = loopVar{base: base + ".*", isItem: true}
		case isItems:
			sc[m[1]] = loopVar{base: base + ".*", isItem: true}
		default:
			sc[m[1]] = loopVar{base: base + "[]", isItem: true}
			if m[2] != "" {
				sc[m[2]] = loopVar{base: base + "[]", isItem: true}
			}
		}
		a.scopes = append(a.scopes, sc)
	case "endfor":
		a.pop("for")
		if len(a.scopes) > 1 {
			a.scopes = a.scopes[:len(a.scopes)-1]
		}
	case "if":
		a.expr(strings.TrimPrefix(s, "if"), true)
		a.blocks = append(a.blocks, "if")
	case "elif":
		a.expr(strings.TrimPrefix(s, "elif"), true)
	case "else":
	case "endif":
		a.pop("if")
	case "set":
		if m := setRe.FindStringSubmatch(s); m != nil {
			if k, _ := a.resolveIter(m[2]); k != "" {
				a.aliases[m[1]] = k
			} else {
				a.scopes[0][m[1]] = loopVar{} // a local value, not a key
			}
			a.expr(m[2], a.guarded())
		}
	case "macro":
		a.blocks = append(a.blocks, "macro")
		sc := map[string]loopVar{}
		if m := macroRe.FindStringSubmatch(s); m != nil {
			for _, p := range strings.Split(m[2], ",") {
				p = strings.TrimSpace(strings.SplitN(p, "=", 2)[0])
				if p != "" {
					sc[p] = loopVar{}
				}
			}
		}
		a.scopes = append(a.scopes, sc)
	case "endmacro":
		a.pop("macro")
		if len(a.scopes) > 1 {
			a.scopes = a.scopes[:len(a.scopes)-1]
		}
	default:
		a.expr(s, a.guarded())
	}
}

func (a *analyzer) pop(kind string) {
	for i := len(a.blocks) - 1; i >= 0; i-- {
		if a.blocks[i] == kind {
			a.blocks = a.blocks[:i]
			return
		}
	}
}

// resolveIter resolves the single path an iterated (or set) expression names, and whether
// it is iterated with .items().
func (a *analyzer) resolveIter(expr string) (string, bool) {
	expr = strings.TrimSpace(expr)
	if i := strings.Index(expr, "|"); i >= 0 {
		expr = expr[:i]
	}
	p := pathRe.FindString(expr)
	if p == "" || strings.TrimSpace(p) != strings.TrimSpace(expr) {
		return "", false
	}
	isItems := strings.HasSuffix(strings.ReplaceAll(p, " ", ""), ".items()")
	k, ok := a.resolve(p)
	if !ok {
		return "", false
	}
	return k, isItems
}

// expr records every key path referenced in an expression.
func (a *analyzer) expr(e string, forceGuard bool) {
	guard := forceGuard || a.guarded()
	// Blank out string literals that are not subscripts, so their words are not paths.
	masked := maskStrings(e)
	// Filter names after '|' are not paths.
	masked = filterArg.ReplaceAllStringFunc(masked, func(s string) string { return strings.Repeat(" ", len(s)) })
	for _, loc := range pathRe.FindAllStringIndex(masked, -1) {
		if loc[0] > 0 && (masked[loc[0]-1] == '.' || isIdentByte(masked[loc[0]-1])) {
			continue
		}
		// Keyword arguments (name=value) inside calls are not paths.
		rest := strings.TrimLeft(masked[loc[1]:], " ")
		if strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, "==") {
			continue
		}
		if strings.HasPrefix(rest, "(") { // a function call such as range(...)
			continue
		}
		if k, ok := a.resolve(e[loc[0]:loc[1]]); ok {
			a.add(k, guard)
		}
	}
}

func isIdentByte(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}

// maskStrings replaces string literals with spaces, except those used as subscripts (x['a.b']).
func maskStrings(e string) string {
	b := []byte(e)
	for _, loc := range strLitRe.FindAllStringIndex(e, -1) {
		pre := strings.TrimRight(e[:loc[0]], " ")
		if strings.HasSuffix(pre, "[") {
			continue
		}
		for i := loc[0]; i < loc[1]; i++ {
			b[i] = ' '
		}
	}
	return string(b)
}

func (a *analyzer) add(k string, guarded bool) {
	if prev, ok := a.refs[k]; ok {
		a.refs[k] = prev && guarded
		return
	}
	a.refs[k] = guarded
}

// resolve turns a path expression into a flattened key, following loop variables and aliases.
func (a *analyzer) resolve(p string) (string, bool) {
	p = strings.TrimSpace(p)
	root := p
	if i := strings.IndexAny(p, ".[( \t"); i >= 0 {
		root = p[:i]
	}
	if jinjaWords[root] {
		return "", false
	}
	var segs []string
	for _, m := range segRe.FindAllStringSubmatch(p[len(root):], -1) {
		switch {
		case m[1] != "":
			segs = append(segs, m[1])
		case m[2] != "" || m[3] != "":
			s := m[2] + m[3]
			if strings.Contains(s, ".") {
				s = "'" + s + "'"
			}
			segs = append(segs, s)
		case m[4] != "":
			segs = append(segs, "[]")
		case m[5] != "":
			segs = append(segs, "()")
		}
	}
	// Drop a trailing method call (x.items(), x.toList(), x.split(...)...): it reads x.
	for i, s := range segs {
		if s == "()" {
			if i > 0 {
				segs = segs[:i-1]
			} else {
				segs = nil
			}
			break
		}
	}
	var base string
	found := false
	for i := len(a.scopes) - 1; i >= 0; i-- {
		if lv, ok := a.scopes[i][root]; ok {
			if lv.base == "" {
				return "", false
			}
			if lv.isKey {
				// The name of a child of a map: reading it means the map's children are read.
				return lv.base, true
			}
			base, found = lv.base, true
			break
		}
	}
	if !found {
		if al, ok := a.aliases[root]; ok {
			base, found = al, true
		}
	}
	if !found {
		base = root
	}
	for _, s := range segs {
		if s == "[]" {
			if !strings.HasSuffix(base, "[]") && !strings.HasSuffix(base, "*") {
				base += "[]"
			}
			continue
		}
		if strings.HasSuffix(base, "*") {
			// below a wildcard: the wildcard already covers it
			continue
		}
		base += "." + s
	}
	return base, true
}
