package apim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// Off by default; on, the gateway's pods fetch the agent, start it with the server, declare
// its port, and the NetworkPolicy admits the scrapers alone to it.
func TestMetricsAgent(t *testing.T) {
	g, _ := runGateway(t, aloneGateway())
	dep := g.Find(harness.TypeDeployment, "gw")
	require.NotNil(t, dep)
	assert.NotContains(t, fmt.Sprint(dep.Get("spec.template.spec")), "jmx-exporter", "no agent unless asked for")

	args := aloneGateway()
	scraper := kube.Peer{Namespaces: map[string]string{"kubernetes.io/metadata.name": "gmp-system"}}
	args.Metrics = apim.MetricsAgent{Enabled: true, Scrapers: []kube.Peer{scraper}}
	g, _ = runGateway(t, args)
	dep = g.Find(harness.TypeDeployment, "gw")
	require.NotNil(t, dep)
	env := harness.Env(t, dep, "spec.template.spec.containers.0")
	home := "/home/wso2carbon/wso2am-universal-gw-4.7.0"
	assert.True(t, strings.HasSuffix(env["JAVA_OPTS"], " -javaagent:"+home+"/jmx-exporter/jmx_prometheus_javaagent.jar=1234:"+home+"/jmx-exporter/config.yaml"), env["JAVA_OPTS"])
	assert.Contains(t, env["JAVA_OPTS"], "-XX:HeapDumpPath=", "the other options stay")
	assert.Equal(t, float64(apim.MetricsPort), portNumbers(t, dep, "spec.template.spec.containers.0.ports")[apim.MetricsPortName])
	init := harness.Env(t, dep, harness.InitContainer(t, dep, "jmx-exporter"))
	assert.Equal(t, apim.DefaultJMXExporterURL, init["AGENT_URL"])
	assert.Equal(t, apim.DefaultJMXExporterSHA256, init["AGENT_SHA256"])
	assert.Equal(t, apim.JMXExporterConfig, init["AGENT_CONFIG"])

	np := g.Find(harness.TypeNetworkPolicy, "gw")
	require.NotNil(t, np)
	var admits []string
	for _, r := range np.Get("spec.ingress").([]any) {
		rule := r.(map[string]any)
		if strings.Contains(fmt.Sprint(rule["ports"]), "1234") {
			admits = append(admits, fmt.Sprint(rule["from"]))
		}
	}
	assert.Equal(t, []string{"[map[namespaceSelector:map[matchLabels:map[kubernetes.io/metadata.name:gmp-system]]]]"}, admits)

	// Enabled without scrapers: the agent runs, its port admits nobody.
	args.Metrics.Scrapers = nil
	g, _ = runGateway(t, args)
	assert.NotContains(t, fmt.Sprint(g.Find(harness.TypeNetworkPolicy, "gw").Get("spec.ingress")), "1234")
}

func TestMetricsAgentSettings(t *testing.T) {
	assert.Empty(t, apim.MetricsAgent{}.WithDefaults().Validate("monitoring.jmxExporter"))
	mirror := apim.MetricsAgent{URL: "https://mirror.example.org/a.jar"}.WithDefaults()
	assert.Empty(t, mirror.SHA256, "the known sum belongs to the known jar only")
	assert.Contains(t, []string(mirror.Validate("monitoring.jmxExporter")),
		`monitoring.jmxExporter.url: "https://mirror.example.org/a.jar" is a placeholder (mirror.example.org is a documentation domain); set your mirror's URL, or remove the setting for the release's`)
}
