package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/monitoring"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// metricFacts are the metric types Google documents (tests/testdata/gcp/metric-types.txt), by
// type, with their source's id.
type metricFacts map[string]string

func loadMetricFacts(t *testing.T) metricFacts {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "gcp", "metric-types.txt"))
	require.NoError(t, err)
	defer f.Close()
	sources := map[string]bool{}
	facts := metricFacts{}
	sourceRe := regexp.MustCompile(`^#   ([a-z]+) +\S`)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := sourceRe.FindStringSubmatch(line); m != nil {
			sources[m[1]] = true
		}
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		require.Len(t, fields, 3, "line %d: <type> TAB <source> TAB <where>", n)
		require.True(t, sources[fields[1]], "line %d: source %q is declared in the header", n, fields[1])
		require.NotEmpty(t, fields[2], "line %d: where it was read", n)
		require.NotContains(t, facts, fields[0], "line %d: listed once", n)
		facts[fields[0]] = fields[1]
	}
	require.NoError(t, sc.Err())
	return facts
}

var (
	filterTypeRe = regexp.MustCompile(`metric\.type\s*=\s*"([^"]+)"`)
	promNameRe   = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)
)

// check returns what a Cloud Monitoring filter or a PromQL query names that the facts list
// (known, as metric types) and what they do not (unknown, as written).
func (f metricFacts) check(filter, promql string) (known, unknown []string) {
	for _, m := range filterTypeRe.FindAllStringSubmatch(filter, -1) {
		if _, ok := f[m[1]]; ok {
			known = append(known, m[1])
		} else {
			unknown = append(unknown, m[1])
		}
	}
	for _, m := range promNameRe.FindAllStringSubmatch(promql, -1) {
		name := m[1]
		if strings.Contains(name, ":") { // a Google metric type, mapped to PromQL
			found := ""
			for typ := range f {
				if monitoring.PromQLName(typ) == name {
					found = typ
				}
			}
			if found != "" {
				known = append(known, found)
			} else {
				unknown = append(unknown, name)
			}
			continue
		}
		typ := monitoring.KubeStateMetric(name)
		if _, ok := f[typ]; ok {
			known = append(known, typ)
		} else {
			unknown = append(unknown, name)
		}
	}
	return known, unknown
}

// renderedQueries collects every filter and PromQL query of a graph's alert policies and
// dashboard, by where they are.
func renderedQueries(t *testing.T, g *harness.Graph) (filters, promqls map[string]string) {
	t.Helper()
	filters, promqls = map[string]string{}, map[string]string{}
	for _, p := range g.OfType(typeAlertPolicy) {
		for i, c := range p.Get("conditions").([]any) {
			cond := c.(map[string]any)
			where := fmt.Sprintf("%s condition %d", p.Name, i)
			if th, ok := cond["conditionThreshold"].(map[string]any); ok {
				filters[where] = fmt.Sprint(th["filter"])
				if d, ok := th["denominatorFilter"].(string); ok {
					filters[where+" denominator"] = d
				}
			}
			if q, ok := cond["conditionPrometheusQueryLanguage"].(map[string]any); ok {
				promqls[where] = fmt.Sprint(q["query"])
			}
			_, hasMQL := cond["conditionMonitoringQueryLanguage"]
			assert.False(t, hasMQL, "%s: MQL is not checked here; use a filter or PromQL", where)
		}
	}
	for _, d := range g.OfType(typeDashboard) {
		var v any
		require.NoError(t, json.Unmarshal([]byte(d.String("dashboardJson")), &v))
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					switch k {
					case "filter":
						filters[path+"."+k] = fmt.Sprint(e)
					case "prometheusQuery":
						promqls[path+"."+k] = fmt.Sprint(e)
					default:
						walk(path+"."+k, e)
					}
				}
			case []any:
				for i, e := range x {
					walk(fmt.Sprintf("%s[%d]", path, i), e)
				}
			}
		}
		walk(d.Name, v)
	}
	return filters, promqls
}

