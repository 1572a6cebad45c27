package nfs

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	vmExportPath = "/srv/nfs/apim"
	// mountd gets a fixed port so that the firewall can name it.
	mountdPort = 20048
	vmTag      = "apim-nfs-server"
)

// NFSPorts are what the firewall admits: nfs, the portmapper and mountd (NFSv3 clients).
var NFSPorts = []string{"2049", "111", fmt.Sprint(mountdPort)}

// vmStartupScript formats the data disk only if it has no filesystem (so a replaced VM keeps
// the data), mounts it and exports it to the client ranges. all_squash maps every client
// user, root included, to API Manager's uid, so files are always writable by the pods.
func vmStartupScript(clients, dirs []string) string {
	var exports []string
	for _, c := range clients {
		exports = append(exports, fmt.Sprintf("%s(rw,sync,no_subtree_check,all_squash,anonuid=%d,anongid=%d)", c, UID, GID))
	}
	return fmt.Sprintf(`#!/bin/bash
set -euo pipefail
disk=/dev/disk/by-id/google-nfs-data
if ! blkid "$disk" >/dev/null 2>&1; then
  mkfs.ext4 -F -m 0 -E lazy_itable_init=0,lazy_journal_init=0,discard "$disk"
fi
mkdir -p /srv/nfs
grep -q "$disk" /etc/fstab || echo "$disk /srv/nfs ext4 discard,defaults,nofail 0 2" >> /etc/fstab
mountpoint -q /srv/nfs || mount /srv/nfs
mkdir -p %[1]s%[6]s
chown %[2]d:%[3]d %[1]s%[6]s
if ! command -v exportfs >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nfs-kernel-server
fi
sed -i 's/^RPCMOUNTDOPTS=.*/RPCMOUNTDOPTS="--manage-gids --port %[4]d"/' /etc/default/nfs-kernel-server
echo "%[1]s %[5]s" > /etc/exports
systemctl enable --now nfs-kernel-server
systemctl restart nfs-kernel-server
exportfs -ra
`, vmExportPath, UID, GID, mountdPort, strings.Join(exports, " "), subdirs(vmExportPath, dirs))
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
		}},
		MetadataStartupScript: pulumi.String(vmStartupScript(a.ClientCIDRs, a.Directories)),
		Metadata:              pulumi.StringMap{"block-project-ssh-keys": pulumi.String("true")},
		ShieldedInstanceConfig: &compute.InstanceShieldedInstanceConfigArgs{
			EnableSecureBoot:          pulumi.Bool(true),
			EnableVtpm:                pulumi.Bool(true),
			EnableIntegrityMonitoring: pulumi.Bool(true),
		},
		// A machine type change stops and starts the VM instead of failing the update.
		AllowStoppingForUpdate: pulumi.Bool(true),
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	var ports compute.FirewallAllowArray
	for _, proto := range []string{"tcp", "udp"} {
		ports = append(ports, compute.FirewallAllowArgs{Protocol: pulumi.String(proto), Ports: pulumi.ToStringArray(NFSPorts)})
	}
	if _, err := compute.NewFirewall(ctx, name+"-clients", &compute.FirewallArgs{
		Project:      pulumi.String(a.Project),
		Network:      a.NetworkName,
		Direction:    pulumi.String("INGRESS"),
		SourceRanges: pulumi.ToStringArray(a.ClientCIDRs),
		TargetTags:   pulumi.StringArray{pulumi.String(vmTag)},
		Allows:       ports,
	}, opts...); err != nil {
		return pulumi.StringOutput{}, err
	}
	return vm.NetworkInterfaces.Index(pulumi.Int(0)).NetworkIp().Elem(), nil
}

// subdirs renders " <root>/<d1> <root>/<d2>" for a shell command line.
func subdirs(root string, dirs []string) string {
	var b strings.Builder
	for _, d := range dirs {
		b.WriteString(" " + root + "/" + d)
	}
	return b.String()
}
