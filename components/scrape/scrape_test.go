package scrape_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/scrape"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The same targets become PodMonitorings for GKE's collector or PodMonitors for the
// Prometheus Operator, each with its kind's field for the endpoints.
func TestScrapeObjectsPerCollector(t *testing.T) {
	targets := []scrape.Target{{Name: "app", Selector: map[string]string{"app": "x"}, Port: "metrics", Path: "/metrics"}}
	gmp, _ := harness.Construct(t, harness.Kubernetes, scrape.NewScrape, "m", &scrape.Args{Collector: scrape.ManagedPrometheus, Namespace: pulumi.String("ns"), Targets: targets})
	o := gmp.Find("kubernetes:monitoring.googleapis.com/v1:PodMonitoring", "m-app")
	require.NotNil(t, o)
	assert.Equal(t, "x", o.Get("spec.selector.matchLabels.app"))
	assert.Equal(t, "metrics", o.Get("spec.endpoints.0.port"))
	assert.Equal(t, "30s", o.Get("spec.endpoints.0.interval"))

	op, _ := harness.Construct(t, harness.Kubernetes, scrape.NewScrape, "m", &scrape.Args{Collector: scrape.PrometheusOperator, Namespace: pulumi.String("ns"), Targets: targets,
		MonitorLabels: map[string]string{"release": "prom"}, Interval: "15s"})
	o = op.Find("kubernetes:monitoring.coreos.com/v1:PodMonitor", "m-app")
	require.NotNil(t, o)
	assert.Equal(t, "/metrics", o.Get("spec.podMetricsEndpoints.0.path"))
	assert.Equal(t, "15s", o.Get("spec.podMetricsEndpoints.0.interval"))
	assert.Equal(t, "prom", o.Get("metadata.labels.release"))
	assert.Equal(t, "app", o.Get("metadata.labels[app.kubernetes.io/name]"))
}

func TestPrometheusOperatorSettings(t *testing.T) {
	p := scrape.PrometheusOperatorArgs{}.WithDefaults()
	assert.Equal(t, "monitoring", p.Namespace)
	assert.Empty(t, p.Validate("monitoring.prometheusOperator"))
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "monitoring"}, p.Scraper().Namespaces)
	bad := scrape.PrometheusOperatorArgs{Namespace: "Mon", PodLabels: map[string]string{"app": "no spaces allowed"}}
	assert.ElementsMatch(t, []string{
		`monitoring.prometheusOperator.namespace: "Mon" is not valid; want a namespace name (a DNS label)`,
		`monitoring.prometheusOperator.podLabels.app: "no spaces allowed" is not valid; want a Kubernetes label: a key such as app.kubernetes.io/name and a value of at most 63 letters, digits, '-', '_' or '.'`,
	}, []string(bad.Validate("monitoring.prometheusOperator")))
}
