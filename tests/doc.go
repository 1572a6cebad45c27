// Package tests holds the whole-program tests: each stack's real config run through
// stacks.Program under mocks, with assertions on the recorded resource graph.
package tests
