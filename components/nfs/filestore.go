package nfs

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/filestore"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const filestoreShare = "apim"

func newFilestore(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	inst, err := filestore.NewInstance(ctx, name, &filestore.InstanceArgs{
		Project:  pulumi.String(a.Project),
		Location: pulumi.String(a.Zone),
		Tier:     pulumi.String(a.Tier),
		FileShares: &filestore.InstanceFileSharesArgs{
			Name:       pulumi.String(filestoreShare),
			CapacityGb: pulumi.Int(a.CapacityGB),
			NfsExportOptions: filestore.InstanceFileSharesNfsExportOptionArray{filestore.InstanceFileSharesNfsExportOptionArgs{
				IpRanges:   pulumi.ToStringArray(a.ClientCIDRs),
				AccessMode: pulumi.String("READ_WRITE"),
				// Root (the kubelet creating subPath directories) writes as API Manager's
				// uid, so the pods can always write what it created.
				SquashMode: pulumi.String("ROOT_SQUASH"),
				AnonUid:    pulumi.Int(UID),
				AnonGid:    pulumi.Int(GID),
			}},
		},
		Networks: filestore.InstanceNetworkArray{filestore.InstanceNetworkArgs{
			Network:     a.NetworkName,
			Modes:       pulumi.StringArray{pulumi.String("MODE_IPV4")},
			ConnectMode: pulumi.String("DIRECT_PEERING"),
		}},
	}, append(opts, pulumi.Protect(*a.Protect))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return inst.Networks.Index(pulumi.Int(0)).IpAddresses().Index(pulumi.Int(0)), nil
}
