package analytics

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// MetricsLog is the file API Manager's ELK reporter writes (log4j2 APIM_METRICS_APPENDER),
// relative to the server's logs directory.
const MetricsLog = "apim_metrics.log"

// ShipperLogsDir is where the sidecar mounts the gateway's logs volume.
const ShipperLogsDir = "/logs"

// shipperHealthPort is Fluent Bit's built-in HTTP server, used for its probes.
const shipperHealthPort = 2020

// ShipperConfig is Fluent Bit's configuration: tail the metrics log the gateway writes in
// logsDir, keep the JSON after "properties :" and send each event to the index of its type.
// The password comes from the environment, never from this file.
func ShipperConfig(logsDir, host string, port int) string {
	return fmt.Sprintf(`[SERVICE]
    Flush             5
    Parsers_File      /fluent-bit/etc/conf/parsers.conf
    HTTP_Server       On
    HTTP_Listen       0.0.0.0
    HTTP_Port         %[4]d
    Health_Check      On

[INPUT]
    Name              tail
    Path              %[1]s/%[5]s
    Tag               apim.metrics
    DB                /state/tail.db
    Refresh_Interval  5
    Skip_Long_Lines   On

[FILTER]
    Name              parser
    Match             apim.metrics
    Key_Name          log
    Parser            apim_metrics

[FILTER]
    Name              parser
    Match             apim.metrics
    Key_Name          properties
    Parser            json
    Reserve_Data      On

[FILTER]
    Name              rewrite_tag
    Match             apim.metrics
    Rule              $event_type ^apim:faulty$ apim.faulty false

[OUTPUT]
    Name              opensearch
    Match             apim.metrics
    Host              %[2]s
    Port              %[3]d
    Index             %[6]s
    HTTP_User         admin
    HTTP_Passwd       ${OPENSEARCH_PASSWORD}
    tls               On
    tls.verify        Off
    Suppress_Type_Name On
    Retry_Limit       False

[OUTPUT]
    Name              opensearch
    Match             apim.faulty
    Host              %[2]s
    Port              %[3]d
    Index             %[7]s
    HTTP_User         admin
    HTTP_Passwd       ${OPENSEARCH_PASSWORD}
    tls               On
    tls.verify        Off
    Suppress_Type_Name On
    Retry_Limit       False
`, logsDir, host, port, shipperHealthPort, MetricsLog, IndexResponse, IndexFaulty)
}

// shipperParsers: the reporter logs "... apimMetrics: apim:response, properties :{...}".
const shipperParsers = `[PARSER]
    Name        apim_metrics
    Format      regex
    Regex       apimMetrics: (?<event_type>apim:[a-z_]+), properties :(?<properties>\{.*\})$

[PARSER]
    Name        json
    Format      json
`

// ShipperResources are what the shipper sidecar requests and may use.
var ShipperResources = kube.Resources{Requests: kube.Compute{CPU: "50m", Memory: "64Mi", EphemeralStorage: "32Mi"},
	Limits: kube.Compute{CPU: "500m", Memory: "256Mi", EphemeralStorage: "256Mi"}}

// ShipperSidecar is the Fluent Bit container a gateway pod runs beside API Manager. It reads
// the logs volume the gateway writes (see apim.Workload.LogsVolume) at ShipperLogsDir.
// ShipperSidecar ships the gateway's analytics log; it stops after the gateway does
// (preStopSeconds: the gateway's preStop plus a few seconds), so the events of its last
// requests are shipped too.
func ShipperSidecar(a *Analytics, logsVolume string, preStopSeconds int) corev1.ContainerArgs {
	// Ready when Fluent Bit reports its pipeline healthy (no failing outputs); alive while its
	// HTTP server answers at all.
	health := &corev1.HTTPGetActionArgs{Path: pulumi.String("/api/v1/health"), Port: pulumi.Int(shipperHealthPort)}
	alive := &corev1.HTTPGetActionArgs{Path: pulumi.String("/"), Port: pulumi.Int(shipperHealthPort)}
	return corev1.ContainerArgs{
		Name:  pulumi.String("analytics-shipper"),
		Image: pulumi.String(a.ShipperImage),
		Args:  pulumi.StringArray{pulumi.String("-c"), pulumi.String("/fluent-bit/etc/conf/fluent-bit.conf")},
		Env: corev1.EnvVarArray{
			kube.SecretEnv("OPENSEARCH_PASSWORD", kube.SecretRef{Name: a.Credentials.Name, Key: a.Credentials.Key}),
		},
		SecurityContext: kube.ContainerSecurity(10001, true),
		Resources:       ShipperResources.Args(),
		ReadinessProbe:  &corev1.ProbeArgs{HttpGet: health, PeriodSeconds: pulumi.Int(10)},
		LivenessProbe:   &corev1.ProbeArgs{HttpGet: alive, PeriodSeconds: pulumi.Int(20)},
		// Fluent Bit's image has no shell: the kubelet's own sleep.
		Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
			Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(preStopSeconds)}}},
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String(logsVolume), MountPath: pulumi.String(ShipperLogsDir), ReadOnly: pulumi.Bool(true)},
			corev1.VolumeMountArgs{Name: pulumi.String("shipper-conf"), MountPath: pulumi.String("/fluent-bit/etc/conf"), ReadOnly: pulumi.Bool(true)},
			corev1.VolumeMountArgs{Name: pulumi.String("shipper-state"), MountPath: pulumi.String("/state")},
		},
	}
}

// ShipperVolumes are the volumes ShipperSidecar mounts besides the logs volume.
func ShipperVolumes(a *Analytics) []corev1.VolumeArgs {
	return []corev1.VolumeArgs{
		corev1.VolumeArgs{Name: pulumi.String("shipper-conf"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(a.ShipperConfigMap)}},
		corev1.VolumeArgs{Name: pulumi.String("shipper-state"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")}},
	}
}
