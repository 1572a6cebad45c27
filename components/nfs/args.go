package nfs

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Backends.
const (
	// BackendVM is a Compute Engine VM exporting a separate persistent disk.
	BackendVM = "vm"
	// BackendFilestore is a managed Filestore instance.
	BackendFilestore = "filestore"
	// BackendInCluster is an NFS server pod on a ReadWriteOnce claim of the cluster's
	// default storage class (for clusters outside Google Cloud).
	BackendInCluster = "in-cluster"
	// BackendStorageClass uses an existing ReadWriteMany storage class; no server at all.
	BackendStorageClass = "storage-class"
)

// UID and GID that own the shared files: WSO2's images run as 10001. Every backend maps
// writes (including the kubelet's creation of subPath directories, made as root) to them.
const (
	UID = 10001
	GID = 10001
)

// Args configures a FileServer. Zero values are replaced by the defaults in WithDefaults.
type Args struct {
	// Backend is vm, filestore, in-cluster or storage-class. Required.
	Backend string

	// Project and Zone place the VM or the Filestore instance (vm, filestore).
	Project, Zone string
	// Network names the VPC (vm: subnetwork self link; filestore: network name). Required
	// for vm and filestore.
	NetworkName, SubnetworkSelfLink pulumi.StringInput
	// ClientCIDRs may mount the share: NFS mounts are made by the kubelet, so these are the
	// cluster's node ranges (and pod ranges on GKE, where pods may mount directly).
	// Required.
	ClientCIDRs []string

	// MachineType of the VM. Defaults to e2-small: NFS for config files needs little CPU.
	MachineType string
	// DiskSizeGB of the VM's data disk. Defaults to 100.
	DiskSizeGB int
	// DiskType of the VM's data disk. Defaults to pd-balanced.
	DiskType string

	// Tier of the Filestore instance. Defaults to BASIC_HDD.
	Tier string
	// CapacityGB of the Filestore share; at least the tier's minimum. Defaults to it.
	CapacityGB int

	// Namespace of the claim workloads mount. Required.
	Namespace pulumi.StringInput
	// ServerNamespace holds the in-cluster server, which needs a privileged pod and so
	// cannot share the workloads' restricted namespace. Required for in-cluster.
	ServerNamespace pulumi.StringInput
	// ServerImage is the in-cluster NFS server. Defaults to Kubernetes' own e2e NFS image.
	ServerImage string
	// StorageClass is the ReadWriteMany class (storage-class) or the class of the
	// in-cluster server's disk (in-cluster; default: the cluster's default class).
	StorageClass string
	// Size of the claim, e.g. 10Gi. NFS does not enforce it; it documents intent and sizes
	// the in-cluster server's disk and storage-class volumes. Defaults to 10Gi.
	Size string
	// Directories are created in the share owned by UID:GID before any client mounts it
	// (vm, in-cluster), e.g. the subPaths workloads mount.
	Directories []string
	// VolumeName is the PersistentVolume's name, unique in the cluster. Defaults to
	// "apim-shared".
	VolumeName string
	// ClaimName is the PersistentVolumeClaim's name. Defaults to "apim-shared".
	ClaimName string

	// Protect guards what holds the data (data disk, Filestore instance, server claim, the
	// claim itself) against deletion or replacement by Pulumi. Defaults to true.
	Protect *bool
}

// TierMinimumGB is the smallest Filestore share each tier allows.
var TierMinimumGB = map[string]int{
	"BASIC_HDD":  1024,
	"BASIC_SSD":  2560,
	"ZONAL":      1024,
	"REGIONAL":   1024,
	"ENTERPRISE": 1024,
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.MachineType == "" {
		a.MachineType = "e2-small"
	}
	if a.DiskSizeGB == 0 {
		a.DiskSizeGB = 100
	}
	if a.DiskType == "" {
		a.DiskType = "pd-balanced"
	}
	if a.Tier == "" {
		a.Tier = "BASIC_HDD"
	}
	if a.CapacityGB == 0 {
		a.CapacityGB = TierMinimumGB[a.Tier]
	}
	if a.ServerImage == "" {
		a.ServerImage = "registry.k8s.io/e2e-test-images/volume/nfs:1.4"
	}
	if a.VolumeName == "" {
		a.VolumeName = "apim-shared"
	}
	if a.ClaimName == "" {
		a.ClaimName = "apim-shared"
	}
	if a.Size == "" {
		a.Size = "10Gi"
	}
	if a.Protect == nil {
		p := true
		a.Protect = &p
	}
	return a
}

// FileServer is the component's public face.
type FileServer struct {
	pulumi.ResourceState

	// Address is the server's IP address (empty for storage-class).
	Address pulumi.StringOutput
	// ExportPath is the exported directory (empty for storage-class).
	ExportPath string
	// ClaimName is the ReadWriteMany PersistentVolumeClaim workloads mount.
	ClaimName string
	// Claim is the claim's name as an output of the claim: mount it through this, so that
	// the workload is deleted before the claim (see apim.SharedVolume).
	Claim pulumi.StringOutput
}
