package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/components/monitoring"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeAlertPolicy   = "gcp:monitoring/alertPolicy:AlertPolicy"
	typeUptimeCheck   = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig"
	typeDashboard     = "gcp:monitoring/dashboard:Dashboard"
	typeChannel       = "gcp:monitoring/notificationChannel:NotificationChannel"
	typePodMonitoring = "kubernetes:monitoring.googleapis.com/v1:PodMonitoring"
	typePodMonitor    = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
	typeVPA           = "kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler"
)

// monitoringCRDGroups are the API groups of the monitoring CRDs (GMP, the Prometheus
// Operator, the VPA), none of which a plain cluster has.
var monitoringCRDGroups = []string{"kubernetes:monitoring.googleapis.com/", "kubernetes:monitoring.coreos.com/", "kubernetes:autoscaling.k8s.io/"}

func policyOf(t *testing.T, g *harness.Graph, name string) *harness.Resource {
	t.Helper()
	p := g.Find(typeAlertPolicy, "apim-monitoring-"+name)
	require.NotNil(t, p, "alert policy %s", name)
	return p
}

// The GKE cluster keeps system and workload logs, sends system and kube state metrics, runs
// Managed Service for Prometheus' collection and the vertical Pod autoscaler.
func TestClusterCollectsLogsMetricsAndRecommendations(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		c := one(t, run(t, stack, nil), typeCluster)
		assert.ElementsMatch(t, []any{"SYSTEM_COMPONENTS", "WORKLOADS"}, c.Get("loggingConfig.enableComponents"), stack)
		assert.Equal(t, true, c.Get("monitoringConfig.managedPrometheus.enabled"), stack)
		for _, comp := range []string{"SYSTEM_COMPONENTS", "HPA", "POD", "DEPLOYMENT", "STATEFULSET"} {
			assert.Contains(t, c.Get("monitoringConfig.enableComponents"), comp, stack)
		}
		assert.Equal(t, true, c.Get("verticalPodAutoscaling.enabled"), stack)
	}
	assert.Equal(t, []string{"SYSTEM_COMPONENTS", "WORKLOADS"}, gke.LoggingComponents)
}

// workloadSelectedBy is the workload whose pods a selector picks (exactly one).
func workloadSelectedBy(t *testing.T, g *harness.Graph, ns string, selector map[string]any) *harness.Resource {
	t.Helper()
	var found []*harness.Resource
	for _, typ := range []string{typeDeployment, typeStatefulSet} {
		for _, w := range g.OfType(typ) {
			labels := map[string]string{}
			for k, v := range w.Get("spec.template.metadata.labels").(map[string]any) {
				labels[k] = fmt.Sprint(v)
			}
			if w.String("metadata.namespace") == ns && subset(selector, labels) {
				found = append(found, w)
			}
		}
	}
	require.Len(t, found, 1, "one workload for %v", selector)
	return found[0]
}

// A PodMonitoring's endpoint names a port of the pods it selects, and that port is the one the
// JMX exporter serves: the agent's -javaagent in JAVA_OPTS gives its number.
func scrapedPortExists(t *testing.T, g *harness.Graph, m *harness.Resource, endpoints string) {
	t.Helper()
	w := workloadSelectedBy(t, g, m.String("metadata.namespace"), m.Get("spec.selector.matchLabels").(map[string]any))
	eps := m.Get("spec." + endpoints).([]any)
	require.Len(t, eps, 1)
	ep := eps[0].(map[string]any)
	assert.Equal(t, "/metrics", ep["path"])
	c := w.Get("spec.template.spec.containers.0").(map[string]any)
	port := -1
	for _, p := range c["ports"].([]any) {
		if p.(map[string]any)["name"] == ep["port"] {
			port = int(p.(map[string]any)["containerPort"].(float64))
		}
	}
	require.NotEqual(t, -1, port, "%s scrapes port %q, which %s's server container declares", m.Name, ep["port"], w.Name)
	assert.True(t, javaAgentServes(c, port), "%s: the JMX exporter serves port %d", w.Name, port)
	inits := w.Get("spec.template.spec.initContainers").([]any)
	var names []string
	for _, i := range inits {
		names = append(names, i.(map[string]any)["name"].(string))
	}
	assert.Contains(t, names, "jmx-exporter", "%s fetches the agent", w.Name)
}

func TestPodMonitoringsScrapeTheJMXExporterPort(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		g := run(t, stack, nil)
		ms := g.OfType(typePodMonitoring)
		require.Len(t, ms, 2, "%s: one PodMonitoring per workload with metrics (control plane, gateway)", stack)
		for _, m := range ms {
			assert.Equal(t, "wso2-apim", m.String("metadata.namespace"))
			scrapedPortExists(t, g, m, "endpoints")
		}
		assert.Empty(t, g.OfType(typePodMonitor), "%s: no Prometheus Operator objects on GKE", stack)
	}
}

