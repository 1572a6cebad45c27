package stacks

import (
	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/nfs"
)

// applyDefaults fills in what the stack decides. Settings that belong to one component (node
// pool sizes, release channel, ...) are left empty here and defaulted by that component, so
// each default lives in exactly one place.
func applyDefaults(c *Config, stack string) {
	if c.Cluster.Mode == "" {
		c.Cluster.Mode = ModeGKE
	}
	if c.Cluster.Name == "" {
		c.Cluster.Name = "apim-" + stack
	}
	if c.Cluster.Namespace == "" {
		c.Cluster.Namespace = "wso2-apim"
	}
	if c.APIM.Domain == "" {
		c.APIM.Domain = "apim.example.com"
	}
	if c.NFS.Backend == "" {
		c.NFS.Backend = nfs.BackendVM
		if c.Cluster.Mode == ModeExisting {
			c.NFS.Backend = nfs.BackendInCluster
		}
	}
	if c.NFS.Zone == "" && c.Cluster.Mode == ModeGKE {
		c.NFS.Zone = c.Cluster.Zone
		if c.NFS.Zone == "" {
			c.NFS.Zone = c.Cluster.Region + "-b"
		}
	}
	if c.NFS.ClientCIDRs == nil && c.NFS.Backend == nfs.BackendInCluster {
		// Local clusters' nodes live in private ranges; narrow this to yours.
		c.NFS.ClientCIDRs = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
	}
	if c.Analytics.Mode == "" {
		c.Analytics.Mode = analytics.ModeOpenSearch
	}
	for _, enabled := range []**bool{&c.Backend.Enabled, &c.Ingress.Enabled, &c.Publisher.Enabled} {
		if *enabled == nil {
			yes := true
			*enabled = &yes
		}
	}
}
