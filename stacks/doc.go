// Package stacks is the whole Pulumi program: it reads and validates the stack's typed config,
// then composes the components into GKE (or an existing cluster), shared storage, MySQL, API
// Manager and its gateway. Program is what main.go runs and what tests run under mocks.
package stacks
