// Package secrets generates secret values that a user did not set, once, and keeps them: each
// value lives in a Kubernetes Secret whose data Pulumi ignores after creation, so later runs
// (which generate new candidates) change nothing, and the value is read back from the Secret's
// state as a Pulumi secret output.
package secrets
