// Package sdktest type-checks the package's TypeScript SDK (ts_test.go); it has no code.
package sdktest
