package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/platform"
)

// Name is the Platform's name in every stack: children are named from it (apim-cp, apim-gw,
// ...), the GKE cluster defaults to apim-<stack> and the namespace to wso2-apim.
const Name = "apim"

// Program is the Pulumi program for every stack: the stack's config, decoded and checked as a
// whole, becomes one Platform, whose outputs become the stack's.
func Program(ctx *pulumi.Context) error {
	args, err := LoadConfig(ctx, Name)
	if err != nil {
		return err
	}
	p, err := platform.NewPlatform(ctx, Name, args)
	if err != nil {
		return err
	}
	for name, v := range map[string]pulumi.Input{
		"clusterName":            p.ClusterName,
		"clusterEndpoint":        p.ClusterEndpoint,
		"kubeconfig":             p.Kubeconfig,
		"namespace":              p.Namespace,
		"controlPlaneService":    p.ControlPlaneService,
		"gatewayService":         p.GatewayService,
		"mysqlService":           p.MySQLService,
		"managementHost":         p.ManagementHost,
		"gatewayHost":            p.GatewayHost,
		"backendURL":             p.BackendURL,
		"ingressAddress":         p.IngressAddress,
		"publisherURL":           p.PublisherURL,
		"devportalURL":           p.DevportalURL,
		"helloAPIURL":            p.HelloAPIURL,
		"analyticsDashboardsURL": p.DashboardsURL,
		"adminUsername":          p.AdminUsername,
		"adminPassword":          p.AdminPassword,
		"generatedSecrets":       p.GeneratedSecrets,
		"keystoresExpire":        p.KeystoresExpire,
	} {
		ctx.Export(name, v)
	}
	return nil
}
