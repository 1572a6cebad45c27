package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

// member is one top-level member of a JSON object, in file order.
type member struct {
	Key    string
	Raw    json.RawMessage
	Origin string // repo:path
}

// orderedMembers reads the members of a JSON object in the order they appear: the config
// mapper's Gson maps keep that order, and it decides which infer.json pattern is tried first.
func orderedMembers(b []byte, origin string) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, member{Key: k, Raw: raw, Origin: origin})
	}
	return out, nil
}

// mergeFirstWins merges fragments as wso2-maven-json-merge-plugin does without mergeChildren
// (wso2/maven-tools, wso2-maven-json-merge-plugin Utils.mergeMaps): the base file first, then
// each include in order; a key already present keeps its value.
func mergeFirstWins(fragments [][]member) []member {
	seen := map[string]bool{}
	var out []member
	for _, f := range fragments {
		for _, m := range f {
			if seen[m.Key] {
				continue
			}
			seen[m.Key] = true
			out = append(out, m)
		}
	}
	return out
}

// buildMapper turns the merged key-mappings.json, infer.json and default.json into the model
// tests/fidelity evaluates.
func buildMapper(mappings, infer, defaults []member) (*fidelity.Mapper, []string) {
	var warnings []string
	m := &fidelity.Mapper{Mappings: map[string][]string{}, MapFrom: map[string]string{}, Defaults: map[string]fidelity.KeyValue{}}
	for _, e := range mappings {
		var v any
		if err := json.Unmarshal(e.Raw, &v); err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: %s: %v", e.Origin, e.Key, err))
			continue
		}
		m.MapFrom[e.Key] = e.Origin
		switch t := v.(type) {
		case string:
			m.Mappings[e.Key] = []string{t}
		case []any:
			for _, x := range t {
				s, _ := x.(string)
				m.Mappings[e.Key] = append(m.Mappings[e.Key], s)
			}
		}
	}
	for _, e := range infer {
		byValue, err := orderedMembers(e.Raw, e.Origin)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: infer rule %s: %v", e.Origin, e.Key, err))
			continue
		}
		for _, bv := range byValue {
			sets, err := orderedMembers(bv.Raw, e.Origin)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%s: infer rule %s=%s: %v", e.Origin, e.Key, bv.Key, err))
				continue
			}
			for _, s := range sets {
				var v any
				_ = json.Unmarshal(s.Raw, &v)
				m.AddRule(e.Key, bv.Key, fidelity.KeyValue{Key: s.Key, Value: v, Origin: e.Origin}, e.Origin)
			}
		}
	}
	for _, e := range defaults {
		var v any
		if err := json.Unmarshal(e.Raw, &v); err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: %s: %v", e.Origin, e.Key, err))
			continue
		}
		m.Defaults[e.Key] = fidelity.KeyValue{Key: e.Key, Value: v, Origin: e.Origin}
	}
	return m, warnings
}

// writeMapper writes the mapper model in the format fidelity.LoadMapperFile reads.
func writeMapper(w io.Writer, m *fidelity.Mapper, header string, ids map[string]string) error {
	id := func(origin string) string {
		if s, ok := ids[origin]; ok {
			return s
		}
		return origin
	}
	enc := func(v any) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		_ = e.Encode(v)
		return strings.TrimSpace(b.String())
	}
	var sb strings.Builder
	sb.WriteString(header)
	var ks []string
	for k := range m.Mappings {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		var v any = m.Mappings[k][0]
		if len(m.Mappings[k]) > 1 {
			v = m.Mappings[k]
		}
		fmt.Fprintf(&sb, "map\t%s\t%s\t%s\n", k, enc(v), id(m.MapFrom[k]))
	}
	// Rules keep their order: the mapper tries "$N" patterns in it.
	for _, r := range m.Rules {
		for _, kv := range r.Sets {
			fmt.Fprintf(&sb, "infer\t%s\t%s\t%s\t%s\t%s\n", r.Cond, r.Value, kv.Key, enc(kv.Value), id(kv.Origin))
		}
	}
	ks = ks[:0]
	for k := range m.Defaults {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		fmt.Fprintf(&sb, "default\t%s\t%s\t%s\n", k, enc(m.Defaults[k].Value), id(m.Defaults[k].Origin))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
