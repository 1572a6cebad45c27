// Package policy runs the project's rules (package policy/rules) over the resource graph the
// mock harness records: one of the rule set's two runners, the one `make test` runs on every
// stack and fixture. The other is the policy pack in policy/, which runs the same rules under
// Pulumi CrossGuard (its Go SDK, policyx) over the real engine's resources at preview.
package policy
