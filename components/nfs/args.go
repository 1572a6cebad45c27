package nfs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
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

// Args configures a FileServer. Zero values are replaced by the defaults in WithDefaults. The
// JSON names are the settings of a stack's `nfs` config key.
type Args struct {
	// Backend is vm, filestore, in-cluster or storage-class. Required.
	Backend string `json:"backend"`

	// Zone places the VM or a zonal Filestore instance (vm; filestore tiers BASIC_HDD,
	// BASIC_SSD, ZONAL). Required for them.
	Zone string `json:"zone"`
	// Region places a regional Filestore instance (tiers REGIONAL, ENTERPRISE) and the VM's
	// reserved address. Defaults to Zone's region.
	Region string `json:"-"`
	// Project holds the VM or the Filestore instance. Required for vm and filestore.
	Project string `json:"-"`
	// NetworkName and SubnetworkSelfLink place it (vm: both; filestore: the network).
	NetworkName        pulumi.StringInput `json:"-"`
	SubnetworkSelfLink pulumi.StringInput `json:"-"`
	// ClientCIDRs may mount the share: NFS mounts are made by the kubelet on the node, so
	// these are the cluster's node ranges. Required.
	ClientCIDRs []string `json:"clientCidrs"`
	// After is what the VM must wait for, e.g. the Cloud NAT its first boot installs
	// packages through.
	After []pulumi.Resource `json:"-"`

	// MachineType of the VM. Defaults to e2-small: NFS for config files needs little CPU.
	MachineType string `json:"machineType"`
	// DiskSizeGB of the VM's data disk, 10..65536. Defaults to 100.
	DiskSizeGB int `json:"diskSizeGb"`
	// DiskType of the VM's data disk. Defaults to pd-balanced.
	DiskType string `json:"diskType"`

	// Tier of the Filestore instance. Defaults to BASIC_HDD.
	Tier string `json:"tier"`
	// CapacityGB of the Filestore share; at least the tier's minimum. Defaults to it.
	CapacityGB int `json:"capacityGb"`

	// Namespace of the claim workloads mount. Required.
	Namespace pulumi.StringInput `json:"-"`
	// ServerNamespace holds the in-cluster server (a privileged pod) or the Filestore
	// directory Job (root, to chown), neither of which the workloads' restricted namespace
	// allows. Required for in-cluster and filestore.
	ServerNamespace pulumi.StringInput `json:"-"`
	// ServerImage is the in-cluster NFS server. Defaults to Kubernetes' own e2e NFS image.
	ServerImage string `json:"serverImage"`
	// ToolsImage runs the one-time Job that creates the shared directories on a Filestore
	// share (needs sh, mkdir, chown). Defaults to busybox:1.37.
	ToolsImage string `json:"toolsImage"`
	// StorageClass is the ReadWriteMany class (storage-class) or the class of the
	// in-cluster server's disk (in-cluster; default: the cluster's default class).
	StorageClass string `json:"storageClass"`
	// Size of the claim, e.g. 10Gi. NFS does not enforce it; it documents intent and sizes
	// the in-cluster server's disk and storage-class volumes. Defaults to 10Gi.
	Size string `json:"size"`
	// Directories are created in the share owned by UID:GID before any client mounts it
	// (vm, in-cluster), e.g. the subPaths workloads mount.
	Directories []string `json:"-"`
	// VolumeName is the PersistentVolume's name, unique in the cluster. Defaults to
	// "apim-shared".
	VolumeName string `json:"-"`
	// ClaimName is the PersistentVolumeClaim's name. Defaults to "apim-shared".
	ClaimName string `json:"-"`

	// Protect guards what holds the data (data disk, Filestore instance, server claim, the
	// claim itself) against deletion or replacement by Pulumi. Defaults to true.
	Protect *bool `json:"protect"`
}

// RegionalTiers are the Filestore tiers whose instances live in a region, not a zone.
var RegionalTiers = []string{"REGIONAL", "ENTERPRISE"}

// Regional says the Filestore instance is placed in a region.
func (a Args) Regional() bool {
	return a.Backend == BackendFilestore && slices.Contains(RegionalTiers, a.Tier)
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
	if a.ToolsImage == "" {
		a.ToolsImage = "busybox:1.37"
	}
	if i := strings.LastIndex(a.Zone, "-"); a.Region == "" && i > 0 {
		a.Region = a.Zone[:i]
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

// Cloud reports whether the backend is a Google Cloud resource (vm, filestore).
func (a Args) Cloud() bool { return a.Backend == BackendVM || a.Backend == BackendFilestore }

// Validate checks defaulted args; key prefixes every message (e.g. "nfs").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	if p.Required(k("backend"), a.Backend, "use one of vm, filestore, in-cluster, storage-class") {
		p.OneOf(k("backend"), a.Backend, BackendVM, BackendFilestore, BackendInCluster, BackendStorageClass)
	}
	switch a.Backend {
	case BackendFilestore:
		if min, ok := TierMinimumGB[a.Tier]; !ok {
			p.Addf(k("tier"), "%q is not valid; use one of %s", a.Tier, strings.Join(kube.SortedKeys(TierMinimumGB), ", "))
		} else if a.CapacityGB < min {
			p.Addf(k("capacityGb"), "%d is below the %s tier's minimum of %d GB; raise it or choose another tier", a.CapacityGB, a.Tier, min)
		}
	case BackendVM:
		p.Between(k("diskSizeGb"), a.DiskSizeGB, 10, 65536)
		p.Matches(k("machineType"), a.MachineType, validate.MachineTypeRe, "a Compute Engine machine type such as e2-small")
		p.OneOf(k("diskType"), a.DiskType, "pd-standard", "pd-balanced", "pd-ssd")
	case BackendStorageClass:
		p.Required(k("storageClass"), a.StorageClass, "backend storage-class needs the name of a ReadWriteMany storage class")
	}
	if a.Cloud() {
		p.Matches(k("zone"), a.Zone, validate.ZoneRe, "a zone such as europe-west1-b")
	}
	if a.Regional() && a.Zone != "" && !strings.HasPrefix(a.Zone, a.Region+"-") {
		p.Addf(k("zone"), "%q is not in region %q, where a %s instance is placed", a.Zone, a.Region, a.Tier)
	}
	p.Quantity(k("size"), a.Size, "10Gi")
	p.Image(k("serverImage"), a.ServerImage, "registry.k8s.io/e2e-test-images/volume/nfs:1.4")
	p.Image(k("toolsImage"), a.ToolsImage, "busybox:1.37")
	for i, cidr := range a.ClientCIDRs {
		p.CIDR(fmt.Sprintf("%s[%d]", k("clientCidrs"), i), cidr)
	}
	return p
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
