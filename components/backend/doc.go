// Package backend provides the sample backend API Manager fronts: the 2019 article's "hello
// Kubernetes" service, as a Deployment and a Service on port 9090.
package backend
