// Package analytics provides API Manager 4.x analytics kept inside your cloud: an OpenSearch
// cluster with its security plugin, OpenSearch Dashboards, and a Fluent Bit log shipper that
// gateways run as a sidecar to carry their analytics log (apim_metrics.log) into the
// apim_event_response and apim_event_faulty indices, as WSO2's ELK/OpenSearch guide lays out.
package analytics
