// Package harness runs the stack program (or any Pulumi Go program) under the SDK's mocks with
// a stack's real config files, and records every registered resource (type, name, parent,
// provider, dependencies, options, inputs) as a graph that tests can query.
package harness
