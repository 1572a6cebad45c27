package platform

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Validate checks defaulted args (see WithDefaults) and returns every problem, each naming the
// config key. Each rule lives with the component it is about; this adds the rules that span
// components, and the capacity check.
func (a Args) Validate() validate.Problems {
	validate.Ran("platform.Args.Validate")
	var p validate.Problems
	cl := a.Cluster
	validate.OneOfMode(&p, "cluster.mode", cl.Mode, ClusterModes)
	if cl.Mode == ModeGKE {
		p.Required("cluster.project", cl.Project, "set the Google Cloud project ID: `pulumi config set gcp:project <project-id>` (or cluster.project)")
		p.Required("cluster.region", cl.Region, "set a region such as europe-west1: `pulumi config set gcp:region <region>` (or cluster.region)")
		p.Add(cl.ClusterArgs.Validate("cluster")...)
		p.Add(cl.Network.Validate("cluster.network")...)
		// The control plane's and Filestore's ranges are routed into the VPC (gkerules.go).
		p.Add(a.checkReservedRanges()...)
		p.Add(a.NodePool.Validate("nodePool")...)
	}
	p.Matches("cluster.namespace", cl.Namespace, validate.DNSLabelRe, "a DNS label (lower-case letters, digits, '-', at most 63)")
	if len(cl.Namespace) > 59 {
		p.Addf("cluster.namespace", "%q is too long; want at most 59 characters (the NFS server's namespace adds \"-nfs\")", cl.Namespace)
	}

	p.Matches("apim.domain", a.APIM.Domain, validate.DNSNameRe, "a DNS domain such as apim.example.com")
	// The control plane's and the gateway's own rules ran once, when WithDefaults resolved them.
	p.Add(a.resolved.controlPlaneProblems...)
	p.Add(apim.ValidateAdminUsername("apim.adminUsername", a.APIM.AdminUsername)...)
	p.Add(a.APIM.JDBCDriver.Validate("apim.jdbcDriver")...)
	if cl.Mode == ModeGKE && a.APIM.JDBCDriver.SHA256 == "" {
		p.Addf("apim.jdbcDriver.sha256", "missing; mode gke runs only a pinned driver, and %s is not the default jar whose sha256 the product knows: run tools/pin-jdbc-driver.sh <stack>", a.APIM.JDBCDriver.URL)
	}
	ks := a.APIM.Keystores.Validate("apim.keystores")
	if !validate.DNSLabelRe.MatchString(cl.Namespace) {
		// The certificate's names are made from cluster.namespace (serviceDNSNames), not set by
		// the user: a bad namespace is reported once, under its own key.
		ks = slices.DeleteFunc(ks, func(s string) bool { return strings.HasPrefix(s, "apim.keystores.dnsNames") })
	}
	p.Add(ks...)
	for i, e := range a.APIM.BackendEgress {
		key := fmt.Sprintf("apim.backendEgress[%d]", i)
		if p.Required(key+".cidr", e.CIDR, "an IPv4 range such as 10.20.0.0/16, or 0.0.0.0/0 for anywhere") {
			p.CIDR(key+".cidr", e.CIDR)
		}
		if len(e.Ports) == 0 {
			p.Addf(key+".ports", "missing; want the TCP ports to allow, such as [443]")
		}
		for j, port := range e.Ports {
			p.Between(fmt.Sprintf("%s.ports[%d]", key, j), port, 1, 65535)
		}
	}
	p.Add(validateTrustedCertificates("apim.trustedCertificates", a.APIM.TrustedCertificates)...)
	p.Add(a.resolved.gatewayProblems...)
	p.Add(a.validateDatabase()...)
	if *a.Backend.Enabled {
		p.Add(a.Backend.Validate("backend")...)
	}

	p.Add(a.NFS.Validate("nfs")...)
	if a.NFS.Cloud() && cl.Mode == ModeExisting {
		p.Addf("nfs.backend", "%q needs cluster.mode gke; with an existing cluster use in-cluster or storage-class", a.NFS.Backend)
	}
	// nfs.zone defaults to the cluster's zone, whose own check covers it then.
	if a.NFS.Cloud() && !a.NFS.Regional() && cl.Mode == ModeGKE && cl.Region != "" && a.NFS.Zone != cl.Zone && !strings.HasPrefix(a.NFS.Zone, cl.Region+"-") {
		p.Addf("nfs.zone", "%q is not valid; want a zone of region %q", a.NFS.Zone, cl.Region)
	}

	if *a.Ingress.Enabled {
		p.Add(a.Ingress.Validate("ingress")...)
	}
	if *a.Publisher.Enabled && *a.Backend.Enabled {
		p.Add(a.Publisher.Validate("publisher")...)
	}
	validate.OneOfMode(&p, "analytics.mode", a.Analytics.Mode, analytics.Modes)
	if a.Analytics.Mode == analytics.ModeOpenSearch {
		p.Add(a.Analytics.Validate("analytics")...)
	}
	if a.Analytics.Mode == analytics.ModeMoesif && a.Secrets.MoesifKey == nil {
		p.Addf("moesifKey", "missing; analytics.mode moesif needs the Moesif application id: `pulumi config set --secret moesifKey <id>`")
	}
	if *a.Ingress.Enabled && a.Ingress.TLSFromValues() && (a.Secrets.IngressTLSCertificate == nil || a.Secrets.IngressTLSKey == nil) {
		p.Addf("ingress.tlsSecretName", "missing; ingress.tls secret needs an existing kubernetes.io/tls Secret's name, or the ingressTlsCertificate and ingressTlsKey secrets")
	}

	p.Add(a.validateMonitoring()...)

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
		if bad := refusedIn(v, passwordRefused[key]); bad != "" {
			p.Addf(key, "the value contains %s; %s, where these break; want letters, digits and punctuation other than %s",
				bad, passwordCarriers[key], strings.Join(quoteEach(passwordRefused[key]), " "))
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

// passwordRefused are the characters a password may not hold, by config key, because of
// where WSO2 and MySQL carry it (passwordCarriers): every value goes through the
// environment into deployment.toml ($env{}) and SQL, which quotes, backslashes and '$'
// break; the config mapper copies values verbatim into XML (& < >); the admin password is
// also the user:password of the event hub's AMQP URL in jndi.properties (@ : / ? # %).
var passwordRefused = map[string]string{
	SecretAdminPassword:          "\"'\\`$&<>@:/?#%",
	SecretMySQLPassword:          "\"'\\`$&<>",
	SecretMySQLRootPassword:      "\"'\\`$",
	SecretAnalyticsAdminPassword: "\"'\\`$",
}

var passwordCarriers = map[string]string{
	SecretAdminPassword:          "WSO2 copies it verbatim into XML files and into the event hub's AMQP URL",
	SecretMySQLPassword:          "WSO2 copies it verbatim into XML files (its datasources)",
	SecretMySQLRootPassword:      "it is passed to MySQL through the environment and SQL",
	SecretAnalyticsAdminPassword: "it is passed to OpenSearch through the environment",
}

// refusedIn lists the characters of refused found in v, quoted, in the order of refused.
func refusedIn(v, refused string) string {
	var found []string
	for _, r := range refused {
		if strings.ContainsRune(v, r) {
			found = append(found, fmt.Sprintf("%q", r))
		}
	}
	return strings.Join(found, ", ")
}

func quoteEach(chars string) []string {
	var out []string
	for _, r := range chars {
		out = append(out, fmt.Sprintf("%q", r))
	}
	return out
}
