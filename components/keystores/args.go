package keystores

import (
	"fmt"
	"regexp"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Secret keys: every keystore Secret, generated or brought by the user, holds these.
const (
	// KeyPrimary is the PKCS12 store of the primary key, which signs JWT access tokens, ID
	// tokens and API keys.
	KeyPrimary = "primary.p12"
	// KeyTLS is the PKCS12 store of the TLS key of every listener (9443, 8243, 8099, ...),
	// with its certificate chain.
	KeyTLS = "tls.p12"
	// KeyInternal is the PKCS12 store of the internal key (WSO2's keystore-based internal
	// encryption; the product encrypts with the symmetric key, so this one guards no data).
	KeyInternal = "internal.p12"
	// KeyTrustedCerts is a PEM bundle of the CA certificates that issued the TLS
	// certificates: the pods trust them for calls to each other.
	KeyTrustedCerts = "ca.crt"
	// KeyPassword is the password of every store and every key in it.
	KeyPassword = "password"
)

// Stores are the keystore files a pod mounts, in the order WSO2's deployment.toml names them.
var Stores = []string{KeyPrimary, KeyTLS, KeyInternal}

// Args configures a Keystores.
type Args struct {
	// Namespace holds the Secret. Required.
	Namespace pulumi.StringInput `json:"-"`
	// Name prefixes the generated Secrets' names: <Name>-g<generation>-<hash of DNSNames>.
	// Required (a DNS label).
	Name string `json:"-"`
	// DNSNames are the names the TLS certificate is valid for: the in-cluster Service names
	// the pods call each other by, and localhost (WSO2 calls its own services there). At
	// least one. Changing them issues new keys, like a rotation.
	DNSNames []string `json:"-"`
	// Generation of the keys. Bumping it issues new keys on the next `up` (a rotation).
	// Defaults to 1.
	Generation int `json:"generation"`
	// ExistingSecret, when set, is a Secret of the namespace holding the keys above, brought
	// by the user; nothing is generated. Its stores may use any alias (the pods import the
	// one private key of each under WSO2's alias).
	ExistingSecret string `json:"secretName"`
	// Protect guards the current generation's Secret against deletion by Pulumi. The
	// previous generation's Secret is kept, unprotected, until the next rotation, so that a
	// rotation needs no unprotect. Defaults to true.
	Protect *bool `json:"-"`
	// ValidFor is how long the certificates are valid from their creation. Defaults to 5
	// years: nothing renews them but a rotation.
	ValidFor string `json:"validFor"`
}

var nameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$`)

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.Generation == 0 {
		a.Generation = 1
	}
	if a.Protect == nil {
		p := true
		a.Protect = &p
	}
	if a.ValidFor == "" {
		a.ValidFor = "43800h"
	}
	return a
}

// Validate checks defaulted args; key prefixes every message (e.g. "apim.keystores").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	if a.Generation < 1 {
		p.Addf(k("generation"), "%d is not valid; want 1 or more (bump it by one to rotate every key)", a.Generation)
	}
	if d, err := time.ParseDuration(a.ValidFor); err != nil || d < 24*time.Hour {
		p.Addf(k("validFor"), "%q is not valid; want a duration of a day or more, e.g. 43800h (5 years)", a.ValidFor)
	}
	if a.ExistingSecret != "" {
		p.Matches(k("secretName"), a.ExistingSecret, subdomainRe, "the name of a Secret in the workloads' namespace (a DNS subdomain)")
		return p
	}
	if !nameRe.MatchString(a.Name) {
		p.Addf(k("name"), "%q is not valid; want a DNS label of at most 40 characters", a.Name)
	}
	if len(a.DNSNames) == 0 {
		p.Addf(k("dnsNames"), "missing; want the Service names the certificate must be valid for")
	}
	for i, n := range a.DNSNames {
		if !dnsNameRe.MatchString(n) {
			p.Addf(fmt.Sprintf("%s[%d]", k("dnsNames"), i), "%q is not valid; want a DNS name, optionally starting with \"*.\"", n)
		}
	}
	return p
}

var (
	dnsNameRe   = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	subdomainRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)
