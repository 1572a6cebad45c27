package main

import "testing"

func refsOf(src string) map[string]bool {
	out := map[string]bool{}
	for _, r := range AnalyzeTemplate(src) {
		out[r.Key] = r.Guarded
	}
	return out
}

func TestAnalyzeTemplate(t *testing.T) {
	src := `<url>{{database.apim_db.url}}</url>
{% for env in apim.gateway.environment %}<n>{{env.name}}</n>
{% for k, v in env.properties.items() %}{{k}}={{v}}{% endfor %}{% endfor %}
{% for p, v in transport.https.properties.items() %}{{p}}{% endfor %}
{% if apim.cors.enable is defined and apim.cors.enable %}{{apim.cors.allow_origins}}{% endif %}
{% set count = [] %}{% if count.append(1) %}{% endif %}
{{ server['x.y'] | default('a') }}
{% for h in handlers[0].list %}{{ h.class }}{% endfor %}`
	got := refsOf(src)
	want := map[string]bool{ // key -> guarded
		"database.apim_db.url":                    false,
		"apim.gateway.environment":                false,
		"apim.gateway.environment[].name":         true,
		"apim.gateway.environment[].properties.*": true,
		"apim.gateway.environment[].properties":   true,
		"transport.https.properties.*":            true,
		"transport.https.properties":              false,
		"apim.cors.enable":                        true,
		"apim.cors.allow_origins":                 true,
		"server.'x.y'":                            false,
		"handlers[].list":                         false,
		"handlers[].list[].class":                 true,
	}
	for k, g := range want {
		gg, ok := got[k]
		if !ok {
			t.Errorf("missing %q; got %v", k, got)
			continue
		}
		if k != "server.'x.y'" && gg != g {
			t.Errorf("%q guarded=%v, want %v", k, gg, g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %q", k)
		}
	}
}

func TestAntMatch(t *testing.T) {
	for _, c := range []struct {
		p, n string
		ok   bool
	}{
		{"**/registry.xml.j2", "repository/resources/conf/templates/repository/conf/registry.xml.j2", true},
		{"**/conf/axis2/*.j2", "templates/repository/conf/axis2/axis2.xml.j2", true},
		{"**/conf/axis2/*.j2", "templates/repository/conf/axis2/sub/axis2.xml.j2", false},
		{"**/*.json", "default.json", true},
	} {
		if antMatch(c.p, c.n) != c.ok {
			t.Errorf("antMatch(%q, %q) != %v", c.p, c.n, c.ok)
		}
	}
}
