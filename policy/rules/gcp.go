package rules

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/wso2-k8s/apim-gke/components/nfs"
)

// Rules over Google Cloud resources. Those that GKE and Filestore enforce only when the change
// is applied are held here over the planned properties, so that a code path which bypasses
// config validation is caught before anything is half-built.

const (
	typeGKECluster  = "gcp:container/cluster:Cluster"
	typeFilestore   = "gcp:filestore/instance:Instance"
	typeSQLInstance = "gcp:sql/databaseInstance:DatabaseInstance"
)

// StatefulTypes hold data that a deletion or replacement would lose.
var StatefulTypes = []string{
	typeStatefulSet,
	"kubernetes:core/v1:PersistentVolume",
	typePVC,
	"gcp:compute/disk:Disk",
	typeFilestore,
	typeGKECluster,
	"gcp:kms/keyRing:KeyRing",
	"gcp:kms/cryptoKey:CryptoKey",
	typeSQLInstance,
	"gcp:sql/database:Database",
	"gcp:storage/bucket:Bucket",
}

func protectedState(g Graph, env Env, rep *Report) {
	if !env.Production {
		return
	}
	// A namespace's deletion deletes its claims (and, with a Delete reclaim policy, their
	// disks), whatever protects the objects inside.
	claims := map[string]string{}
	unplaced := "" // a holder of claims whose namespace is not known yet
	for _, t := range StatefulTypes {
		for _, r := range ofType(g, t) {
			templates := r.Get("spec.volumeClaimTemplates")
			// A StatefulSet without claims (the control plane's nodes, named for each other)
			// keeps nothing of its own.
			if r.Type() == typeStatefulSet && templates == nil {
				continue
			}
			if !r.Protected() {
				if IsUnknown(templates) {
					rep.CannotJudge("%s: is not protected, and whether it holds data (spec.volumeClaimTemplates) is not known until the change is applied", id(r))
				} else {
					rep.Violation("%s: holds data but is not protected", id(r))
				}
			}
			holds := r.Type() == typePVC || templates != nil
			ns := r.Get("metadata.namespace")
			switch {
			case !holds:
			case IsUnknown(ns):
				unplaced = id(r)
			case ns != nil && ns != "" && claims[fmt.Sprint(ns)] == "":
				claims[fmt.Sprint(ns)] = id(r)
			}
		}
	}
	// Pulumi's protect guards Pulumi's deletes only; Cloud SQL's own flag guards the console's
	// and gcloud's too, and the provider's guards a replacement.
	for _, r := range ofType(g, typeSQLInstance) {
		if !rep.known(r, "settings.deletionProtectionEnabled", "deletionProtection") {
			continue
		}
		if r.Get("settings.deletionProtectionEnabled") != true || r.Get("deletionProtection") != true {
			rep.Violation("%s: holds data but Cloud SQL's deletion protection (settings.deletionProtectionEnabled and deletionProtection) is off", id(r))
		}
	}
	for _, ns := range ofType(g, typeNamespace) {
		if ns.Protected() {
			continue
		}
		name := ns.Get("metadata.name")
		switch holder := claims[fmt.Sprint(name)]; {
		case IsUnknown(name):
			if len(claims) > 0 || unplaced != "" {
				rep.CannotJudge("%s: is not protected, and its name is not known until the change is applied", id(ns))
			}
		case holder != "":
			rep.Violation("%s: deleting it deletes the claims of %s, but it is not protected", id(ns), holder)
		case unplaced != "":
			rep.CannotJudge("%s: is not protected, and the namespace of %s's claims is not known until the change is applied", id(ns), unplaced)
		}
	}
}

// documentationRanges are RFC 5737's TEST-NET ranges: placeholders, never a real client.
var documentationRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
}

func placeholderNetworks(g Graph, env Env, rep *Report) {
	if !env.Production {
		return
	}
	for _, c := range ofType(g, typeGKECluster) {
		if !rep.known(c, "masterAuthorizedNetworksConfig.cidrBlocks") {
			continue
		}
		blocks, _ := c.Get("masterAuthorizedNetworksConfig.cidrBlocks").([]any)
		for _, b := range blocks {
			m, _ := b.(map[string]any)
			cidr := str(m, "cidrBlock")
			pfx, err := netip.ParsePrefix(cidr)
			if err != nil {
				continue
			}
			for _, doc := range documentationRanges {
				if doc.Overlaps(pfx) {
					rep.Violation("%s: master authorized network %s is a documentation range: nothing real can reach the control plane", id(c), cidr)
				}
			}
		}
	}
}

