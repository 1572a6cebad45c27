package main

import (
	"path"
	"strings"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

// concrete reports whether a key-list key names one key (no wildcard, pattern or array).
func concrete(k string) bool {
	return !strings.ContainsAny(k, "*$") && !strings.Contains(k, "[]")
}

// expandPatterns binds every infer.json rule whose condition or inferred keys hold "$N"
// segments to the concrete keys of the list that match an inferred key (as the config mapper
// matches them: a "$N" segment is \w+), marks those keys as inferred and adds the bound
// condition key (database.$1.type -> database.shared_db.type) as read.
func expandPatterns(m *fidelity.Mapper, keys map[string]*keyInfo, get func(string) *keyInfo) {
	var known []string
	for k := range keys {
		if concrete(k) {
			known = append(known, k)
		}
	}
	for _, r := range m.Rules {
		origin := originName(r.Origin)
		for _, kv := range r.Sets {
			if !fidelity.IsPattern(kv.Key) {
				continue
			}
			for _, k := range known {
				b, ok := fidelity.MatchPattern(kv.Key, k)
				if !ok {
					continue
				}
				ki := get(k)
				ki.infer = true
				ki.origins[origin] = true
				cond := get(fidelity.Bind(r.Cond, b))
				cond.origins[origin] = true
			}
		}
		if fidelity.IsPattern(r.Cond) {
			for _, k := range known {
				if _, ok := fidelity.MatchPattern(r.Cond, k); ok {
					keys[k].origins[origin] = true
				}
			}
		}
	}
}

// originName is the file name of a repo:path origin, as the key list's origins column has it.
func originName(o string) string {
	if i := strings.Index(o, ":"); i >= 0 {
		o = o[i+1:]
	}
	return path.Base(o)
}
