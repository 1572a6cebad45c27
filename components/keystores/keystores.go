package keystores

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// Keystores is the component's public face.
type Keystores struct {
	pulumi.ResourceState

	// SecretName is the Secret the API Manager pods mount: this generation's, or the user's.
	SecretName pulumi.StringOutput
	// Expires is when the generated certificates expire (RFC 3339), read from the stored CA
	// certificate; "" with a user's Secret. Rotate before then.
	Expires pulumi.StringOutput
}

// NewKeystores creates this generation's keystore Secret (or adopts the user's). Pass the
// Kubernetes provider in opts.
func NewKeystores(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Keystores, error) {
	if args == nil || args.Namespace == nil {
		return nil, fmt.Errorf("keystores %q: Namespace is required", name)
	}
	a := args.WithDefaults()
	if err := a.Validate("").Err(fmt.Sprintf("keystores %q", name)); err != nil {
		return nil, err
	}
	validFor, _ := time.ParseDuration(a.ValidFor)
	k := &Keystores{}
	if err := ctx.RegisterComponentResource("wso2apim:keystores:Keystores", name, k, opts...); err != nil {
		return nil, err
	}
	if a.ExistingSecret != "" {
		k.SecretName = pulumi.String(a.ExistingSecret).ToStringOutput()
		k.Expires = pulumi.String("").ToStringOutput()
	} else {
		current, err := a.secret(ctx, name, k, a.Generation, validFor, *a.Protect)
		if err != nil {
			return nil, err
		}
		// The previous generation stays declared, unprotected and unchanged, until the next
		// rotation deletes it: so a rotation under protect needs no `pulumi state unprotect`,
		// and the Secret pods of the old generation still mount exists while they roll.
		if a.Generation > 1 {
			if _, err := a.secret(ctx, name, k, a.Generation-1, 0, false); err != nil {
				return nil, err
			}
		}
		k.SecretName = current.Metadata.Name().Elem()
		k.Expires = pulumi.Unsecret(current.Data.ApplyT(expiry)).(pulumi.StringOutput)
	}
	if err := ctx.RegisterResourceOutputs(k, pulumi.Map{"secretName": k.SecretName, "expires": k.Expires}); err != nil {
		return nil, err
	}
	return k, nil
}

// SecretName is the name of generation gen's Secret: the DNS names' hash in it makes a change
// of names a new Secret (new keys) rather than a certificate that no longer fits.
func (a Args) SecretName(gen int) string {
	names := slices.Clone(a.DNSNames)
	slices.Sort(names)
	h := sha256.Sum256([]byte(strings.Join(names, "\n")))
	return fmt.Sprintf("%s-g%d-%s", a.Name, gen, hex.EncodeToString(h[:4]))
}

// secret declares generation gen's Secret. validFor 0 declares a retired generation: it is
// never created with keys (its candidate data is empty), only kept as it was stored.
func (a Args) secret(ctx *pulumi.Context, name string, parent pulumi.Resource, gen int, validFor time.Duration, protect bool) (*corev1.Secret, error) {
	data := pulumi.StringMap{}
	role := "retired"
	if validFor > 0 {
		role = "current"
		files := previewFiles
		// A preview never stores anything, so it draws no keys (they are most of a run's
		// time): the stored Secret keeps its data, a new one shows as to be created.
		if !ctx.DryRun() {
			var err error
			if files, err = Generate(a.Name, a.DNSNames, time.Now().UTC(), validFor); err != nil {
				return nil, err
			}
		}
		for key, b := range files {
			data[key] = pulumi.String(base64.StdEncoding.EncodeToString(b))
		}
	}
	secretName := a.SecretName(gen)
	return corev1.NewSecret(ctx, name+"-"+strings.TrimPrefix(secretName, a.Name+"-"), &corev1.SecretArgs{
		Metadata: kube.Meta(secretName, a.Namespace, kube.Labels(a.Name, "keystores", "", map[string]string{
			"wso2apim/keystores-generation": fmt.Sprint(gen),
			"wso2apim/keystores-role":       role,
		})),
		Type: pulumi.String("Opaque"),
		Data: pulumi.ToSecret(data).(pulumi.StringMapOutput),
	}, pulumi.Parent(parent), pulumi.Protect(protect),
		// Each run makes new candidate keys; only the first is ever stored, so later runs
		// change nothing and tokens signed by the stored primary key stay valid.
		pulumi.IgnoreChanges([]string{"data"}))
}

// previewFiles stand for the keys in a preview: every key a Secret holds, none of them real.
var previewFiles = func() map[string][]byte {
	out := map[string][]byte{}
	for _, k := range append(slices.Clone(Stores), KeyTrustedCerts, KeyPassword) {
		out[k] = []byte("drawn at the first up")
	}
	return out
}()

// expiry reads the CA certificate's end of validity from a stored Secret's data.
func expiry(data map[string]string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(data[KeyTrustedCerts])
	if err != nil {
		return "", fmt.Errorf("keystores: %s is not base64: %w", KeyTrustedCerts, err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return "", nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("keystores: %s: %w", KeyTrustedCerts, err)
	}
	return cert.NotAfter.UTC().Format(time.RFC3339), nil
}
