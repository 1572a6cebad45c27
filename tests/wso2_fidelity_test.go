package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
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
					// Every node's file: the control plane's nodes differ.
					for node, rendered := range deploymentTOMLs(t, g, cm) {
						for _, f := range rules[dist].CheckTOML(rendered) {
							t.Errorf("%s %s node %d (%s): %s", stack, cm, node, dist, f)
						}
						assert.NotRegexp(t, `jdbc:mysql://[^"]*&[^a]`, rendered, "%s: a bare & in a JDBC URL", cm)
					}
				}
			})
		}
	}
}

// The check above can fail: the same render, broken the ways that once reached users, is
// refused for each.
func TestTOMLCheckRefusesBrokenRenders(t *testing.T) {
	g := run(t, "dev", nil)
	rendered := deploymentTOMLs(t, g, "apim-cp-conf")[0]
	rules := loadRules(t, "all-in-one")
	require.Empty(t, rules.CheckTOML(rendered), "the real render is clean")
	require.Contains(t, rendered, "&amp;")

	// Each break is refused exactly where it is, for the reason it breaks, and nothing else is.
	bareAmp := func(db string, offset int) fidelity.Finding {
		return fidelity.Finding{Key: "database." + db + ".url", Kind: "xml-escape", Problem: fmt.Sprintf(
			"value \"jdbc:mysql://mysql:3306/%s?sslMode=VERIFY_CA&autoReconnect=true\" lands in an XML template verbatim: bare '&' at offset %d (write &amp;)", db, offset)}
	}
	assert.Equal(t, []fidelity.Finding{bareAmp("apim_db", 49), bareAmp("shared_db", 51)},
		rules.CheckTOML(strings.ReplaceAll(rendered, "&amp;", "&")), "the JDBC URL's bare & breaks master-datasources.xml")
	assert.Equal(t, []fidelity.Finding{{Key: "apim.analytics_typo.enable", Kind: "unread", Problem: "WSO2 4.7.0 (all-in-one) never reads this key"}},
		rules.CheckTOML(rendered+"\n[apim.analytics_typo]\nenable = true\n"), "a key 4.7.0 never reads is silently ignored by the server")
	if req := rules.Required(); assert.NotEmpty(t, req, "the key list marks required keys") {
		assert.Equal(t, []fidelity.Finding{{Key: req[0], Kind: "required", Problem: "required key not set (see the key list header for the definition)"}},
			rules.CheckTOML(dropKey(t, rendered, req[0])), req[0])
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
			dep := apimWorkload(t, g, name)
			for _, problem := range imageProblems(t, dep) {
				t.Errorf("%s %s: %s", stack, name, problem)
			}
		}
	}
}