// Every metric type an alert policy or the dashboard names is one Google documents: a
// misspelt type is a policy that never fires and a chart that stays empty, and Cloud
// Monitoring accepts both without a word.
func TestRenderedMetricTypesAreDocumented(t *testing.T) {
	facts := loadMetricFacts(t)
	used := map[string]bool{}
	variants := []struct {
		stack string
		set   map[string]any
	}{
		{"dev", nil}, {"prod", nil},
		{"dev", map[string]any{"mysql.mode": "incluster"}},
		{"prod", map[string]any{"ingress.enabled": false}},
	}
	for _, v := range variants {
		g, err := harness.Run(stacksProgram, v.stack, harness.Options{Set: v.set, Up: true})
		require.NoError(t, err)
		filters, promqls := renderedQueries(t, g)
		require.NotEmpty(t, filters)
		require.NotEmpty(t, promqls)
		for where, f := range filters {
			known, unknown := facts.check(f, "")
			assert.Empty(t, unknown, "%s %v: %s names undocumented metric types", v.stack, v.set, where)
			assert.NotEmpty(t, known, "%s: %s names a metric type", v.stack, where)
			for _, k := range known {
				used[k] = true
			}
		}
		for where, q := range promqls {
			known, unknown := facts.check("", q)
			assert.Empty(t, unknown, "%s %v: %s names undocumented metrics", v.stack, v.set, where)
			assert.NotEmpty(t, known, "%s: %s names a metric", v.stack, where)
			for _, k := range known {
				used[k] = true
			}
		}
	}
	var list []string
	for k := range used {
		list = append(list, k)
	}
	sort.Strings(list)
	t.Logf("metric types rendered (%d): %s", len(list), strings.Join(list, ", "))
	// Every family the issue names is read: the load balancer, GKE, Cloud SQL, uptime checks,
	// kube state metrics.
	for _, prefix := range []string{"loadbalancing.googleapis.com/", "kubernetes.io/", "cloudsql.googleapis.com/",
		"monitoring.googleapis.com/uptime_check/", "prometheus.googleapis.com/kube_"} {
		n := 0
		for _, k := range list {
			if strings.HasPrefix(k, prefix) {
				n++
			}
		}
		assert.Positive(t, n, "a %s metric is read", prefix)
	}
}

// The check catches a misspelt type, in either language, and a name that is not a kube state
// metric of GKE's package.
func TestMetricTypeCheckCatchesMisspellings(t *testing.T) {
	facts := loadMetricFacts(t)
	_, unknown := facts.check(`metric.type = "loadbalancing.googleapis.com/https/request_counts" AND resource.type = "https_lb_rule"`, "")
	assert.Equal(t, []string{"loadbalancing.googleapis.com/https/request_counts"}, unknown)
	_, unknown = facts.check(`metric.type="kubernetes.io/container/restarts"`, "")
	assert.Equal(t, []string{"kubernetes.io/container/restarts"}, unknown)
	known, unknown := facts.check("", `max(kubernetes_io:container_uptime{a="b"}) > kube_pod_status_ready{c="d"}`)
	assert.Equal(t, []string{"kubernetes.io/container/uptime"}, known)
	assert.Equal(t, []string{"kube_pod_status_ready"}, unknown, "not in GKE's kube state metrics package")
	_, unknown = facts.check("", `kubernetes_io:container_restarts{a="b"}`)
	assert.Equal(t, []string{"kubernetes_io:container_restarts"}, unknown)
	assert.Equal(t, "kubernetes_io:autoscaler_container_cpu_per_replica_recommended_request_cores",
		monitoring.PromQLName("kubernetes.io/autoscaler/container/cpu/per_replica_recommended_request_cores"),
		"Google's own dashboards spell it so (GoogleCloudPlatform/monitoring-dashboard-samples)")
}
