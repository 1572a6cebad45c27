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
	// CapacityGB of the Filestore share in GiB, within the tier's range and steps (see
	// FilestoreTiers). Defaults to the tier's minimum.
	CapacityGB int `json:"capacityGb"`
	// ReservedIPRange is the private range the Filestore instance takes its addresses from: a
	// /29 for the basic tiers, a /26 for zonal and regional below 10 TiB and for enterprise, a
	// /24 for zonal and regional from 10 TiB. It must not overlap the node, pod, service or
	// control-plane ranges; left to Filestore, it could take a range the VPC needs later.
	// Defaults to 10.30.0.0 with the tier's size, outside the network component's defaults.
	ReservedIPRange string `json:"reservedIpRange"`

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

// CapacityRange is a span of Filestore share sizes in GiB: from Min to Max in Step units from
// Min, with a reserved IP range of prefix length RangeBits.
type CapacityRange struct {
	Min, Max, Step, RangeBits int
}

// FilestoreTiers are the sizes each tier allows. Capacities: Google Cloud, "Filestore service
// tiers" (cloud.google.com/filestore/docs/service-tiers, the tier comparison table: basic HDD
// 1 TiB to 63.9 TiB and basic SSD 2.5 TiB to 63.9 TiB in 1 GiB units; zonal and regional
// 1 TiB to 9.75 TiB in 256 GiB units and 10 TiB to 100 TiB in 2.5 TiB units; enterprise 1 TiB
// to 10 TiB in 256 GiB units). Reserved range sizes: the Filestore API's
// NetworkConfig.reservedIpRange (a /29 for the basic tiers, a /26 for enterprise, a /24 for
// the high-scale tier that zonal from 10 TiB replaced); zonal and regional below 10 TiB are
// taken to need enterprise's /26 (inferred: the docs name no size for them).
var FilestoreTiers = map[string][]CapacityRange{
	"BASIC_HDD":  {{Min: 1024, Max: 65433, Step: 1, RangeBits: 29}},
	"BASIC_SSD":  {{Min: 2560, Max: 65433, Step: 1, RangeBits: 29}},
	"ZONAL":      {{Min: 1024, Max: 9984, Step: 256, RangeBits: 26}, {Min: 10240, Max: 102400, Step: 2560, RangeBits: 24}},
	"REGIONAL":   {{Min: 1024, Max: 9984, Step: 256, RangeBits: 26}, {Min: 10240, Max: 102400, Step: 2560, RangeBits: 24}},
	"ENTERPRISE": {{Min: 1024, Max: 10240, Step: 256, RangeBits: 26}},
}

// FilestoreCapacity returns the range a share of gb GiB falls in, or a problem ("" when the
// tier is unknown, which is reported elsewhere): what is wrong and what would be valid.
func FilestoreCapacity(tier string, gb int) (CapacityRange, string) {
	ranges, ok := FilestoreTiers[tier]
	if !ok {
		return CapacityRange{}, ""
	}
	for _, r := range ranges {
		if gb >= r.Min && gb <= r.Max && (gb-r.Min)%r.Step == 0 {
			return r, ""
		}
	}
	if gb < ranges[0].Min {
		return CapacityRange{}, fmt.Sprintf("%d is below the %s tier's minimum of %d GiB; raise it or choose another tier", gb, tier, ranges[0].Min)
	}
	var valid []string
	for _, r := range ranges {
		if r.Step == 1 {
			valid = append(valid, fmt.Sprintf("%d to %d GiB", r.Min, r.Max))
		} else {
			valid = append(valid, fmt.Sprintf("%d to %d GiB in steps of %d GiB", r.Min, r.Max, r.Step))
		}
	}
	return CapacityRange{}, fmt.Sprintf("%d is not a size the %s tier offers; want %s", gb, tier, strings.Join(valid, ", or "))
}

// defaultReservedBase is where the default Filestore range starts: clear of the network
// component's default node (10.10.0.0/20), pod (10.16.0.0/14) and service (10.20.0.0/20)
// ranges and of GKE's default control-plane range (172.16.0.0/28).
const defaultReservedBase = "10.30.0.0"

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
	if ranges := FilestoreTiers[a.Tier]; a.CapacityGB == 0 && len(ranges) > 0 {
		a.CapacityGB = ranges[0].Min
	}
	if a.Backend == BackendFilestore && a.ReservedIPRange == "" {
		a.ReservedIPRange = fmt.Sprintf("%s/%d", defaultReservedBase, a.reservedRangeBits())
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

// reservedRangeBits is the prefix length the tier and capacity want (the smallest range's when
// the capacity fits none).
func (a Args) reservedRangeBits() int {
	if r, problem := FilestoreCapacity(a.Tier, a.CapacityGB); problem == "" && r.RangeBits != 0 {
		return r.RangeBits
	}
	if ranges := FilestoreTiers[a.Tier]; len(ranges) > 0 {
		return ranges[0].RangeBits
	}
	return 29
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
		if _, ok := FilestoreTiers[a.Tier]; !ok {
			p.Addf(k("tier"), "%q is not valid; use one of %s", a.Tier, strings.Join(kube.SortedKeys(FilestoreTiers), ", "))
		} else if _, problem := FilestoreCapacity(a.Tier, a.CapacityGB); problem != "" {
			p.Addf(k("capacityGb"), "%s", problem)
		}
		if pfx, ok := p.CIDR(k("reservedIpRange"), a.ReservedIPRange); ok {
			want := a.reservedRangeBits()
			switch {
			case !validate.IsPrivate(pfx):
				p.Addf(k("reservedIpRange"), "%q is not a private range; want a /%d inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, such as %s/%d", a.ReservedIPRange, want, defaultReservedBase, want)
			case pfx.Bits() != want:
				p.Addf(k("reservedIpRange"), "%q is not valid for tier %s at %d GiB; want a /%d such as %s/%d", a.ReservedIPRange, a.Tier, a.CapacityGB, want, defaultReservedBase, want)
			}
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
