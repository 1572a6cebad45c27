package nfs

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/filestore"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

const filestoreShare = "apim"

func newFilestore(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	location := a.Zone
	if a.Regional() {
		location = a.Region
	}
	inst, err := filestore.NewInstance(ctx, name, &filestore.InstanceArgs{
		Project:  pulumi.String(a.Project),
		Location: pulumi.String(location),
		Tier:     pulumi.String(a.Tier),
		FileShares: &filestore.InstanceFileSharesArgs{
			Name:       pulumi.String(filestoreShare),
			CapacityGb: pulumi.Int(a.CapacityGB),
			// Only the nodes mount (the kubelet does, as root), and root must be able to
			// create the shared directories for API Manager's uid: no root squash, and no
			// other range at all.
			NfsExportOptions: filestore.InstanceFileSharesNfsExportOptionArray{filestore.InstanceFileSharesNfsExportOptionArgs{
				IpRanges:   pulumi.ToStringArray(a.ClientCIDRs),
				AccessMode: pulumi.String("READ_WRITE"),
				SquashMode: pulumi.String("NO_ROOT_SQUASH"),
			}},
		},
		Networks: filestore.InstanceNetworkArray{filestore.InstanceNetworkArgs{
			Network:     a.NetworkName,
			Modes:       pulumi.StringArray{pulumi.String("MODE_IPV4")},
			ConnectMode: pulumi.String("DIRECT_PEERING"),
			// Chosen, not picked by Filestore: an automatic pick may take a range the VPC
			// needs later (a private cluster's control plane, Cloud SQL).
			ReservedIpRange: pulumi.String(a.ReservedIPRange),
		}},
	}, append(opts, pulumi.Protect(*a.Protect))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return inst.Networks.Index(pulumi.Int(0)).IpAddresses().Index(pulumi.Int(0)), nil
}

// DirectoriesScript creates the shared directories in $SHARE owned by $OWNER (uid:gid), once:
// the VM's startup script does the same for its disk.
const DirectoriesScript = `set -eu
for dir in $DIRECTORIES; do
  mkdir -p "$SHARE/$dir"
  chown "$OWNER" "$SHARE/$dir"
  chmod 0770 "$SHARE/$dir"
done
echo "shared directories ready: $DIRECTORIES"
`

// directoriesEnv are DirectoriesScript's inputs.
func directoriesEnv(share string, dirs []string) corev1.EnvVarArray {
	return corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("SHARE"), Value: pulumi.String(share)},
		corev1.EnvVarArgs{Name: pulumi.String("OWNER"), Value: pulumi.String(fmt.Sprintf("%d:%d", UID, GID))},
		corev1.EnvVarArgs{Name: pulumi.String("DIRECTORIES"), Value: pulumi.String(strings.Join(dirs, " "))},
	}
}

// newDirectoriesJob runs DirectoriesScript against the new share, as root with only the
// CHOWN capability, in the server namespace (Pod Security baseline: root, an NFS volume). It
// returns the Job's name once it has completed.
func newDirectoriesJob(ctx *pulumi.Context, name string, a Args, address pulumi.StringOutput, exportPath string,
	opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	labels := kube.Labels(name+"-dirs", "shared-storage-setup", "", nil)
	const share = "/share"
	meta := kube.Meta(name+"-dirs", a.ServerNamespace, labels)
	// No fixed name: a changed input replaces the Job, which runs again (idempotently).
	meta.Name = nil
	job, err := batchv1.NewJob(ctx, name+"-dirs", &batchv1.JobArgs{
		Metadata: meta,
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit: pulumi.Int(6),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("OnFailure"),
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext: &corev1.PodSecurityContextArgs{
						SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:    pulumi.String("dirs"),
						Image:   pulumi.String(a.ToolsImage),
						Command: pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(DirectoriesScript)},
						Env:     directoriesEnv(share, a.Directories),
						SecurityContext: &corev1.SecurityContextArgs{
							RunAsUser:                pulumi.Int(0),
							AllowPrivilegeEscalation: pulumi.Bool(false),
							ReadOnlyRootFilesystem:   pulumi.Bool(true),
							Capabilities: &corev1.CapabilitiesArgs{
								Drop: pulumi.StringArray{pulumi.String("ALL")},
								Add:  pulumi.StringArray{pulumi.String("CHOWN")},
							},
						},
						Resources:    ToolsResources.Args(),
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("share"), MountPath: pulumi.String(share)}},
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("share"),
						Nfs: &corev1.NFSVolumeSourceArgs{Server: address, Path: pulumi.String(exportPath)}}},
				},
			},
		},
	}, append(opts, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "15m", Update: "15m"}))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return job.Metadata.Name().Elem(), nil
}

// ToolsResources are what the directory Job requests and may use.
var ToolsResources = kube.Resources{Requests: kube.Compute{CPU: "10m", Memory: "16Mi", EphemeralStorage: "16Mi"},
	Limits: kube.Compute{CPU: "100m", Memory: "64Mi", EphemeralStorage: "64Mi"}}
