package gke

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LoggingComponents are the cluster's log sources sent to Cloud Logging: GKE's system
// components and every workload's stdout and stderr (API Manager's console log among them).
var LoggingComponents = []string{"SYSTEM_COMPONENTS", "WORKLOADS"}

// MonitoringComponents are the cluster's metric sources sent to Cloud Monitoring: the system
// metrics (kubernetes.io/...), which every alert on pods, nodes and volumes reads, and GKE's
// kube state metrics packages (prometheus.googleapis.com/kube_...: Pods, Deployments,
// StatefulSets, DaemonSets, HorizontalPodAutoscalers and storage), which the alerts on
// readiness and on the HPA read. GKE's page "Collect and view kube state metrics" lists them
// and the names they are written under.
var MonitoringComponents = []string{"SYSTEM_COMPONENTS", "STORAGE", "HPA", "POD", "DAEMONSET", "DEPLOYMENT", "STATEFULSET"}

// observability is the cluster's logging and monitoring: the components above, Google Cloud
// Managed Service for Prometheus' managed collection (its collector scrapes the PodMonitoring
// objects' pods; the kube state metrics need it too), and vertical Pod autoscaling, whose
// recommender fills VerticalPodAutoscaler objects with recommendations. All three are GKE's
// defaults for new clusters on recent versions; stating them keeps a console change from
// switching them off unnoticed, and the plan shows them.
func observability(ca *container.ClusterArgs) {
	ca.LoggingConfig = &container.ClusterLoggingConfigArgs{EnableComponents: pulumi.ToStringArray(LoggingComponents)}
	ca.MonitoringConfig = &container.ClusterMonitoringConfigArgs{
		EnableComponents:  pulumi.ToStringArray(MonitoringComponents),
		ManagedPrometheus: &container.ClusterMonitoringConfigManagedPrometheusArgs{Enabled: pulumi.Bool(true)},
	}
	ca.VerticalPodAutoscaling = &container.ClusterVerticalPodAutoscalingArgs{Enabled: pulumi.Bool(true)}
}
