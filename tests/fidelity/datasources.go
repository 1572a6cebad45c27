package fidelity

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// datasourceKeys are the keys of a [database.X] table that master-datasources.xml.j2 renders
// unguarded and that carbon-kernel's infer.json rule database.$1.type can supply.
var datasourceKeys = []string{"url", "driver", "validationQuery"}

var datasourceRe = regexp.MustCompile(`^database\.(.+)\.validationQuery$`)

// Datasources returns the names of the datasources the distribution's templates render (X of
// database.X.validationQuery read by a template), sorted.
func (r *Rules) Datasources() []string {
	var out []string
	for k, ki := range r.Keys {
		if g := datasourceRe.FindStringSubmatch(k); g != nil && ki.Template && concreteKey(g[1]) {
			out = append(out, g[1])
		}
	}
	sort.Strings(out)
	return out
}

func concreteKey(k string) bool { return !strings.ContainsAny(k, "*$") && !strings.Contains(k, "[]") }

// DatasourceFindings reports, for every datasource a rendered deployment.toml declares (any key
// under [database.X]) and a template renders, each of url, driver and validationQuery that
// would still be empty once the config mapper has applied key-mappings.json, infer.json and
// default.json. An empty validationQuery with testOnBorrow makes tomcat-jdbc fail every
// borrowed connection; an empty url or driver fails the datasource outright.
func (m *Mapper) DatasourceFindings(rendered string, r *Rules) []Finding {
	eff, err := m.Effective(rendered)
	if err != nil {
		return []Finding{{Kind: "parse", Problem: "not valid TOML: " + err.Error()}}
	}
	declared, err := MapperKeys(rendered)
	if err != nil {
		return []Finding{{Kind: "parse", Problem: "not valid TOML: " + err.Error()}}
	}
	var out []Finding
	for _, ds := range r.Datasources() {
		prefix := "database." + ds + "."
		found := false
		for k := range declared {
			if strings.HasPrefix(k, prefix) {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		for _, leaf := range datasourceKeys {
			key := prefix + leaf
			ki, ok := r.Keys[key]
			if !ok || !ki.Template {
				continue
			}
			if v, ok := eff[key]; ok && v != nil && strings.TrimSpace(fmt.Sprint(v)) != "" {
				continue
			}
			out = append(out, Finding{Key: key, Kind: "datasource", Problem: m.emptyProblem(ds, key, ki)})
		}
	}
	return out
}

func (m *Mapper) emptyProblem(ds, key string, ki *KeyInfo) string {
	var tpl []string
	for _, o := range ki.Origins {
		if strings.HasSuffix(o, ".j2") {
			tpl = append(tpl, o)
		}
	}
	var fixes []string
	for _, br := range m.SettersOf(key) {
		vals := m.CondValues(br.Rule.Cond)
		quoted := make([]string, len(vals))
		for i, v := range vals {
			quoted[i] = fmt.Sprintf("%q", v)
		}
		fixes = append(fixes, fmt.Sprintf("set %s to one of %s (rule %s of %s)", br.Cond, strings.Join(quoted, ", "), br.Rule.Cond, br.Rule.Origin))
	}
	fixes = append(fixes, "set "+key+" itself")
	return fmt.Sprintf("[database.%s] is declared but %s has no value after WSO2 %s %s's key mappings, infer.json and default.json: %s renders it empty; %s",
		ds, key, m.Version, m.Dist, strings.Join(tpl, ", "), strings.Join(fixes, ", or "))
}
