package nfs

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	vmExportPath = "/srv/nfs/apim"
	// mountd gets a fixed port in the in-cluster server so that its NetworkPolicy can name it.
	mountdPort = 20048
	vmTag      = "apim-nfs-server"
)

// NFSPorts are what the VM's firewall admits, over TCP only: every client mounts NFSv4.1
// (see NewFileServer), which needs neither the portmapper (111) nor mountd, and the server
// speaks nothing older (vmStartupScript).
var NFSPorts = []string{"2049"}

// NFSv4OnlyConf is the VM's /etc/nfs.conf.d/ drop-in. Debian 12's nfs-utils 2.6 reads only
// nfs.conf and nfs.conf.d under systemd (its units pass no options from
// /etc/default/nfs-kernel-server), and rpc.mountd follows the [nfsd] versions too. NFSv3 and
// v4.0 are off; 4.1 and 4.2 stay on.
const NFSv4OnlyConf = `[nfsd]
vers3=n
vers4.0=n
`

// vmStartupScript formats the data disk only if it has no filesystem (so a replaced VM keeps
// the data), mounts it, creates the shared directories for API Manager's uid and exports them
// to the client ranges. all_squash maps every client user, root included, to that uid, so
// files are always writable by the pods. The server speaks NFSv4.1+ only, and the services
// only older versions need (rpcbind, statd) are masked, as Red Hat's "Configuring an
// NFSv4-only server" does for the same nfs-utils. It runs at every boot and is idempotent; the
// package install retries, because the first boot may come before Cloud NAT passes traffic.
func vmStartupScript(clients, dirs []string) string {
	var exports []string
	for _, c := range clients {
		exports = append(exports, fmt.Sprintf("%s(rw,sync,no_subtree_check,all_squash,anonuid=%d,anongid=%d)", c, UID, GID))
	}
	return fmt.Sprintf(`#!/bin/bash
set -euo pipefail
retry() {
  local n
  for n in 1 2 3 4 5 6 7 8 9 10; do
    if "$@"; then return 0; fi
    echo "attempt $n of '$*' failed; retrying in $((n * 6))s" >&2
    sleep $((n * 6))
  done
  return 1
}
disk=/dev/disk/by-id/google-nfs-data
if ! blkid "$disk" >/dev/null 2>&1; then
  mkfs.ext4 -F -m 0 -E lazy_itable_init=0,lazy_journal_init=0,discard "$disk"
fi
mkdir -p /srv/nfs
grep -q "$disk" /etc/fstab || echo "$disk /srv/nfs ext4 discard,defaults,nofail 0 2" >> /etc/fstab
mountpoint -q /srv/nfs || mount /srv/nfs
for dir in %[6]s; do
  mkdir -p "%[1]s/$dir"
  chown %[2]d:%[3]d "%[1]s/$dir"
done
if ! command -v exportfs >/dev/null; then
  retry apt-get update -q
  DEBIAN_FRONTEND=noninteractive retry apt-get install -y -q nfs-kernel-server
fi
mkdir -p /etc/nfs.conf.d
cat > /etc/nfs.conf.d/apim.conf <<'EOF'
%[4]sEOF
systemctl mask --now rpcbind.socket rpcbind.service rpc-statd.service
echo "%[1]s %[5]s" > /etc/exports
systemctl enable --now nfs-kernel-server
systemctl restart nfs-kernel-server
exportfs -ra
`, vmExportPath, UID, GID, NFSv4OnlyConf, strings.Join(exports, " "), strings.Join(dirs, " "))
}

func newVM(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	// The data lives on its own disk: the VM can be replaced (new image, machine type)
	// without touching it.
	disk, err := compute.NewDisk(ctx, name+"-data", &compute.DiskArgs{
		Project: pulumi.String(a.Project),
		Zone:    pulumi.String(a.Zone),
		Size:    pulumi.Int(a.DiskSizeGB),
		Type:    pulumi.String(a.DiskType),
	}, append(opts, pulumi.Protect(*a.Protect))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	// A reserved internal address: the PersistentVolume names the server by IP (an immutable
	// field), so the IP must outlive any replacement of the VM.
	addr, err := compute.NewAddress(ctx, name, &compute.AddressArgs{
		Project:     pulumi.String(a.Project),
		Region:      pulumi.String(a.Region),
		Subnetwork:  a.SubnetworkSelfLink,
		AddressType: pulumi.String("INTERNAL"),
		Purpose:     pulumi.String("GCE_ENDPOINT"),
	}, append(opts, pulumi.Protect(*a.Protect))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	vm, err := compute.NewInstance(ctx, name, &compute.InstanceArgs{
		Project:     pulumi.String(a.Project),
		Zone:        pulumi.String(a.Zone),
		MachineType: pulumi.String(a.MachineType),
		Tags:        pulumi.StringArray{pulumi.String(vmTag)},
		BootDisk: &compute.InstanceBootDiskArgs{
			InitializeParams: &compute.InstanceBootDiskInitializeParamsArgs{
				Image: pulumi.String("debian-cloud/debian-12"),
				Size:  pulumi.Int(20),
			},
		},
		AttachedDisks: compute.InstanceAttachedDiskArray{compute.InstanceAttachedDiskArgs{
			Source:     disk.SelfLink,
			DeviceName: pulumi.String("nfs-data"),
		}},
		// No accessConfigs: no external IP. Packages come through Cloud NAT.
		NetworkInterfaces: compute.InstanceNetworkInterfaceArray{compute.InstanceNetworkInterfaceArgs{
			Subnetwork: a.SubnetworkSelfLink,
			NetworkIp:  addr.Address,
		}},
		// Instance metadata, not metadataStartupScript (which replaces the VM on any change):
		// a new script is picked up in place, at the next boot.
		Metadata: pulumi.StringMap{
			"startup-script":         pulumi.String(vmStartupScript(a.ClientCIDRs, a.Directories)),
			"block-project-ssh-keys": pulumi.String("true"),
		},
		ShieldedInstanceConfig: &compute.InstanceShieldedInstanceConfigArgs{
			EnableSecureBoot:          pulumi.Bool(true),
			EnableVtpm:                pulumi.Bool(true),
			EnableIntegrityMonitoring: pulumi.Bool(true),
		},
		// A machine type change stops and starts the VM instead of failing the update.
		AllowStoppingForUpdate: pulumi.Bool(true),
	}, append(opts,
		// The old VM holds the data disk (read-write, one VM at a time) and the address: it
		// must be gone before its replacement can take them.
		pulumi.DeleteBeforeReplace(true),
		// The first boot installs packages through Cloud NAT.
		pulumi.DependsOn(a.After))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	if _, err := compute.NewFirewall(ctx, name+"-clients", &compute.FirewallArgs{
		Project:      pulumi.String(a.Project),
		Network:      a.NetworkName,
		Direction:    pulumi.String("INGRESS"),
		SourceRanges: pulumi.ToStringArray(a.ClientCIDRs),
		TargetTags:   pulumi.StringArray{pulumi.String(vmTag)},
		Allows:       compute.FirewallAllowArray{compute.FirewallAllowArgs{Protocol: pulumi.String("tcp"), Ports: pulumi.ToStringArray(NFSPorts)}},
	}, opts...); err != nil {
		return pulumi.StringOutput{}, err
	}
	// The address, once the VM that serves it exists: the volume waits for its server.
	return pulumi.All(addr.Address, vm.ID()).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput), nil
}
