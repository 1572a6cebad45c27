package nfs_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/nfs"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeFileServer = "wso2apim:nfs:FileServer"

func boolp(v bool) *bool { return &v }

// cloudArgs are the minimal args of a Google Cloud backend; k8sArgs of an in-cluster one.
func cloudArgs(backend string) *nfs.Args {
	return &nfs.Args{
		Backend:            backend,
		Project:            "my-project-1",
		Zone:               "europe-west1-b",
		NetworkName:        pulumi.String("vpc"),
		SubnetworkSelfLink: pulumi.String("subnet-link"),
		ClientCIDRs:        []string{"10.10.0.0/20"},
		ServerNamespace:    pulumi.String("nfs-setup"),
		Namespace:          pulumi.String("apps"),
	}
}

func inClusterArgs() *nfs.Args {
	return &nfs.Args{
		Backend:         nfs.BackendInCluster,
		ClientCIDRs:     []string{"10.0.0.0/16"},
		Namespace:       pulumi.String("apps"),
		ServerNamespace: pulumi.String("nfs-server"),
		Directories:     []string{"userstores", "tenants"},
	}
}

// run registers explicit gcp and kubernetes providers and one FileServer "files" on both.
func run(t *testing.T, args *nfs.Args) (*harness.Graph, *nfs.FileServer) {
	t.Helper()
	return harness.Construct(t, harness.GCPAndKubernetes("my-project-1"), nfs.NewFileServer, "files", args)
}

// assertClaim checks the static nfs volume and its claim every server backend ends in.
func assertClaim(t *testing.T, g *harness.Graph, server, path string, mountOptions []any, protect bool) {
	t.Helper()
	pv := g.Find(harness.TypePV, "files")
	require.NotNil(t, pv)
	assert.Equal(t, "apim-shared", pv.Get("metadata.name"), "default volume name")
	assert.Equal(t, server, pv.Get("spec.nfs.server"))
	assert.Equal(t, path, pv.Get("spec.nfs.path"))
	assert.Equal(t, mountOptions, pv.Get("spec.mountOptions"))
	assert.Equal(t, "10Gi", pv.Get("spec.capacity.storage"), "default size")
	assert.Equal(t, []any{"ReadWriteMany"}, pv.Get("spec.accessModes"))
	assert.Equal(t, "Retain", pv.Get("spec.persistentVolumeReclaimPolicy"))
	assert.Equal(t, "", pv.Get("spec.storageClassName"), "no provisioner may take it")
	assert.Equal(t, protect, pv.Protect)

	pvc := g.Find(harness.TypePVC, "files")
	require.NotNil(t, pvc)
	assert.Equal(t, "apim-shared", pvc.Get("metadata.name"), "default claim name")
	assert.Equal(t, "apps", pvc.Get("metadata.namespace"))
	assert.Equal(t, "apim-shared", pvc.Get("spec.volumeName"), "bound to the volume by name")
	assert.Equal(t, "", pvc.Get("spec.storageClassName"))
	assert.Equal(t, "10Gi", pvc.Get("spec.resources.requests.storage"))
	assert.Equal(t, []any{"ReadWriteMany"}, pvc.Get("spec.accessModes"))
	assert.Equal(t, protect, pvc.Protect)
	assert.True(t, g.DependsOn(pvc, pv))
	assert.Equal(t, "shared-storage", pvc.Get("metadata.labels[app.kubernetes.io/component]"))
}

