package platform

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/monitoring"
	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/components/scrape"
	"github.com/wso2-k8s/apim-gke/components/validate"
	"github.com/wso2-k8s/apim-gke/components/vpa"
)

// MonitoringArgs is the `monitoring` key: what watches the platform. On GKE, Cloud Monitoring
// (alert policies, uptime checks, a dashboard), Managed Service for Prometheus scraping API
// Manager's JMX metrics, and the vertical Pod autoscaler's recommendations; on other clusters
// nothing unless asked for, since their monitoring stack is theirs.
type MonitoringArgs struct {
	// Enabled turns on, in mode gke, the alert policies, uptime checks, dashboard,
	// notification channels, the PodMonitorings and the pods' JMX exporter. Defaults to true
	// with cluster.mode gke; mode existing has no Cloud Monitoring to use (see
	// PrometheusOperator).
	Enabled *bool `json:"enabled"`
	// The alert policies' thresholds and notification channels.
	monitoring.Args
	// PrometheusOperator (mode existing) creates PodMonitors for the cluster's own
	// Prometheus Operator, and runs the pods' JMX exporter for it. Off by default.
	PrometheusOperator scrape.PrometheusOperatorArgs `json:"prometheusOperator"`
	// VerticalPodAutoscalers creates VerticalPodAutoscalers in recommendation mode for the
	// control plane, the in-cluster MySQL, OpenSearch and the backend. Defaults to true with
	// cluster.mode gke (whose clusters run the VPA); elsewhere it needs the VPA's CRDs and
	// recommender, so it is off unless set.
	VerticalPodAutoscalers *bool `json:"verticalPodAutoscalers"`
	// JMXExporter is the agent's jar (url, sha256). Defaults to WSO2's documented release.
	JMXExporter apim.MetricsAgent `json:"jmxExporter"`
}

// monitoringDefaults fills in what the platform decides of the `monitoring` key; a has every
// other default.
func (a Args) monitoringDefaults() MonitoringArgs {
	m := a.Monitoring
	gke := a.Cluster.Mode == ModeGKE
	if m.Enabled == nil {
		on := gke
		m.Enabled = &on
	}
	if m.VerticalPodAutoscalers == nil {
		on := gke
		m.VerticalPodAutoscalers = &on
	}
	m.Args = m.Args.WithDefaults()
	m.PrometheusOperator = m.PrometheusOperator.WithDefaults()
	m.JMXExporter = m.JMXExporter.WithDefaults()
	// The agent runs only for a collector that scrapes it, and its port admits only that
	// collector.
	m.JMXExporter.Enabled, m.JMXExporter.Scrapers = false, nil
	switch {
	case gke && *m.Enabled:
		m.JMXExporter.Enabled, m.JMXExporter.Scrapers = true, []kube.Peer{scrape.ManagedCollector}
	case !gke && m.PrometheusOperator.Enabled:
		m.JMXExporter.Enabled, m.JMXExporter.Scrapers = true, []kube.Peer{m.PrometheusOperator.Scraper()}
	}
	return m
}

// validateMonitoring checks the `monitoring` key against the cluster it runs on.
func (a Args) validateMonitoring() validate.Problems {
	var p validate.Problems
	m := a.Monitoring
	gke := a.Cluster.Mode == ModeGKE
	if *m.Enabled && !gke {
		p.Addf("monitoring.enabled", "true needs cluster.mode gke (Cloud Monitoring and Managed Service for Prometheus); with an existing cluster set monitoring.prometheusOperator.enabled for its Prometheus Operator")
	}
	if m.PrometheusOperator.Enabled && gke {
		p.Addf("monitoring.prometheusOperator.enabled", "true is for clusters of mode existing; on GKE, Managed Service for Prometheus scrapes the pods (monitoring.enabled)")
	}
	if m.PrometheusOperator.Enabled {
		p.Add(m.PrometheusOperator.Validate("monitoring.prometheusOperator")...)
	}
	if m.JMXExporter.Enabled {
		p.Add(m.JMXExporter.Validate("monitoring.jmxExporter")...)
	}
	if gke && *m.Enabled {
		p.Add(m.Args.Validate("monitoring")...)
		gw := a.Gateway
		if *a.Ingress.Enabled && monitoring.NEGNameTrimmed(a.Cluster.Namespace, gw.Name, apim.PortGatewayHTTPS) {
			p.Addf("cluster.namespace", "%q is too long for the gateway's alerts: GKE trims the namespace, %q and %d to %d characters in its load balancer backends' names, "+
				"which the 5xx and latency policies select by; want at most %d characters, or monitoring.enabled false",
				a.Cluster.Namespace, gw.Name, apim.PortGatewayHTTPS, monitoring.NEGDescriptiveLimit,
				monitoring.NEGDescriptiveLimit-len(gw.Name)-len(fmt.Sprint(apim.PortGatewayHTTPS)))
		}
	}
	return p
}

// monitoringServices are the Google Cloud APIs monitoring calls.
func (a Args) monitoringServices() []string {
	if a.Cluster.Mode == ModeGKE && *a.Monitoring.Enabled {
		return []string{"monitoring.googleapis.com"}
	}
	return nil
}

// metricsTargets are the workloads that serve metrics: both API Manager workloads, through
// the JMX exporter. MySQL has no exporter here (Cloud SQL reports to Cloud Monitoring itself),
// nor has OpenSearch (its Prometheus endpoint is a third-party plugin the image lacks).
func (b *builder) metricsTargets() []scrape.Target {
	var out []scrape.Target
	for _, w := range []struct{ name, component string }{
		{b.work.cpArgs.Name, apim.ComponentControlPlane}, {b.work.gwArgs.Name, apim.ComponentGateway},
	} {
		out = append(out, scrape.Target{Name: w.name, Selector: kube.Selector(w.name, w.component), Port: apim.MetricsPortName, Path: apim.MetricsPath})
	}
	return out
}