// The metrics port takes connections from the managed collector only; the agent and its port
// exist only where something scrapes them.
func TestMetricsPortAdmitsOnlyTheCollector(t *testing.T) {
	collector := outside("gmp-system", map[string]string{"app.kubernetes.io/name": "collector"})
	for _, stack := range []string{"dev", "prod"} {
		tr := trafficOf(t, run(t, stack, nil))
		cp, gw := tr.pod(t, "apim-cp"), tr.pod(t, "apim-gw")
		for _, to := range []endpoint{cp, gw} {
			assert.True(t, tr.allows(collector, to, apim.MetricsPort, "TCP"), "%s: the collector scrapes %s", stack, to.name)
			assert.False(t, tr.allows(collector, to, apim.PortHTTPS, "TCP"), "%s: the collector reaches nothing else", stack)
			for _, from := range []endpoint{outside("team-x", map[string]string{"app": "web"}), external("35.191.10.20"), tr.pod(t, "apim-hello"),
				outside("gmp-system", map[string]string{"app.kubernetes.io/name": "rule-evaluator"})} {
				assert.False(t, tr.allows(from, to, apim.MetricsPort, "TCP"), "%s: %s may not scrape %s", stack, from.name, to.name)
			}
		}
		assert.False(t, tr.allows(gw, cp, apim.MetricsPort, "TCP"), "%s: not even the gateway", stack)
	}
	// local: no collector, so no agent and no port.
	g := run(t, "local", nil)
	tr := trafficOf(t, g)
	assert.False(t, tr.allows(collector, tr.pod(t, "apim-cp"), apim.MetricsPort, "TCP"))
	for _, name := range []string{"apim-cp", "apim-gw"} {
		c := apimWorkload(t, g, name).Get("spec.template.spec.containers.0").(map[string]any)
		assert.False(t, javaAgentServes(c, apim.MetricsPort), "local %s runs no agent", name)
	}
}

// The image check knows the metrics port only as the agent's: declared without the agent, it
// is a port the image does not serve.
func TestMetricsPortWithoutTheAgentIsCaught(t *testing.T) {
	dep := apimWorkload(t, run(t, "dev", nil), "apim-gw")
	require.Empty(t, imageProblems(t, dep))
	r := *dep
	r.Inputs = deepCopyMap(dep.Inputs)
	c := r.Get("spec.template.spec.containers.0").(map[string]any)
	for _, e := range c["env"].([]any) {
		if v := e.(map[string]any); v["name"] == "JAVA_OPTS" {
			v["value"] = strings.Replace(v["value"].(string), "-javaagent:", "-Dno-agent:", 1)
		}
	}
	assert.Contains(t, strings.Join(imageProblems(t, &r), "\n"), "port 1234")
}

// thresholdCases: each `monitoring.alerts` setting, the policy it sets, and where its value
// shows in the rendered policy.
var thresholdCases = []struct {
	setting, policy string
	def, set        int
	rendered        func(r *harness.Resource) string
	want            func(v int) string
}{
	{"gateway5xxPercent", "gateway-5xx", 5, 2, thresholdOf, func(v int) string { return fmt.Sprint(float64(v) / 100) }},
	{"gatewayLatencyP95Ms", "gateway-latency", 2000, 900, thresholdOf, itoa},
	{"uptimeFailedMinutes", "uptime", 5, 12, durationOf, minutes},
	{"podsNotReadyMinutes", "pods-not-ready", 15, 25, promDurationOf, minutes},
	{"containerRestarts", "crash-looping", 3, 7, thresholdOf, itoa},
	{"hpaAtMaxMinutes", "hpa-at-max", 30, 45, promDurationOf, minutes},
	{"nodePoolAtMaxMinutes", "node-pool-at-max", 30, 60, durationOf, minutes},
	{"databaseCpuPercent", "database-cpu", 80, 70, thresholdOf, func(v int) string { return fmt.Sprint(float64(v) / 100) }},
	{"databaseDiskPercent", "database-disk", 85, 90, thresholdOf, func(v int) string { return fmt.Sprint(float64(v) / 100) }},
	{"certificateExpiryDays", "certificate-expiry", 30, 21, thresholdOf, itoa},
}