func TestVMAlone(t *testing.T) {
	g, fs := run(t, cloudArgs(nfs.BackendVM))
	assert.ElementsMatch(t, []string{
		harness.TypeGCPDisk + " files-data", "gcp:compute/address:Address files", harness.TypeGCPInstance + " files", harness.TypeGCPFirewall + " files-clients",
		harness.TypePV + " files", harness.TypePVC + " files",
	}, harness.Children(t, g, typeFileServer))
	addr := g.Find("gcp:compute/address:Address", "files")
	assert.True(t, addr.Protect, "the volume names the server by this address")
	assert.Equal(t, "INTERNAL", addr.Get("addressType"))
	assert.Equal(t, "europe-west1", addr.Get("region"), "the zone's region")

	disk := g.Find(harness.TypeGCPDisk, "files-data")
	assert.True(t, disk.Protect, "the data disk is protected by default")
	assert.Equal(t, 100.0, disk.Get("size"), "default disk size")
	assert.Equal(t, "pd-balanced", disk.Get("type"), "default disk type")
	assert.Equal(t, "europe-west1-b", disk.Get("zone"))
	assert.Equal(t, "my-project-1", disk.Get("project"))

	vm := g.Find(harness.TypeGCPInstance, "files")
	assert.False(t, vm.Protect, "the VM holds no data and may be replaced")
	assert.True(t, vm.DeleteBeforeReplace, "its replacement needs the disk and the address it holds")
	assert.True(t, g.DependsOn(vm, addr))
	assert.Equal(t, "e2-small", vm.Get("machineType"), "default machine type")
	assert.Equal(t, "subnet-link", vm.Get("networkInterfaces.0.subnetwork"))
	assert.Nil(t, vm.Get("networkInterfaces.0.accessConfigs"), "no external IP")
	assert.Equal(t, "nfs-data", vm.Get("attachedDisks.0.deviceName"))
	assert.True(t, g.DependsOn(vm, disk))
	assert.Equal(t, true, vm.Get("shieldedInstanceConfig.enableSecureBoot"))
	assert.Nil(t, vm.Get("metadataStartupScript"), "it would replace the VM on any change")
	script := vm.String("metadata[startup-script]")
	assert.Equal(t, "true", vm.Get("metadata[block-project-ssh-keys]"))
	assert.Contains(t, script, `echo "/srv/nfs/apim 10.10.0.0/20(rw,sync,no_subtree_check,all_squash,anonuid=10001,anongid=10001)" > /etc/exports`,
		"exported to the client ranges only, squashed to API Manager's uid")
	assert.Contains(t, script, "cat > /etc/nfs.conf.d/apim.conf <<'EOF'\n[nfsd]\nvers3=n\nvers4.0=n\nEOF\n", "NFSv4.1+ only")
	assert.Contains(t, script, "systemctl mask --now rpcbind.socket rpcbind.service rpc-statd.service")
	assert.NotContains(t, script, "/etc/default/nfs-kernel-server", "Debian 12's systemd units never read it")

	fw := g.Find(harness.TypeGCPFirewall, "files-clients")
	assert.Equal(t, "vpc", fw.Get("network"))
	assert.Equal(t, []any{"10.10.0.0/20"}, fw.Get("sourceRanges"))
	assert.Equal(t, vm.Get("tags"), fw.Get("targetTags"))
	assert.Equal(t, []any{map[string]any{"protocol": "tcp", "ports": []any{"2049"}}}, fw.Get("allows"), "NFSv4.1 needs 2049/tcp alone")

	assertClaim(t, g, "10.10.0.50", "/srv/nfs/apim", []any{"hard", "nfsvers=4.1"}, true)
	assert.Equal(t, "/srv/nfs/apim", fs.ExportPath)
	assert.Equal(t, "apim-shared", fs.ClaimName)
}

func TestVMDirectoriesAreCreatedOwnedByAPIManager(t *testing.T) {
	a := cloudArgs(nfs.BackendVM)
	a.Directories = []string{"userstores", "tenants"}
	g, _ := run(t, a)
	script := g.Find(harness.TypeGCPInstance, "files").String("metadata[startup-script]")
	assert.Contains(t, script, "for dir in userstores tenants; do\n  mkdir -p \"/srv/nfs/apim/$dir\"\n  chown 10001:10001 \"/srv/nfs/apim/$dir\"\n")
}

