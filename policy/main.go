// Command wso2-apim-policy is the policy pack PulumiPolicy.yaml describes: the project's rules
// (policy/rules) under Pulumi CrossGuard. Run it with `pulumi preview --policy-pack policy`.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/wso2-k8s/apim-gke/policy/pack"
)

func main() {
	if err := policyx.Main(pack.New); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
