package scrape

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Collectors.
const (
	// ManagedPrometheus is GKE's managed collection: PodMonitoring (monitoring.googleapis.com/v1),
	// scraped by the collector DaemonSet in gmp-system.
	ManagedPrometheus = "managed-prometheus"
	// PrometheusOperator is the Prometheus Operator's PodMonitor (monitoring.coreos.com/v1).
	PrometheusOperator = "prometheus-operator"
)

// ManagedCollector is who scrapes for GKE's managed collection: the collector pods of
// gmp-system (GoogleCloudPlatform/prometheus-engine, manifests/operator.yaml: DaemonSet
// collector, label app.kubernetes.io/name: collector, not on the host network).
var ManagedCollector = kube.Peer{
	Namespaces: map[string]string{"kubernetes.io/metadata.name": "gmp-system"},
	Pods:       map[string]string{"app.kubernetes.io/name": "collector"},
}

// PrometheusOperatorArgs is the `monitoring.prometheusOperator` config key: PodMonitors for a
// Prometheus Operator the cluster already runs.
type PrometheusOperatorArgs struct {
	// Enabled creates the PodMonitors and runs the pods' metrics agents. Needs the
	// operator's CRDs in the cluster (the apply fails without them). Defaults to false.
	Enabled bool `json:"enabled"`
	// Namespace is where Prometheus runs: its pods alone may reach the metrics ports.
	// Defaults to monitoring.
	Namespace string `json:"namespace"`
	// PodLabels select the Prometheus pods there. Defaults to
	// {app.kubernetes.io/name: prometheus}, the label the operator puts on them.
	PodLabels map[string]string `json:"podLabels"`
	// MonitorLabels are put on the PodMonitors, for a Prometheus whose podMonitorSelector
	// wants them (kube-prometheus-stack's wants release: <its release>). Defaults to none.
	MonitorLabels map[string]string `json:"monitorLabels"`
}

// WithDefaults fills in the namespace and pod labels.
func (p PrometheusOperatorArgs) WithDefaults() PrometheusOperatorArgs {
	if p.Namespace == "" {
		p.Namespace = "monitoring"
	}
	if p.PodLabels == nil {
		p.PodLabels = map[string]string{"app.kubernetes.io/name": "prometheus"}
	}
	return p
}

// Validate checks defaulted settings; key prefixes every message.
func (p PrometheusOperatorArgs) Validate(key string) validate.Problems {
	var v validate.Problems
	v.Matches(validate.Key(key, "namespace"), p.Namespace, validate.DNSLabelRe, "a namespace name (a DNS label)")
	if len(p.PodLabels) == 0 {
		v.Addf(validate.Key(key, "podLabels"), "empty; want the labels of the Prometheus pods, or remove the setting for app.kubernetes.io/name: prometheus")
	}
	// Selectors and the operator's own labels may use any prefix (app.kubernetes.io among
	// them), unlike the labels the program puts on nodes: only the syntax is checked.
	for _, field := range []string{"podLabels", "monitorLabels"} {
		labels := map[string]map[string]string{"podLabels": p.PodLabels, "monitorLabels": p.MonitorLabels}[field]
		for _, k := range kube.SortedKeys(labels) {
			if !labelKeyRe.MatchString(k) || !labelValueRe.MatchString(labels[k]) {
				v.Addf(validate.Key(key, field+"."+k), "%q is not valid; want a Kubernetes label: a key such as app.kubernetes.io/name and a value of at most 63 letters, digits, '-', '_' or '.'", labels[k])
			}
		}
	}
	return v
}

var (
	labelKeyRe   = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValueRe = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
)

// Scraper is who may reach the metrics ports.
func (p PrometheusOperatorArgs) Scraper() kube.Peer {
	return kube.Peer{Namespaces: map[string]string{"kubernetes.io/metadata.name": p.Namespace}, Pods: p.PodLabels}
}

// Target is one workload's pods and the port they serve metrics on.
type Target struct {
	// Name names the object (the workload's name).
	Name string
	// Selector selects the workload's pods.
	Selector map[string]string
	// Port is the container port's name; Path the metrics path.
	Port, Path string
}

// Args configures the objects.
type Args struct {
	// Collector is ManagedPrometheus or PrometheusOperator. Required.
	Collector string
	// Namespace of the workloads (and of the objects, which select pods of their own
	// namespace). Required.
	Namespace pulumi.StringInput
	// Targets are the workloads that serve metrics.
	Targets []Target
	// MonitorLabels are added to each object's labels (PrometheusOperator).
	MonitorLabels map[string]string
	// Interval between scrapes. Defaults to 30s.
	Interval string
}

// Scrape is the component's public face.
type Scrape struct {
	pulumi.ResourceState
}

// Kind is the object's apiVersion and kind for a collector, and the field of its endpoints.
func Kind(collector string) (apiVersion, kind, endpoints string) {
	if collector == PrometheusOperator {
		return "monitoring.coreos.com/v1", "PodMonitor", "podMetricsEndpoints"
	}
	return "monitoring.googleapis.com/v1", "PodMonitoring", "endpoints"
}

// NewScrape creates one object per target. Pass the Kubernetes provider in opts.
func NewScrape(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Scrape, error) {
	if args == nil || args.Namespace == nil {
		return nil, fmt.Errorf("scrape %q: Namespace is required", name)
	}
	a := *args
	if a.Collector != ManagedPrometheus && a.Collector != PrometheusOperator {
		return nil, fmt.Errorf("scrape %q: Collector %q is not valid; want %s or %s", name, a.Collector, ManagedPrometheus, PrometheusOperator)
	}
	if a.Interval == "" {
		a.Interval = "30s"
	}
	s := &Scrape{}
	if err := ctx.RegisterComponentResource("wso2apim:scrape:Scrape", name, s, opts...); err != nil {
		return nil, err
	}
	apiVersion, kind, endpoints := Kind(a.Collector)
	for _, t := range a.Targets {
		if _, err := apiextensions.NewCustomResource(ctx, name+"-"+t.Name, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String(apiVersion),
			Kind:       pulumi.String(kind),
			Metadata:   kube.Meta(t.Name, a.Namespace, kube.Labels(t.Name, "metrics", "", a.MonitorLabels)),
			OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
				"selector": map[string]any{"matchLabels": t.Selector},
				endpoints:  []map[string]any{{"port": t.Port, "path": t.Path, "interval": a.Interval}},
			}},
		}, pulumi.Parent(s)); err != nil {
			return nil, err
		}
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{})
}
