// Package publisher runs publish.py as a Kubernetes Job that publishes the sample API to API
// Manager once the control plane is ready, idempotently. Changing any input replaces the Job,
// which runs it again.
package publisher
