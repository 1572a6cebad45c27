// Command gke is the whole product from a program of your own: one Platform on a new GKE
// cluster, sized and named here in Go rather than in stack config. Set the project with
// `pulumi config set gcp:project <id>`; every password is generated on the first `up`.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/components/platform"
)

func main() { pulumi.Run(program) }

func program(ctx *pulumi.Context) error {
	three, twelve := 3, 12
	p, err := platform.NewPlatform(ctx, "shop", &platform.Args{
		Cluster: platform.ClusterArgs{ClusterArgs: gke.ClusterArgs{
			Region:         "europe-west4",
			ReleaseChannel: "STABLE",
			PrivateNodes:   true,
		}},
		NodePool:  gke.NodePoolArgs{MachineType: "e2-standard-8", TotalMinNodes: &three, TotalMaxNodes: &twelve},
		APIM:      platform.APIMArgs{Domain: "api.shop.example.org"},
		Gateway:   apim.GatewayArgs{MinReplicas: 2, MaxReplicas: 8},
		Analytics: platform.AnalyticsArgs{Mode: "none"},
	})
	if err != nil {
		return err
	}
	ctx.Export("publisherURL", p.PublisherURL)
	ctx.Export("gatewayHost", p.GatewayHost)
	ctx.Export("kubeconfig", p.Kubeconfig)
	ctx.Export("adminPassword", p.AdminPassword)
	return nil
}