func thresholdOf(r *harness.Resource) string {
	return r.String("conditions.0.conditionThreshold.thresholdValue")
}
func durationOf(r *harness.Resource) string {
	return r.String("conditions.0.conditionThreshold.duration")
}
func promDurationOf(r *harness.Resource) string {
	return r.String("conditions.0.conditionPrometheusQueryLanguage.duration")
}
func minutes(v int) string { return fmt.Sprintf("%ds", v*60) }
func itoa(v int) string    { return strconv.Itoa(v) }

// stackThresholds are the thresholds the stack files set (Pulumi.<stack>.yaml).
var stackThresholds = map[string]map[string]int{
	"dev":  {"podsNotReadyMinutes": 20},
	"prod": {"gatewayLatencyP95Ms": 1500, "hpaAtMaxMinutes": 20},
}

// Every alert policy takes its threshold from config: the default, the stack file's value, or
// a value set on top.
func TestAlertThresholdsComeFromConfig(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		defaults := run(t, stack, nil)
		set := map[string]any{}
		for _, c := range thresholdCases {
			set["monitoring.alerts."+c.setting] = c.set
		}
		set["monitoring.alerts.databaseConnectionsPercent"] = 50
		overridden := run(t, stack, set)
		for _, c := range thresholdCases {
			def := c.def
			if v, ok := stackThresholds[stack][c.setting]; ok {
				def = v
			}
			assert.Equal(t, c.want(def), c.rendered(policyOf(t, defaults, c.policy)), "%s %s as the stack has it", stack, c.setting)
			assert.Equal(t, c.want(c.set), c.rendered(policyOf(t, overridden, c.policy)), "%s %s set", stack, c.setting)
		}
		maxConn, err := strconv.Atoi(one(t, defaults, typeSQLInstance).String("settings.databaseFlags.0.value"))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(float64(maxConn*80)/100), thresholdOf(policyOf(t, defaults, "database-connections")), stack)
		assert.Equal(t, fmt.Sprint(float64(maxConn*50)/100), thresholdOf(policyOf(t, overridden, "database-connections")), stack)
		// The node pool's maximum is the stack's: per zone times zones.
		want := map[string]int{"dev": 3, "prod": 12}[stack]
		assert.Equal(t, fmt.Sprint(want-1), thresholdOf(policyOf(t, defaults, "node-pool-at-max")), "%s: fires at %d nodes", stack, want)

		var names []string
		for _, p := range defaults.OfType(typeAlertPolicy) {
			names = append(names, strings.TrimPrefix(p.Name, "apim-monitoring-"))
			assert.NotEmpty(t, p.String("documentation.content"), "%s %s has a runbook", stack, p.Name)
			assert.NotContains(t, p.String("documentation.content"), "-n NS", "%s: the runbook names the namespace", p.Name)
			assert.Equal(t, harness.TestGCPProject, p.Get("project"))
			assert.Equal(t, "apim-"+stack+": ", p.String("displayName")[:len("apim-"+stack+": ")], "display names carry the cluster's name")
		}
		sort.Strings(names)
		assert.Equal(t, []string{"certificate-expiry", "crash-looping", "database-connections", "database-cpu", "database-disk", "gateway-5xx",
			"gateway-latency", "hpa-at-max", "keystores-expiry", "node-pool-at-max", "pods-not-ready", "uptime"}, names, stack)
	}
}

// The gateway's alerts select its load balancer backends, the network endpoint groups GKE's
// Ingress controller names after the namespace, Service and port.
func TestGatewayAlertsSelectItsBackends(t *testing.T) {
	g := run(t, "prod", nil)
	re := regexp.MustCompile(monitoring.NEGNamePattern("wso2-apim", "apim-gw", 8243))
	for _, name := range []string{"gateway-5xx", "gateway-latency"} {
		f := policyOf(t, g, name).String("conditions.0.conditionThreshold.filter")
		assert.Contains(t, f, `resource.label.backend_name = monitoring.regex.full_match("k8s1-[0-9a-f]+-wso2-apim-apim-gw-8243-[0-9a-f]+")`)
		assert.Contains(t, f, `resource.type = "https_lb_rule"`)
	}
	// A NEG name as ingress-gce's namer makes it (k8s1-<uid>-<ns>-<name>-<port>-<hash>).
	assert.True(t, re.MatchString("k8s1-1a2b3c4d-wso2-apim-apim-gw-8243-9f8e7d6c"))
	assert.False(t, re.MatchString("k8s1-1a2b3c4d-wso2-apim-apim-cp-9443-9f8e7d6c"), "not the portals' backend")
	ratio := policyOf(t, g, "gateway-5xx").Get("conditions.0.conditionThreshold").(map[string]any)
	assert.Contains(t, ratio["filter"], "metric.label.response_code_class = 500")
	assert.NotContains(t, ratio["denominatorFilter"], "response_code_class", "the denominator is every request")
}

