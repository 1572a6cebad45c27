// Package apis enables the Google Cloud service APIs a deployment uses (compute, container,
// iam, ...), so that the first `pulumi up` on a fresh project does not fail with "API not
// enabled". Resources that call an API depend on this component.
package apis
