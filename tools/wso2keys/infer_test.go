package main

import (
	"testing"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

func TestExpandPatternsBindsToReadKeys(t *testing.T) {
	m := &fidelity.Mapper{}
	m.AddRule("database.$1.type", "mysql", fidelity.KeyValue{Key: "database.$1.validationQuery", Value: "SELECT 1"}, "wso2/carbon-kernel:infer.json")
	keys := map[string]*keyInfo{}
	get := func(k string) *keyInfo {
		if keys[k] == nil {
			keys[k] = &keyInfo{origins: map[string]bool{}}
		}
		return keys[k]
	}
	get("database.shared_db.validationQuery").tpl = true
	get("database.mb.store_db.validationQuery").tpl = true // two segments: \w+ does not bind it
	get("database.$1.validationQuery").infer = true
	expandPatterns(m, keys, get)
	if !keys["database.shared_db.validationQuery"].infer {
		t.Error("shared_db.validationQuery is inferred through database.$1.type")
	}
	if ki := keys["database.shared_db.type"]; ki == nil || !ki.origins["infer.json"] {
		t.Errorf("the bound condition database.shared_db.type is read: %+v", ki)
	}
	if keys["database.mb.store_db.validationQuery"].infer || keys["database.mb.store_db.type"] != nil {
		t.Error("$1 binds one segment of word characters only")
	}
}

func TestMergeFirstWins(t *testing.T) {
	base := []member{{Key: "a", Raw: []byte(`1`), Origin: "base"}}
	inc := []member{{Key: "a", Raw: []byte(`2`), Origin: "inc"}, {Key: "b", Raw: []byte(`3`), Origin: "inc"}}
	got := mergeFirstWins([][]member{base, inc})
	if len(got) != 2 || got[0].Origin != "base" || got[1].Key != "b" {
		t.Fatalf("got %+v", got)
	}
}

func TestReleaseTag(t *testing.T) {
	for want, tags := range map[string][]string{
		"v4.7.0":    {"v4.7.0-rc2", "v4.7.0"},
		"v4.11.18":  {"v4.11.18"},
		"v1.0.0-rc": {"v1.0.0-rc"},
		"":          nil,
	} {
		if got := releaseTag(tags); got != want {
			t.Errorf("releaseTag(%v) = %q, want %q", tags, got, want)
		}
	}
}