// No channel configured: the policies exist and notify nobody (the preview warns). Channels
// configured: each is an email channel every policy notifies.
func TestNotificationChannelsFromConfig(t *testing.T) {
	g := run(t, "dev", nil)
	assert.Empty(t, g.OfType(typeChannel))
	for _, p := range g.OfType(typeAlertPolicy) {
		assert.Empty(t, p.Get("notificationChannels"), p.Name)
	}
	assert.Contains(t, monitoring.Args{}.NotifiesNobody(), "notify nobody")
	assert.Empty(t, monitoring.Args{NotificationEmails: []string{"a@b.io"}}.NotifiesNobody())

	g = run(t, "prod", map[string]any{"monitoring.notificationEmails": []any{"oncall@corp.io", "platform@corp.io"}})
	chans := g.OfType(typeChannel)
	require.Len(t, chans, 2)
	var names []any
	for _, c := range chans {
		assert.Equal(t, "email", c.Get("type"))
		names = append(names, fmt.Sprintf("projects/%s/notificationChannels/%s-id", harness.TestGCPProject, c.Name))
	}
	assert.ElementsMatch(t, []any{"oncall@corp.io", "platform@corp.io"}, []any{chans[0].Get("labels.email_address"), chans[1].Get("labels.email_address")})
	for _, p := range g.OfType(typeAlertPolicy) {
		assert.ElementsMatch(t, names, p.Get("notificationChannels"), p.Name)
	}
}

// Uptime checks probe the public hosts, with TLS checked where a CA signs the certificate;
// the certificate expiry policy watches those. Without an ingress there is nothing public.
func TestUptimeChecksOnThePublicHosts(t *testing.T) {
	g := run(t, "dev", nil)
	hosts := map[string]*harness.Resource{}
	for _, c := range g.OfType(typeUptimeCheck) {
		hosts[c.String("monitoredResource.labels.host")] = c
		assert.Equal(t, "uptime_url", c.Get("monitoredResource.type"))
		assert.Equal(t, true, c.Get("httpCheck.useSsl"))
		assert.Equal(t, true, c.Get("httpCheck.validateSsl"), "ingress.tls managed: a CA signs it")
		assert.EqualValues(t, 443, c.Get("httpCheck.port"))
	}
	require.Len(t, hosts, 2)
	require.Contains(t, hosts, "gw.dev.apim.example.com")
	require.Contains(t, hosts, "am.dev.apim.example.com")
	assert.Contains(t, fmt.Sprint(hosts["gw.dev.apim.example.com"].Get("httpCheck.acceptedResponseStatusCodes")), "STATUS_CLASS_4XX", "a 404 from the gateway still proves it answers")
	assert.NotContains(t, fmt.Sprint(hosts["am.dev.apim.example.com"].Get("httpCheck.acceptedResponseStatusCodes")), "STATUS_CLASS_4XX")
	up := policyOf(t, g, "uptime")
	assert.Len(t, up.Get("conditions"), 2)
	assert.Contains(t, up.String("conditions.0.conditionThreshold.filter"), `metric.label.check_id = "apim-monitoring-uptime-`)
	assert.Len(t, policyOf(t, g, "certificate-expiry").Get("conditions"), 2)

	self := run(t, "dev", map[string]any{"ingress.tls": "self-signed"})
	for _, c := range self.OfType(typeUptimeCheck) {
		assert.Equal(t, false, c.Get("httpCheck.validateSsl"), "a self-signed certificate would fail the check")
	}
	assert.Nil(t, self.Find(typeAlertPolicy, "apim-monitoring-certificate-expiry"))

	none := run(t, "prod", map[string]any{"ingress.enabled": false})
	assert.Empty(t, none.OfType(typeUptimeCheck))
	for _, name := range []string{"gateway-5xx", "gateway-latency", "uptime", "certificate-expiry"} {
		assert.Nil(t, none.Find(typeAlertPolicy, "apim-monitoring-"+name), name)
	}
	assert.NotNil(t, none.Find(typeAlertPolicy, "apim-monitoring-pods-not-ready"))
}

type dashboardJSON struct {
	DisplayName  string `json:"displayName"`
	MosaicLayout struct {
		Columns int `json:"columns"`
		Tiles   []struct {
			XPos, YPos, Width, Height int
			Widget                    struct {
				Title   string `json:"title"`
				XyChart struct {
					DataSets   []map[string]any `json:"dataSets"`
					Thresholds []struct {
						Value float64 `json:"value"`
					} `json:"thresholds"`
				} `json:"xyChart"`
			} `json:"widget"`
		} `json:"tiles"`
	} `json:"mosaicLayout"`
}

