package platform

import (
	"net/netip"

	"github.com/wso2-k8s/apim-gke/components/nfs"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// The GKE rule set that spans components: what GKE, Filestore and the VPC refuse at apply
// time about addresses, checked on the config before anything is registered. Each component
// checks its own settings (gke: the control plane and its authorized networks; nfs: the
// Filestore tier, capacity and range size; network: its three ranges); policy/rules holds the
// same rules over the rendered graph.

// vpcRange is an address range of the cluster's VPC, by config key.
type vpcRange struct {
	key, cidr string
	// rule says, for a range another Google service reserves, what it must stay clear of.
	rule string
}

// subnetRanges are the subnetwork's own: nodes, pods and Services.
func (a Args) subnetRanges() []vpcRange {
	n := a.Cluster.Network
	return []vpcRange{
		{key: "cluster.network.nodeCidr", cidr: n.NodeCIDR},
		{key: "cluster.network.podCidr", cidr: n.PodCIDR},
		{key: "cluster.network.serviceCidr", cidr: n.ServiceCIDR},
	}
}

// reservedRanges are the ranges other Google services take out of the VPC, routed into it by
// peering: a private control plane's /28 and Filestore's range. This is the one place such a
// range is added: Cloud SQL's allocated range for private services access is one
// (database.go), checked against all the others.
func (a Args) reservedRanges() []vpcRange {
	var out []vpcRange
	if a.Cluster.PrivateNodes {
		out = append(out, vpcRange{key: "cluster.masterCidr", cidr: a.Cluster.MasterCIDR,
			rule: "the control plane's range must not overlap the node, pod or service ranges"})
	}
	if a.NFS.Backend == nfs.BackendFilestore {
		out = append(out, vpcRange{key: "nfs.reservedIpRange", cidr: a.NFS.ReservedIPRange,
			rule: "Filestore's range must not overlap the node, pod, service or control-plane ranges"})
	}
	out = append(out, a.cloudSQLRanges()...)
	return out
}

// checkReservedRanges reports every reserved range that overlaps a subnetwork range or a
// reserved range listed before it, under the reserved range's key. Unparsable ranges are
// skipped: their own component has reported them.
func (a Args) checkReservedRanges() validate.Problems {
	var p validate.Problems
	parse := func(s string) (netip.Prefix, bool) {
		pfx, err := netip.ParsePrefix(s)
		return pfx, err == nil
	}
	reserved := a.reservedRanges()
	for i, r := range reserved {
		rp, ok := parse(r.cidr)
		if !ok {
			continue
		}
		for _, other := range append(a.subnetRanges(), reserved[:i]...) {
			if op, ok := parse(other.cidr); ok && rp.Overlaps(op) {
				p.Addf(r.key, "%s overlaps %s (%s); %s", rp, other.key, op, r.rule)
			}
		}
	}
	return p
}
