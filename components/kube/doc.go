// Package kube holds what every Kubernetes workload component here shares: resource and label
// types, the restricted security context, probes that work on images without netcat, and the
// config checksum that rolls pods when their configuration changes.
package kube
