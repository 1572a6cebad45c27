package gke

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/propagation"
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

	// Every grant the cluster relies on waits, once created, for IAM to propagate; the
	// cluster waits for the grants.
	wait, err := propagation.New(ctx, name+"-propagation", a.PropagationWait())
	if err != nil {
		return nil, err
	}
	sa, bindings, err := newNodeServiceAccount(ctx, name, a, wait, parent)
	if err != nil {
		return nil, err
	}
	key, keyReady, err := secretsKey(ctx, name, a, wait, parent)
	if err != nil {
		return nil, err
	}

	cluster, err := container.NewCluster(ctx, name, clusterArgs(a, sa.Email, key), parent,
		// The engine's guard beside the provider's deletionProtection: neither `pulumi up`
		// nor `destroy` can delete or replace the cluster until the flag is lifted.
		pulumi.Protect(*a.DeletionProtection),
		// The key must be usable by GKE before the cluster encrypts anything with it, and the
		// nodes' roles effective before the default pool's node registers (it logs and
		// reports metrics as the nodes' account).
		pulumi.DependsOn(append(keyReady, bindings...)),
		// nodeConfig describes the default pool, which exists only while the cluster is
		// created and is then removed: what GKE later reports for it is no change of ours.
		pulumi.IgnoreChanges([]string{"nodeConfig"}))
	if err != nil {
		return nil, err
	}

	pool, err := newNodePool(ctx, name, a, cluster, sa.Email, append([]pulumi.ResourceOption{parent}, pulumi.DependsOn(bindings))...)
	if err != nil {
		return nil, err
	}
	// What Kubernetes work needs from Google Cloud before it starts.
	ready := []pulumi.Resource{pool}
	if a.PrivateNodes {
		fw, err := newWebhookFirewall(ctx, name, a, sa.Email, parent)
		if err != nil {
			return nil, err
		}
		ready = append(ready, fw)
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
	}, parent,
		// The default pool is removed as soon as the cluster exists: until this pool is up
		// there is no node, and every workload would sit out its readiness timeout. Waiting
		// here orders every Kubernetes object after the pool on create and, because the
		// engine deletes dependents first, before it on destroy. DependsOn, not an input:
		// a replaced pool must not make the kubeconfig unknown in previews.
		pulumi.DependsOn(ready))
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
// read in one place and tested without an engine. key is the Secrets encryption key's name
// (nil: encryption off).
func clusterArgs(a ClusterArgs, nodeServiceAccount, key pulumi.StringInput) *container.ClusterArgs {
	ca := &container.ClusterArgs{
		Project:  pulumi.String(a.Project),
		Name:     pulumi.String(a.Name),
		Location: pulumi.String(a.Location()),
		// GKE cannot create a cluster without a node pool; it gets a one-node default pool
		// that is deleted at once, so that every node comes from the managed pool below.
		// Even that node runs as the least-privilege account, never as the Compute Engine
		// default one (project Editor).
		RemoveDefaultNodePool: pulumi.Bool(true),
		InitialNodeCount:      pulumi.Int(1),
		NodeConfig: &container.ClusterNodeConfigArgs{
			ServiceAccount: nodeServiceAccount,
			OauthScopes:    pulumi.StringArray{pulumi.String("https://www.googleapis.com/auth/cloud-platform")},
			ImageType:      pulumi.String(ImageType),
			ShieldedInstanceConfig: &container.ClusterNodeConfigShieldedInstanceConfigArgs{
				EnableSecureBoot:          pulumi.Bool(true),
				EnableIntegrityMonitoring: pulumi.Bool(true),
			},
			WorkloadMetadataConfig: &container.ClusterNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
		},
		Network:        a.NetworkSelfLink,
		Subnetwork:     a.SubnetworkSelfLink,
		NetworkingMode: pulumi.String("VPC_NATIVE"),
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
		MaintenancePolicy: &container.ClusterMaintenancePolicyArgs{
			RecurringWindow: &container.ClusterMaintenancePolicyRecurringWindowArgs{
				StartTime:  pulumi.String(a.MaintenanceWindow.Start),
				EndTime:    pulumi.String(a.MaintenanceWindow.End),
				Recurrence: pulumi.String(a.MaintenanceWindow.Recurrence),
			},
		},
	}
	if key != nil {
		ca.DatabaseEncryption = &container.ClusterDatabaseEncryptionArgs{State: pulumi.String("ENCRYPTED"), KeyName: key}
	}
	if a.BinaryAuthorization {
		ca.BinaryAuthorization = &container.ClusterBinaryAuthorizationArgs{EvaluationMode: pulumi.String("PROJECT_SINGLETON_POLICY_ENFORCE")}
	}
	if len(a.NodeZones) > 0 {
		ca.NodeLocations = pulumi.ToStringArray(a.NodeZones)
	}
	if a.PrivateNodes {
		ca.PrivateClusterConfig = &container.ClusterPrivateClusterConfigArgs{
			EnablePrivateNodes: pulumi.Bool(true),
			// Without a public endpoint only the VPC reaches the control plane (a CI
			// runner there); with it, the authorized networks fence it.
			EnablePrivateEndpoint: pulumi.Bool(a.PrivateEndpoint),
			MasterIpv4CidrBlock:   pulumi.String(a.MasterCIDR),
		}
	}
	ca.MasterAuthorizedNetworksConfig = authorizedNetworks(a)
	observability(ca)
	return ca
}

// authorizedNetworks is the control plane's address fence. The provider turns a present block
// into enabled = true and an absent one into enabled = false, and GKE refuses a private
// endpoint with authorized networks disabled ("Master authorized networks must be enabled if
// private endpoint is enabled"): so with a private endpoint the block is always sent, empty
// when no network is listed, as terraform-google-kubernetes-engine does (its cluster.tf sends
// the block when enable_private_endpoint is set; PR #2058). Then only the node subnet reaches
// the control plane. Without a private endpoint and without networks there is no block: an
// enabled, empty fence on a public endpoint would admit nobody.
func authorizedNetworks(a ClusterArgs) *container.ClusterMasterAuthorizedNetworksConfigArgs {
	if len(a.MasterAuthorizedNetworks) == 0 && !a.PrivateEndpoint {
		return nil
	}
	blocks := container.ClusterMasterAuthorizedNetworksConfigCidrBlockArray{}
	for _, n := range a.MasterAuthorizedNetworks {
		blocks = append(blocks, container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs{
			CidrBlock:   pulumi.String(n.CIDR),
			DisplayName: pulumi.String(n.Name),
		})
	}
	return &container.ClusterMasterAuthorizedNetworksConfigArgs{
		CidrBlocks: blocks,
		// Set explicitly so that the block is never empty on the wire (an empty nested object
		// may be dropped on its way to the provider), and because Google Cloud's public
		// addresses have no business at this control plane.
		GcpPublicCidrsAccessEnabled: pulumi.Bool(false),
	}
}
