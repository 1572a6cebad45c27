package monitoring

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The dashboard: one per Platform, in Cloud Monitoring's dashboard JSON (a mosaic of 48
// columns), reading the same metrics as the alert policies. Its filters name the cluster,
// namespace, hosts and database by what config knows, so it waits for nothing.

type dataSet = map[string]any

// series is a chart line from a Cloud Monitoring filter.
func series(f, aligner, reducer string, groupBy ...string) dataSet {
	agg := map[string]any{"alignmentPeriod": "60s", "perSeriesAligner": aligner}
	if reducer != "" {
		agg["crossSeriesReducer"] = reducer
		if len(groupBy) > 0 {
			agg["groupByFields"] = groupBy
		}
	}
	return dataSet{"plotType": "LINE", "targetAxis": "Y1",
		"timeSeriesQuery": map[string]any{"timeSeriesFilter": map[string]any{"filter": f, "aggregation": agg}}}
}

// prom is a chart line from a PromQL query.
func prom(query, legend string) dataSet {
	return dataSet{"plotType": "LINE", "targetAxis": "Y1", "legendTemplate": legend,
		"timeSeriesQuery": map[string]any{"prometheusQuery": query}}
}

// tile is one chart; thresholds are drawn as lines.
type tile struct {
	title      string
	data       []dataSet
	thresholds []float64
}

