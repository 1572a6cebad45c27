package gke

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NewCluster creates the cluster, its node service account and node pool, and a Kubernetes
// provider for it.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if args == nil {
		return nil, fmt.Errorf("gke cluster %q: args are required", name)
	}
	a := args.WithDefaults()
	p := append(a.Validate(""), a.NodePool.Validate("NodePool")...)
	p.Required("project", a.Project, "the Google Cloud project ID")
	p.Required("region", a.Region, "a region such as europe-west1")
	p.Required("name", a.Name, "the GKE cluster name")
	if a.NetworkSelfLink == nil || a.SubnetworkSelfLink == nil {
		p.Addf("NetworkSelfLink", "missing; want the network and subnetwork self links (see the network component)")
	}
	if err := p.Err(fmt.Sprintf("gke cluster %q", name)); err != nil {
		return nil, err
	}

	c := &Cluster{}
	if err := ctx.RegisterComponentResource("wso2apim:gke:Cluster", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	sa, err := newNodeServiceAccount(ctx, name, a, parent)
	if err != nil {
		return nil, err
	}

	cluster, err := container.NewCluster(ctx, name, clusterArgs(a), parent,
		// Pulumi's own guard on top of GKE's: a protected resource cannot be deleted or
		// replaced by `pulumi up`/`destroy` until the flag is lifted.
		pulumi.Protect(*a.DeletionProtection))
	if err != nil {
		return nil, err
	}

	if _, err := newNodePool(ctx, name, a, cluster, sa.Email, parent); err != nil {
		return nil, err
	}

	kubeconfig := pulumi.ToSecret(pulumi.All(cluster.Name, cluster.Endpoint, cluster.MasterAuth.ClusterCaCertificate().Elem()).
		ApplyT(func(v []any) string {
			return Kubeconfig(v[0].(string), v[1].(string), v[2].(string))
		})).(pulumi.StringOutput)

	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig: kubeconfig,
		// The kubeconfig changes whenever GKE rotates the CA or the endpoint moves; without a
		// stable identifier every Kubernetes resource would be replaced with the provider.
		ClusterIdentifier: cluster.ID().ToStringOutput(),
		// Update ConfigMaps and Secrets in place. The provider otherwise replaces them on any
		// change, and a fixed-name replacement is delete-before-replace, which deletes every
		// Deployment that refers to them first: downtime. Pods roll through their checksum
		// annotations instead.
		EnableConfigMapMutable: pulumi.Bool(true),
		EnableSecretMutable:    pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}

	c.Provider = provider
	c.ClusterName = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.Kubeconfig = kubeconfig
	c.NodeServiceAccountEmail = sa.Email
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterName": c.ClusterName,
		"endpoint":    c.Endpoint,
		"kubeconfig":  c.Kubeconfig,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// clusterArgs computes the cluster's inputs from defaulted args, so that the spec can be
// read in one place and tested without an engine.
func clusterArgs(a ClusterArgs) *container.ClusterArgs {
	ca := &container.ClusterArgs{
		Project:  pulumi.String(a.Project),
		Name:     pulumi.String(a.Name),
		Location: pulumi.String(a.Location()),
		// GKE cannot create a cluster without a node pool; it gets a one-node default pool
		// that is deleted at once, so that every node comes from the managed pool below.
		RemoveDefaultNodePool: pulumi.Bool(true),
		InitialNodeCount:      pulumi.Int(1),
		Network:               a.NetworkSelfLink,
		Subnetwork:            a.SubnetworkSelfLink,
		NetworkingMode:        pulumi.String("VPC_NATIVE"),
		IpAllocationPolicy: &container.ClusterIpAllocationPolicyArgs{
			ClusterSecondaryRangeName:  pulumi.String(a.PodRangeName),
			ServicesSecondaryRangeName: pulumi.String(a.ServiceRangeName),
		},
		// Dataplane V2 enforces NetworkPolicy without the legacy Calico add-on.
		DatapathProvider: pulumi.String("ADVANCED_DATAPATH"),
		ReleaseChannel:   &container.ClusterReleaseChannelArgs{Channel: pulumi.String(a.ReleaseChannel)},
		WorkloadIdentityConfig: &container.ClusterWorkloadIdentityConfigArgs{
			WorkloadPool: pulumi.String(a.Project + ".svc.id.goog"),
		},
		EnableShieldedNodes: pulumi.Bool(true),
		// Enabled here is node auto-provisioning, which we do not want: the node pool's own
		// autoscaler does the scaling, and the profile tunes how eagerly it scales down.
		ClusterAutoscaling: &container.ClusterClusterAutoscalingArgs{
			Enabled:            pulumi.Bool(false),
			AutoscalingProfile: pulumi.String(a.AutoscalingProfile),
		},
		DeletionProtection: pulumi.Bool(*a.DeletionProtection),
		ResourceLabels:     pulumi.ToStringMap(a.Labels),
	}
	if len(a.NodeZones) > 0 {
		ca.NodeLocations = pulumi.ToStringArray(a.NodeZones)
	}
	if a.PrivateNodes {
		ca.PrivateClusterConfig = &container.ClusterPrivateClusterConfigArgs{
			EnablePrivateNodes: pulumi.Bool(true),
			// The public endpoint stays, fenced by the authorized networks, so that CI and
			// operators can still run `pulumi up` without a bastion.
			EnablePrivateEndpoint: pulumi.Bool(false),
			MasterIpv4CidrBlock:   pulumi.String(a.MasterCIDR),
		}
	}
	if len(a.MasterAuthorizedNetworks) > 0 {
		blocks := container.ClusterMasterAuthorizedNetworksConfigCidrBlockArray{}
		for _, n := range a.MasterAuthorizedNetworks {
			blocks = append(blocks, container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs{
				CidrBlock:   pulumi.String(n.CIDR),
				DisplayName: pulumi.String(n.Name),
			})
		}
		ca.MasterAuthorizedNetworksConfig = &container.ClusterMasterAuthorizedNetworksConfigArgs{CidrBlocks: blocks}
	}
	return ca
}
