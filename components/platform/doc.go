// Package platform is the whole product as one component: a GKE cluster with its autoscaled
// node pool (or a cluster you already have), shared NFS storage, MySQL, WSO2 API Manager's
// control plane and autoscaled gateway, analytics, a sample backend, ingress and the sample
// API's publisher. Its Args are what a stack's config decodes into; every resource it makes
// is its descendant and named from its name, so two Platforms coexist in one program.
package platform