func dashboardOf(t *testing.T, g *harness.Graph) dashboardJSON {
	t.Helper()
	var d dashboardJSON
	require.NoError(t, json.Unmarshal([]byte(one(t, g, typeDashboard).String("dashboardJson")), &d))
	return d
}

// One dashboard per Platform: request rate, errors, latency, replicas against the HPA's
// bounds, nodes, the database, and the VPA's recommendations; the lines drawn at the alerts'
// thresholds.
func TestOneDashboardPerPlatform(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		d := dashboardOf(t, run(t, stack, map[string]any{"monitoring.alerts.gatewayLatencyP95Ms": 1234}))
		assert.Equal(t, "apim-"+stack+": WSO2 API Manager", d.DisplayName)
		titles := map[string][]float64{}
		for _, tile := range d.MosaicLayout.Tiles {
			assert.LessOrEqual(t, tile.XPos+tile.Width, d.MosaicLayout.Columns, "tile %q fits the mosaic", tile.Widget.Title)
			assert.NotEmpty(t, tile.Widget.XyChart.DataSets, tile.Widget.Title)
			for _, th := range tile.Widget.XyChart.Thresholds {
				titles[tile.Widget.Title] = append(titles[tile.Widget.Title], th.Value)
			}
			if _, ok := titles[tile.Widget.Title]; !ok {
				titles[tile.Widget.Title] = nil
			}
		}
		for _, want := range []string{"Gateway requests/s by response class", "Gateway 5xx ratio", "Gateway p95 latency (ms)",
			"Gateway replicas and HPA bounds", "Nodes", "Cloud SQL CPU", "Cloud SQL disk", "Cloud SQL connections",
			"VPA recommended CPU request per replica (cores)", "VPA recommended memory request per replica (bytes)", "Uptime checks passed (share of locations)"} {
			assert.Contains(t, titles, want, stack)
		}
		assert.Equal(t, []float64{1234}, titles["Gateway p95 latency (ms)"], stack)
		assert.Equal(t, []float64{float64(map[string]int{"dev": 3, "prod": 12}[stack])}, titles["Nodes"], stack)
	}
	// An in-cluster MySQL on GKE: its container and volume instead of Cloud SQL's metrics.
	d := dashboardOf(t, run(t, "dev", map[string]any{"mysql.mode": "incluster"}))
	var titles []string
	for _, tile := range d.MosaicLayout.Tiles {
		titles = append(titles, tile.Widget.Title)
	}
	assert.Contains(t, titles, "MySQL data volume used")
	assert.NotContains(t, titles, "Cloud SQL CPU")
}

// The in-cluster MySQL on GKE is watched through what GKE measures of it: its container's CPU
// and its data volume. MySQL exports no connection count to Cloud Monitoring here.
func TestInClusterDatabaseAlerts(t *testing.T) {
	g := run(t, "dev", map[string]any{"mysql.mode": "incluster"})
	cpu := policyOf(t, g, "database-cpu").String("conditions.0.conditionThreshold.filter")
	assert.Contains(t, cpu, `metric.type = "kubernetes.io/container/cpu/limit_utilization"`)
	assert.Contains(t, cpu, `resource.label.container_name = "mysql"`)
	disk := policyOf(t, g, "database-disk").String("conditions.0.conditionThreshold.filter")
	assert.Contains(t, disk, `metric.label.volume_name = "data"`)
	assert.Nil(t, g.Find(typeAlertPolicy, "apim-monitoring-database-connections"))
	sql := policyOf(t, run(t, "prod", nil), "database-cpu").String("conditions.0.conditionThreshold.filter")
	assert.Contains(t, sql, fmt.Sprintf(`resource.label.database_id = starts_with("%s:apim-sql-")`, harness.TestGCPProject))
}

