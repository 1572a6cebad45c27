package platform

import (
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/keystores"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// clusterDomain is the cluster's DNS domain (GKE's and most clusters' default).
const clusterDomain = "cluster.local"

// serviceDNSNames are the names a Service is called by from pods: short, with its namespace,
// and fully qualified; and localhost, where WSO2 calls its own services.
func serviceDNSNames(namespace string, services ...string) []string {
	out := []string{"localhost"}
	for _, s := range services {
		out = append(out, s, s+"."+namespace, s+"."+namespace+".svc", s+"."+namespace+".svc."+clusterDomain)
	}
	return out
}

// keystores makes the deployment's keys (or adopts the user's Secret) before any API
// Manager pod exists: the pods mount them instead of the images' public ones.
func (b *builder) keystores() error {
	a := b.a.APIM.Keystores
	a.Namespace = b.namespace
	ks, err := keystores.NewKeystores(b.ctx, b.child("keystores"), &a, b.withK8s()...)
	if err != nil {
		return err
	}
	b.keystoreSecret = ks.SecretName
	b.p.KeystoresExpire = ks.Expires
	return nil
}

// validateTrustedCertificates checks that a PEM bundle holds certificates and nothing else.
func validateTrustedCertificates(key, bundle string) validate.Problems {
	var p validate.Problems
	if strings.TrimSpace(bundle) == "" {
		return p
	}
	rest, n := []byte(bundle), 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			p.Addf(key, "block %d is a %q; want only CERTIFICATE blocks (CA certificates, never keys)", n, block.Type)
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			p.Addf(key, "certificate %d does not parse (%v); want PEM CA certificates", n, err)
		}
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		p.Addf(key, "is not a PEM bundle; want one or more -----BEGIN CERTIFICATE----- blocks")
	}
	return p
}

// trustedCertificates is the user's extra CA bundle as an input, or nil.
func (a Args) trustedCertificates() pulumi.StringInput {
	if strings.TrimSpace(a.APIM.TrustedCertificates) == "" {
		return nil
	}
	return pulumi.String(a.APIM.TrustedCertificates)
}
