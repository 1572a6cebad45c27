// Package rules is the project's policy: production invariants over a deployment's resources,
// written once and run by two runners. tests/policy runs them over the graph the mock harness
// records (`make test`); the policy pack in ../ (Pulumi CrossGuard's Go SDK, policyx) runs them
// over the real engine's resources on every preview and update. A runner fills Graph; a value
// the engine knows only once it applies the change is Unknown, and a rule that needs it says it
// cannot judge rather than pass or fail.
package rules
