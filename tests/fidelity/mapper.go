package fidelity

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// This file models what WSO2's config mapper (wso2/config-mapper v1.0.26, run by the kernel at
// every start) does to deployment.toml before the Jinja templates see it, so that a check can
// ask for the value a template would actually render:
//
//  1. TomlParser: every leaf becomes one dotted key; a segment that is not a bare TOML key is
//     quoted ('a.b'); arrays, including arrays of tables, stay whole under their key.
//  2. KeyMapper (key-mappings.json): a key listed there is renamed (to one key, several, or ""
//     which nothing reads).
//  3. ValueInferrer (infer.json): for each key, the rule keyed by that exact key, else by the
//     first pattern whose "$N" segments match it. A "$N" becomes the regular expression \w+ and
//     the rest of the pattern is used as a regular expression too (so its dots match any
//     character). The key's value, as Java's String.valueOf writes it, selects a set of keys
//     and values; "$N" in those keys and in their string values is replaced by the segment of
//     the key at the same position. Inferred values can trigger further rules (exact keys or
//     patterns, string values only, no "$N" replacement). Explicit keys win over inferred ones.
//  4. DefaultParser (default.json): every key still absent gets its default.
//
// $ref{} and $env{} are resolved later by the mapper and are left as they are here.

// InferRule is one entry of a merged infer.json: when Cond (a key or a "$N" pattern) has the
// value Value, the keys of Sets get their values.
type InferRule struct {
	Cond   string
	Value  string
	Sets   []KeyValue
	Origin string // repo:path of the fragment the rule comes from
}

// KeyValue is one key and its JSON-decoded value.
type KeyValue struct {
	Key    string
	Value  any
	Origin string
}

// Mapper is the merged JSON input of the config mapper for one distribution: key mappings,
// inference rules (in the order the mapper tries them) and defaults. It is written by
// tools/wso2keys as mapper-<dist>.txt.
type Mapper struct {
	Version  string
	Dist     string
	Header   []string
	Mappings map[string][]string // a key renamed to these keys ([""] = dropped)
	MapFrom  map[string]string   // origin (repo:path) of each mapping
	Rules    []InferRule
	Defaults map[string]KeyValue
	idx      map[string]map[string]int // condition -> value -> index in Rules
	conds    []string                  // condition keys in file order, as the mapper iterates them
}

// LoadMapper reads mapper-<dist>.txt of a version.
func LoadMapper(version, dist string) (*Mapper, error) {
	dist = canonicalDist(dist)
	m, err := LoadMapperFile(filepath.Join(DataDir(version), "mapper-"+dist+".txt"))
	if err != nil {
		return nil, err
	}
	m.Version, m.Dist = version, dist
	return m, nil
}

