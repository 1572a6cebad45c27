package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/nfs"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeInstance  = "gcp:compute/instance:Instance"
	typeDisk      = "gcp:compute/disk:Disk"
	typeFirewall  = "gcp:compute/firewall:Firewall"
	typeFilestore = "gcp:filestore/instance:Instance"
	typePV        = "kubernetes:core/v1:PersistentVolume"
	typePVC       = "kubernetes:core/v1:PersistentVolumeClaim"
	typeNFS       = "wso2apim:nfs:FileServer"
)

func assertStaticNFSVolume(t *testing.T, g *harness.Graph, server, path string) {
	t.Helper()
	pv := g.Find(typePV, "apim-nfs")
	require.NotNil(t, pv)
	assert.Equal(t, server, pv.Get("spec.nfs.server"))
	assert.Equal(t, path, pv.Get("spec.nfs.path"))
	assert.Equal(t, []any{"ReadWriteMany"}, pv.Get("spec.accessModes"))
	assert.Equal(t, "Retain", pv.Get("spec.persistentVolumeReclaimPolicy"), "releasing the claim never deletes data")
	assert.Equal(t, "", pv.Get("spec.storageClassName"))

	pvc := g.Find(typePVC, "apim-nfs")
	require.NotNil(t, pvc)
	assert.Equal(t, pv.Get("metadata.name"), pvc.Get("spec.volumeName"), "the claim binds to this volume by name")
	assert.Equal(t, "", pvc.Get("spec.storageClassName"), "no provisioner may take the claim")
	assert.Equal(t, []any{"ReadWriteMany"}, pvc.Get("spec.accessModes"))
	assert.Equal(t, "wso2-apim", pvc.Get("metadata.namespace"))

	// API Manager mounts the claim at the shared directories, and depends on it so that a
	// destroy deletes the pods before the claim they hold.
	for _, d := range []string{"apim-cp", "apim-gw"} {
		dep := apimWorkload(t, g, d)
		assert.True(t, g.DependsOn(dep, pvc), "%s must be deleted before the claim it mounts", d)
		vols := dep.Get("spec.template.spec.volumes").([]any)
		var claims []any
		for _, v := range vols {
			if c := v.(map[string]any)["persistentVolumeClaim"]; c != nil {
				claims = append(claims, c.(map[string]any)["claimName"])
			}
		}
		assert.Contains(t, claims, pvc.Get("metadata.name"), d)
		mounts := dep.Get("spec.template.spec.containers.0.volumeMounts").([]any)
		var paths []string
		for _, m := range mounts {
			paths = append(paths, m.(map[string]any)["mountPath"].(string))
		}
		assert.Contains(t, paths, "/home/wso2carbon/"+map[string]string{"apim-cp": "wso2am", "apim-gw": "wso2am-universal-gw"}[d]+"-4.7.0/repository/tenants", d)
	}
}

func TestNFSOnAVM(t *testing.T) {
	g := run(t, "dev", nil)
	vm := one(t, g, typeInstance)
	assert.Nil(t, vm.Get("networkInterfaces.0.accessConfigs"), "no external IP")
	assert.Equal(t, "europe-west1-b", vm.Get("zone"))
	disk := one(t, g, typeDisk)
	assert.Equal(t, 50.0, disk.Get("size"))
	assert.Contains(t, vm.String("attachedDisks.0.source"), disk.Name, "data lives on a separate disk")
	assert.Equal(t, "nfs-data", vm.Get("attachedDisks.0.deviceName"))
	script := vm.String("metadata[startup-script]")
	assert.Contains(t, script, "if ! blkid", "the disk is formatted only once")
	assert.Contains(t, script, "anonuid=10001")
	assert.Contains(t, script, "retry apt-get install", "the first boot may come before NAT passes traffic")
	assert.Nil(t, vm.Get("metadataStartupScript"), "metadataStartupScript replaces the VM on any change")
	assert.True(t, vm.DeleteBeforeReplace, "the old VM holds the data disk and the address its successor needs")
	assert.False(t, disk.Protect, "dev data is not protected")

	// A reserved internal address: the PersistentVolume's server (immutable) survives the VM.
	addr := one(t, g, "gcp:compute/address:Address")
	assert.Equal(t, "INTERNAL", addr.Get("addressType"))
	assert.Equal(t, "europe-west1", addr.Get("region"))
	assert.True(t, g.DependsOn(vm, addr))
	nat := one(t, g, "gcp:compute/routerNat:RouterNat")
	assert.True(t, g.DependsOn(vm, nat), "the first boot installs packages through Cloud NAT")

	fw := one(t, g, typeFirewall)
	assert.Equal(t, []any{"10.10.0.0/20"}, fw.Get("sourceRanges"), "only the nodes mount NFS (the kubelet does)")
	assert.Equal(t, []any{"apim-nfs-server"}, fw.Get("targetTags"))
	assert.Equal(t, vm.Get("tags"), fw.Get("targetTags"))
	assert.Equal(t, []any{map[string]any{"protocol": "tcp", "ports": []any{"2049"}}}, fw.Get("allows"))
	assertStaticNFSVolume(t, g, "10.10.0.50", "/srv/nfs/apim")
	assert.True(t, g.DependsOn(g.Find(typePV, "apim-nfs"), vm), "the volume waits for its server")
}

