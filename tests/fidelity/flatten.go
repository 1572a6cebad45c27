package fidelity

import (
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Flatten parses a deployment.toml and returns its leaf keys in the notation of the key lists:
// dotted segments, a segment holding a dot quoted with single quotes ('header.X-Key'), and "[]"
// after a key that is an array of tables ([[apim.gateway.environment]] name = ... becomes
// apim.gateway.environment[].name). Values are the decoded TOML values; keys under an array of
// tables collect one value per element.
func Flatten(doc string) (map[string][]any, error) {
	var m map[string]any
	if _, err := toml.Decode(doc, &m); err != nil {
		return nil, err
	}
	out := map[string][]any{}
	flattenInto(out, "", m)
	return out, nil
}

func seg(k string) string {
	if strings.ContainsAny(k, ". ") {
		return "'" + k + "'"
	}
	return k
}

func flattenInto(out map[string][]any, prefix string, v any) {
	join := func(k string) string {
		if prefix == "" {
			return seg(k)
		}
		return prefix + "." + seg(k)
	}
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 && prefix != "" {
			out[prefix] = append(out[prefix], t)
		}
		for k, vv := range t {
			flattenInto(out, join(k), vv)
		}
	case []map[string]any:
		for _, e := range t {
			flattenInto(out, prefix+"[]", e)
		}
		if len(t) == 0 {
			out[prefix] = append(out[prefix], t)
		}
	case []any:
		tables := true
		for _, e := range t {
			if _, ok := e.(map[string]any); !ok {
				tables = false
			}
		}
		if tables && len(t) > 0 {
			for _, e := range t {
				flattenInto(out, prefix+"[]", e)
			}
			return
		}
		out[prefix] = append(out[prefix], t)
	default:
		out[prefix] = append(out[prefix], t)
	}
}

// SortedKeys returns the keys of a flattened document in order.
func SortedKeys(m map[string][]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Segments splits a flattened key into its segments, keeping quoted segments whole.
func Segments(key string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '\'':
			quoted = !quoted
			cur.WriteByte(c)
		case c == '.' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	out = append(out, cur.String())
	return out
}

// MatchKey reports whether a concrete flattened key is covered by a pattern from a key list.
// A "*" segment matches one segment, or, as the last segment, any non-empty remainder; a "$N"
// segment matches one segment of word characters, as the config mapper matches it. A
// pattern also covers the keys below it when it names an array of tables or a map that a
// template hands on whole: that is not assumed here, so only "*" widens a pattern.
func MatchKey(pattern, key string) bool {
	if pattern == key {
		return true
	}
	if IsPattern(pattern) {
		// an infer.json "$N" pattern covers the keys the config mapper binds it to
		_, ok := MatchPattern(pattern, key)
		return ok
	}
	if !strings.Contains(pattern, "*") {
		return false
	}
	ps, ks := Segments(pattern), Segments(key)
	for i, p := range ps {
		if i >= len(ks) {
			return false
		}
		if p == "*" || p == "*[]" {
			if i == len(ps)-1 {
				return true
			}
			continue
		}
		if p != ks[i] {
			return false
		}
	}
	return len(ps) == len(ks)
}

func describe(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