func TestFilestoreAlone(t *testing.T) {
	g, fs := run(t, cloudArgs(nfs.BackendFilestore))
	assert.ElementsMatch(t, []string{harness.TypeFilestore + " files", harness.TypePV + " files", harness.TypePVC + " files",
		"kubernetes:batch/v1:Job files-dirs"}, harness.Children(t, g, typeFileServer))
	job := g.Find(harness.TypeJob, "files-dirs")
	assert.Equal(t, "nfs-setup", job.Get("metadata.namespace"))
	assert.Equal(t, "10.200.0.2", job.Get("spec.template.spec.volumes.0.nfs.server"))

	inst := g.Find(harness.TypeFilestore, "files")
	assert.Equal(t, "10.30.0.0/29", inst.Get("networks.0.reservedIpRange"), "a chosen range, not Filestore's pick")
	assert.True(t, inst.Protect, "the instance holds the data")
	assert.Equal(t, "BASIC_HDD", inst.Get("tier"), "default tier")
	assert.Equal(t, 1024.0, inst.Get("fileShares.capacityGb"), "defaults to the tier's minimum")
	assert.Equal(t, "apim", inst.Get("fileShares.name"))
	assert.Equal(t, "europe-west1-b", inst.Get("location"))
	assert.Equal(t, "vpc", inst.Get("networks.0.network"))
	assert.Equal(t, []any{map[string]any{
		"ipRanges": []any{"10.10.0.0/20"}, "accessMode": "READ_WRITE", "squashMode": "NO_ROOT_SQUASH",
	}}, inst.Get("fileShares.nfsExportOptions"))

	assertClaim(t, g, "10.200.0.2", "/apim", []any{"hard", "nfsvers=3"}, true)
	assert.Equal(t, "/apim", fs.ExportPath)
}

