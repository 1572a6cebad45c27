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
	ctx.Export("clusterName", p.name)
	ctx.Export("clusterEndpoint", p.endpoint)
	ctx.Export("kubeconfig", p.kubeconfig)
	return nil
}
