// Package policy holds production invariants over a recorded resource graph, the Go stand-in
// for Pulumi CrossGuard (which has no Go SDK). Each Rule names the resource it finds at fault.
package policy
