// Package apim provides WSO2 API Manager 4.x on Kubernetes as two components: the control
// plane (the all-in-one server acting as publisher, devportal, key manager and traffic
// manager) and the universal gateway, the stateless workload that takes API traffic and that a
// HorizontalPodAutoscaler scales. deployment.toml is rendered from typed args.
package apim
