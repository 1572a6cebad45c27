package gke

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func newNodePool(ctx *pulumi.Context, name string, a ClusterArgs, cluster *container.Cluster,
	serviceAccount pulumi.StringInput, opts ...pulumi.ResourceOption) (*container.NodePool, error) {
	// No Name: Pulumi auto-names the pool, so a change that forces replacement (machine
	// type, disk, spot) creates the new pool before draining the old one instead of leaving
	// the cluster without nodes.
	return container.NewNodePool(ctx, name, nodePoolArgs(a, cluster.Name, serviceAccount),
		append(opts,
			// The autoscaler owns the node count after creation; without this every
			// preview would show a diff (or worse, a replacement) once it has scaled.
			pulumi.IgnoreChanges([]string{"initialNodeCount"}),
		)...)
}

func nodePoolArgs(a ClusterArgs, clusterName, serviceAccount pulumi.StringInput) *container.NodePoolArgs {
	p := a.NodePool
	autoscaling := &container.NodePoolAutoscalingArgs{LocationPolicy: pulumi.String(p.LocationPolicy)}
	initial := 1
	if p.TotalMinNodes != nil || p.TotalMaxNodes != nil {
		autoscaling.TotalMinNodeCount = pulumi.IntPtrFromPtr(p.TotalMinNodes)
		autoscaling.TotalMaxNodeCount = pulumi.IntPtrFromPtr(p.TotalMaxNodes)
	} else {
		autoscaling.MinNodeCount = pulumi.IntPtrFromPtr(p.MinNodes)
		autoscaling.MaxNodeCount = pulumi.IntPtrFromPtr(p.MaxNodes)
		if p.MinNodes != nil && *p.MinNodes > initial {
			initial = *p.MinNodes
		}
	}

	npa := &container.NodePoolArgs{
		Project:          pulumi.String(a.Project),
		Cluster:          clusterName,
		Location:         pulumi.String(a.Location()),
		InitialNodeCount: pulumi.Int(initial),
		Autoscaling:      autoscaling,
		Management: &container.NodePoolManagementArgs{
			AutoRepair:  pulumi.Bool(*p.AutoRepair),
			AutoUpgrade: pulumi.Bool(*p.AutoUpgrade),
		},
		UpgradeSettings: &container.NodePoolUpgradeSettingsArgs{
			Strategy:       pulumi.String("SURGE"),
			MaxSurge:       pulumi.Int(*p.MaxSurge),
			MaxUnavailable: pulumi.Int(*p.MaxUnavailable),
		},
		NodeConfig: &container.NodePoolNodeConfigArgs{
			MachineType:    pulumi.String(p.MachineType),
			ImageType:      pulumi.String(ImageType),
			DiskSizeGb:     pulumi.Int(p.DiskSizeGB),
			DiskType:       pulumi.String(p.DiskType),
			Spot:           pulumi.Bool(p.Spot),
			ServiceAccount: serviceAccount,
			// Access is decided by the service account's IAM roles, not by legacy scopes.
			OauthScopes:    pulumi.StringArray{pulumi.String("https://www.googleapis.com/auth/cloud-platform")},
			Labels:         pulumi.ToStringMap(p.Labels),
			ResourceLabels: pulumi.ToStringMap(a.Labels),
			// Pods see the Workload Identity metadata server, never the node's credentials.
			WorkloadMetadataConfig: &container.NodePoolNodeConfigWorkloadMetadataConfigArgs{
				Mode: pulumi.String("GKE_METADATA"),
			},
			ShieldedInstanceConfig: &container.NodePoolNodeConfigShieldedInstanceConfigArgs{
				EnableSecureBoot:          pulumi.Bool(true),
				EnableIntegrityMonitoring: pulumi.Bool(true),
			},
			Metadata:      pulumi.StringMap{"disable-legacy-endpoints": pulumi.String("true")},
			KubeletConfig: kubeletConfig(),
		},
	}
	if len(a.NodeZones) > 0 {
		npa.NodeLocations = pulumi.ToStringArray(a.NodeZones)
	}
	return npa
}

// kubeletConfig states GKE's own kubelet defaults explicitly. pulumi-gcp v7 wraps the
// Terraform Google provider 5.x, whose node pool kubelet_config is optional and not computed:
// once GKE reports any kubelet setting for a pool (it does, for instance, once the kubelet
// read-only port setting, which this provider version cannot express, is on the pool), the
// provider reads the block back and every later preview plans to remove it ("- kubelet_config { cpu_cfs_quota = false -> null,
// pod_pids_limit = 0 -> null }"), an update GKE then refuses with "At least one of [...] must
// be specified" (terraform-google-kubernetes-engine issues #2014 and #2193,
// hashicorp/terraform-provider-google #9104). Sending the block with the values GKE applies
// anyway (CFS quota on, 100ms period, the "none" CPU manager policy; GKE docs, "Customizing
// node system configuration") makes what is read back match what is sent. podPidsLimit is
// left unset: 0 on both sides, and a limit would count the JVMs' threads.
func kubeletConfig() *container.NodePoolNodeConfigKubeletConfigArgs {
	return &container.NodePoolNodeConfigKubeletConfigArgs{
		CpuManagerPolicy:  pulumi.String("none"),
		CpuCfsQuota:       pulumi.Bool(true),
		CpuCfsQuotaPeriod: pulumi.String("100ms"),
	}
}
