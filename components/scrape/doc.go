// Package scrape tells a Prometheus collector which pods to scrape and on which port:
// PodMonitoring objects for Google Cloud Managed Service for Prometheus on GKE, PodMonitor
// objects for the Prometheus Operator on other clusters.
package scrape
