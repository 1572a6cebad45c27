package monitoring

import (
	"fmt"
	"strconv"
	"time"

	gcpmonitoring "github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/monitoring"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// policy is one alert policy before it is registered: its conditions (fired on any), and the
// one-line runbook its notifications and docs/operate.md carry.
type policy struct {
	name, title, runbook string
	conditions           gcpmonitoring.AlertPolicyConditionArray
}

// Runbooks, by policy name: what to do when it fires. docs/operate.md's Monitoring and alerts section repeats
// them (a test holds the two together).
var Runbooks = map[string]string{
	"gateway-5xx": "The load balancer answers gateway requests with 5xx: check the gateway pods (kubectl -n NS get pods -l app.kubernetes.io/component=gateway), " +
		"their logs, and the backends the failing APIs call; a 502 with no pod ready is the load balancer finding no healthy backend.",
	"gateway-latency": "Gateway p95 latency is high: compare the load balancer's backend latency with the gateway's CPU on the dashboard; " +
		"if the gateway is at its HPA maximum raise gateway.maxReplicas, else look at the slow backends.",
	"uptime": "A public host fails its uptime check from several locations: check the Ingress's backends' health (kubectl -n NS describe ingress), " +
		"the pods behind it, and the DNS record of the host.",
	"certificate-expiry": "A public certificate expires soon: for ingress.tls managed check the ManagedCertificate's status (kubectl -n NS describe managedcertificate); " +
		"for ingress.tls secret renew the certificate in its Secret.",
	"keystores-expiry": "The keystores' certificates expire soon: rotate them, `pulumi config set --path apim.keystores.generation <n+1>` and `pulumi up` (docs/operate.md, Security).",
	"pods-not-ready": "A Deployment or StatefulSet has had fewer ready pods than it wants for too long: kubectl -n NS get pods, describe the pending or unready one " +
		"(scheduling, probes, the database wait), and read its logs.",
	"crash-looping":        "A container restarts again and again: kubectl -n NS logs --previous on it; for API Manager look for OutOfMemoryError (a heap dump is kept in the pod) or a database it cannot reach.",
	"hpa-at-max":           "The gateway's HPA has run at gateway.maxReplicas for a long time: raise gateway.maxReplicas (and nodePool.maxNodes if the pool is full), or find what drives the CPU.",
	"node-pool-at-max":     "The node pool is at its maximum size: pods that need a new node stay Pending; raise nodePool.maxNodes (or totalMaxNodes), or lower requests with the VPA's recommendations.",
	"database-cpu":         "The database's CPU is near its limit: look for slow queries (Cloud SQL Query insights) and raise mysql.cloudSql.tier (or mysql.resources in-cluster).",
	"database-disk":        "The database's disk is nearly full: Cloud SQL grows its disk by itself up to its limit, so check the limit and what grows (analytics, tokens); in-cluster, grow mysql.storageSize's claim.",
	"database-connections": "Open connections near mysql.maxConnections: new API Manager pods will fail to connect; check for a connection leak or raise mysql.maxConnections (and the tier's memory).",
}

func (a Args) displayName(title string) string { return a.Prefix + ": " + title }

func seconds(minutes int) string { return fmt.Sprintf("%ds", minutes*60) }

// threshold is a conditionThreshold condition.
func threshold(name string, f pulumi.StringInput, aggr gcpmonitoring.AlertPolicyConditionConditionThresholdAggregationArray,
	comparison string, value float64, minutes int) gcpmonitoring.AlertPolicyConditionArgs {
	return gcpmonitoring.AlertPolicyConditionArgs{
		DisplayName: pulumi.String(name),
		ConditionThreshold: &gcpmonitoring.AlertPolicyConditionConditionThresholdArgs{
			Filter:         f,
			Aggregations:   aggr,
			Comparison:     pulumi.String(comparison),
			ThresholdValue: pulumi.Float64(value),
			Duration:       pulumi.String(seconds(minutes)),
			Trigger:        &gcpmonitoring.AlertPolicyConditionConditionThresholdTriggerArgs{Count: pulumi.Int(1)},
		},
	}
}

func aggregate(period int, aligner, reducer string, groupBy ...string) gcpmonitoring.AlertPolicyConditionConditionThresholdAggregationArray {
	a := gcpmonitoring.AlertPolicyConditionConditionThresholdAggregationArgs{
		AlignmentPeriod:  pulumi.String(fmt.Sprintf("%ds", period)),
		PerSeriesAligner: pulumi.String(aligner),
	}
	if reducer != "" {
		a.CrossSeriesReducer = pulumi.String(reducer)
		a.GroupByFields = pulumi.ToStringArray(groupBy)
	}
	return gcpmonitoring.AlertPolicyConditionConditionThresholdAggregationArray{a}
}

// promql is a PromQL condition: it fires while the query returns a series, for minutes.
func promql(name string, query pulumi.StringInput, minutes int) gcpmonitoring.AlertPolicyConditionArgs {
	return gcpmonitoring.AlertPolicyConditionArgs{
		DisplayName: pulumi.String(name),
		ConditionPrometheusQueryLanguage: &gcpmonitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs{
			Query:              query,
			Duration:           pulumi.String(seconds(minutes)),
			EvaluationInterval: pulumi.String("60s"),
		},
	}
}

// gatewayBackend is the filter clauses of the gateway's load balancer backend: its network
// endpoint groups.
func (w Watched) gatewayBackend() []string {
	return []string{
		eq("resource.label.backend_type", "NETWORK_ENDPOINT_GROUP"),
		fmt.Sprintf("resource.label.backend_name = monitoring.regex.full_match(%q)", NEGNamePattern(w.Namespace, w.GatewayService, w.GatewayPort)),
	}
}

// k8s is the filter clauses of the cluster's namespace, for k8s_container and k8s_pod.
func (w Watched) k8s() []string {
	return []string{eq("resource.label.cluster_name", w.ClusterName), eq("resource.label.namespace_name", w.Namespace)}
}

// ksm is the PromQL labels of the namespace's kube state metrics.
func (w Watched) ksm(extra ...string) map[string]string {
	l := map[string]string{"cluster": w.ClusterName, "namespace": w.Namespace}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// policies are every alert policy of the args. checks are the uptime checks' ids by host
// name.
func (a Args) policies(checks map[string]pulumi.StringOutput) []policy {
	w, t := a.Watched, a.Alerts
	var out []policy
	add := func(name, title string, conds ...gcpmonitoring.AlertPolicyConditionInput) {
		out = append(out, policy{name: name, title: title, runbook: Runbooks[name], conditions: conds})
	}

	if len(w.Hosts) > 0 {
		requests := filter(lbRequestCount, "https_lb_rule", w.gatewayBackend()...)
		errors := gcpmonitoring.AlertPolicyConditionArgs{
			DisplayName: pulumi.Sprintf("More than %d%% of gateway requests answered 5xx", t.Gateway5xxPercent),
			ConditionThreshold: &gcpmonitoring.AlertPolicyConditionConditionThresholdArgs{
				Filter:                  pulumi.String(requests + " AND metric.label.response_code_class = 500"),
				Aggregations:            aggregate(300, "ALIGN_RATE", "REDUCE_SUM"),
				DenominatorFilter:       pulumi.String(requests),
				DenominatorAggregations: gcpmonitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArray{gcpmonitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArgs{AlignmentPeriod: pulumi.String("300s"), PerSeriesAligner: pulumi.String("ALIGN_RATE"), CrossSeriesReducer: pulumi.String("REDUCE_SUM")}},
				Comparison:              pulumi.String("COMPARISON_GT"),
				ThresholdValue:          pulumi.Float64(float64(t.Gateway5xxPercent) / 100),
				Duration:                pulumi.String("300s"),
				Trigger:                 &gcpmonitoring.AlertPolicyConditionConditionThresholdTriggerArgs{Count: pulumi.Int(1)},
			},
		}
		add("gateway-5xx", "gateway 5xx ratio", errors)
		add("gateway-latency", "gateway p95 latency", threshold(fmt.Sprintf("Gateway p95 latency above %d ms", t.GatewayLatencyP95Ms),
			pulumi.String(filter(lbTotalLatencies, "https_lb_rule", w.gatewayBackend()...)),
			aggregate(300, "ALIGN_DELTA", "REDUCE_PERCENTILE_95"), "COMPARISON_GT", float64(t.GatewayLatencyP95Ms), 5))

		var up, certs gcpmonitoring.AlertPolicyConditionArray
		for _, h := range w.Hosts {
			id := checks[h.Name]
			// Google's own uptime alert: the newest result of each location in a 20-minute
			// window, counted where it failed; more than one failing location is an outage,
			// one alone a location's trouble.
			up = append(up, threshold(fmt.Sprintf("%s fails from more than one location", h.Host),
				pulumi.Sprintf("%s AND metric.label.check_id = %q", filter(uptimePassed, "uptime_url"), id),
				aggregate(1200, "ALIGN_NEXT_OLDER", "REDUCE_COUNT_FALSE", "resource.label.host"), "COMPARISON_GT", 1, t.UptimeFailedMinutes))
			if h.HTTPS && h.ValidateSSL {
				certs = append(certs, threshold(fmt.Sprintf("%s's certificate expires within %d days", h.Host, t.CertificateExpiryDays),
					pulumi.Sprintf("%s AND metric.label.check_id = %q", filter(uptimeCertExpires, "uptime_url"), id),
					aggregate(1200, "ALIGN_NEXT_OLDER", "REDUCE_MIN", "resource.label.host"), "COMPARISON_LT", float64(t.CertificateExpiryDays), 10))
			}
		}
		add("uptime", "uptime checks", up...)
		if len(certs) > 0 {
			add("certificate-expiry", "public certificates near expiry", certs...)
		}
	}

	if w.KeystoresExpire != nil {
		// Cloud Monitoring has no metric of a date: the query compares the time with the
		// expiry less the notice, attached to the server container's uptime so that it
		// yields a series (and fires) only while API Manager runs with these keys.
		uptime := promSelector(PromQLName(containerUptime), map[string]string{"monitored_resource": "k8s_container",
			"cluster_name": w.ClusterName, "namespace_name": w.Namespace, "container_name": "wso2am"})
		days := t.CertificateExpiryDays
		query := w.KeystoresExpire.ToStringOutput().ApplyT(func(v string) string {
			at := "+Inf" // not generated yet: nothing to compare until the first up stores them
			if expires, err := time.Parse(time.RFC3339, v); err == nil {
				at = strconv.FormatInt(expires.Add(-time.Duration(days)*24*time.Hour).Unix(), 10)
			}
			return fmt.Sprintf("max(%s) * 0 + time() > %s", uptime, at)
		}).(pulumi.StringOutput)
		add("keystores-expiry", "keystores near expiry", promql(fmt.Sprintf("The keystores' certificates expire within %d days", days), query, 60))
	}

	notReady := fmt.Sprintf("(%s > %s) or (%s > %s)",
		promSelector(ksmDeploymentSpec, w.ksm()), promSelector(ksmDeploymentAvailable, w.ksm()),
		promSelector(ksmStatefulSetSpec, w.ksm()), promSelector(ksmStatefulSetReady, w.ksm()))
	add("pods-not-ready", "pods not ready", promql(fmt.Sprintf("Fewer ready pods than wanted for %d minutes", t.PodsNotReadyMinutes),
		pulumi.String(notReady), t.PodsNotReadyMinutes))
	add("crash-looping", "containers crash-looping", threshold(fmt.Sprintf("More than %d restarts of a container in 30 minutes", t.ContainerRestarts),
		pulumi.String(filter(containerRestarts, "k8s_container", w.k8s()...)),
		aggregate(1800, "ALIGN_DELTA", "REDUCE_SUM", "resource.label.pod_name", "resource.label.container_name"), "COMPARISON_GT", float64(t.ContainerRestarts), 0))
	hpa := w.ksm("horizontalpodautoscaler", w.Gateway)
	add("hpa-at-max", "gateway HPA at its maximum", promql(fmt.Sprintf("The gateway's HPA at maxReplicas for %d minutes", t.HPAAtMaxMinutes),
		pulumi.String(fmt.Sprintf("%s >= %s", promSelector(ksmHPACurrent, hpa), promSelector(ksmHPAMax, hpa))), t.HPAAtMaxMinutes))
	add("node-pool-at-max", "node pool at its maximum", threshold(fmt.Sprintf("%d nodes, the pool's maximum, for %d minutes", w.MaxNodes, t.NodePoolAtMaxMinutes),
		pulumi.String(filter(nodeTotalCores, "k8s_node", eq("resource.label.cluster_name", w.ClusterName))),
		aggregate(300, "ALIGN_MEAN", "REDUCE_COUNT", "resource.label.cluster_name"), "COMPARISON_GT", float64(w.MaxNodes)-1, t.NodePoolAtMaxMinutes))

	out = append(out, a.databasePolicies()...)
	return out
}

// databasePolicies watch Cloud SQL through its own metrics, or the in-cluster server through
// its container's and volume's: MySQL itself exports nothing to Cloud Monitoring.
func (a Args) databasePolicies() []policy {
	w, t, db := a.Watched, a.Alerts, a.Watched.Database
	var out []policy
	add := func(name, title string, c gcpmonitoring.AlertPolicyConditionArgs) {
		out = append(out, policy{name: name, title: title, runbook: Runbooks[name], conditions: gcpmonitoring.AlertPolicyConditionArray{c}})
	}
	cpu := fmt.Sprintf("Database CPU above %d%% for 10 minutes", t.DatabaseCPUPercent)
	disk := fmt.Sprintf("Database disk above %d%%", t.DatabaseDiskPercent)
	if db.CloudSQLInstancePrefix != "" {
		// By the name's prefix: the instance's generated name is known only once it exists,
		// and the policies must not wait the instance's minutes of creation for it.
		instance := fmt.Sprintf("resource.label.database_id = starts_with(%q)", a.Project+":"+db.CloudSQLInstancePrefix)
		add("database-cpu", "database CPU", threshold(cpu, pulumi.String(filter(sqlCPU, "cloudsql_database", instance)),
			aggregate(300, "ALIGN_MEAN", ""), "COMPARISON_GT", float64(t.DatabaseCPUPercent)/100, 10))
		add("database-disk", "database disk", threshold(disk, pulumi.String(filter(sqlDisk, "cloudsql_database", instance)),
			aggregate(300, "ALIGN_MEAN", ""), "COMPARISON_GT", float64(t.DatabaseDiskPercent)/100, 5))
		add("database-connections", "database connections", threshold(
			fmt.Sprintf("More than %d%% of %d connections open for 10 minutes", t.DatabaseConnectionsPercent, db.MaxConnections),
			pulumi.String(filter(sqlConnections, "cloudsql_database", instance)),
			aggregate(300, "ALIGN_MEAN", ""), "COMPARISON_GT", float64(db.MaxConnections*t.DatabaseConnectionsPercent)/100, 10))
		return out
	}
	pod := fmt.Sprintf("resource.label.pod_name = starts_with(%q)", db.StatefulSet+"-")
	add("database-cpu", "database CPU", threshold(cpu,
		pulumi.String(filter(containerCPULimitUse, "k8s_container", append(w.k8s(), eq("resource.label.container_name", db.Container), pod)...)),
		aggregate(300, "ALIGN_MEAN", ""), "COMPARISON_GT", float64(t.DatabaseCPUPercent)/100, 10))
	add("database-disk", "database disk", threshold(disk,
		pulumi.String(filter(podVolumeUse, "k8s_pod", append(w.k8s(), eq("metric.label.volume_name", db.Volume), pod)...)),
		aggregate(300, "ALIGN_MEAN", ""), "COMPARISON_GT", float64(t.DatabaseDiskPercent)/100, 5))
	return out
}
