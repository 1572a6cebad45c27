package network

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NewNetwork creates the VPC, its subnetwork and, when asked, Cloud NAT.
func NewNetwork(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("network %q: args are required", name)
	}
	a := args.WithDefaults()
	p := a.Validate("")
	p.Required("Project", a.Project, "the Google Cloud project ID")
	p.Required("Region", a.Region, "a region such as europe-west1")
	if err := p.Err(fmt.Sprintf("network %q", name)); err != nil {
		return nil, err
	}

	n := &Network{Region: a.Region, NodeCIDR: a.NodeCIDR, PodCIDR: a.PodCIDR, ServiceCIDR: a.ServiceCIDR}
	if err := ctx.RegisterComponentResource("wso2apim:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)

	vpc, err := compute.NewNetwork(ctx, name, &compute.NetworkArgs{
		Project: pulumi.String(a.Project),
		// Custom mode: auto-mode subnets would overlap the pod and service ranges below.
		AutoCreateSubnetworks: pulumi.Bool(false),
		RoutingMode:           pulumi.String("REGIONAL"),
	}, parent)
	if err != nil {
		return nil, err
	}

	var flowLogs *compute.SubnetworkLogConfigArgs
	if a.FlowLogs {
		flowLogs = &compute.SubnetworkLogConfigArgs{
			AggregationInterval: pulumi.String("INTERVAL_5_MIN"),
			FlowSampling:        pulumi.Float64(0.5),
			Metadata:            pulumi.String("INCLUDE_ALL_METADATA"),
		}
	}
	subnet, err := compute.NewSubnetwork(ctx, name, &compute.SubnetworkArgs{
		LogConfig:   flowLogs,
		Project:     pulumi.String(a.Project),
		Region:      pulumi.String(a.Region),
		Network:     vpc.ID(),
		IpCidrRange: pulumi.String(a.NodeCIDR),
		// Private nodes reach Google APIs (Artifact Registry, logging) without a public IP.
		PrivateIpGoogleAccess: pulumi.Bool(true),
		SecondaryIpRanges: compute.SubnetworkSecondaryIpRangeArray{
			compute.SubnetworkSecondaryIpRangeArgs{RangeName: pulumi.String(PodRangeName), IpCidrRange: pulumi.String(a.PodCIDR)},
			compute.SubnetworkSecondaryIpRangeArgs{RangeName: pulumi.String(ServiceRangeName), IpCidrRange: pulumi.String(a.ServiceCIDR)},
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	if a.CloudNAT {
		router, err := compute.NewRouter(ctx, name, &compute.RouterArgs{
			Project: pulumi.String(a.Project),
			Region:  pulumi.String(a.Region),
			Network: vpc.ID(),
		}, parent)
		if err != nil {
			return nil, err
		}
		nat, err := compute.NewRouterNat(ctx, name, &compute.RouterNatArgs{
			Project:                       pulumi.String(a.Project),
			Region:                        pulumi.String(a.Region),
			Router:                        router.Name,
			NatIpAllocateOption:           pulumi.String("AUTO_ONLY"),
			SourceSubnetworkIpRangesToNat: pulumi.String("ALL_SUBNETWORKS_ALL_IP_RANGES"),
		}, parent)
		if err != nil {
			return nil, err
		}
		n.NAT = nat
	}

	n.NetworkSelfLink = vpc.SelfLink
	n.NetworkID = vpc.ID().ToStringOutput()
	n.NetworkName = vpc.Name
	n.SubnetworkSelfLink = subnet.SelfLink
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"networkSelfLink":    n.NetworkSelfLink,
		"subnetworkSelfLink": n.SubnetworkSelfLink,
	}); err != nil {
		return nil, err
	}
	return n, nil
}
