package stacks

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/nfs"
)

// SharedDirectories are the API Manager 4.x directories every node must see alike: secondary
// user stores added at run time, and tenants' artifacts. The 2.x/3.x shared synapse-configs
// are gone: gateways now load APIs from the control plane. Keyed by the subPath in the share.
var SharedDirectories = map[string]string{
	"userstores": "repository/deployment/server/userstores",
	"tenants":    "repository/tenants",
}

func (c *Config) nfsArgs() nfs.Args {
	n := c.NFS
	a := nfs.Args{
		Backend:      n.Backend,
		Project:      c.Cluster.Project,
		Zone:         n.Zone,
		ClientCIDRs:  n.ClientCIDRs,
		MachineType:  n.MachineType,
		DiskSizeGB:   n.DiskSizeGB,
		DiskType:     n.DiskType,
		Tier:         n.Tier,
		CapacityGB:   n.CapacityGB,
		ServerImage:  n.ServerImage,
		StorageClass: n.StorageClass,
		Size:         n.Size,
		Directories:  kube.SortedKeys(SharedDirectories),
		VolumeName:   "apim-shared-" + c.Cluster.Namespace,
		Protect:      n.Protect,
	}
	if c.Cluster.Mode == ModeGKE && (n.Backend == nfs.BackendVM || n.Backend == nfs.BackendFilestore) {
		net := c.Cluster.networkArgs("").WithDefaults()
		a.ClientCIDRs = []string{net.NodeCIDR, net.PodCIDR}
	}
	return a.WithDefaults()
}

// sharedVolumes are the mounts API Manager pods get from the file server's claim.
func sharedVolumes(claim pulumi.StringInput) []apim.SharedVolume {
	var out []apim.SharedVolume
	for _, sub := range kube.SortedKeys(SharedDirectories) {
		out = append(out, apim.SharedVolume{Claim: claim, SubPath: sub, Path: SharedDirectories[sub]})
	}
	return out
}

// newFileServer creates the shared storage. Its cloud resources wait only for the network;
// only its Kubernetes objects wait for the cluster.
func newFileServer(ctx *pulumi.Context, cfg *Config, p *platform, namespace pulumi.StringInput) (*nfs.FileServer, error) {
	a := cfg.nfsArgs()
	a.Namespace = namespace
	opts := []pulumi.ResourceOption{pulumi.Providers(p.kube)}
	if p.network != nil {
		a.NetworkName = p.network.NetworkName
		a.SubnetworkSelfLink = p.network.SubnetworkSelfLink
		opts = []pulumi.ResourceOption{pulumi.Providers(p.gcp, p.kube)}
	}
	if a.Backend == nfs.BackendInCluster {
		ns, err := corev1.NewNamespace(ctx, "nfs-namespace", &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String(cfg.Cluster.Namespace + "-nfs"),
				Labels: pulumi.StringMap{
					"app.kubernetes.io/part-of":    pulumi.String(kube.PartOf),
					"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
					// The kernel NFS server needs a privileged pod: isolated here, away from
					// the restricted workload namespace.
					"pod-security.kubernetes.io/enforce": pulumi.String("privileged"),
				},
			},
		}, pulumi.Provider(p.kube))
		if err != nil {
			return nil, err
		}
		a.ServerNamespace = ns.Metadata.Name().Elem()
	}
	return nfs.NewFileServer(ctx, "nfs", &a, opts...)
}