func TestNFSOnFilestore(t *testing.T) {
	g := run(t, "prod", nil)
	fs := one(t, g, typeFilestore)
	assert.Equal(t, 1024.0, fs.Get("fileShares.capacityGb"))
	assert.Equal(t, "REGIONAL", fs.Get("tier"))
	assert.Equal(t, "europe-west1", fs.Get("location"), "regional: the share outlives a zone")
	rules := fs.Get("fileShares.nfsExportOptions").([]any)
	require.Len(t, rules, 1, "one export rule: the node range")
	assert.Equal(t, []any{"10.10.0.0/20"}, fs.Get("fileShares.nfsExportOptions.0.ipRanges"))
	assert.Equal(t, "NO_ROOT_SQUASH", fs.Get("fileShares.nfsExportOptions.0.squashMode"), "root (the kubelet, the directory Job) must be root")
	assert.True(t, fs.Protect, "prod data is protected")
	assert.True(t, g.Find(typePV, "apim-nfs").Protect)
	assert.True(t, g.Find(typePVC, "apim-nfs").Protect)
	assert.Empty(t, g.OfType(typeInstance))
	assertStaticNFSVolume(t, g, "10.200.0.2", "/apim")

	// The share is root-owned 755: a one-time Job creates the directories for uid 10001
	// before any API Manager pod mounts them.
	job := g.Find("kubernetes:batch/v1:Job", "apim-nfs-dirs")
	require.NotNil(t, job)
	assert.Equal(t, "wso2-apim-nfs", job.Get("metadata.namespace"))
	assert.Equal(t, "baseline", g.Find(typeNamespace, "apim-nfs-ns").Get("metadata.labels[pod-security.kubernetes.io/enforce]"),
		"root to chown: baseline, not privileged")
	c := "spec.template.spec.containers.0."
	assert.Equal(t, 0.0, job.Get(c+"securityContext.runAsUser"))
	assert.Equal(t, []any{"ALL"}, job.Get(c+"securityContext.capabilities.drop"))
	assert.Equal(t, []any{"CHOWN"}, job.Get(c+"securityContext.capabilities.add"))
	assert.Equal(t, "10.200.0.2", job.Get("spec.template.spec.volumes.0.nfs.server"))
	assert.Equal(t, "/apim", job.Get("spec.template.spec.volumes.0.nfs.path"))
	assert.Equal(t, nfs.DirectoriesScript, job.Get(c+"command.2"))
	assert.Contains(t, job.String(c+"env"), "tenants userstores")
	for _, d := range []string{"apim-cp", "apim-gw"} {
		assert.True(t, g.DependsOn(apimWorkload(t, g, d), job), "%s mounts the directories only once they exist", d)
	}
}

