package apim

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// WSO2 4.7's "Monitoring with Prometheus" (wso2/docs-apim,
// en/docs/observe/api-manager/metrics/prometheus-for-monitoring.md) exposes API Manager's JMX
// MBeans to Prometheus with the Prometheus JMX exporter as a Java agent:
// jmx_prometheus_javaagent-1.3.0.jar, serving /metrics on port 1234, with a YAML config of
// startDelaySeconds 30, ssl false and lowercaseOutputName true, added to the java command of
// bin/api-manager.sh. JAVA_OPTS reaches that same command line (logs.go), so the agent goes
// there; the jar, like the JDBC driver, comes from its release by an init container that
// refuses it unless its sha256 is the pinned one.
const (
	// JMXExporterVersion is the agent release WSO2's page names.
	JMXExporterVersion = "1.3.0"
	// DefaultJMXExporterURL is the jar's URL on the release WSO2's page links to: 1.3.0 is
	// published on GitHub Releases only, not on Maven Central.
	DefaultJMXExporterURL = "https://github.com/prometheus/jmx_exporter/releases/download/" + JMXExporterVersion +
		"/jmx_prometheus_javaagent-" + JMXExporterVersion + ".jar"
	// DefaultJMXExporterSHA256 is the sha256 of that jar. Source: Bluebird-Community/
	// build-infrastructure, oci/deploy-base/version-lock.sh (PROM_JMX_EXPORTER_SHA256 beside
	// PROM_JMX_EXPORTER_VERSION 1.3.0 and this URL), which its image build checks with
	// sha256sum -c against the downloaded jar.
	DefaultJMXExporterSHA256 = "ba74aad73934e59f4ca9c0779b49f1663c1fc7a81d5d99fc665bd5e5039310f5"
	// MetricsPort is where the agent serves /metrics: WSO2's page uses 1234, which no API
	// Manager listener takes.
	MetricsPort = 1234
	// MetricsPortName names the port on the pods, for PodMonitoring and PodMonitor endpoints.
	MetricsPortName = "metrics"
	// MetricsPath is the agent's HTTP path.
	MetricsPath = "/metrics"
)

// JMXExporterConfig is the agent's configuration: WSO2's, without its username and password,
// which are for reading a remote JMX server (hostPort or jmxUrl) and mean nothing to the agent
// inside the JVM. With no rules every MBean attribute is exported by the agent's default
// format; it exports numbers only, so no string attribute (a datasource's URL or user)
// leaves the pod.
const JMXExporterConfig = `startDelaySeconds: 30
ssl: false
lowercaseOutputName: true
`

// MetricsAgent is the JMX exporter each API Manager pod runs. The JSON names are the settings
// of a stack's `monitoring.jmxExporter` config key.
type MetricsAgent struct {
	// URL of jmx_prometheus_javaagent (https). Defaults to DefaultJMXExporterURL.
	URL string `json:"url"`
	// SHA256 of the jar, 64 lower-case hex characters. Defaults to DefaultJMXExporterSHA256
	// for the default URL; required for any other.
	SHA256 string `json:"sha256"`
	// Enabled runs the agent. The platform turns it on when something scrapes it.
	Enabled bool `json:"-"`
	// Scrapers are the only pods that may reach MetricsPort: the cluster's Prometheus
	// collector.
	Scrapers []kube.Peer `json:"-"`
}

// WithDefaults fills in the URL and, for the default URL, its sha256.
func (m MetricsAgent) WithDefaults() MetricsAgent {
	if m.URL == "" {
		m.URL = DefaultJMXExporterURL
	}
	if m.SHA256 == "" && m.URL == DefaultJMXExporterURL {
		m.SHA256 = DefaultJMXExporterSHA256
	}
	return m
}

// Validate checks a defaulted agent; key prefixes every message (e.g. "monitoring.jmxExporter").
func (m MetricsAgent) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	u, err := url.Parse(m.URL)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		p.Addf(k("url"), "%q is not valid; want the https URL of jmx_prometheus_javaagent-<version>.jar, or nothing for %s", m.URL, DefaultJMXExporterURL)
	case isPlaceholderHost(u.Hostname()):
		p.Addf(k("url"), "%q is a placeholder (%s is a documentation domain); set your mirror's URL, or remove the setting for the release's", m.URL, u.Hostname())
	case strings.ContainsAny(m.URL, "'\"`$\\ "):
		p.Addf(k("url"), "%q is not valid; want a URL without quotes, spaces, '$' or backslashes", m.URL)
	}
	switch {
	case m.SHA256 == "":
		p.Addf(k("sha256"), "missing; %s is not the default jar whose sha256 the product knows: set the jar's sha256 (sha256sum jmx_prometheus_javaagent-*.jar)", m.URL)
	case zeroSHARe.MatchString(m.SHA256):
		p.Addf(k("sha256"), "%q is a placeholder; set the jar's real sha256", m.SHA256)
	default:
		p.Matches(k("sha256"), m.SHA256, sha256Re, "64 lower-case hex characters")
	}
	return p
}

// MetricsAgentDir is where the agent's jar and config sit, under the server home (a volume
// mounted there stays live; the entrypoint copies only the config volume over the home).
const MetricsAgentDir = "jmx-exporter"

const metricsAgentVolume = "jmx-exporter"

// initAgentDir is the volume's mount in the init container that fills it.
const initAgentDir = "/jmx-exporter"

