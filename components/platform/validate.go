package platform

import (
	"strings"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Validate checks defaulted args (see WithDefaults) and returns every problem, each naming the
// config key. Each rule lives with the component it is about; this adds the rules that span
// components, and the capacity check.
func (a Args) Validate() validate.Problems {
	var p validate.Problems
	cl := a.Cluster
	p.OneOf("cluster.mode", cl.Mode, ModeGKE, ModeExisting)
	if cl.Mode == ModeGKE {
		p.Required("cluster.project", cl.Project, "set the Google Cloud project ID: `pulumi config set gcp:project <project-id>` (or cluster.project)")
		p.Required("cluster.region", cl.Region, "set a region such as europe-west1: `pulumi config set gcp:region <region>` (or cluster.region)")
		p.Add(cl.ClusterArgs.Validate("cluster")...)
		p.Add(cl.Network.Validate("cluster.network")...)
		if cl.PrivateNodes {
			// The control plane's /28 is routed into the VPC: it must not collide with the
			// node, pod or service ranges.
			ranges := map[string]string{"cluster.network.nodeCidr": cl.Network.NodeCIDR,
				"cluster.network.podCidr": cl.Network.PodCIDR, "cluster.network.serviceCidr": cl.Network.ServiceCIDR}
			for _, key := range kube.SortedKeys(ranges) {
				r := ranges[key]
				p.Disjoint("the control plane's range must not overlap the node, pod or service ranges",
					map[string]string{"cluster.masterCidr": cl.MasterCIDR, key: r})
			}
		}
		p.Add(a.NodePool.Validate("nodePool")...)
	}
	p.Matches("cluster.namespace", cl.Namespace, validate.DNSLabelRe, "a DNS label (lower-case letters, digits, '-', at most 63)")
	if len(cl.Namespace) > 59 {
		p.Addf("cluster.namespace", "%q is too long; want at most 59 characters (the NFS server's namespace adds \"-nfs\")", cl.Namespace)
	}

	p.Matches("apim.domain", a.APIM.Domain, validate.DNSNameRe, "a DNS domain such as apim.example.com")
	p.Add(a.APIM.Workload.Validate("apim")...)
	p.Add(apim.ValidateAdminUsername("apim.adminUsername", a.APIM.AdminUsername)...)
	p.Add(a.APIM.JDBCDriver.Validate("apim.jdbcDriver")...)
	p.Add(a.Gateway.Validate("gateway")...)
	p.Add(a.MySQL.Validate("mysql")...)
	if *a.Backend.Enabled {
		p.Add(a.Backend.Validate("backend")...)
	}

	p.Add(a.NFS.Validate("nfs")...)
	if a.NFS.Cloud() && cl.Mode != ModeGKE {
		p.Addf("nfs.backend", "%q needs cluster.mode gke; with an existing cluster use in-cluster or storage-class", a.NFS.Backend)
	}
	if a.NFS.Cloud() && !a.NFS.Regional() && cl.Mode == ModeGKE && cl.Region != "" && !strings.HasPrefix(a.NFS.Zone, cl.Region+"-") {
		p.Addf("nfs.zone", "%q is not valid; want a zone of region %q", a.NFS.Zone, cl.Region)
	}

	if *a.Ingress.Enabled {
		p.Add(a.Ingress.Validate("ingress")...)
	}
	if *a.Publisher.Enabled && *a.Backend.Enabled {
		p.Add(a.Publisher.Validate("publisher")...)
	}
	p.OneOf("analytics.mode", a.Analytics.Mode, analytics.ModeOpenSearch, analytics.ModeMoesif, analytics.ModeNone)
	if a.Analytics.Mode == analytics.ModeOpenSearch {
		p.Add(a.Analytics.Validate("analytics")...)
	}
	if a.Analytics.Mode == analytics.ModeMoesif && a.Secrets.MoesifKey == nil {
		p.Addf("moesifKey", "missing; analytics.mode moesif needs the Moesif application id: `pulumi config set --secret moesifKey <id>`")
	}
	if *a.Ingress.Enabled && a.Ingress.TLSFromValues() && (a.Secrets.IngressTLSCertificate == nil || a.Secrets.IngressTLSKey == nil) {
		p.Addf("ingress.tlsSecretName", "missing; ingress.tls secret needs an existing kubernetes.io/tls Secret's name, or the ingressTlsCertificate and ingressTlsKey secrets")
	}

	if cl.Mode == ModeGKE && len(p) == 0 {
		// Only on otherwise valid config: the check reads quantities the rules above vouch for.
		p.Add(a.CheckCapacity()...)
	}
	return p
}

// ValidateSecretValues checks the shape of secret values known in plain form (a stack's
// config), by config key, without ever printing them.
func ValidateSecretValues(values map[string]string) validate.Problems {
	var p validate.Problems
	if v, ok := values[SecretEncryptionKey]; ok && !hexKey(v) {
		p.Addf(SecretEncryptionKey, "the value is not valid; want 32 or 64 hex characters (e.g. `openssl rand -hex 32`)")
	}
	if v, ok := values[SecretAnalyticsAdminPassword]; ok && !strongPassword(v) {
		p.Addf(SecretAnalyticsAdminPassword, "the value is too weak for OpenSearch; want at least 12 characters with upper and lower case letters, a digit and a symbol")
	}
	for _, key := range []string{SecretAdminPassword, SecretMySQLRootPassword, SecretMySQLPassword, SecretAnalyticsAdminPassword} {
		v, ok := values[key]
		if !ok {
			continue
		}
		if len(v) < 12 {
			p.Addf(key, "the value is too short; want at least 12 characters")
		}
		// The password is passed through the environment into deployment.toml and SQL; a
		// quote or backslash there would break both.
		if strings.ContainsAny(v, "\"'\\`$") {
			p.Addf(key, "the value contains a quote, backslash, backtick or '$'; want letters, digits and other punctuation")
		}
	}
	for _, key := range []string{SecretIngressTLSCertificate, SecretIngressTLSKey} {
		if v, ok := values[key]; ok && !strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN ") {
			p.Addf(key, "the value is not PEM; want the -----BEGIN ...----- text of the file")
		}
	}
	return p
}

// Secret config keys of a stack, by what they hold.
const (
	SecretAdminPassword          = "apimAdminPassword"
	SecretEncryptionKey          = "apimEncryptionKey"
	SecretMySQLRootPassword      = "mysqlRootPassword"
	SecretMySQLPassword          = "mysqlPassword"
	SecretAnalyticsAdminPassword = "analyticsAdminPassword"
	SecretMoesifKey              = "moesifKey"
	SecretIngressTLSCertificate  = "ingressTlsCertificate"
	SecretIngressTLSKey          = "ingressTlsKey"
)

// SecretKeys lists every secret config key, in the order of Secrets' fields.
func SecretKeys() []string {
	return []string{SecretAdminPassword, SecretEncryptionKey, SecretMySQLRootPassword, SecretMySQLPassword,
		SecretAnalyticsAdminPassword, SecretMoesifKey, SecretIngressTLSCertificate, SecretIngressTLSKey}
}

func hexKey(v string) bool {
	if len(v) != 32 && len(v) != 64 {
		return false
	}
	for _, r := range v {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

func strongPassword(v string) bool {
	var upper, lower, digit, symbol bool
	for _, r := range v {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			symbol = true
		}
	}
	return len(v) >= 12 && upper && lower && digit && symbol
}

// nfsNamespace is where the in-cluster NFS server runs: its own namespace, because the kernel
// NFS server needs a privileged pod that the restricted workload namespace forbids.
func nfsNamespace(namespace string) string { return namespace + "-nfs" }
