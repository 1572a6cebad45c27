// Package gke provides a production-grade GKE Standard cluster: default node pool removed, one
// cluster-autoscaled node pool on a least-privilege service account, Workload Identity,
// shielded nodes, and a Kubernetes provider wired to the new cluster.
package gke
