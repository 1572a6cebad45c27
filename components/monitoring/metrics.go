package monitoring

import (
	"fmt"
	"sort"
	"strings"
)

// The metric types the policies and the dashboard read. tests/testdata/gcp/metric-types.txt
// holds the types Google documents, with their sources; a test holds every type rendered in a
// filter, a PromQL query or the dashboard to that list.
const (
	// The external Application Load Balancer behind GKE's Ingress (resource https_lb_rule).
	lbRequestCount   = "loadbalancing.googleapis.com/https/request_count"
	lbTotalLatencies = "loadbalancing.googleapis.com/https/total_latencies"

	// GKE system metrics.
	containerRestarts       = "kubernetes.io/container/restart_count"
	containerUptime         = "kubernetes.io/container/uptime"
	containerCPULimitUse    = "kubernetes.io/container/cpu/limit_utilization"
	containerCPURequestUse  = "kubernetes.io/container/cpu/request_utilization"
	containerMemoryLimitUse = "kubernetes.io/container/memory/limit_utilization"
	nodeTotalCores          = "kubernetes.io/node/cpu/total_cores"
	podVolumeUse            = "kubernetes.io/pod/volume/utilization"
	// What the vertical Pod autoscaler recommends, per replica, for each container of a
	// workload a VerticalPodAutoscaler targets.
	vpaCPURecommendation    = "kubernetes.io/autoscaler/container/cpu/per_replica_recommended_request_cores"
	vpaMemoryRecommendation = "kubernetes.io/autoscaler/container/memory/per_replica_recommended_request_bytes"

	// Cloud SQL (resource cloudsql_database).
	sqlCPU         = "cloudsql.googleapis.com/database/cpu/utilization"
	sqlDisk        = "cloudsql.googleapis.com/database/disk/utilization"
	sqlConnections = "cloudsql.googleapis.com/database/network/connections"

	// Uptime checks (resource uptime_url).
	uptimePassed      = "monitoring.googleapis.com/uptime_check/check_passed"
	uptimeCertExpires = "monitoring.googleapis.com/uptime_check/time_until_ssl_cert_expires"
)

// GKE's kube state metrics, by their PromQL names; in Cloud Monitoring filters they are
// prometheus.googleapis.com/<name>/gauge (KubeStateMetric).
const (
	ksmDeploymentSpec      = "kube_deployment_spec_replicas"
	ksmDeploymentAvailable = "kube_deployment_status_replicas_available"
	ksmStatefulSetSpec     = "kube_statefulset_replicas"
	ksmStatefulSetReady    = "kube_statefulset_status_replicas_ready"
	ksmHPACurrent          = "kube_horizontalpodautoscaler_status_current_replicas"
	ksmHPAMin              = "kube_horizontalpodautoscaler_spec_min_replicas"
	ksmHPAMax              = "kube_horizontalpodautoscaler_spec_max_replicas"
)

// KubeStateMetric is the Cloud Monitoring type of one of GKE's kube state metrics: Managed
// Service for Prometheus writes a gauge named n as prometheus.googleapis.com/<n>/gauge.
func KubeStateMetric(name string) string { return "prometheus.googleapis.com/" + name + "/gauge" }

// PromQLName is the name a Cloud Monitoring metric type has in PromQL: the first "/" becomes
// ":", and every other "/" and "." becomes "_" (Google's "Mapping Cloud Monitoring metrics
// to PromQL"), e.g. kubernetes_io:container_uptime.
func PromQLName(metricType string) string {
	domain, path, _ := strings.Cut(metricType, "/")
	r := strings.NewReplacer(".", "_", "/", "_")
	return r.Replace(domain) + ":" + r.Replace(path)
}

// filter joins Cloud Monitoring filter clauses, each "field = value" with the value quoted
// unless it is a number or a function.
func filter(metricType, resourceType string, clauses ...string) string {
	parts := []string{fmt.Sprintf("metric.type = %q", metricType), fmt.Sprintf("resource.type = %q", resourceType)}
	return strings.Join(append(parts, clauses...), " AND ")
}

// eq is one label clause.
func eq(field, value string) string { return fmt.Sprintf("%s = %q", field, value) }

// promSelector is a PromQL selector of a metric with its labels, in order.
func promSelector(metric string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}