// MetricsAgentOpt is the -javaagent option of a server home: the jar, the port, the config.
func MetricsAgentOpt(serverHome string) string {
	dir := path.Join(serverHome, MetricsAgentDir)
	return fmt.Sprintf("-javaagent:%s=%d:%s", path.Join(dir, "jmx_prometheus_javaagent.jar"), MetricsPort, path.Join(dir, "config.yaml"))
}

// JMXExporterFetchScript downloads the agent into $AGENT_DIR with curl (TLS checked, https
// only), moves it into place only once its sha256 is the pinned $AGENT_SHA256, and writes the
// agent's config from $AGENT_CONFIG beside it. Its inputs come from the environment, so the
// script itself never changes with them.
const JMXExporterFetchScript = `set -eu
dest="$AGENT_DIR/jmx_prometheus_javaagent.jar"
part="$dest.part"
rm -f "$part"
if ! curl --fail --silent --show-error --location --proto '=https' --max-time 300 -o "$part" "$AGENT_URL"; then
  echo "jmx-exporter: could not download $AGENT_URL" >&2
  rm -f "$part"
  exit 1
fi
if ! echo "$AGENT_SHA256  $part" | sha256sum -c - >/dev/null 2>&1; then
  echo "jmx-exporter: $AGENT_URL does not match the pinned sha256 (monitoring.jmxExporter.sha256); refusing it" >&2
  rm -f "$part"
  exit 1
fi
mv "$part" "$dest"
printf '%s' "$AGENT_CONFIG" >"$AGENT_DIR/config.yaml"
echo "jmx-exporter: verified $AGENT_URL against the pinned sha256"
`

// metricsAgentInit is the init container that fetches the agent, in the workload's own image
// (curl and CA certificates, as for the JDBC driver).
func metricsAgentInit(m MetricsAgent, image string) corev1.ContainerArgs {
	return corev1.ContainerArgs{
		Name:    pulumi.String("jmx-exporter"),
		Image:   pulumi.String(image),
		Command: pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(JMXExporterFetchScript)},
		Env: corev1.EnvVarArray{
			corev1.EnvVarArgs{Name: pulumi.String("AGENT_DIR"), Value: pulumi.String(initAgentDir)},
			corev1.EnvVarArgs{Name: pulumi.String("AGENT_URL"), Value: pulumi.String(m.URL)},
			corev1.EnvVarArgs{Name: pulumi.String("AGENT_SHA256"), Value: pulumi.String(m.SHA256)},
			corev1.EnvVarArgs{Name: pulumi.String("AGENT_CONFIG"), Value: pulumi.String(JMXExporterConfig)},
		},
		SecurityContext: kube.ContainerSecurity(wso2UID, true),
		Resources:       InitResources.Args(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String(metricsAgentVolume), MountPath: pulumi.String(initAgentDir)},
		},
	}
}

// withMetricsAgent adds the agent to a pod spec that podSpec built: the init container that
// fetches it, its volume (read-only in the server's container), the named port, and
// -javaagent at the end of JAVA_OPTS. A spec without the agent is returned as it is.
func (s workloadSpec) withMetricsAgent(spec *corev1.PodSpecArgs) *corev1.PodSpecArgs {
	m := s.sh.Metrics.WithDefaults()
	if !m.Enabled {
		return spec
	}
	spec.InitContainers = append(spec.InitContainers.(corev1.ContainerArray), metricsAgentInit(m, s.w.Image))
	// The jar is a few hundred KB.
	spec.Volumes = append(spec.Volumes.(corev1.VolumeArray), corev1.VolumeArgs{Name: pulumi.String(metricsAgentVolume),
		EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("16Mi")}})
	containers := spec.Containers.(corev1.ContainerArray)
	server := containers[0].(corev1.ContainerArgs)
	server.Ports = append(server.Ports.(corev1.ContainerPortArray),
		corev1.ContainerPortArgs{Name: pulumi.String(MetricsPortName), ContainerPort: pulumi.Int(MetricsPort)})
	server.VolumeMounts = append(server.VolumeMounts.(corev1.VolumeMountArray), corev1.VolumeMountArgs{
		Name: pulumi.String(metricsAgentVolume), MountPath: pulumi.String(path.Join(s.w.ServerHome, MetricsAgentDir)), ReadOnly: pulumi.Bool(true)})
	env := corev1.EnvVarArray{}
	for _, e := range server.Env.(corev1.EnvVarArray) {
		if v, ok := e.(corev1.EnvVarArgs); ok && v.Name == pulumi.String("JAVA_OPTS") {
			v.Value = pulumi.String(s.w.javaOpts() + " " + MetricsAgentOpt(s.w.ServerHome))
			e = v
		}
		env = append(env, e)
	}
	server.Env = env
	containers[0] = server
	spec.Containers = containers
	return spec
}

// rules adds the agent's traffic to a workload's NetworkPolicy rules: in, the scrapers and
// only they on the metrics port (without scrapers the port stays closed: a rule with no peers
// would admit everyone); out, the jar's server on its port, at any address, as for the JDBC
// driver.
func (m MetricsAgent) rules(ingress, egress []kube.Rule) ([]kube.Rule, []kube.Rule) {
	if !m.Enabled {
		return ingress, egress
	}
	if len(m.Scrapers) > 0 {
		ingress = append(ingress, kube.Rule{Peers: m.Scrapers, Ports: kube.TCP(MetricsPort)})
	}
	egress = append(egress, kube.Rule{Peers: []kube.Peer{{CIDR: "0.0.0.0/0"}}, Ports: kube.TCP(kube.PortOf(m.WithDefaults().URL))})
	return ingress, egress
}
