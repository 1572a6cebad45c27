package monitoring_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/monitoring"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func args() *monitoring.Args {
	return &monitoring.Args{Project: "p-123456", Prefix: "apim-x", Watched: monitoring.Watched{
		ClusterName: "c", ClusterLocation: "europe-west1", Namespace: "ns", ControlPlane: "cp", Gateway: "gw", GatewayService: "gw",
		GatewayPort: 8243, MaxNodes: 3, Database: monitoring.Database{CloudSQLInstancePrefix: "x-sql-", MaxConnections: 100},
		Hosts: []monitoring.Host{{Name: "gw", Host: "gw.corp.io", Path: "/", HTTPS: true, ValidateSSL: true, AnyAnswer: true}},
	}}
}

func run(t *testing.T, a *monitoring.Args) (*harness.Graph, error) {
	t.Helper()
	g, _, err := harness.TryConstruct(harness.GCP(""), monitoring.NewMonitoring, "mon", a)
	return g, err
}

// Every child is the component's, with the explicit provider; every policy is in the project
// and carries a runbook.
func TestMonitoringComponent(t *testing.T) {
	g, err := run(t, args())
	require.NoError(t, err)
	comp := g.Find("wso2apim:monitoring:Monitoring", "mon")
	require.NotNil(t, comp)
	for _, r := range g.WithPrefix("gcp:monitoring/") {
		assert.Equal(t, comp.URN, r.Parent, r.Name)
		assert.NotEmpty(t, r.Provider, r.Name)
		assert.Equal(t, "p-123456", r.Get("project"), r.Name)
	}
	assert.Len(t, g.OfType("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig"), 1)
	for _, p := range g.OfType("gcp:monitoring/alertPolicy:AlertPolicy") {
		assert.NotEmpty(t, p.Get("documentation.content"), p.Name)
		assert.Contains(t, []any{"ERROR", "WARNING"}, p.Get("severity"), p.Name)
	}
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(g.OfType("gcp:monitoring/dashboard:Dashboard")[0].String("dashboardJson")), &d))
	assert.Equal(t, "apim-x: WSO2 API Manager", d["displayName"])
}

func TestMonitoringRefusesWhatItCannotWatch(t *testing.T) {
	a := args()
	a.Watched.ClusterName, a.Project = "", ""
	a.Alerts.Gateway5xxPercent = 101
	g, err := run(t, a)
	require.Error(t, err)
	for _, want := range []string{"alerts.gateway5xxPercent: 101 is not valid; want 1 to 100", "Project: missing",
		"Watched: ClusterName, Namespace, Gateway, ControlPlane and MaxNodes are required"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, g.WithPrefix("gcp:monitoring/"))
}

func TestNEGNames(t *testing.T) {
	re := regexp.MustCompile("^" + monitoring.NEGNamePattern("wso2-apim", "apim-gw", 8243) + "$")
	assert.True(t, re.MatchString("k8s1-0a1b2c3d-wso2-apim-apim-gw-8243-deadbeef"))
	assert.False(t, re.MatchString("k8s1-0a1b2c3d-wso2-apim-apim-gw-8280-deadbeef"))
	assert.False(t, monitoring.NEGNameTrimmed("wso2-apim", "apim-gw", 8243))
	// 27 + 7 + 4 = 38 fits; one more character is trimmed.
	assert.False(t, monitoring.NEGNameTrimmed("abcdefghijklmnopqrstuvwxyza", "apim-gw", 8243))
	assert.True(t, monitoring.NEGNameTrimmed("abcdefghijklmnopqrstuvwxyzab", "apim-gw", 8243))
}

func TestPromQLNames(t *testing.T) {
	assert.Equal(t, "kubernetes_io:container_uptime", monitoring.PromQLName("kubernetes.io/container/uptime"))
	assert.Equal(t, "loadbalancing_googleapis_com:https_request_count", monitoring.PromQLName("loadbalancing.googleapis.com/https/request_count"))
	assert.Equal(t, "prometheus.googleapis.com/kube_pod_status_phase/gauge", monitoring.KubeStateMetric("kube_pod_status_phase"))
}
