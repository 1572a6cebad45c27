// Package platform is the Platform as a component of the package: the Go API's
// platform.NewPlatform behind the schema's wso2apim:platform:Platform, with the same inputs
// (args_gen.go, generated from platform.Args) and outputs.
package platform

//go:generate go run ../internal/argsgen/gen args_gen.go
