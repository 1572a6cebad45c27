package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// What we render for API Manager, checked against facts derived from WSO2's own 4.7.0 sources
// (tests/testdata/wso2/4.7.0: the deployment.toml keys each distribution reads, and what each
// image exposes, runs as and expects; each fact names its source commit). Our simulation
// never runs WSO2's server: this is the layer that sees what it would refuse or ignore.

const wso2Version = "4.7.0"

// apimConfigs are the two API Manager ConfigMaps of a stack and the distribution each is for.
var apimConfigs = map[string]string{"apim-cp-conf": "all-in-one", "apim-gw-conf": "universal-gw"}

func loadRules(t *testing.T, dist string) *fidelity.Rules {
	t.Helper()
	r, err := fidelity.Load(wso2Version, dist)
	require.NoError(t, err)
	return r
}

func TestRenderedTOMLIsWhatWSO2Reads(t *testing.T) {
	rules := map[string]*fidelity.Rules{}
	for _, dist := range apimConfigs {
		rules[dist] = loadRules(t, dist)
	}
	for _, stack := range []string{"dev", "prod", "local"} {
		for _, mode := range []string{"opensearch", "moesif", "none"} {
			t.Run(stack+"/"+mode, func(t *testing.T) {
				g := run(t, stack, map[string]any{"analytics.mode": mode})
				for cm, dist := range apimConfigs {
					conf := g.Find(typeConfigMap, cm)
					require.NotNil(t, conf, cm)
					rendered := conf.String("data[deployment.toml]")
					require.NotEmpty(t, rendered)
					for _, f := range rules[dist].CheckTOML(rendered) {
						t.Errorf("%s %s (%s): %s", stack, cm, dist, f)
					}
					assert.NotRegexp(t, `jdbc:mysql://[^"]*&[^a]`, rendered, "%s: a bare & in a JDBC URL", cm)
				}
			})
		}
	}
}

// The check above can fail: the same render, broken the ways that once reached users, is
// refused for each.
func TestTOMLCheckRefusesBrokenRenders(t *testing.T) {
	g := run(t, "dev", nil)
	rendered := g.Find(typeConfigMap, "apim-cp-conf").String("data[deployment.toml]")
	rules := loadRules(t, "all-in-one")
	require.Empty(t, rules.CheckTOML(rendered), "the real render is clean")
	require.Contains(t, rendered, "&amp;")

	kinds := func(findings []fidelity.Finding) []string {
		var out []string
		for _, f := range findings {
			out = append(out, f.Kind+" "+f.Key)
		}
		return out
	}
	bare := rules.CheckTOML(strings.ReplaceAll(rendered, "&amp;", "&"))
	assert.Contains(t, kinds(bare), "xml-escape database.apim_db.url", "the JDBC URL's bare & breaks master-datasources.xml")
	unread := rules.CheckTOML(rendered + "\n[apim.analytics_typo]\nenable = true\n")
	assert.Contains(t, kinds(unread), "unread apim.analytics_typo.enable", "a key 4.7.0 never reads is silently ignored by the server")
	if req := rules.Required(); assert.NotEmpty(t, req, "the key list marks required keys") {
		missing := rules.CheckTOML(dropKey(t, rendered, req[0]))
		assert.Contains(t, kinds(missing), "required "+req[0])
	}
}

// dropKey removes the line that sets key's last segment inside key's table.
func dropKey(t *testing.T, doc, key string) string {
	t.Helper()
	i := strings.LastIndex(key, ".")
	require.Positive(t, i, key)
	table, leaf := "["+key[:i]+"]", key[i+1:]
	var out []string
	in, dropped := false, false
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") {
			in = trimmed == table
		}
		if in && !dropped && strings.HasPrefix(trimmed, leaf+" ") {
			dropped = true
			continue
		}
		out = append(out, line)
	}
	require.True(t, dropped, "%s is set in the render", key)
	return strings.Join(out, "\n")
}

// The API Manager pods match the images they run: ports the image serves, probes as WSO2's
// chart has them, the image's user, mounts under the server home, and the JDBC driver where
// the server loads jars from.
func TestAPIMPodsMatchTheirImages(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		g := run(t, stack, nil)
		for _, name := range []string{"apim-cp", "apim-gw"} {
			dep := g.Find(typeDeployment, name)
			require.NotNil(t, dep, name)
			for _, problem := range imageProblems(t, dep) {
				t.Errorf("%s %s: %s", stack, name, problem)
			}
		}
	}
}

