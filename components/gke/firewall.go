package gke

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// WebhookPorts are the TCP ports on which a private cluster's control plane may call admission
// webhooks served by pods: GKE's own rules admit only 443 and 10250 from the control plane's
// range, so a webhook on another port times out. These are the ports
// terraform-google-kubernetes-engine opens by default (firewall_inbound_ports in its
// variables.tf): 8443 and 9443 (common webhook servers), 15017 (Istio's injector).
var WebhookPorts = []string{"8443", "9443", "15017"}

// newWebhookFirewall lets the control plane of a private cluster reach webhooks on the nodes.
// It targets the nodes' service account rather than a network tag: every node, the short-lived
// default pool's too, runs as that account, and nothing else does.
func newWebhookFirewall(ctx *pulumi.Context, name string, a ClusterArgs, nodeServiceAccount pulumi.StringInput,
	opts ...pulumi.ResourceOption) (*compute.Firewall, error) {
	return compute.NewFirewall(ctx, name+"-webhooks", &compute.FirewallArgs{
		Project:               pulumi.String(a.Project),
		Network:               a.NetworkSelfLink,
		Description:           pulumi.String("The control plane of GKE cluster " + a.Name + " calls admission webhooks on its nodes"),
		Direction:             pulumi.String("INGRESS"),
		SourceRanges:          pulumi.StringArray{pulumi.String(a.MasterCIDR)},
		TargetServiceAccounts: pulumi.StringArray{nodeServiceAccount},
		Allows: compute.FirewallAllowArray{compute.FirewallAllowArgs{
			Protocol: pulumi.String("tcp"),
			Ports:    pulumi.ToStringArray(WebhookPorts),
		}},
	}, opts...)
}
