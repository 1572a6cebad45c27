package ingress

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// selfSignedValidity: nothing renews the certificate; a change of hosts makes a new one.
const selfSignedValidity = 5 * 365 * 24 * time.Hour

// selfSignedPEM makes a certificate and key for hosts: for clusters where nobody issues one,
// so the edge serves TLS (the portals' login needs it) rather than plain HTTP.
func selfSignedPEM(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{Organization: []string{"WSO2 API Manager (self-signed)"}, CommonName: hosts[0]},
		DNSNames: hosts, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(selfSignedValidity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// newSelfSignedSecret stores a self-signed certificate for the routes' hosts, made once and
// kept like the generated passwords; its name carries the hosts' hash, so new hosts get a new
// certificate. A preview makes none.
func newSelfSignedSecret(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (string, pulumi.Resource, error) {
	hosts := slices.Clone(a.hosts())
	slices.Sort(hosts)
	h := sha256.Sum256([]byte(strings.Join(hosts, "\n")))
	secretName := name + "-tls-" + hex.EncodeToString(h[:4])
	cert, key := []byte("made at the first up"), []byte("made at the first up")
	if !ctx.DryRun() {
		var err error
		if cert, key, err = selfSignedPEM(a.hosts(), time.Now().UTC()); err != nil {
			return "", nil, err
		}
	}
	s, err := corev1.NewSecret(ctx, secretName, &corev1.SecretArgs{
		Metadata: kube.Meta(secretName, a.Namespace, labels()),
		Type:     pulumi.String("kubernetes.io/tls"),
		StringData: pulumi.StringMap{
			"tls.crt": pulumi.String(string(cert)),
			"tls.key": pulumi.ToSecret(pulumi.String(string(key))).(pulumi.StringOutput),
		},
	}, append(opts, pulumi.IgnoreChanges([]string{"stringData", "data"}))...)
	return secretName, s, err
}