// authorizedNetworks: GKE refuses a private endpoint unless master authorized networks are
// enabled, and the provider sends enabled = false whenever the block is absent. The converse
// is a lock-out: an enabled block with no network on a public endpoint admits only the nodes.
func authorizedNetworks(g Graph, _ Env, rep *Report) {
	for _, c := range ofType(g, typeGKECluster) {
		if !rep.known(c, "privateClusterConfig.enablePrivateEndpoint", "masterAuthorizedNetworksConfig") {
			continue
		}
		private := c.Get("privateClusterConfig.enablePrivateEndpoint") == true
		block, enabled := c.Get("masterAuthorizedNetworksConfig").(map[string]any)
		cidrs, _ := block["cidrBlocks"].([]any)
		switch {
		case private && !enabled:
			rep.Violation("%s: has a private endpoint but no masterAuthorizedNetworksConfig, so the provider sends enabled = false and GKE refuses the cluster; send the block (empty is fine)", id(c))
		case !private && enabled && len(cidrs) == 0:
			rep.Violation("%s: enables master authorized networks with no network on a public endpoint: only the nodes could reach the control plane; list networks or drop the block", id(c))
		}
	}
}

// vpcRanges: the subnetworks' ranges, a private control plane's /28 and Filestore's reserved
// range all live in one VPC; any two that overlap break routing (or the apply).
func vpcRanges(g Graph, _ Env, rep *Report) {
	type named struct {
		what string
		pfx  netip.Prefix
	}
	var ranges []named
	var unknown []string
	add := func(what string, v any) {
		if IsUnknown(v) {
			unknown = append(unknown, what)
			return
		}
		if pfx, err := netip.ParsePrefix(fmt.Sprint(v)); err == nil {
			ranges = append(ranges, named{what, pfx})
		}
	}
	for _, s := range ofType(g, "gcp:compute/subnetwork:Subnetwork") {
		add(id(s)+" ipCidrRange", s.Get("ipCidrRange"))
		secondary := s.Get("secondaryIpRanges")
		if _, whole := secondary.(unknownValue); whole {
			unknown = append(unknown, id(s)+" secondaryIpRanges")
		}
		list, _ := secondary.([]any)
		for _, r := range list {
			m, _ := r.(map[string]any)
			add(fmt.Sprintf("%s secondary range %s", id(s), str(m, "rangeName")), m["ipCidrRange"])
		}
	}
	for _, c := range ofType(g, typeGKECluster) {
		if v := c.Get("privateClusterConfig.masterIpv4CidrBlock"); v != nil {
			add(id(c)+" masterIpv4CidrBlock", v)
		}
	}
	for _, f := range ofType(g, typeFilestore) {
		if v := f.Get("networks.0.reservedIpRange"); v != nil {
			add(id(f)+" reservedIpRange", v)
		}
	}
	if len(unknown) > 0 && len(ranges)+len(unknown) > 1 {
		rep.CannotJudge("whether %s overlap the other ranges: not known until the change is applied", strings.Join(unknown, ", "))
	}
	for i := range ranges {
		for _, other := range ranges[i+1:] {
			if ranges[i].pfx.Overlaps(other.pfx) {
				rep.Violation("%s %s overlaps %s %s", ranges[i].what, ranges[i].pfx, other.what, other.pfx)
			}
		}
	}
}

// filestoreSizes: every Filestore share is a size its tier offers, and its reserved range the
// size the tier wants (nfs.FilestoreTiers, from Google's tier table).
func filestoreSizes(g Graph, _ Env, rep *Report) {
	for _, f := range ofType(g, typeFilestore) {
		if !rep.known(f, "tier", "fileShares.capacityGb", "networks.0.reservedIpRange") {
			continue
		}
		tier := text(f, "tier")
		gb, _ := f.Get("fileShares.capacityGb").(float64)
		r, problem := nfs.FilestoreCapacity(tier, int(gb))
		switch {
		case problem != "":
			rep.Violation("%s: capacityGb %s", id(f), problem)
		case r.RangeBits != 0:
			if pfx, err := netip.ParsePrefix(text(f, "networks.0.reservedIpRange")); err == nil && pfx.Bits() != r.RangeBits {
				rep.Violation("%s: reservedIpRange %s is not the /%d a %s share of %d GiB takes", id(f), pfx, r.RangeBits, tier, int(gb))
			}
		}
	}
}

func explicitProvider(g Graph, _ Env, rep *Report) {
	for _, r := range g.All() {
		pkg, _, _ := strings.Cut(r.Type(), ":")
		if !r.Custom() || (pkg != "kubernetes" && pkg != "gcp") {
			continue
		}
		switch p := r.Provider(); {
		case p.Default || p.Type == "":
			rep.Violation("%s: uses the default provider (ambient credentials and context)", id(r))
		case p.Type != "pulumi:providers:"+pkg:
			rep.Violation("%s: uses provider %s %s of another package", id(r), p.Type, p.Name)
		}
	}
}
