package stacks

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// problems collects validation messages of the form "<key>: <bad value> <what is valid>".
type problems []string

func (p *problems) addf(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

// oneOf checks an enumerated setting; empty means "use the default" and is always fine.
func (p *problems) oneOf(key, value string, valid ...string) {
	if value != "" && !slices.Contains(valid, value) {
		p.addf(key, "%q is not valid; use one of %s", value, strings.Join(valid, ", "))
	}
}

func (p *problems) matches(key, value string, re *regexp.Regexp, what string) {
	if value != "" && !re.MatchString(value) {
		p.addf(key, "%q is not valid; want %s", value, what)
	}
}

func (p *problems) cidr(key, value string) (netip.Prefix, bool) {
	if value == "" {
		return netip.Prefix{}, false
	}
	pfx, err := netip.ParsePrefix(value)
	if err != nil || !pfx.Addr().Is4() || pfx.Masked() != pfx {
		p.addf(key, "%q is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20", value)
		return netip.Prefix{}, false
	}
	return pfx, true
}

func (p *problems) atLeast(key string, v *int, min int) {
	if v != nil && *v < min {
		p.addf(key, "%d is not valid; want %d or more", *v, min)
	}
}

var (
	projectIDRe   = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	regionRe      = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	clusterNameRe = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$`)
	machineTypeRe = regexp.MustCompile(`^[a-z][a-z0-9]*-[a-z0-9]+(-[a-z0-9]+)*$`)
	labelKeyRe    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValueRe  = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// validate checks the defaulted config and returns every problem, in key order.
func validate(c *Config) []string {
	var p problems
	p.oneOf("cluster.mode", c.Cluster.Mode, ModeGKE, ModeExisting)
	if c.Cluster.Mode == ModeGKE {
		validateGKE(&p, &c.Cluster)
		validateNodePool(&p, &c.NodePool)
	}
	validateWorkloads(&p, c)
	return p
}

func validateGKE(p *problems, c *ClusterConfig) {
	if c.Project == "" {
		p.addf("cluster.project", "missing; cluster.mode gke needs the Google Cloud project ID")
	}
	p.matches("cluster.project", c.Project, projectIDRe, "a Google Cloud project ID (6-30 lower-case letters, digits or '-')")
	if c.Region == "" {
		p.addf("cluster.region", "missing; cluster.mode gke needs a region such as europe-west1")
	}
	p.matches("cluster.region", c.Region, regionRe, "a region such as europe-west1")
	if c.Zone != "" && !strings.HasPrefix(c.Zone, c.Region+"-") {
		p.addf("cluster.zone", "%q is not valid; want a zone of region %q such as %s-b, or nothing for a regional cluster", c.Zone, c.Region, c.Region)
	}
	for i, z := range c.NodeZones {
		if !strings.HasPrefix(z, c.Region+"-") {
			p.addf(fmt.Sprintf("cluster.nodeZones[%d]", i), "%q is not valid; want a zone of region %q", z, c.Region)
		}
	}
	p.matches("cluster.name", c.Name, clusterNameRe, "1-40 lower-case letters, digits or '-', starting with a letter")
	p.oneOf("cluster.releaseChannel", c.ReleaseChannel, "RAPID", "REGULAR", "STABLE", "EXTENDED")
	p.oneOf("cluster.autoscalingProfile", c.AutoscalingProfile, "BALANCED", "OPTIMIZE_UTILIZATION")
	if c.PrivateNodes {
		if pfx, ok := p.cidr("cluster.masterCidr", c.MasterCIDR); ok && pfx.Bits() != 28 {
			p.addf("cluster.masterCidr", "%q is not valid; GKE wants a /28", c.MasterCIDR)
		}
	}
	for i, n := range c.MasterAuthorizedNetworks {
		key := fmt.Sprintf("cluster.masterAuthorizedNetworks[%d]", i)
		if n.Name == "" {
			p.addf(key+".name", "missing; give each authorized network a display name")
		}
		if n.CIDR == "" {
			p.addf(key+".cidr", "missing; want a CIDR such as 203.0.113.0/24")
		}
		p.cidr(key+".cidr", n.CIDR)
	}
	validateLabels(p, "cluster.labels", c.Labels)

	// Overlaps are checked on the effective ranges, so that a set range that collides with
	// a defaulted one is caught too.
	eff := c.networkArgs("").WithDefaults()
	ranges := map[string]string{
		"cluster.network.nodeCidr":    eff.NodeCIDR,
		"cluster.network.podCidr":     eff.PodCIDR,
		"cluster.network.serviceCidr": eff.ServiceCIDR,
	}
	parsed := map[string]netip.Prefix{}
	for _, key := range kube.SortedKeys(ranges) {
		if pfx, ok := p.cidr(key, ranges[key]); ok {
			parsed[key] = pfx
		}
	}
	keys := kube.SortedKeys(parsed)
	for i := range keys {
		for _, other := range keys[i+1:] {
			if parsed[keys[i]].Overlaps(parsed[other]) {
				p.addf(keys[i], "%s overlaps %s (%s); the node, pod and service ranges must be disjoint", parsed[keys[i]], other, parsed[other])
			}
		}
	}
}

func validateNodePool(p *problems, n *NodePoolConfig) {
	p.matches("nodePool.machineType", n.MachineType, machineTypeRe, "a Compute Engine machine type such as e2-standard-4")
	if n.DiskSizeGB != 0 && (n.DiskSizeGB < 10 || n.DiskSizeGB > 65536) {
		p.addf("nodePool.diskSizeGb", "%d is not valid; want 10 to 65536", n.DiskSizeGB)
	}
	p.oneOf("nodePool.diskType", n.DiskType, "pd-standard", "pd-balanced", "pd-ssd")
	p.oneOf("nodePool.locationPolicy", n.LocationPolicy, "BALANCED", "ANY")

	perZone := n.MinNodes != nil || n.MaxNodes != nil
	total := n.TotalMinNodes != nil || n.TotalMaxNodes != nil
	if perZone && total {
		p.addf("nodePool", "both per-zone (minNodes/maxNodes) and total (totalMinNodes/totalMaxNodes) limits are set; GKE accepts one pair only")
	}
	validateLimits(p, "nodePool.minNodes", n.MinNodes, "nodePool.maxNodes", n.MaxNodes)
	validateLimits(p, "nodePool.totalMinNodes", n.TotalMinNodes, "nodePool.totalMaxNodes", n.TotalMaxNodes)

	p.atLeast("nodePool.maxSurge", n.MaxSurge, 0)
	p.atLeast("nodePool.maxUnavailable", n.MaxUnavailable, 0)
	if n.MaxSurge != nil && n.MaxUnavailable != nil && *n.MaxSurge == 0 && *n.MaxUnavailable == 0 {
		p.addf("nodePool.maxSurge", "0 together with nodePool.maxUnavailable 0 would block every node upgrade; set maxSurge to 1 or more")
	}
	validateLabels(p, "nodePool.labels", n.Labels)
}

func validateLimits(p *problems, minKey string, min *int, maxKey string, max *int) {
	switch {
	case min == nil && max == nil:
		return
	case min == nil:
		p.addf(minKey, "missing; set it together with %s", maxKey)
	case max == nil:
		p.addf(maxKey, "missing; set it together with %s", minKey)
	}
	p.atLeast(minKey, min, 0)
	p.atLeast(maxKey, max, 1)
	if min != nil && max != nil && *min > *max {
		p.addf(minKey, "%d is greater than %s (%d); want %s <= %s", *min, maxKey, *max, minKey, maxKey)
	}
}

func validateLabels(p *problems, key string, labels map[string]string) {
	for _, k := range kube.SortedKeys(labels) {
		p.matches(key, k, labelKeyRe, "label keys of lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters")
		if !labelValueRe.MatchString(labels[k]) {
			p.addf(key+"."+k, "%q is not valid; want lower-case letters, digits, '_' or '-', at most 63 characters", labels[k])
		}
	}
}