// A pod that disagrees with its image is caught: the check is not vacuous.
func TestImageCheckCatchesMismatches(t *testing.T) {
	g := run(t, "dev", map[string]any{"apim.image": "wso2/wso2am:4.7.0-alpine"})
	dep := apimWorkload(t, g, "apim-cp")
	require.Empty(t, imageProblems(t, dep), "an OS variant of the same version is the same server")

	broken := func(edit func(spec map[string]any)) []string {
		r := *dep
		r.Inputs = deepCopyMap(dep.Inputs)
		edit(r.Get("spec.template.spec").(map[string]any))
		return imageProblems(t, &r)
	}
	c0 := func(spec map[string]any) map[string]any { return spec["containers"].([]any)[0].(map[string]any) }
	assert.Equal(t, []string{"port 12345: wso2/wso2am:4.7.0-alpine neither EXPOSEs it nor does WSO2's chart declare it (known: [5672 8243 8280 9099 9443 9611 9711 9763 9999 11111])"},
		broken(func(s map[string]any) {
			c0(s)["ports"] = append(c0(s)["ports"].([]any), map[string]any{"name": "x", "containerPort": 12345.0})
		}), "a port the image does not serve")
	assert.Equal(t, []string{"runAsUser 1000, image user wso2carbon is 10001"}, broken(func(s map[string]any) {
		s["securityContext"].(map[string]any)["runAsUser"] = 1000.0
	}), "another user than the image's")
	assert.Equal(t, []string{"readiness probe HTTPS /health:9443, WSO2's chart uses HTTPS /api/am/gateway/v2/server-startup-healthcheck:9443"}, broken(func(s map[string]any) {
		c0(s)["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"] = "/health"
	}), "a readiness path WSO2's chart does not use")
	// The mounts under the server home itself; those under the image's config volume (copied
	// into the home at start) keep their paths.
	var wrongHome []string
	for _, dir := range []string{"repository/tenants", "repository/deployment/server/userstores", "heap-dump", "jmx-exporter"} {
		wrongHome = append(wrongHome, "/home/wso2carbon/wso2am-/"+dir+" is under neither the server home /home/wso2carbon/wso2am-4.7.0 nor /home/wso2carbon/wso2-config-volume / /home/wso2carbon/wso2-artifact-volume")
	}
	assert.Equal(t, wrongHome, broken(func(s map[string]any) {
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
		port := int(p.(map[string]any)["containerPort"].(float64))
		if port == apim.MetricsPort && javaAgentServes(c, port) {
			continue // served by the JMX exporter agent JAVA_OPTS starts, not by the image
		}
		out = append(out, facts.CheckPorts(port)...)
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

// Every datasource a rendered deployment.toml declares must render with a url, driver and
// validationQuery once WSO2's config mapper has applied its infer.json and default.json
// (tests/testdata/wso2/4.7.0/mapper-*.txt). On the all-in-one image shared_db gets its
// validationQuery only from carbon-kernel's infer.json rule database.$1.type, so a
// [database.shared_db] without type = "mysql" renders an empty query that tomcat-jdbc runs on
// every borrow (testOnBorrow = true). Issue 21: expected to FAIL until components/apim/toml.go
// writes type = "mysql" in every [database.*] table.
func TestTOMLDatasourcesResolveAfterWSO2Inference(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		g := run(t, stack, nil)
		for cm, dist := range apimConfigs {
			for _, rendered := range deploymentTOMLs(t, g, cm) {
				for _, f := range loadMapper(t, dist).DatasourceFindings(rendered, loadRules(t, dist)) {
					t.Errorf("%s %s (%s): %s (issue 21)", stack, cm, dist, f)
				}
			}
		}
	}
}

// The check above can fail, and passes for the right reason: the control plane's render as it
// was when issue 21 was filed (no type in [database.*]) is refused exactly on
// shared_db.validationQuery, and the same file with type = "mysql" is accepted.
func TestTOMLDatasourceCheckRefusesMissingType(t *testing.T) {
	old, err := os.ReadFile("testdata/wso2/fixtures/apim-cp-dev-issue21.toml")
	require.NoError(t, err)
	rules, mapper := loadRules(t, "all-in-one"), loadMapper(t, "all-in-one")
	findings := mapper.DatasourceFindings(string(old), rules)
	if assert.Len(t, findings, 1, "%v", findings) {
		f := findings[0]
		assert.Equal(t, "database.shared_db.validationQuery", f.Key)
		assert.Contains(t, f.Problem, "[database.shared_db] is declared but database.shared_db.validationQuery has no value")
		assert.Contains(t, f.Problem, `set database.shared_db.type to one of "db2", "h2", "mariadb", "mssql", "mysql", "oracle", "postgre" (rule database.$1.type of infer.json <- wso2/carbon-kernel:`)
	}
	// apim_db has its validationQuery from carbon-apimgt's default.json, whatever its type.
	eff, err := mapper.Effective(string(old))
	require.NoError(t, err)
	assert.Equal(t, "SELECT 1", eff["database.apim_db.validationQuery"])

	fixed := strings.ReplaceAll(string(old), "driver = \"com.mysql.cj.jdbc.Driver\"\n", "driver = \"com.mysql.cj.jdbc.Driver\"\ntype = \"mysql\"\n")
	require.NotEqual(t, string(old), fixed)
	assert.Empty(t, mapper.DatasourceFindings(fixed, rules), "type = \"mysql\" lets carbon-kernel's infer.json supply validationQuery")
	eff, err = mapper.Effective(fixed)
	require.NoError(t, err)
	assert.Equal(t, "SELECT 1", eff["database.shared_db.validationQuery"])
	assert.Equal(t, "com.mysql.cj.jdbc.Driver", eff["database.shared_db.driver"], "an explicit key wins over the inferred com.mysql.jdbc.Driver")

	// The universal gateway's default.json carries shared_db's validationQuery: no finding.
	assert.Empty(t, loadMapper(t, "universal-gw").DatasourceFindings(string(old), loadRules(t, "universal-gw")))
}

func loadMapper(t *testing.T, dist string) *fidelity.Mapper {
	t.Helper()
	m, err := fidelity.LoadMapper(wso2Version, dist)
	require.NoError(t, err)
	return m
}

// An API Manager pod whose repository/logs is an emptyDir must give it a sizeLimit that holds
// everything the server may keep there, or the kubelet evicts the pod when the directory
// outgrows it. What the server keeps follows from the log4j2.properties in effect (the pod's
// own when it mounts one at repository/conf/log4j2.properties, else WSO2 4.7.0's default,
// tests/testdata/wso2/4.7.0/logs-*.txt) and from the start script's OutOfMemoryError heap dump,
// which lands in the same directory unless JAVA_OPTS moves it. WSO2's default keeps
// date-rolled files forever and rolls apim_metrics.log and http_access.log at 1000MB: no
// sizeLimit holds it, so the project mounts its own (components/apim/log4j2, issue 21).
func TestFidelityLogsVolumeHoldsWhatLog4j2Keeps(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		for _, mode := range []string{"opensearch", "moesif", "none"} {
			g := run(t, stack, map[string]any{"analytics.mode": mode})
			checked := 0
			for _, w := range apimWorkloads(g) {
				for _, p := range logsVolumeProblems(t, w, configMapData(g)) {
					checked++
					if p != "" {
						t.Errorf("%s %s %s: %s (issue 21)", stack, mode, w.Name, p)
					}
				}
			}
			if mode == "opensearch" {
				assert.Positive(t, checked, "%s: the gateway mounts a logs emptyDir for the analytics shipper", stack)
			}
		}
	}
}

// The logs check can fail and can pass: with the pod's own size-rolled log4j2.properties the
// bound is computed from that file, and a sizeLimit below it is refused.
func TestFidelityLogsCheckReadsThePodsOwnLog4j2(t *testing.T) {
	g := run(t, "dev", map[string]any{"analytics.mode": "opensearch"})
	var gw *harness.Resource
	for _, w := range apimWorkloads(g) {
		if len(logsVolumeProblems(t, w, configMapData(g))) > 0 {
			gw = w
		}
	}
	require.NotNil(t, gw, "a workload with a logs emptyDir")
	own := `appenders = LOG, ACCESS
appender.LOG.type = RollingFile
appender.LOG.fileName = ${sys:carbon.home}/repository/logs/wso2carbon.log
appender.LOG.filePattern = ${sys:carbon.home}/repository/logs/wso2carbon-%i.log
appender.LOG.policies.type = Policies
appender.LOG.policies.size.type = SizeBasedTriggeringPolicy
appender.LOG.policies.size.size = 10MB
appender.LOG.strategy.type = DefaultRolloverStrategy
appender.LOG.strategy.max = 4
appender.ACCESS.type = RollingFile
appender.ACCESS.fileName = ${sys:carbon.home}/repository/logs/http_access.log
appender.ACCESS.filePattern = ${sys:carbon.home}/repository/logs/http_access-%d{MM-dd-yyyy}-%i.log
appender.ACCESS.policies.type = Policies
appender.ACCESS.policies.time.type = TimeBasedTriggeringPolicy
appender.ACCESS.policies.size.type = SizeBasedTriggeringPolicy
appender.ACCESS.policies.size.size = 10MB
appender.ACCESS.strategy.type = DefaultRolloverStrategy
appender.ACCESS.strategy.max = 3
`
	withOwn := func(log4j2, limit string) []string {
		r := *gw
		r.Inputs = deepCopyMap(gw.Inputs)
		spec := r.Get("spec.template.spec").(map[string]any)
		spec["volumes"] = append(spec["volumes"].([]any), map[string]any{"name": "log4j2", "configMap": map[string]any{"name": "own-log4j2"}})
		c := spec["containers"].([]any)[0].(map[string]any)
		home := r.String("spec.template.spec.containers.0.volumeMounts.0.mountPath")
		home = home[:strings.Index(home, "/repository/")]
		c["volumeMounts"] = append(c["volumeMounts"].([]any), map[string]any{"name": "log4j2", "subPath": "log4j2.properties",
			"mountPath": home + "/repository/conf/log4j2.properties"})
		for _, v := range spec["volumes"].([]any) {
			if ed, ok := v.(map[string]any)["emptyDir"].(map[string]any); ok && ed["sizeLimit"] != nil && v.(map[string]any)["name"] != "jdbc-driver" {
				ed["sizeLimit"] = limit
			}
		}
		data := configMapData(g)
		return logsVolumeProblems(t, &r, func(name, key string) (string, bool) {
			if name == "own-log4j2" && key == "log4j2.properties" {
				return log4j2, true
			}
			return data(name, key)
		})
	}
	// (4 + 1) × 10Mi + a date-rolled ACCESS with no Delete action: unbounded.
	p := withOwn(own, "8Gi")
	require.Len(t, p, 1)
	assert.Contains(t, p[0], "the pod's own log4j2.properties (ConfigMap own-log4j2")
	assert.Contains(t, p[0], "ACCESS: filePattern")
	// Size-rolled only: 50Mi + 40Mi of logs, plus the heap dump (-Xmx of JVM_MEM_OPTS) when
	// it lands in repository/logs.
	sizeOnly := strings.ReplaceAll(own, "-%d{MM-dd-yyyy}-%i", "-%i")
	heap := heapMBOf(t, gw)
	need := int64(50+40) << 20
	if heapDumpInLogs(t, gw) {
		need += int64(heap) << 20
	}
	ok := withOwn(sizeOnly, fidelity.Human(need))
	assert.Equal(t, []string{""}, ok, "a sizeLimit of (4+1)×10Mi + (3+1)×10Mi (+ heap %dMi if dumped there) holds it", heap)
	small := withOwn(sizeOnly, fidelity.Human(need-1<<20))
	require.Len(t, small, 1)
	assert.Contains(t, small[0], "the bounded part needs "+fidelity.Human(need))
}

// apimWorkloads are the Deployments and StatefulSets that run API Manager.
func apimWorkloads(g *harness.Graph) []*harness.Resource {
	var out []*harness.Resource
	for _, w := range append(g.OfType(typeDeployment), g.OfType(typeStatefulSet)...) {
		for _, c := range asSlice(w.Get("spec.template.spec.containers")) {
			if c.(map[string]any)["name"] == "wso2am" {
				out = append(out, w)
			}
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// configMapData looks a ConfigMap's key up by the ConfigMap's Kubernetes name.
func configMapData(g *harness.Graph) func(name, key string) (string, bool) {
	return func(name, key string) (string, bool) {
		for _, cm := range g.OfType(typeConfigMap) {
			if cm.String("metadata.name") == name || cm.Name == name {
				if d, ok := cm.Get("data").(map[string]any); ok {
					s, ok := d[key].(string)
					return s, ok
				}
			}
		}
		return "", false
	}
}

func heapMBOf(t *testing.T, w *harness.Resource) int {
	t.Helper()
	_, _, x := fidelity.JVMHeapDump("", 0, wso2amEnv(w, "JVM_MEM_OPTS"), wso2amEnv(w, "JAVA_OPTS"), "repository/logs")
	require.Positive(t, x, "JVM_MEM_OPTS sets -Xmx")
	return x
}

func wso2amEnv(w *harness.Resource, name string) string {
	for _, c := range asSlice(w.Get("spec.template.spec.containers")) {
		if c.(map[string]any)["name"] != "wso2am" {
			continue
		}
		for _, e := range asSlice(c.(map[string]any)["env"]) {
			if e.(map[string]any)["name"] == name {
				s, _ := e.(map[string]any)["value"].(string)
				return s
			}
		}
	}
	return ""
}

// logsVolumeProblems checks every emptyDir the API Manager container mounts at
// <server home>/repository/logs: one entry each, "" when its sizeLimit holds the bound.
func logsVolumeProblems(t *testing.T, w *harness.Resource, data func(name, key string) (string, bool)) []string {
	t.Helper()
	spec, _ := w.Get("spec.template.spec").(map[string]any)
	require.NotNil(t, spec)
	var c map[string]any
	for _, cc := range asSlice(spec["containers"]) {
		if cc.(map[string]any)["name"] == "wso2am" {
			c = cc.(map[string]any)
		}
	}
	require.NotNil(t, c)
	facts, ok := fidelity.ImageFacts(c["image"].(string))
	require.True(t, ok, "facts for %s", c["image"])
	volumes := map[string]map[string]any{}
	for _, v := range asSlice(spec["volumes"]) {
		volumes[v.(map[string]any)["name"].(string)] = v.(map[string]any)
	}
	wso2, err := fidelity.LoadLogFacts(wso2Version, facts.Product)
	require.NoError(t, err)
	source, apps := fmt.Sprintf("WSO2 %s's default log4j2.properties (%s)", wso2Version, facts.Product), wso2.Appenders
	var out []string
	var logDirs []string
	for _, m := range asSlice(c["volumeMounts"]) {
		mount := m.(map[string]any)
		mp, _ := mount["mountPath"].(string)
		vol := volumes[mount["name"].(string)]
		switch {
		case strings.HasSuffix(mp, "/repository/conf/log4j2.properties"):
			cm, _ := vol["configMap"].(map[string]any)
			require.NotNil(t, cm, "%s: log4j2.properties mounted from a ConfigMap", w.Name)
			key, _ := mount["subPath"].(string)
			if key == "" {
				key = "log4j2.properties"
			}
			src, ok := data(cm["name"].(string), key)
			require.True(t, ok, "%s: ConfigMap %s has key %s", w.Name, cm["name"], key)
			own, err := fidelity.ParseLog4j2(src)
			require.NoError(t, err)
			source, apps = fmt.Sprintf("the pod's own log4j2.properties (ConfigMap %s key %s)", cm["name"], key), own
		case mp == facts.ServerHome+"/"+fidelityLogsDir && vol["emptyDir"] != nil:
			logDirs = append(logDirs, mount["name"].(string))
		}
	}
	inDir, dumpPath, xmx := fidelity.JVMHeapDump(wso2.HeapDumpPath, wso2.DefaultXmxMB, wso2amEnv(w, "JVM_MEM_OPTS"), wso2amEnv(w, "JAVA_OPTS"), fidelityLogsDir)
	need := fidelity.NeedForLogs(source, apps, fidelityLogsDir, inDir, dumpPath, xmx)
	for _, name := range logDirs {
		limit, _ := volumes[name]["emptyDir"].(map[string]any)["sizeLimit"].(string)
		if limit == "" {
			out = append(out, fmt.Sprintf("logs emptyDir %q has no sizeLimit", name))
			continue
		}
		n, err := fidelity.ParseQuantity(limit)
		require.NoError(t, err)
		if p := need.Problem(n); p != "" {
			out = append(out, fmt.Sprintf("logs emptyDir %q at %s: %s", name, fidelityLogsDir, p))
		} else {
			out = append(out, "")
		}
	}
	return out
}

// fidelityLogsDir is where WSO2's log4j2.properties and start scripts write (repository/logs
// under the server home).
const fidelityLogsDir = "repository/logs"

// javaAgentServes says a container's JAVA_OPTS start a Java agent on port (-javaagent:jar=port:config).
func javaAgentServes(c map[string]any, port int) bool {
	env, _ := c["env"].([]any)
	for _, e := range env {
		if v := e.(map[string]any); v["name"] == "JAVA_OPTS" {
			value, _ := v["value"].(string)
			return strings.Contains(value, "-javaagent:") && strings.Contains(value, fmt.Sprintf("=%d:", port))
		}
	}
	return false
}