// The keystores' expiry alert compares the time with the stored CA certificate's end of
// validity less the notice; with the user's own Secret there is no date of ours to watch.
func TestKeystoresExpiryAlert(t *testing.T) {
	g, err := harness.Run(stacks.Program, "dev", harness.Options{Up: true})
	require.NoError(t, err)
	q := policyOf(t, g, "keystores-expiry").String("conditions.0.conditionPrometheusQueryLanguage.query")
	m := regexp.MustCompile(`time\(\) > ([0-9]+)$`).FindStringSubmatch(q)
	require.NotNil(t, m, q)
	at, _ := strconv.ParseInt(m[1], 10, 64)
	// The keys are valid 43800 h (apim.keystores.validFor's default) from now.
	want := time.Now().Add(43800*time.Hour - 30*24*time.Hour)
	assert.InDelta(t, want.Unix(), at, 3600, "30 days before the keystores expire")
	assert.Contains(t, q, `kubernetes_io:container_uptime{cluster_name="apim-dev",container_name="wso2am",monitored_resource="k8s_container",namespace_name="wso2-apim"}`)

	preview := policyOf(t, run(t, "dev", nil), "keystores-expiry").String("conditions.0.conditionPrometheusQueryLanguage.query")
	assert.True(t, strings.HasSuffix(preview, "> +Inf"), "no keys drawn yet in a first preview: nothing to fire on (%s)", preview)
	assert.Nil(t, run(t, "dev", map[string]any{"apim.keystores.secretName": "corp-pki"}).Find(typeAlertPolicy, "apim-monitoring-keystores-expiry"))
}

// VerticalPodAutoscalers recommend and never act, for the control plane, the in-cluster MySQL,
// OpenSearch and the backend; none touches the gateway, whose HPA scales on CPU.
func TestVerticalPodAutoscalersOnlyRecommend(t *testing.T) {
	cases := map[string]struct {
		stack string
		set   map[string]any
		want  []string
	}{
		"dev":                       {"dev", nil, []string{"StatefulSet/apim-cp", "StatefulSet/opensearch", "Deployment/hello"}},
		"prod":                      {"prod", nil, []string{"StatefulSet/apim-cp", "StatefulSet/opensearch", "Deployment/hello"}},
		"dev, in-cluster MySQL":     {"dev", map[string]any{"mysql.mode": "incluster"}, []string{"StatefulSet/apim-cp", "StatefulSet/mysql", "StatefulSet/opensearch", "Deployment/hello"}},
		"local, opted in":           {"local", map[string]any{"monitoring.verticalPodAutoscalers": true}, []string{"StatefulSet/apim-cp", "StatefulSet/mysql", "StatefulSet/opensearch", "Deployment/hello"}},
		"prod, no analytics":        {"prod", map[string]any{"analytics.mode": "none", "backend.enabled": false}, []string{"StatefulSet/apim-cp"}},
		"dev, turned off by config": {"dev", map[string]any{"monitoring.verticalPodAutoscalers": false}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := run(t, c.stack, c.set)
			var got []string
			for _, v := range g.OfType(typeVPA) {
				assert.Equal(t, "Off", v.Get("spec.updatePolicy.updateMode"), v.Name)
				ref := v.Get("spec.targetRef").(map[string]any)
				assert.Equal(t, "apps/v1", ref["apiVersion"])
				got = append(got, fmt.Sprintf("%s/%s", ref["kind"], ref["name"]))
				// The target exists, of that kind.
				typ := map[any]string{"StatefulSet": typeStatefulSet, "Deployment": typeDeployment}[ref["kind"]]
				found := false
				for _, w := range g.OfType(typ) {
					found = found || w.String("metadata.name") == ref["name"]
				}
				assert.True(t, found, "%s targets an existing %s", v.Name, ref["kind"])
				assert.NotEqual(t, "apim-gw", ref["name"], "no VPA acts on the gateway")
			}
			assert.ElementsMatch(t, c.want, got)
		})
	}
}

func crdObjects(g *harness.Graph) []string {
	var out []string
	for _, r := range g.All() {
		for _, group := range monitoringCRDGroups {
			if strings.HasPrefix(r.Type, group) {
				out = append(out, r.Type+" "+r.Name)
			}
		}
	}
	return out
}

// A plain cluster has none of the monitoring CRDs: the local stack renders no object of them,
// and no Cloud Monitoring resource, unless asked to.
func TestLocalRendersNoMonitoringObjectUnlessOptedIn(t *testing.T) {
	g := run(t, "local", nil)
	assert.Empty(t, crdObjects(g))
	assert.Empty(t, g.WithPrefix("gcp:"))
	for _, name := range []string{"apim-cp", "apim-gw"} {
		inits := fmt.Sprint(apimWorkload(t, g, name).Get("spec.template.spec.initContainers"))
		assert.NotContains(t, inits, "jmx-exporter", name)
	}

	opted := run(t, "local", map[string]any{
		"monitoring.prometheusOperator": map[string]any{"enabled": true, "monitorLabels": map[string]any{"release": "kube-prometheus-stack"}},
	})
	mons := opted.OfType(typePodMonitor)
	require.Len(t, mons, 2)
	for _, m := range mons {
		scrapedPortExists(t, opted, m, "podMetricsEndpoints")
		assert.Equal(t, "kube-prometheus-stack", m.Get("metadata.labels.release"), "labels the operator's podMonitorSelector wants")
	}
	assert.Empty(t, opted.OfType(typeVPA), "VPAs are a switch of their own")
	tr := trafficOf(t, opted)
	prometheus := outside("monitoring", map[string]string{"app.kubernetes.io/name": "prometheus"})
	assert.True(t, tr.allows(prometheus, tr.pod(t, "apim-gw"), apim.MetricsPort, "TCP"))
	assert.False(t, tr.allows(outside("gmp-system", map[string]string{"app.kubernetes.io/name": "collector"}), tr.pod(t, "apim-gw"), apim.MetricsPort, "TCP"))
}

