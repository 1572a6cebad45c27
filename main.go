// Command wso2-apim is the Pulumi program that deploys WSO2 API Manager on Kubernetes; all of
// it lives in package stacks.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
