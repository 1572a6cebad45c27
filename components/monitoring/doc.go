// Package monitoring is the Cloud Monitoring side of a Platform on GKE: alert policies with
// thresholds from config, uptime checks on the public hosts, email notification channels and
// one dashboard, all reading metrics Google documents (tests/testdata/gcp/metric-types.txt).
package monitoring