// tiles are the dashboard's charts, in reading order: traffic, capacity, the database, and
// what the vertical autoscaler recommends.
func (a Args) tiles() []tile {
	w, t := a.Watched, a.Alerts
	var out []tile
	if len(w.Hosts) > 0 {
		requests := filter(lbRequestCount, "https_lb_rule", w.gatewayBackend()...)
		ratio := dataSet{"plotType": "LINE", "targetAxis": "Y1", "timeSeriesQuery": map[string]any{"timeSeriesFilterRatio": map[string]any{
			"numerator":   map[string]any{"filter": requests + " AND metric.label.response_code_class = 500", "aggregation": map[string]any{"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_RATE", "crossSeriesReducer": "REDUCE_SUM"}},
			"denominator": map[string]any{"filter": requests, "aggregation": map[string]any{"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_RATE", "crossSeriesReducer": "REDUCE_SUM"}},
		}}}
		var hosts []string
		for _, h := range w.Hosts {
			hosts = append(hosts, fmt.Sprintf("%q", h.Host))
		}
		out = append(out,
			tile{title: "Gateway requests/s by response class", data: []dataSet{series(requests, "ALIGN_RATE", "REDUCE_SUM", "metric.label.response_code_class")}},
			tile{title: "Gateway 5xx ratio", data: []dataSet{ratio}, thresholds: []float64{float64(t.Gateway5xxPercent) / 100}},
			tile{title: "Gateway p95 latency (ms)", data: []dataSet{series(filter(lbTotalLatencies, "https_lb_rule", w.gatewayBackend()...), "ALIGN_DELTA", "REDUCE_PERCENTILE_95")},
				thresholds: []float64{float64(t.GatewayLatencyP95Ms)}},
			tile{title: "Uptime checks passed (share of locations)", data: []dataSet{series(
				filter(uptimePassed, "uptime_url", "resource.label.host = one_of("+strings.Join(hosts, ", ")+")"),
				"ALIGN_FRACTION_TRUE", "REDUCE_MEAN", "resource.label.host")}},
		)
	}
	hpa := w.ksm("horizontalpodautoscaler", w.Gateway)
	sts := w.ksm("statefulset", w.ControlPlane)
	out = append(out,
		tile{title: "Gateway replicas and HPA bounds", data: []dataSet{
			prom(promSelector(ksmHPACurrent, hpa), "current"), prom(promSelector(ksmHPAMin, hpa), "min"), prom(promSelector(ksmHPAMax, hpa), "max")}},
		tile{title: "Control plane nodes ready / wanted", data: []dataSet{
			prom(promSelector(ksmStatefulSetReady, sts), "ready"), prom(promSelector(ksmStatefulSetSpec, sts), "wanted")}},
		tile{title: "Nodes", data: []dataSet{series(filter(nodeTotalCores, "k8s_node", eq("resource.label.cluster_name", w.ClusterName)),
			"ALIGN_MEAN", "REDUCE_COUNT", "resource.label.cluster_name")}, thresholds: []float64{float64(w.MaxNodes)}},
		tile{title: "Container restarts", data: []dataSet{series(filter(containerRestarts, "k8s_container", w.k8s()...),
			"ALIGN_DELTA", "REDUCE_SUM", "resource.label.pod_name")}, thresholds: []float64{float64(t.ContainerRestarts)}},
		tile{title: "CPU used / requested, by container", data: []dataSet{series(filter(containerCPURequestUse, "k8s_container", w.k8s()...),
			"ALIGN_MEAN", "REDUCE_MAX", "resource.label.container_name")}},
		tile{title: "Memory used / limit, by container", data: []dataSet{series(filter(containerMemoryLimitUse, "k8s_container", w.k8s()...),
			"ALIGN_MEAN", "REDUCE_MAX", "resource.label.container_name")}},
	)
	db := w.Database
	if db.CloudSQLInstancePrefix != "" {
		instance := fmt.Sprintf("resource.label.database_id = starts_with(%q)", a.Project+":"+db.CloudSQLInstancePrefix)
		out = append(out,
			tile{title: "Cloud SQL CPU", data: []dataSet{series(filter(sqlCPU, "cloudsql_database", instance), "ALIGN_MEAN", "")},
				thresholds: []float64{float64(t.DatabaseCPUPercent) / 100}},
			tile{title: "Cloud SQL disk", data: []dataSet{series(filter(sqlDisk, "cloudsql_database", instance), "ALIGN_MEAN", "")},
				thresholds: []float64{float64(t.DatabaseDiskPercent) / 100}},
			tile{title: "Cloud SQL connections", data: []dataSet{series(filter(sqlConnections, "cloudsql_database", instance), "ALIGN_MEAN", "")},
				thresholds: []float64{float64(db.MaxConnections*t.DatabaseConnectionsPercent) / 100}},
		)
	} else {
		pod := fmt.Sprintf("resource.label.pod_name = starts_with(%q)", db.StatefulSet+"-")
		out = append(out,
			tile{title: "MySQL CPU / limit", data: []dataSet{series(filter(containerCPULimitUse, "k8s_container",
				append(w.k8s(), eq("resource.label.container_name", db.Container), pod)...), "ALIGN_MEAN", "")},
				thresholds: []float64{float64(t.DatabaseCPUPercent) / 100}},
			tile{title: "MySQL data volume used", data: []dataSet{series(filter(podVolumeUse, "k8s_pod",
				append(w.k8s(), eq("metric.label.volume_name", db.Volume), pod)...), "ALIGN_MEAN", "")},
				thresholds: []float64{float64(t.DatabaseDiskPercent) / 100}},
		)
	}
	vpa := []string{eq("resource.label.cluster_name", w.ClusterName), eq("resource.label.namespace_name", w.Namespace)}
	out = append(out,
		tile{title: "VPA recommended CPU request per replica (cores)", data: []dataSet{series(filter(vpaCPURecommendation, "k8s_scale", vpa...),
			"ALIGN_MAX", "REDUCE_MAX", "resource.label.controller_name")}},
		tile{title: "VPA recommended memory request per replica (bytes)", data: []dataSet{series(filter(vpaMemoryRecommendation, "k8s_scale", vpa...),
			"ALIGN_MAX", "REDUCE_MAX", "resource.label.controller_name")}},
	)
	return out
}

// DashboardJSON is the dashboard, two charts a row.
func (a Args) DashboardJSON() string {
	var tiles []map[string]any
	for i, t := range a.tiles() {
		chart := map[string]any{"dataSets": t.data, "yAxis": map[string]any{"scale": "LINEAR"}}
		if len(t.thresholds) > 0 {
			var th []map[string]any
			for _, v := range t.thresholds {
				th = append(th, map[string]any{"value": v, "targetAxis": "Y1"})
			}
			chart["thresholds"] = th
		}
		tiles = append(tiles, map[string]any{
			"xPos": (i % 2) * 24, "yPos": (i / 2) * 16, "width": 24, "height": 16,
			"widget": map[string]any{"title": t.title, "xyChart": chart},
		})
	}
	b, err := json.Marshal(map[string]any{
		"displayName":  a.displayName("WSO2 API Manager"),
		"mosaicLayout": map[string]any{"columns": 48, "tiles": tiles},
	})
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return string(b)
}
