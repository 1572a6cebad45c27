package nfs

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// NewFileServer creates the backend's server (if any) and the ReadWriteMany claim. Pass the
// gcp provider (vm, filestore) and the Kubernetes provider in opts (pulumi.Providers).
func NewFileServer(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*FileServer, error) {
	if args == nil {
		return nil, fmt.Errorf("nfs %q: args are required", name)
	}
	a := args.WithDefaults()
	if err := a.check().Err(fmt.Sprintf("nfs %q", name)); err != nil {
		return nil, err
	}
	fs := &FileServer{ClaimName: a.ClaimName}
	if err := ctx.RegisterComponentResource("wso2apim:nfs:FileServer", name, fs, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(fs)
	labels := kube.Labels("apim-shared", "shared-storage", "", nil)

	var err error
	var mountOptions []string
	// ready, when set, is what must be done before workloads mount the claim.
	var ready pulumi.StringOutput
	switch a.Backend {
	case BackendVM:
		fs.ExportPath, mountOptions = vmExportPath, []string{"hard", "nfsvers=4.1"}
		fs.Address, err = newVM(ctx, name, a, parent)
	case BackendFilestore:
		// Basic tiers speak NFSv3 only.
		fs.ExportPath, mountOptions = "/"+filestoreShare, []string{"hard", "nfsvers=3"}
		fs.Address, err = newFilestore(ctx, name, a, parent)
		if err == nil {
			// A new share is root-owned 755: the directories must exist, owned by
			// API Manager's uid, before any pod mounts them by subPath.
			ready, err = newDirectoriesJob(ctx, name, a, fs.Address, fs.ExportPath, parent)
		}
	case BackendInCluster:
		// The server exports its root with fsid=0: NFSv4 path "/".
		fs.ExportPath, mountOptions = "/", []string{"hard", "nfsvers=4.1"}
		fs.Address, err = newInCluster(ctx, name, a, parent)
	case BackendStorageClass:
		fs.Address = pulumi.String("").ToStringOutput()
		fs.Claim, err = newClassClaim(ctx, name, a, labels, parent)
	}
	if err != nil {
		return nil, err
	}

	if a.Backend != BackendStorageClass {
		if fs.Claim, err = newStaticVolume(ctx, name, a, fs, mountOptions, labels, parent); err != nil {
			return nil, err
		}
	}
	if ready != (pulumi.StringOutput{}) {
		// Workloads mount the claim through this output: they wait for the directories.
		fs.Claim = pulumi.All(fs.Claim, ready).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)
	}
	if err := ctx.RegisterResourceOutputs(fs, pulumi.Map{
		"address": fs.Address, "exportPath": pulumi.String(fs.ExportPath), "claimName": pulumi.String(fs.ClaimName),
	}); err != nil {
		return nil, err
	}
	return fs, nil
}

// check adds to Validate what only a caller of NewFileServer must provide.
func (a Args) check() validate.Problems {
	p := a.Validate("")
	switch {
	case a.Cloud():
		p.Required("Project", a.Project, "backend "+a.Backend+" needs the Google Cloud project")
		if a.Regional() {
			p.Required("Region", a.Region, "tier "+a.Tier+" needs a region")
		} else {
			p.Required("zone", a.Zone, "backend "+a.Backend+" needs a zone")
		}
		if a.NetworkName == nil || (a.Backend == BackendVM && a.SubnetworkSelfLink == nil) {
			p.Addf("NetworkName", "missing; backend %s needs the network (and, for vm, the subnetwork)", a.Backend)
		}
	case a.Backend == BackendInCluster && a.ServerNamespace == nil:
		p.Addf("ServerNamespace", "missing; backend in-cluster needs a namespace that allows a privileged pod")
	}
	if a.Backend == BackendFilestore && a.ServerNamespace == nil {
		p.Addf("ServerNamespace", "missing; backend filestore needs a namespace that allows a root pod (Pod Security baseline) for its directory Job")
	}
	if a.Backend != BackendStorageClass && len(a.ClientCIDRs) == 0 {
		p.Addf("clientCidrs", "missing; want the ranges the kubelets mount from")
	}
	if a.Namespace == nil {
		p.Addf("Namespace", "missing; want the namespace of the workloads' claim")
	}
	return p
}

// newStaticVolume binds a claim to an nfs PersistentVolume by name, with storageClassName ""
// so no provisioner can grab the claim first. Retain: releasing the claim never deletes data.
func newStaticVolume(ctx *pulumi.Context, name string, a Args, fs *FileServer, mountOptions []string,
	labels map[string]string, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	protect := pulumi.Protect(*a.Protect)
	pv, err := corev1.NewPersistentVolume(ctx, name, &corev1.PersistentVolumeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(a.VolumeName), Labels: pulumi.ToStringMap(labels)},
		Spec: &corev1.PersistentVolumeSpecArgs{
			Capacity:                      pulumi.StringMap{"storage": pulumi.String(a.Size)},
			AccessModes:                   pulumi.StringArray{pulumi.String("ReadWriteMany")},
			PersistentVolumeReclaimPolicy: pulumi.String("Retain"),
			StorageClassName:              pulumi.String(""),
			MountOptions:                  pulumi.ToStringArray(mountOptions),
			Nfs: &corev1.NFSVolumeSourceArgs{
				Server: fs.Address,
				Path:   pulumi.String(fs.ExportPath),
			},
		},
	}, append(opts, protect)...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	pvc, err := corev1.NewPersistentVolumeClaim(ctx, name, &corev1.PersistentVolumeClaimArgs{
		Metadata: kube.Meta(a.ClaimName, a.Namespace, labels),
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteMany")},
			StorageClassName: pulumi.String(""),
			VolumeName:       pv.Metadata.Name().Elem(),
			Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(a.Size)}},
		},
	}, append(opts, protect)...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return pvc.Metadata.Name().Elem(), nil
}

func newClassClaim(ctx *pulumi.Context, name string, a Args, labels map[string]string, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	pvc, err := corev1.NewPersistentVolumeClaim(ctx, name, &corev1.PersistentVolumeClaimArgs{
		Metadata: kube.Meta(a.ClaimName, a.Namespace, labels),
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteMany")},
			StorageClassName: pulumi.String(a.StorageClass),
			Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(a.Size)}},
		},
	}, append(opts, pulumi.Protect(*a.Protect))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return pvc.Metadata.Name().Elem(), nil
}