// Monitoring's settings are checked with the rest of the config, each problem naming its key.
func TestInvalidMonitoringConfig(t *testing.T) {
	expectConfigRefusals(t, []configRefusal{
		{"cloud monitoring on a plain cluster", "local", map[string]any{"monitoring.enabled": true},
			"monitoring.enabled: true needs cluster.mode gke (Cloud Monitoring and Managed Service for Prometheus); with an existing cluster set monitoring.prometheusOperator.enabled for its Prometheus Operator"},
		{"prometheus operator on gke", "dev", map[string]any{"monitoring.prometheusOperator.enabled": true},
			"monitoring.prometheusOperator.enabled: true is for clusters of mode existing; on GKE, Managed Service for Prometheus scrapes the pods (monitoring.enabled)"},
		{"threshold out of range", "prod", map[string]any{"monitoring.alerts.gateway5xxPercent": 150},
			"monitoring.alerts.gateway5xxPercent: 150 is not valid; want 1 to 100"},
		{"negative minutes", "dev", map[string]any{"monitoring.alerts.hpaAtMaxMinutes": -5},
			"monitoring.alerts.hpaAtMaxMinutes: -5 is not valid; want 1 to 1440"},
		{"not an email", "prod", map[string]any{"monitoring.notificationEmails": []any{"oncall"}},
			`monitoring.notificationEmails[0]: "oncall" is not valid; want an email address such as oncall@yourcompany.com`},
		{"placeholder email", "prod", map[string]any{"monitoring.notificationEmails": []any{"oncall@example.com"}},
			`monitoring.notificationEmails[0]: "oncall@example.com" is at a documentation domain (example.com) that receives no mail; set a mailbox someone reads`},
		{"agent mirror without sha256", "dev", map[string]any{"monitoring.jmxExporter.url": "https://mirror.corp.internal/jmx_prometheus_javaagent-1.3.0.jar"},
			"monitoring.jmxExporter.sha256: missing; https://mirror.corp.internal/jmx_prometheus_javaagent-1.3.0.jar is not the default jar whose sha256 the product knows: set the jar's sha256 (sha256sum jmx_prometheus_javaagent-*.jar)"},
		{"agent over http", "prod", map[string]any{"monitoring.jmxExporter.url": "http://mirror.corp.internal/a.jar", "monitoring.jmxExporter.sha256": strings.Repeat("a", 64)},
			`monitoring.jmxExporter.url: "http://mirror.corp.internal/a.jar" is not valid; want the https URL of jmx_prometheus_javaagent-<version>.jar, or nothing for ` + apim.DefaultJMXExporterURL},
		{"namespace too long for the backend names", "prod", map[string]any{"cluster.namespace": "wso2-api-manager-production-eu"},
			`cluster.namespace: "wso2-api-manager-production-eu" is too long for the gateway's alerts: GKE trims the namespace, "apim-gw" and 8243 to 38 characters in its load balancer backends' names, which the 5xx and latency policies select by; want at most 27 characters, or monitoring.enabled false`},
		{"empty prometheus pod labels", "local", map[string]any{"monitoring.prometheusOperator": map[string]any{"enabled": true, "podLabels": map[string]any{}}},
			"monitoring.prometheusOperator.podLabels: empty; want the labels of the Prometheus pods, or remove the setting for app.kubernetes.io/name: prometheus"},
		{"misspelt alert", "dev", map[string]any{"monitoring.alerts.gateway5xx": 3},
			`monitoring.alerts: unknown setting "gateway5xx"; see Pulumi.yaml or docs/configuration.md for the valid keys`},
	})
	// Off on GKE: nothing of Cloud Monitoring, no agent; the VPAs stay (a switch of their own).
	off := run(t, "prod", map[string]any{"monitoring.enabled": false})
	assert.Empty(t, off.WithPrefix("gcp:monitoring/"))
	assert.Empty(t, off.OfType(typePodMonitoring))
	assert.NotEmpty(t, off.OfType(typeVPA))
}