// A pod that disagrees with its image is caught: the check is not vacuous.
func TestImageCheckCatchesMismatches(t *testing.T) {
	g := run(t, "dev", map[string]any{"apim.image": "wso2/wso2am:4.7.0-alpine"})
	dep := g.Find(typeDeployment, "apim-cp")
	require.Empty(t, imageProblems(t, dep), "an OS variant of the same version is the same server")

	broken := func(edit func(spec map[string]any)) []string {
		r := *dep
		r.Inputs = deepCopyMap(dep.Inputs)
		edit(r.Get("spec.template.spec").(map[string]any))
		return imageProblems(t, &r)
	}
	c0 := func(spec map[string]any) map[string]any { return spec["containers"].([]any)[0].(map[string]any) }
	assert.NotEmpty(t, broken(func(s map[string]any) {
		c0(s)["ports"] = append(c0(s)["ports"].([]any), map[string]any{"name": "x", "containerPort": 12345.0})
	}), "a port the image does not serve")
	assert.NotEmpty(t, broken(func(s map[string]any) {
		s["securityContext"].(map[string]any)["runAsUser"] = 1000.0
	}), "another user than the image's")
	assert.NotEmpty(t, broken(func(s map[string]any) {
		c0(s)["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"] = "/health"
	}), "a readiness path WSO2's chart does not use")
	assert.NotEmpty(t, broken(func(s map[string]any) {
		for _, m := range c0(s)["volumeMounts"].([]any) {
			mm := m.(map[string]any)
			mm["mountPath"] = strings.Replace(mm["mountPath"].(string), "wso2am-4.7.0", "wso2am-", 1)
		}
	}), "mounts under a wrong server home (the old tag-derived bug)")
}

func deepCopyMap(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopyValue(e)
		}
		return out
	}
	return v
}

func imageProblems(t *testing.T, dep *harness.Resource) []string {
	t.Helper()
	spec, _ := dep.Get("spec.template.spec").(map[string]any)
	require.NotNil(t, spec)
	c := spec["containers"].([]any)[0].(map[string]any)
	require.Equal(t, "wso2am", c["name"])
	facts, ok := fidelity.ImageFacts(c["image"].(string))
	require.True(t, ok, "facts for %s", c["image"])
	var out []string

	for _, p := range c["ports"].([]any) {
		out = append(out, facts.CheckPorts(int(p.(map[string]any)["containerPort"].(float64)))...)
	}
	for kind, field := range map[string]string{"liveness": "livenessProbe", "readiness": "readinessProbe"} {
		probe, _ := c[field].(map[string]any)
		if get, ok := probe["httpGet"].(map[string]any); ok {
			scheme, _ := get["scheme"].(string)
			out = append(out, facts.CheckHTTPProbe(kind, get["path"].(string), int(get["port"].(float64)), scheme)...)
		} else {
			out = append(out, fmt.Sprintf("%s probe is not the HTTP check WSO2's chart uses", kind))
		}
	}
	for _, field := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		if probe, ok := c[field].(map[string]any); ok {
			if exec, ok := probe["exec"].(map[string]any); ok {
				var cmd []string
				for _, a := range exec["command"].([]any) {
					cmd = append(cmd, a.(string))
				}
				out = append(out, facts.CheckExecProbe(cmd)...)
			}
		}
	}
	sc := spec["securityContext"].(map[string]any)
	out = append(out, facts.CheckUser(int64(sc["runAsUser"].(float64)), int64(sc["runAsGroup"].(float64)))...)

	volumes := map[string]map[string]any{}
	for _, v := range spec["volumes"].([]any) {
		volumes[v.(map[string]any)["name"].(string)] = v.(map[string]any)
	}
	tomlMounted, driverLoaded := false, false
	for _, m := range c["volumeMounts"].([]any) {
		mount := m.(map[string]any)
		path := mount["mountPath"].(string)
		out = append(out, facts.CheckPathUnderHome(path)...)
		if sub, _ := mount["subPath"].(string); sub == "deployment.toml" || strings.HasSuffix(path, "/deployment.toml") {
			tomlMounted = true
		}
		if volumes[mount["name"].(string)]["emptyDir"] != nil && facts.IsJDBCDriverDir(path) {
			driverLoaded = true
		}
	}
	// The init container writes the driver into a volume the server mounts where it loads jars.
	inits, _ := spec["initContainers"].([]any)
	var fetch map[string]any
	for _, ic := range inits {
		if ic.(map[string]any)["name"] == "jdbc-driver" {
			fetch = ic.(map[string]any)
		}
	}
	if fetch == nil {
		out = append(out, "no jdbc-driver init container")
	}
	if !tomlMounted {
		out = append(out, "deployment.toml is not mounted")
	}
	if !driverLoaded {
		out = append(out, fmt.Sprintf("no emptyDir mounted where %s loads jars (%s/repository/components/lib or dropins)", facts.Image, facts.ServerHome))
	}
	return out
}
