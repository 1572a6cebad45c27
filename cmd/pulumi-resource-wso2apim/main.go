// Command pulumi-resource-wso2apim is the Platform as a Pulumi component package, for every
// Pulumi language: `pulumi package add github.com/wso2-k8s/apim-gke/cmd/pulumi-resource-wso2apim@<tag>`
// (README, "Use it from TypeScript, Python or YAML").
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/wso2-k8s/apim-gke/cmd/pulumi-resource-wso2apim/platform"
)

// Version is the package's, the Go module's and the policy pack's (CHANGELOG.md).
const Version = "0.1.0"

func provider() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithNamespace("wso2-k8s").
		WithDisplayName("WSO2 API Manager on Kubernetes").
		WithDescription("WSO2 API Manager 4.x on production-grade Kubernetes (GKE or an existing cluster), as one component.").
		WithRepository("https://github.com/wso2-k8s/apim-gke").
		// Go programs use the Go API (github.com/wso2-k8s/apim-gke/components/platform); this is
		// only the module name a generated Go SDK would take.
		WithGoImportPath("github.com/wso2-k8s/apim-gke/sdk/go/wso2apim").
		WithKeywords("wso2", "api-manager", "kubernetes", "gke", "category/infrastructure", "kind/component").
		WithComponents(infer.Component(&platform.Component{})).
		Build()
}

func main() {
	prov, err := provider()
	if err == nil {
		err = p.RunProvider(context.Background(), "wso2apim", Version, prov)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