// Monitoring adds nothing to prod's first `up`: its Cloud Monitoring resources wait only for
// the API, the keystores' alert for the keystores, so the critical path is the same with or
// without it; and none of them waits for the cluster or the database instance.
func TestMonitoringStaysOffTheCriticalPath(t *testing.T) {
	with, err := harness.Run(stacks.Program, "prod", harness.Options{Secrets: map[string]string{}})
	require.NoError(t, err)
	without, err := harness.Run(stacks.Program, "prod", harness.Options{Secrets: map[string]string{}, Set: map[string]any{"monitoring.enabled": false}})
	require.NoError(t, err)
	a, chainA, _ := newSchedule(with, nil).critical()
	b, _, _ := newSchedule(without, nil).critical()
	assert.Equal(t, b, a, "the same critical path with monitoring:\n  %s", strings.Join(chainA, "\n  "))
	cluster, sqlInstance := one(t, with, typeCluster), one(t, with, typeSQLInstance)
	for _, r := range with.WithPrefix("gcp:monitoring/") {
		assert.False(t, with.DependsOn(r, sqlInstance), "%s waits for the Cloud SQL instance", r.Name)
		if r.Name != "apim-monitoring-keystores-expiry" {
			assert.False(t, with.DependsOn(r, cluster), "%s waits for the cluster", r.Name)
		}
	}
	// The check can fail: made to wait for what ends last, the dashboard ends after it.
	s := newSchedule(with, nil)
	var last *harness.Resource
	for _, r := range with.All() {
		if d, _ := s.finish(r); last == nil || d > s.done[last.URN] {
			last = r
		}
	}
	dash := one(t, with, typeDashboard)
	worse, _, _ := newSchedule(with, map[string][]string{dash.URN: {last.URN}}).critical()
	assert.Greater(t, worse, a)
}

// docs/operate.md's "Monitoring and alerts" section has a runbook line for every alert policy
// the program renders.
func TestDocsHaveARunbookForEveryPolicy(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "docs", "operate.md"))
	require.NoError(t, err)
	doc := string(b)
	start := strings.Index(doc, "\n## Monitoring and alerts\n")
	require.GreaterOrEqual(t, start, 0, "docs/operate.md has a Monitoring and alerts section")
	section := doc[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	require.Equal(t, len(monitoring.Runbooks), len(monitoring.Severity))
	for name := range monitoring.Runbooks {
		assert.Contains(t, section, "`"+name+"`", "docs/operate.md, Monitoring and alerts: a runbook line for %s", name)
	}
	for _, stack := range []string{"dev", "prod"} {
		for _, p := range run(t, stack, map[string]any{"mysql.mode": "incluster"}).OfType(typeAlertPolicy) {
			assert.Contains(t, monitoring.Runbooks, strings.TrimPrefix(p.Name, "apim-monitoring-"))
		}
	}
}

// The agent's download is allowed out to its server's port, as the JDBC driver's is, even
// where nothing else may leave: a mirror on 8443, with apim.backendEgress narrowed and the
// driver from an HTTP mirror, is reached on 8443 and on nothing more.
func TestAgentDownloadIsAllowedOut(t *testing.T) {
	g := run(t, "prod", map[string]any{
		"apim.backendEgress":            []any{map[string]any{"cidr": "10.20.0.0/16", "ports": []any{8443}}},
		"apim.jdbcDriver.url":           "http://maven.corp.internal:8081/cj-9.1.0.jar",
		"apim.jdbcDriver.sha256":        strings.Repeat("a", 64),
		"monitoring.jmxExporter.url":    "https://mirror.corp.internal:9443/jmx_prometheus_javaagent-1.3.0.jar",
		"monitoring.jmxExporter.sha256": strings.Repeat("b", 64),
	})
	tr := trafficOf(t, g)
	internet := external("151.101.0.1")
	for _, name := range []string{"apim-cp", "apim-gw"} {
		assert.True(t, tr.allows(tr.pod(t, name), internet, 9443, "TCP"), "%s fetches the agent", name)
		assert.False(t, tr.allows(tr.pod(t, name), internet, 443, "TCP"), "%s: nothing else", name)
	}
	// Without the agent (monitoring off) that port stays closed.
	off := trafficOf(t, run(t, "prod", map[string]any{"monitoring.enabled": false,
		"apim.backendEgress": []any{map[string]any{"cidr": "10.20.0.0/16", "ports": []any{8443}}}}))
	assert.False(t, off.allows(off.pod(t, "apim-cp"), internet, 9443, "TCP"))
}