func TestInClusterAlone(t *testing.T) {
	g, fs := run(t, inClusterArgs())
	assert.ElementsMatch(t, []string{
		harness.TypePVC + " files-server", harness.TypeDeployment + " files-server", harness.TypeService + " files-server", harness.TypeNetworkPolicy + " files-server",
		harness.TypePV + " files", harness.TypePVC + " files",
	}, harness.Children(t, g, typeFileServer))
	assert.Empty(t, g.WithPrefix("gcp:"), "no Google Cloud resource")

	data := g.Find(harness.TypePVC, "files-server")
	assert.True(t, data.Protect, "the server's disk holds the data")
	assert.Equal(t, "nfs-server", data.Get("metadata.namespace"))
	assert.Equal(t, []any{"ReadWriteOnce"}, data.Get("spec.accessModes"))
	assert.Nil(t, data.Get("spec.storageClassName"), "the cluster's default class")
	assert.Equal(t, "10Gi", data.Get("spec.resources.requests.storage"))

	dep := g.Find(harness.TypeDeployment, "files-server")
	assert.False(t, dep.Protect)
	assert.Equal(t, "nfs-server", dep.Get("metadata.namespace"))
	assert.Equal(t, "Recreate", dep.Get("spec.strategy.type"), "one ReadWriteOnce disk")
	assert.Equal(t, "registry.k8s.io/e2e-test-images/volume/nfs:1.4", dep.Get("spec.template.spec.containers.0.image"), "default server image")
	assert.Equal(t, true, dep.Get("spec.template.spec.containers.0.securityContext.privileged"))
	assert.Equal(t, "files-server", dep.Get("spec.template.spec.volumes.0.persistentVolumeClaim.claimName"))
	assert.Equal(t, []any{"sh", "-c", nfs.DirectoriesScript}, dep.Get("spec.template.spec.initContainers.0.command"))
	assert.Equal(t, []any{
		map[string]any{"name": "SHARE", "value": "/exports"},
		map[string]any{"name": "OWNER", "value": "10001:10001"},
		map[string]any{"name": "DIRECTORIES", "value": "userstores tenants"},
	}, dep.Get("spec.template.spec.initContainers.0.env"))
	assert.True(t, g.DependsOn(dep, data))

	svc := g.Find(harness.TypeService, "files-server")
	assert.Equal(t, []any{
		map[string]any{"name": "nfs", "port": 2049.0, "targetPort": 2049.0},
		map[string]any{"name": "mountd", "port": 20048.0, "targetPort": 20048.0},
		map[string]any{"name": "rpcbind", "port": 111.0, "targetPort": 111.0},
	}, svc.Get("spec.ports"))

	np := g.Find(harness.TypeNetworkPolicy, "files-server")
	assert.Equal(t, []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.0.0.0/16"}}}, np.Get("spec.ingress.0.from"), "only the client ranges")

	assertClaim(t, g, "10.96.0.50", "/", []any{"hard", "nfsvers=4.1"}, true)
	assert.Equal(t, "/", fs.ExportPath)
}

func TestStorageClassAlone(t *testing.T) {
	g, fs := run(t, &nfs.Args{Backend: nfs.BackendStorageClass, StorageClass: "filestore-rwx", Namespace: pulumi.String("apps")})
	assert.ElementsMatch(t, []string{harness.TypePVC + " files"}, harness.Children(t, g, typeFileServer), "no server, no static volume")
	pvc := g.Find(harness.TypePVC, "files")
	assert.True(t, pvc.Protect)
	assert.Equal(t, "filestore-rwx", pvc.Get("spec.storageClassName"))
	assert.Equal(t, "apim-shared", pvc.Get("metadata.name"))
	assert.Equal(t, "10Gi", pvc.Get("spec.resources.requests.storage"))
	assert.Equal(t, []any{"ReadWriteMany"}, pvc.Get("spec.accessModes"))
	assert.Nil(t, pvc.Get("spec.volumeName"))
	assert.Equal(t, "", fs.ExportPath)
}

// Protect false releases everything that holds data, on every backend.
func TestProtectFollowsArgs(t *testing.T) {
	for _, a := range []*nfs.Args{cloudArgs(nfs.BackendVM), cloudArgs(nfs.BackendFilestore), inClusterArgs(),
		{Backend: nfs.BackendStorageClass, StorageClass: "rwx", Namespace: pulumi.String("apps")}} {
		t.Run(a.Backend, func(t *testing.T) {
			a.Protect = boolp(false)
			g, _ := run(t, a)
			for _, r := range g.All() {
				assert.False(t, r.Protect, "%s %s", r.Type, r.Name)
			}
		})
	}
}

func TestNamesAndSizeFromArgs(t *testing.T) {
	a := inClusterArgs()
	a.VolumeName, a.ClaimName, a.Size, a.StorageClass = "team-a-shared", "shared", "50Gi", "ssd"
	g, fs := run(t, a)
	pv, pvc := g.Find(harness.TypePV, "files"), g.Find(harness.TypePVC, "files")
	assert.Equal(t, "team-a-shared", pv.Get("metadata.name"))
	assert.Equal(t, "50Gi", pv.Get("spec.capacity.storage"))
	assert.Equal(t, "shared", pvc.Get("metadata.name"))
	assert.Equal(t, "team-a-shared", pvc.Get("spec.volumeName"))
	assert.Equal(t, "50Gi", g.Find(harness.TypePVC, "files-server").Get("spec.resources.requests.storage"))
	assert.Equal(t, "ssd", g.Find(harness.TypePVC, "files-server").Get("spec.storageClassName"))
	assert.Equal(t, "shared", fs.ClaimName)
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []harness.Refusal[*nfs.Args]{
		{"nil args", nil, `nfs "files": args are required`},
		{"vm without its placement", &nfs.Args{Backend: nfs.BackendVM},
			`nfs "files": Project: missing; backend vm needs the Google Cloud project; zone: missing; backend vm needs a zone; ` +
				`NetworkName: missing; backend vm needs the network (and, for vm, the subnetwork); ` +
				`clientCidrs: missing; want the ranges the kubelets mount from; Namespace: missing; want the namespace of the workloads' claim`},
		{"vm without its subnetwork", func() *nfs.Args { a := cloudArgs(nfs.BackendVM); a.SubnetworkSelfLink = nil; return a }(),
			`nfs "files": NetworkName: missing; backend vm needs the network (and, for vm, the subnetwork)`},
		{"filestore needs no subnetwork, but the network", func() *nfs.Args {
			a := cloudArgs(nfs.BackendFilestore)
			a.SubnetworkSelfLink, a.NetworkName = nil, nil
			return a
		}(), `nfs "files": NetworkName: missing; backend filestore needs the network (and, for vm, the subnetwork)`},
		{"filestore without a namespace for its directory Job", func() *nfs.Args { a := cloudArgs(nfs.BackendFilestore); a.ServerNamespace = nil; return a }(),
			`nfs "files": ServerNamespace: missing; backend filestore needs a namespace that allows a root pod (Pod Security baseline) for its directory Job`},
		{"in-cluster without a server namespace", func() *nfs.Args { a := inClusterArgs(); a.ServerNamespace = nil; return a }(),
			`nfs "files": ServerNamespace: missing; backend in-cluster needs a namespace that allows a privileged pod`},
		{"storage-class without a class", &nfs.Args{Backend: nfs.BackendStorageClass, Namespace: pulumi.String("apps")},
			`nfs "files": storageClass: missing; backend storage-class needs the name of a ReadWriteMany storage class`},
		{"unknown backend", &nfs.Args{Backend: "nas", ClientCIDRs: []string{"10.0.0.0/8"}, Namespace: pulumi.String("apps")},
			`nfs "files": backend: "nas" is not valid; use one of vm, filestore, in-cluster, storage-class`},
		{"bad values with missing ones", func() *nfs.Args {
			a := cloudArgs(nfs.BackendVM)
			a.Project, a.DiskSizeGB = "", 5
			return a
		}(), `nfs "files": diskSizeGb: 5 is not valid; want 10 to 65536; Project: missing; backend vm needs the Google Cloud project`},
	}
	harness.ExpectRefusals(t, nfs.NewFileServer, "files", cases)
}

// Backend is documented as required, but an empty one passes validation.
func TestRefusesMissingBackend(t *testing.T) {
	err := harness.Refused(t, nfs.NewFileServer, "files", &nfs.Args{ClientCIDRs: []string{"10.0.0.0/8"}, Namespace: pulumi.String("apps")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "backend: missing")
}

func TestWithDefaults(t *testing.T) {
	a := nfs.Args{}.WithDefaults()
	assert.Equal(t, "e2-small", a.MachineType)
	assert.Equal(t, 100, a.DiskSizeGB)
	assert.Equal(t, "pd-balanced", a.DiskType)
	assert.Equal(t, "BASIC_HDD", a.Tier)
	assert.Equal(t, 1024, a.CapacityGB)
	assert.Equal(t, "registry.k8s.io/e2e-test-images/volume/nfs:1.4", a.ServerImage)
	assert.Equal(t, "apim-shared", a.VolumeName)
	assert.Equal(t, "apim-shared", a.ClaimName)
	assert.Equal(t, "10Gi", a.Size)
	require.NotNil(t, a.Protect)
	assert.True(t, *a.Protect)

	ssd := nfs.Args{Tier: "BASIC_SSD", Protect: boolp(false)}.WithDefaults()
	assert.Equal(t, 2560, ssd.CapacityGB, "the chosen tier's minimum")
	assert.False(t, *ssd.Protect, "an explicit false stays")
	assert.Empty(t, a.ReservedIPRange, "only Filestore reserves a range")

	// The reserved range's size follows the tier and capacity (FilestoreTiers).
	for _, c := range []struct {
		tier     string
		capacity int
		want     string
	}{{"BASIC_HDD", 0, "10.30.0.0/29"}, {"BASIC_SSD", 0, "10.30.0.0/29"}, {"ZONAL", 0, "10.30.0.0/26"},
		{"ENTERPRISE", 0, "10.30.0.0/26"}, {"REGIONAL", 10240, "10.30.0.0/24"}} {
		d := nfs.Args{Backend: nfs.BackendFilestore, Tier: c.tier, CapacityGB: c.capacity}.WithDefaults()
		assert.Equal(t, c.want, d.ReservedIPRange, "%s %d", c.tier, c.capacity)
	}
	own := nfs.Args{Backend: nfs.BackendFilestore, ReservedIPRange: "192.168.50.8/29"}.WithDefaults()
	assert.Equal(t, "192.168.50.8/29", own.ReservedIPRange, "a chosen range stays")

	assert.True(t, nfs.Args{Backend: nfs.BackendVM}.Cloud())
	assert.True(t, nfs.Args{Backend: nfs.BackendFilestore}.Cloud())
	assert.False(t, nfs.Args{Backend: nfs.BackendInCluster}.Cloud())
	assert.False(t, nfs.Args{Backend: nfs.BackendStorageClass}.Cloud())
}

func TestValidate(t *testing.T) {
	with := func(backend string, f func(a *nfs.Args)) nfs.Args {
		a := nfs.Args{Backend: backend, Zone: "europe-west1-b", StorageClass: "rwx"}
		if f != nil {
			f(&a)
		}
		return a
	}
	cases := []harness.Validation[nfs.Args]{
		{"vm defaults", with(nfs.BackendVM, nil), ""},
		{"filestore defaults", with(nfs.BackendFilestore, nil), ""},
		{"in-cluster defaults", with(nfs.BackendInCluster, nil), ""},
		{"storage-class defaults", with(nfs.BackendStorageClass, nil), ""},

		{"backend", with("nas", nil), `nfs.backend: "nas" is not valid; use one of vm, filestore, in-cluster, storage-class`},

		{"filestore tier valid", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier = "ZONAL" }), ""},
		{"filestore tier", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier = "PREMIUM" }),
			`nfs.tier: "PREMIUM" is not valid; use one of BASIC_HDD, BASIC_SSD, ENTERPRISE, REGIONAL, ZONAL`},
		{"filestore capacity at the minimum", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.CapacityGB = "BASIC_SSD", 2560 }), ""},
		{"filestore capacity below the minimum", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.CapacityGB = "BASIC_SSD", 1024 }),
			"nfs.capacityGb: 1024 is below the BASIC_SSD tier's minimum of 2560 GiB; raise it or choose another tier"},
		{"filestore basic capacity at the maximum", with(nfs.BackendFilestore, func(a *nfs.Args) { a.CapacityGB = 65433 }), ""},
		{"filestore basic capacity above the maximum", with(nfs.BackendFilestore, func(a *nfs.Args) { a.CapacityGB = 65434 }),
			"nfs.capacityGb: 65434 is not a size the BASIC_HDD tier offers; want 1024 to 65433 GiB"},
		{"filestore zonal capacity in 256 GiB steps", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.CapacityGB = "ZONAL", 1280 }), ""},
		{"filestore zonal capacity off the steps", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.CapacityGB = "ZONAL", 1100 }),
			"nfs.capacityGb: 1100 is not a size the ZONAL tier offers; want 1024 to 9984 GiB in steps of 256 GiB, or 10240 to 102400 GiB in steps of 2560 GiB"},
		{"filestore zonal high capacity", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.CapacityGB = "ZONAL", 12800 }), ""},
		{"filestore zonal high capacity off the steps", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.CapacityGB = "REGIONAL", 11264 }),
			"nfs.capacityGb: 11264 is not a size the REGIONAL tier offers; want 1024 to 9984 GiB in steps of 256 GiB, or 10240 to 102400 GiB in steps of 2560 GiB"},
		{"filestore enterprise above 10 TiB", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.CapacityGB = "ENTERPRISE", 10496 }),
			"nfs.capacityGb: 10496 is not a size the ENTERPRISE tier offers; want 1024 to 10240 GiB in steps of 256 GiB"},
		{"filestore range chosen", with(nfs.BackendFilestore, func(a *nfs.Args) { a.ReservedIPRange = "192.168.50.8/29" }), ""},
		{"filestore range not a CIDR", with(nfs.BackendFilestore, func(a *nfs.Args) { a.ReservedIPRange = "10.30.0.1/29" }),
			`nfs.reservedIpRange: "10.30.0.1/29" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`},
		{"filestore range public", with(nfs.BackendFilestore, func(a *nfs.Args) { a.ReservedIPRange = "100.64.0.0/29" }),
			`nfs.reservedIpRange: "100.64.0.0/29" is not a private range; want a /29 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, such as 10.30.0.0/29`},
		{"filestore range size for the tier", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Tier, a.ReservedIPRange = "REGIONAL", "10.30.0.0/29" }),
			`nfs.reservedIpRange: "10.30.0.0/29" is not valid for tier REGIONAL at 1024 GiB; want a /26 such as 10.30.0.0/26`},

		{"vm disk size at the bounds", with(nfs.BackendVM, func(a *nfs.Args) { a.DiskSizeGB = 10 }), ""},
		{"vm disk size", with(nfs.BackendVM, func(a *nfs.Args) { a.DiskSizeGB = 65537 }), "nfs.diskSizeGb: 65537 is not valid; want 10 to 65536"},
		{"vm machine type valid", with(nfs.BackendVM, func(a *nfs.Args) { a.MachineType = "n2-standard-2" }), ""},
		{"vm machine type", with(nfs.BackendVM, func(a *nfs.Args) { a.MachineType = "small" }),
			`nfs.machineType: "small" is not valid; want a Compute Engine machine type such as e2-small`},
		{"vm disk type valid", with(nfs.BackendVM, func(a *nfs.Args) { a.DiskType = "pd-ssd" }), ""},
		{"vm disk type", with(nfs.BackendVM, func(a *nfs.Args) { a.DiskType = "hyperdisk" }),
			`nfs.diskType: "hyperdisk" is not valid; use one of pd-standard, pd-balanced, pd-ssd`},

		{"storage class", with(nfs.BackendStorageClass, func(a *nfs.Args) { a.StorageClass = "" }),
			"nfs.storageClass: missing; backend storage-class needs the name of a ReadWriteMany storage class"},

		{"zone", with(nfs.BackendFilestore, func(a *nfs.Args) { a.Zone = "europe-west1" }),
			`nfs.zone: "europe-west1" is not valid; want a zone such as europe-west1-b`},
		{"zone is not checked off the cloud", with(nfs.BackendInCluster, func(a *nfs.Args) { a.Zone = "anything" }), ""},

		{"size valid", with(nfs.BackendInCluster, func(a *nfs.Args) { a.Size = "100Gi" }), ""},
		{"size", with(nfs.BackendInCluster, func(a *nfs.Args) { a.Size = "100GB" }), `nfs.size: "100GB" is not valid; want a size such as 10Gi`},

		{"server image valid", with(nfs.BackendInCluster, func(a *nfs.Args) { a.ServerImage = "mirror.local/nfs:1.4" }), ""},
		{"server image", with(nfs.BackendInCluster, func(a *nfs.Args) { a.ServerImage = "nfs server" }),
			`nfs.serverImage: "nfs server" is not valid; want an image reference such as registry.k8s.io/e2e-test-images/volume/nfs:1.4`},

		{"client CIDRs valid", with(nfs.BackendVM, func(a *nfs.Args) { a.ClientCIDRs = []string{"10.0.0.0/8", "192.168.0.0/16"} }), ""},
		{"client CIDR", with(nfs.BackendVM, func(a *nfs.Args) { a.ClientCIDRs = []string{"10.0.0.0/8", "192.168.1.1/16"} }),
			`nfs.clientCidrs[1]: "192.168.1.1/16" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`},
	}
	harness.ExpectProblems(t, func(args nfs.Args) []string { return args.WithDefaults().Validate("nfs") }, cases)
}