func TestRegionalFilestoreTierIsPlacedInTheRegion(t *testing.T) {
	g := run(t, "prod", map[string]any{"nfs.tier": "REGIONAL", "nfs.reservedIpRange": "10.30.0.0/26"})
	assert.Equal(t, "europe-west1", one(t, g, typeFilestore).Get("location"))
	_, err := harness.Run(stacksProgram, "prod", harness.Options{Set: map[string]any{"nfs.tier": "ENTERPRISE", "nfs.zone": "us-east1-b"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `nfs.zone: "us-east1-b" is not in region "europe-west1", where a ENTERPRISE instance is placed`)
}

func TestNFSInCluster(t *testing.T) {
	g := run(t, "local", nil)
	server := g.Find(typeDeployment, "apim-nfs-server")
	require.NotNil(t, server)
	assert.Equal(t, "wso2-apim-nfs", server.Get("metadata.namespace"), "the privileged server is kept out of the restricted namespace")
	assert.Equal(t, "privileged", g.Find(typeNamespace, "apim-nfs-ns").Get("metadata.labels[pod-security.kubernetes.io/enforce]"))
	assert.Equal(t, "Recreate", server.Get("spec.strategy.type"), "its disk is ReadWriteOnce")
	claim := g.Find(typePVC, "apim-nfs-server")
	require.NotNil(t, claim)
	assert.Equal(t, []any{"ReadWriteOnce"}, claim.Get("spec.accessModes"))
	assert.Nil(t, claim.Get("spec.storageClassName"), "the cluster's default class")
	np := g.Find(typeNetPol, "apim-nfs-server")
	require.NotNil(t, np)
	assert.Equal(t, "10.0.0.0/8", np.Get("spec.ingress.0.from.0.ipBlock.cidr"))
	assertStaticNFSVolume(t, g, "10.96.0.50", "/")
}

func TestNFSWithAStorageClass(t *testing.T) {
	g := run(t, "local", map[string]any{"nfs.backend": "storage-class", "nfs.storageClass": "filestore-rwx"})
	assert.Empty(t, g.OfType(typePV))
	pvc := g.Find(typePVC, "apim-nfs")
	require.NotNil(t, pvc)
	assert.Equal(t, "filestore-rwx", pvc.Get("spec.storageClassName"))
	assert.Equal(t, []any{"ReadWriteMany"}, pvc.Get("spec.accessModes"))
	assert.Nil(t, g.Find(typeDeployment, "apim-nfs-server"))
}

// The file server's cloud resources need the network only: they are built while GKE builds
// the cluster, not after it.
func TestFileServerDoesNotWaitForTheCluster(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		g := run(t, stack, nil)
		cluster, pool := one(t, g, typeCluster), one(t, g, typeNodePool)
		var cloud []*harness.Resource
		for _, r := range g.WithPrefix("gcp:") {
			if p := g.ParentOf(r); p != nil && p.Type == typeNFS {
				cloud = append(cloud, r)
			}
		}
		require.NotEmpty(t, cloud, stack)
		for _, r := range cloud {
			assert.False(t, g.DependsOn(r, cluster), "%s %s waits for the cluster", r.Type, r.Name)
			assert.False(t, g.DependsOn(r, pool), "%s %s waits for the node pool", r.Type, r.Name)
		}
		// The Kubernetes side has to wait for the cluster, through its provider.
		assert.True(t, g.DependsOn(g.Find(typePV, "apim-nfs"), cluster), stack)
	}
}

func TestFilestoreCapacityBelowTierMinimum(t *testing.T) {
	_, err := harness.Run(stacksProgram, "prod", harness.Options{Set: map[string]any{"nfs.capacityGb": 500}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nfs.capacityGb: 500 is below the REGIONAL tier's minimum of 1024 GiB; raise it or choose another tier")
	_, err = harness.Run(stacksProgram, "prod", harness.Options{Set: map[string]any{"nfs.tier": "BASIC_SSD", "nfs.capacityGb": 1024}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nfs.capacityGb: 1024 is below the BASIC_SSD tier's minimum of 2560 GiB")
	assert.Equal(t, 2560, nfs.FilestoreTiers["BASIC_SSD"][0].Min)
}

// Filestore takes a range the program chooses, not one it picks itself (which could be a
// range the VPC needs later, such as the private control plane's /28): prod's is explicit,
// sized for its tier, and clear of every other range of the VPC.
func TestFilestoreHasAReservedRange(t *testing.T) {
	g := run(t, "prod", nil)
	fs := one(t, g, typeFilestore)
	assert.Equal(t, "10.30.0.0/26", fs.Get("networks.0.reservedIpRange"), "the regional tier takes a /26")
	basic := one(t, run(t, "prod", map[string]any{"nfs.tier": "BASIC_HDD", "nfs.reservedIpRange": nil}), typeFilestore)
	assert.Equal(t, "10.30.0.0/29", basic.Get("networks.0.reservedIpRange"), "the default follows the tier")
	own := one(t, run(t, "prod", map[string]any{"nfs.reservedIpRange": "192.168.50.64/26"}), typeFilestore)
	assert.Equal(t, "192.168.50.64/26", own.Get("networks.0.reservedIpRange"))
}

func TestCloudBackendNeedsGKE(t *testing.T) {
	g, err := harness.Run(stacksProgram, "local", harness.Options{Set: map[string]any{"nfs.backend": "vm"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `nfs.backend: "vm" needs cluster.mode gke; with an existing cluster use in-cluster or storage-class`)
	assert.Empty(t, g.All())
}

// Every client mounts the VM's share over NFSv4.1, which needs 2049/tcp alone: the firewall
// admits nothing else, and the server refuses the versions that would need more (v3's
// portmapper and mountd), with the services only they use masked.
func TestNFSVMServesNFSv4Only(t *testing.T) {
	g := run(t, "dev", nil)
	fw := one(t, g, typeFirewall)
	assert.Equal(t, []any{map[string]any{"protocol": "tcp", "ports": []any{"2049"}}}, fw.Get("allows"),
		"no 111 (portmapper) or 20048 (mountd), no UDP")
	pv := g.Find(typePV, "apim-nfs")
	require.NotNil(t, pv)
	assert.Equal(t, []any{"hard", "nfsvers=4.1"}, pv.Get("spec.mountOptions"), "clients speak NFSv4.1")
	script := one(t, g, typeInstance).String("metadata[startup-script]")
	assert.Contains(t, script, "[nfsd]\nvers3=n\nvers4.0=n\n", "the server speaks 4.1 and later only")
	assert.Contains(t, script, "systemctl mask --now rpcbind.socket rpcbind.service rpc-statd.service")
	assert.NotContains(t, script, "20048")
}