// vpaTargets are the workloads the vertical autoscaler recommends requests for. Never the
// gateway: its HPA scales it on CPU utilisation, a share of its CPU request, so a request the
// VPA changed would move the HPA's target under it (docs/operate.md, Vertical Pod autoscaling).
func (b *builder) vpaTargets() []vpa.Target {
	out := []vpa.Target{{Kind: "StatefulSet", Name: b.work.cpArgs.Name}}
	if b.a.MySQL.Mode == MySQLInCluster {
		out = append(out, vpa.Target{Kind: "StatefulSet", Name: b.a.MySQL.Name})
	}
	if b.work.analytics != nil {
		out = append(out, vpa.Target{Kind: "StatefulSet", Name: b.a.Analytics.Name})
	}
	if b.work.backend != nil {
		out = append(out, vpa.Target{Kind: "Deployment", Name: b.a.Backend.Name})
	}
	return out
}

// monitoring creates what watches the platform: the scrape objects, the VPAs and, on GKE, the
// Cloud Monitoring resources. None of it is waited for by anything, and it waits only for
// what it names: the Kubernetes objects for the cluster, the Cloud Monitoring ones for the
// API, the keystores' expiry alert for the keystores.
func (b *builder) monitoring() error {
	m := b.a.Monitoring
	gke := b.a.Cluster.Mode == ModeGKE
	if gke && *m.Enabled {
		if _, err := scrape.NewScrape(b.ctx, b.child("metrics"), &scrape.Args{Collector: scrape.ManagedPrometheus,
			Namespace: b.namespace, Targets: b.metricsTargets()}, b.withK8s()...); err != nil {
			return err
		}
		if err := b.cloudMonitoring(); err != nil {
			return err
		}
	}
	if !gke && m.PrometheusOperator.Enabled {
		if _, err := scrape.NewScrape(b.ctx, b.child("metrics"), &scrape.Args{Collector: scrape.PrometheusOperator,
			Namespace: b.namespace, Targets: b.metricsTargets(), MonitorLabels: m.PrometheusOperator.MonitorLabels}, b.withK8s()...); err != nil {
			return err
		}
	}
	if *m.VerticalPodAutoscalers {
		if _, err := vpa.NewVPA(b.ctx, b.child("vpa"), &vpa.Args{Namespace: b.namespace, Targets: b.vpaTargets()}, b.withK8s()...); err != nil {
			return err
		}
	}
	return nil
}

// cloudMonitoring creates the alert policies, uptime checks, channels and dashboard.
func (b *builder) cloudMonitoring() error {
	a, cl := b.a, b.a.Cluster
	m := a.Monitoring.Args
	if note := m.NotifiesNobody(); note != "" {
		_ = b.ctx.Log.Warn(note, &pulumi.LogArgs{Resource: b.p})
	}
	m.Project, m.Prefix, m.Labels = cl.Project, cl.Name, cl.Labels
	w := monitoring.Watched{
		ClusterName: cl.Name, ClusterLocation: cl.Location(), Namespace: cl.Namespace,
		ControlPlane: b.work.cpArgs.Name, Gateway: b.work.gwArgs.Name, GatewayService: b.work.gwArgs.Name,
		GatewayPort: apim.PortGatewayHTTPS, MaxNodes: cl.ClusterArgs.MaxNodes(),
	}
	if *a.Ingress.Enabled {
		mgmt, gw := a.Hosts()
		https := a.Ingress.TLS != ingress.TLSNone
		// A self-signed certificate fails validation by design: checked, it would fail the
		// check; its expiry is the keystores' concern, not a public CA's.
		valid := a.Ingress.TLS == ingress.TLSManaged || a.Ingress.TLS == ingress.TLSSecret
		w.Hosts = []monitoring.Host{
			{Name: "gw", Host: gw, Path: "/", HTTPS: https, ValidateSSL: valid, AnyAnswer: true},
			{Name: "am", Host: mgmt, Path: apim.DevportalPath, HTTPS: https, ValidateSSL: valid},
		}
		if monitoring.PlaceholderDomain(mgmt) {
			_ = b.ctx.Log.Warn(fmt.Sprintf("apim.domain %s is a documentation domain: the uptime checks of %s and %s will fail until it is yours", a.APIM.Domain, mgmt, gw),
				&pulumi.LogArgs{Resource: b.p})
		}
	}
	if a.MySQL.Mode == MySQLCloudSQL {
		// The instance's generated name is <its Pulumi name>-<random suffix> (database.go).
		w.Database = monitoring.Database{CloudSQLInstancePrefix: b.child("sql") + "-", MaxConnections: a.MySQL.MaxConnections}
	} else {
		w.Database = monitoring.Database{StatefulSet: a.MySQL.Name, Container: mysql.ContainerName, Volume: mysql.DataVolume, MaxConnections: a.MySQL.MaxConnections}
	}
	if a.APIM.Keystores.ExistingSecret == "" {
		w.KeystoresExpire = b.p.KeystoresExpire
	}
	m.Watched = w
	_, err := monitoring.NewMonitoring(b.ctx, b.child("monitoring"), &m, b.parent, pulumi.Provider(b.gcp), b.afterAPIs())
	return err
}
