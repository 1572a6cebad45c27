// Command gen rewrites the package's input types: go run ./internal/argsgen/gen platform/args_gen.go
package main

import (
	"fmt"
	"os"

	"github.com/wso2-k8s/apim-gke/cmd/pulumi-resource-wso2apim/internal/argsgen"
)

func main() {
	src, err := argsgen.Generate()
	if err == nil {
		err = os.WriteFile(os.Args[1], src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