// FilestoreTiers in GiB against Google's tier table in TiB (cloud.google.com/filestore/docs/
// service-tiers, read 2026-12): each span's first and last size and its unit.
func TestFilestoreTiersFollowGoogleDocs(t *testing.T) {
	const tib = 1024
	type span struct{ minTiB, maxTiB, unitGiB float64 }
	docs := map[string][]span{
		"BASIC_HDD":  {{1, 63.9, 1}},
		"BASIC_SSD":  {{2.5, 63.9, 1}},
		"ZONAL":      {{1, 9.75, 256}, {10, 100, 2.5 * tib}},
		"REGIONAL":   {{1, 9.75, 256}, {10, 100, 2.5 * tib}},
		"ENTERPRISE": {{1, 10, 256}},
	}
	require.Len(t, nfs.FilestoreTiers, len(docs))
	for tier, spans := range docs {
		ranges := nfs.FilestoreTiers[tier]
		require.Len(t, ranges, len(spans), tier)
		for i, s := range spans {
			assert.Equal(t, int(s.minTiB*tib), ranges[i].Min, "%s span %d", tier, i)
			assert.Equal(t, int(s.maxTiB*tib), ranges[i].Max, "%s span %d (whole GiB, rounded down)", tier, i)
			assert.Equal(t, int(s.unitGiB), ranges[i].Step, "%s span %d", tier, i)
		}
	}
}
