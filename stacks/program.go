package stacks

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Program is the Pulumi program for every stack. It validates the whole config before it
// registers anything, so a stack with bad config changes nothing.
func Program(ctx *pulumi.Context) error {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	p, err := newPlatform(ctx, cfg)
	if err != nil {
		return err
	}
	w, err := newWorkloads(ctx, cfg, p)
	if err != nil {
		return err
	}
	mgmt, gw := cfg.hosts()
	ctx.Export("namespace", w.namespace.Metadata.Name())
	ctx.Export("controlPlaneService", pulumi.String(w.controlPlane.Service))
	ctx.Export("gatewayService", pulumi.String(w.gateway.Service))
	ctx.Export("mysqlService", pulumi.String(w.database.Host))
	ctx.Export("managementHost", pulumi.String(mgmt))
	ctx.Export("gatewayHost", pulumi.String(gw))
	if w.backend != nil {
		ctx.Export("backendURL", pulumi.String(w.backend.URL))
	}
	if *cfg.Ingress.Enabled {
		ctx.Export("ingressAddress", w.edge.address)
		ctx.Export("publisherURL", pulumi.String(w.edge.publisherURL))
		ctx.Export("devportalURL", pulumi.String(w.edge.devportalURL))
	}
	if w.edge.dashboardsURL != "" {
		ctx.Export("analyticsDashboardsURL", pulumi.String(w.edge.dashboardsURL))
	}
	if w.edge.helloURL != "" {
		ctx.Export("helloAPIURL", pulumi.String(w.edge.helloURL))
	}
	ctx.Export("clusterName", p.name)
	ctx.Export("clusterEndpoint", p.endpoint)
	ctx.Export("kubeconfig", p.kubeconfig)
	return nil
}
