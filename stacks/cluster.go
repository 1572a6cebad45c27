package stacks

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/components/network"
	"github.com/wso2-k8s/apim-gke/components/nfs"
)

// platform is what the rest of the program needs from the cluster step, whichever mode.
type platform struct {
	kube       *kubernetes.Provider
	gcp        *gcp.Provider    // nil in mode existing
	network    *network.Network // nil in mode existing
	name       pulumi.StringOutput
	endpoint   pulumi.StringOutput
	kubeconfig pulumi.StringOutput
}

func newPlatform(ctx *pulumi.Context, cfg *Config) (*platform, error) {
	if cfg.Cluster.Mode == ModeExisting {
		return existingPlatform(ctx, cfg)
	}
	return gkePlatform(ctx, cfg)
}

func gkePlatform(ctx *pulumi.Context, cfg *Config) (*platform, error) {
	c := cfg.Cluster
	// An explicit provider: nothing depends on the ambient gcloud project or region.
	gcpProvider, err := gcp.NewProvider(ctx, "gcp", &gcp.ProviderArgs{
		Project: pulumi.String(c.Project),
		Region:  pulumi.String(c.Region),
	})
	if err != nil {
		return nil, err
	}
	withGCP := pulumi.Provider(gcpProvider)

	vpc, err := network.NewNetwork(ctx, "vpc", c.networkArgs(cfg.NFS.Backend), withGCP)
	if err != nil {
		return nil, err
	}
	cluster, err := gke.NewCluster(ctx, "gke", cfg.clusterArgs(vpc), withGCP)
	if err != nil {
		return nil, err
	}
	return &platform{
		kube:       cluster.Provider,
		gcp:        gcpProvider,
		network:    vpc,
		name:       cluster.ClusterName,
		endpoint:   cluster.Endpoint,
		kubeconfig: cluster.Kubeconfig,
	}, nil
}

func existingPlatform(ctx *pulumi.Context, cfg *Config) (*platform, error) {
	c := cfg.Cluster
	args := &kubernetes.ProviderArgs{
		// A kubeconfig path or the file's contents; empty means the ambient one.
		Kubeconfig: pulumi.StringPtr(c.Kubeconfig),
		Context:    pulumi.StringPtr(c.Context),
		// Moving the kubeconfig file must not replace every resource in the cluster.
		ClusterIdentifier: pulumi.String("existing/" + c.Name),
		// See gke.NewCluster: in-place ConfigMap/Secret updates keep rollouts zero-downtime.
		EnableConfigMapMutable: pulumi.Bool(true),
		EnableSecretMutable:    pulumi.Bool(true),
	}
	if c.Kubeconfig == "" {
		args.Kubeconfig = nil
	}
	if c.Context == "" {
		args.Context = nil
	}
	provider, err := kubernetes.NewProvider(ctx, "k8s", args)
	if err != nil {
		return nil, err
	}
	return &platform{
		kube:       provider,
		name:       pulumi.String(c.Name).ToStringOutput(),
		endpoint:   pulumi.String("").ToStringOutput(),
		kubeconfig: pulumi.ToSecret(pulumi.String(c.Kubeconfig)).(pulumi.StringOutput),
	}, nil
}

func (c ClusterConfig) networkArgs(nfsBackend string) *network.Args {
	return &network.Args{
		Project:     c.Project,
		Region:      c.Region,
		NodeCIDR:    c.Network.NodeCIDR,
		PodCIDR:     c.Network.PodCIDR,
		ServiceCIDR: c.Network.ServiceCIDR,
		// Private nodes have no route to Docker Hub without NAT, and the NFS VM (no external
		// IP) needs it for its packages.
		CloudNAT: c.PrivateNodes || nfsBackend == nfs.BackendVM,
	}
}

func (cfg *Config) clusterArgs(vpc *network.Network) *gke.ClusterArgs {
	c, n := cfg.Cluster, cfg.NodePool
	location := c.Region
	if c.Zone != "" {
		location = c.Zone
	}
	var authorized []gke.AuthorizedNetwork
	for _, a := range c.MasterAuthorizedNetworks {
		authorized = append(authorized, gke.AuthorizedNetwork{Name: a.Name, CIDR: a.CIDR})
	}
	return &gke.ClusterArgs{
		Project:                  c.Project,
		Name:                     c.Name,
		Location:                 location,
		NodeLocations:            c.NodeZones,
		NetworkSelfLink:          vpc.NetworkSelfLink,
		SubnetworkSelfLink:       vpc.SubnetworkSelfLink,
		PodRangeName:             network.PodRangeName,
		ServiceRangeName:         network.ServiceRangeName,
		ReleaseChannel:           c.ReleaseChannel,
		AutoscalingProfile:       c.AutoscalingProfile,
		PrivateNodes:             c.PrivateNodes,
		MasterIPv4CIDR:           c.MasterCIDR,
		MasterAuthorizedNetworks: authorized,
		DeletionProtection:       c.DeletionProtection,
		ResourceLabels:           c.Labels,
		NodePool: gke.NodePoolArgs{
			MachineType:    n.MachineType,
			DiskSizeGB:     n.DiskSizeGB,
			DiskType:       n.DiskType,
			Spot:           n.Spot,
			MinNodes:       n.MinNodes,
			MaxNodes:       n.MaxNodes,
			TotalMinNodes:  n.TotalMinNodes,
			TotalMaxNodes:  n.TotalMaxNodes,
			LocationPolicy: n.LocationPolicy,
			AutoRepair:     n.AutoRepair,
			AutoUpgrade:    n.AutoUpgrade,
			MaxSurge:       n.MaxSurge,
			MaxUnavailable: n.MaxUnavailable,
			Labels:         n.Labels,
		},
	}
}
