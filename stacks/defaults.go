package stacks

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
	if c.Backend.Enabled == nil {
		enabled := true
		c.Backend.Enabled = &enabled
	}
}
