// Package e2e runs the local stack through the real Pulumi engine and Kubernetes provider
// against a real kube-apiserver with a simulated node (see env/). Build tag e2e; run it with
// `make e2e`, which builds the tools, starts the control plane and cleans up.
package e2e