// LoadMapperFile reads a file in the format WriteMapper writes: comment lines, then one record
// a line, fields separated by tabs, values JSON-encoded:
//
//	map	<key>	<JSON string or array of strings>	<origin>
//	infer	<condition>	<condition value>	<key>	<JSON value>	<origin>
//	default	<key>	<JSON value>	<origin>
func LoadMapperFile(path string) (*Mapper, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &Mapper{Mappings: map[string][]string{}, MapFrom: map[string]string{}, Defaults: map[string]KeyValue{}}
	ids := map[string]string{} // origin id -> "file <- repo:path", from the header
	origin := func(id string) string {
		if s, ok := ids[id]; ok {
			return s
		}
		return id
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			if g := originIDRe.FindStringSubmatch(line); g != nil {
				ids[g[1]] = g[2]
			}
			m.Header = append(m.Header, strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		p := strings.Split(line, "\t")
		bad := func(want string) error { return fmt.Errorf("%s:%d: want %s", path, n, want) }
		switch p[0] {
		case "map":
			if len(p) != 4 {
				return nil, bad("map<TAB>key<TAB>target<TAB>origin")
			}
			var v any
			if err := json.Unmarshal([]byte(p[2]), &v); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			m.MapFrom[p[1]] = origin(p[3])
			switch t := v.(type) {
			case string:
				m.Mappings[p[1]] = []string{t}
			case []any:
				for _, e := range t {
					s, _ := e.(string)
					m.Mappings[p[1]] = append(m.Mappings[p[1]], s)
				}
			}
		case "infer":
			if len(p) != 6 {
				return nil, bad("infer<TAB>condition<TAB>value<TAB>key<TAB>JSON value<TAB>origin")
			}
			var v any
			if err := json.Unmarshal([]byte(p[4]), &v); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			m.addRule(p[1], p[2], KeyValue{Key: p[3], Value: v, Origin: origin(p[5])}, origin(p[5]))
		case "default":
			if len(p) != 4 {
				return nil, bad("default<TAB>key<TAB>JSON value<TAB>origin")
			}
			var v any
			if err := json.Unmarshal([]byte(p[2]), &v); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			m.Defaults[p[1]] = KeyValue{Key: p[1], Value: v, Origin: origin(p[3])}
		default:
			return nil, fmt.Errorf("%s:%d: unknown record %q", path, n, p[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(m.Rules) == 0 || len(m.Defaults) == 0 {
		return nil, fmt.Errorf("%s: no inference rules or no defaults", path)
	}
	return m, nil
}

// AddRule appends one inferred key to the rule (cond, value), creating the rule if new. Rules
// keep the order of their first key, which is the order the config mapper tries them in.
func (m *Mapper) AddRule(cond, value string, kv KeyValue, origin string) {
	m.addRule(cond, value, kv, origin)
}

func (m *Mapper) addRule(cond, value string, kv KeyValue, origin string) {
	if m.idx == nil {
		m.idx = map[string]map[string]int{}
	}
	byValue := m.idx[cond]
	if byValue == nil {
		byValue = map[string]int{}
		m.idx[cond] = byValue
		m.conds = append(m.conds, cond)
	}
	i, ok := byValue[value]
	if !ok {
		m.Rules = append(m.Rules, InferRule{Cond: cond, Value: value, Origin: origin})
		i = len(m.Rules) - 1
		byValue[value] = i
	}
	m.Rules[i].Sets = append(m.Rules[i].Sets, kv)
}

// rule returns the rule for a condition and value, or nil.
func (m *Mapper) rule(cond, value string) *InferRule {
	if i, ok := m.idx[cond][value]; ok {
		return &m.Rules[i]
	}
	return nil
}

var (
	dollarSeg  = regexp.MustCompile(`\$[0-9]+`)
	originIDRe = regexp.MustCompile(`^#\s+([a-z][0-9]+) = (.+)$`)
)

// patternCache holds the regular expression of each "$N" pattern, built as the mapper does.
var patternCache = map[string]*regexp.Regexp{}

// PatternRegexp returns the regular expression the config mapper matches a key against for an
// infer.json key: "$N" becomes \w+, everything else is taken as a regular expression.
func PatternRegexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := patternCache[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile("^(?:" + dollarSeg.ReplaceAllString(pattern, `\w+`) + ")$")
	if err != nil {
		return nil, err
	}
	patternCache[pattern] = re
	return re, nil
}

// IsPattern reports whether an infer.json key binds "$N" segments.
func IsPattern(key string) bool { return dollarSeg.MatchString(key) }

// MatchPattern reports whether a concrete key matches an infer.json key, exactly or through
// its "$N" segments, and returns the bindings ($1 -> segment). Segments are split on every dot,
// as the mapper splits them.
func MatchPattern(pattern, key string) (map[string]string, bool) {
	if pattern == key {
		return map[string]string{}, true
	}
	if !IsPattern(pattern) {
		return nil, false
	}
	re, err := PatternRegexp(pattern)
	if err != nil || !re.MatchString(key) {
		return nil, false
	}
	ps, ks := strings.Split(pattern, "."), strings.Split(key, ".")
	b := map[string]string{}
	for i, s := range ps {
		if dollarSeg.MatchString(s) && dollarSeg.FindString(s) == s && i < len(ks) {
			b[s] = ks[i]
		}
	}
	return b, true
}

// Bind replaces "$N" in s by its bound segment.
func Bind(s string, b map[string]string) string {
	// longest names first, so $12 is not read as $1 followed by 2
	names := make([]string, 0, len(b))
	for n := range b {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for _, n := range names {
		s = strings.ReplaceAll(s, n, b[n])
	}
	return s
}

// matchedCond is the mapper's getMatchedKey: the exact condition, else the first pattern (in
// file order) that matches.
func (m *Mapper) matchedCond(key string) (string, bool) {
	if _, ok := m.idx[key]; ok {
		return key, true
	}
	for _, c := range m.conds {
		if !IsPattern(c) {
			continue
		}
		if _, ok := MatchPattern(c, key); ok {
			return c, true
		}
	}
	return "", false
}

// javaString renders a TOML value as Java's String.valueOf does for the objects the mapper's
// TOML parser returns (Long, Double, Boolean, String, lists).
func javaString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		if t == float64(int64(t)) {
			return strconv.FormatFloat(t, 'f', 1, 64)
		}
		return strconv.FormatFloat(t, 'g', -1, 64)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = javaString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// bareKey is what the mapper's TOML parser leaves unquoted.
var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// MapperKeys parses a deployment.toml into the dotted keys the config mapper works on.
func MapperKeys(doc string) (map[string]any, error) {
	var m map[string]any
	if _, err := toml.Decode(doc, &m); err != nil {
		return nil, err
	}
	out := map[string]any{}
	var walk func(prefix string, v map[string]any)
	walk = func(prefix string, v map[string]any) {
		for k, vv := range v {
			seg := k
			if !bareKey.MatchString(k) {
				seg = "'" + k + "'"
			}
			key := seg
			if prefix != "" {
				key = prefix + "." + seg
			}
			if t, ok := vv.(map[string]any); ok {
				walk(key, t)
				continue
			}
			out[key] = vv
		}
	}
	walk("", m)
	return out, nil
}

// Effective returns the values the templates see for a rendered deployment.toml: key mappings,
// inference and defaults applied as the config mapper applies them.
func (m *Mapper) Effective(doc string) (map[string]any, error) {
	ctx, err := MapperKeys(doc)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the mapper iterates TOML order; only matters when two rules set one key
	mapped := map[string]any{}
	for _, k := range keys {
		if to, ok := m.Mappings[k]; ok {
			for _, t := range to {
				mapped[t] = ctx[k]
			}
			continue
		}
		mapped[k] = ctx[k]
	}
	keys = keys[:0]
	for k := range mapped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	inferred := map[string]any{}
	for _, k := range keys {
		cond, ok := m.matchedCond(k)
		if !ok {
			continue
		}
		r := m.rule(cond, javaString(mapped[k]))
		if r == nil {
			continue
		}
		b, _ := MatchPattern(cond, k)
		set := map[string]any{}
		for _, kv := range r.Sets {
			v := kv.Value
			if s, ok := v.(string); ok {
				v = Bind(s, b)
			}
			set[Bind(kv.Key, b)] = v
		}
		m.inferRecursive(inferred, set, 0)
		for kk, v := range set {
			inferred[kk] = v
		}
	}
	out := inferred
	for k, v := range mapped {
		out[k] = v
	}
	for k, kv := range m.Defaults {
		if _, ok := out[k]; !ok {
			out[k] = kv.Value
		}
	}
	return out, nil
}

func (m *Mapper) inferRecursive(into map[string]any, set map[string]any, depth int) {
	if depth > 16 { // WSO2's rules do not chain this deep; a cycle would loop forever in the mapper
		return
	}
	for k, v := range set {
		s, ok := v.(string)
		if !ok {
			continue
		}
		cond, ok := m.matchedCond(k)
		if !ok {
			continue
		}
		r := m.rule(cond, s)
		if r == nil {
			continue
		}
		next := map[string]any{}
		for _, kv := range r.Sets {
			next[kv.Key] = kv.Value
			into[kv.Key] = kv.Value
		}
		m.inferRecursive(into, next, depth+1)
	}
}

// CondValues returns the values a condition (key or pattern) has rules for, sorted.
func (m *Mapper) CondValues(cond string) []string {
	var out []string
	for v := range m.idx[cond] {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// SettersOf returns the conditions whose rules can set a concrete key (one rule each), bound to it
// (e.g. database.shared_db.validationQuery -> database.$1.type bound to database.shared_db.type).
func (m *Mapper) SettersOf(key string) []BoundRule {
	var out []BoundRule
	seen := map[string]bool{}
	for _, r := range m.Rules {
		if seen[r.Cond] {
			continue
		}
		for _, kv := range r.Sets {
			b, ok := MatchPattern(kv.Key, key)
			if !ok {
				continue
			}
			out = append(out, BoundRule{Rule: r, Cond: Bind(r.Cond, b)})
			seen[r.Cond] = true
			break
		}
	}
	return out
}

// BoundRule is a rule whose condition is bound to a concrete key.
type BoundRule struct {
	Rule InferRule
	Cond string
}
