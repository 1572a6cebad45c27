// Package network provides a VPC-native Google Cloud network for a GKE cluster: a custom-mode
// VPC, one subnetwork with secondary ranges for pods and services, and optional Cloud NAT so
// private nodes can still pull public images.
package network
