// Package validate collects configuration problems. Every component checks its own args with
// it, so a rule lives in one place and a message always reads "<key>: <bad value>; <what is
// valid>", whether the args came from a stack's config or from another Go program.
package validate
