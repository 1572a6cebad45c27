package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Kind says what a generated value looks like.
type Kind int

const (
	// Password is 24 letters and digits with at least one of each case, a digit and one of
	// "-_.": strong enough for OpenSearch's rules, and free of the quotes, backslashes and
	// '$' that would break deployment.toml and SQL.
	Password Kind = iota
	// HexKey is 32 random bytes as 64 hex characters (WSO2's symmetric encryption key).
	HexKey
)

// Spec is one value to generate.
type Spec struct {
	// Name is the value's name, e.g. "apim-admin-password"; it names the Kubernetes Secret
	// (prefixed by Args.Prefix) and the entry of Generated.Values. Required.
	Name string
	Kind Kind
}

// Args configures a Generated.
type Args struct {
	// Namespace holds the Secrets. Required.
	Namespace pulumi.StringInput
	// Prefix of the Secrets' names. Defaults to "generated".
	Prefix string
	// Values to generate, one Secret each so that adding one later touches no other.
	Values []Spec
	// Protect guards the Secrets against deletion by Pulumi: regenerating an encryption key
	// makes every value encrypted with the old one unreadable. Defaults to true.
	Protect *bool
}

// Generated is the component's public face.
type Generated struct {
	pulumi.ResourceState

	// Values are the generated values by Spec.Name, as Pulumi secrets.
	Values map[string]pulumi.StringOutput
}

// dataKey is the key of the value inside each Secret.
const dataKey = "value"

// NewGenerated creates one Secret per value. Pass the Kubernetes provider in opts.
func NewGenerated(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Generated, error) {
	if args == nil || args.Namespace == nil {
		return nil, fmt.Errorf("secrets %q: Namespace is required", name)
	}
	a := *args
	if a.Prefix == "" {
		a.Prefix = "generated"
	}
	if a.Protect == nil {
		p := true
		a.Protect = &p
	}
	var p validate.Problems
	seen := map[string]bool{}
	for i, v := range a.Values {
		key := fmt.Sprintf("Values[%d].Name", i)
		switch {
		case !validate.DNSLabelRe.MatchString(v.Name) || len(a.Prefix)+1+len(v.Name) > 253:
			p.Addf(key, "%q is not valid; want a DNS label (lower-case letters, digits, '-'), as it names a Kubernetes Secret", v.Name)
		case seen[v.Name]:
			p.Addf(key, "%q is given twice; want one Spec a name", v.Name)
		}
		seen[v.Name] = true
	}
	if err := p.Err(fmt.Sprintf("secrets %q", name)); err != nil {
		return nil, err
	}
	g := &Generated{Values: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource("wso2apim:secrets:Generated", name, g, opts...); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{}
	for _, v := range a.Values {
		value, err := generate(v.Kind)
		if err != nil {
			return nil, fmt.Errorf("secrets %q: %w", name, err)
		}
		s, err := corev1.NewSecret(ctx, name+"-"+v.Name, &corev1.SecretArgs{
			Metadata: kube.Meta(a.Prefix+"-"+v.Name, a.Namespace, kube.Labels(a.Prefix, "generated-secret", "", nil)),
			Type:     pulumi.String("Opaque"),
			Data: pulumi.StringMap{
				dataKey: pulumi.ToSecret(pulumi.String(base64.StdEncoding.EncodeToString([]byte(value)))).(pulumi.StringOutput),
			},
		}, pulumi.Parent(g), pulumi.Protect(*a.Protect),
			// Each run generates a new candidate; only the first is ever stored. The value
			// downstream is read from the Secret's state, so previews stay clean.
			pulumi.IgnoreChanges([]string{"data"}))
		if err != nil {
			return nil, err
		}
		out := pulumi.ToSecret(s.Data.ApplyT(func(data map[string]string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(data[dataKey])
			if err != nil {
				return "", fmt.Errorf("secrets %q: %s is not base64: %w", name, v.Name, err)
			}
			return string(b), nil
		})).(pulumi.StringOutput)
		g.Values[v.Name] = out
		outputs[v.Name] = out
	}
	if err := ctx.RegisterResourceOutputs(g, outputs); err != nil {
		return nil, err
	}
	return g, nil
}

const (
	lower   = "abcdefghijkmnopqrstuvwxyz"
	upper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	digits  = "23456789"
	symbols = "-_."
)

// generate draws a value of kind from crypto/rand.
func generate(kind Kind) (string, error) {
	if kind == HexKey {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return hex.EncodeToString(b), nil
	}
	// One of each class first, the rest from all of them, then shuffled.
	classes := []string{lower, upper, digits, symbols}
	all := lower + upper + digits
	out := make([]byte, 0, 24)
	for _, c := range classes {
		ch, err := pick(c)
		if err != nil {
			return "", err
		}
		out = append(out, ch)
	}
	for len(out) < 24 {
		ch, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, ch)
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(from string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(from))))
	if err != nil {
		return 0, err
	}
	return from[n.Int64()], nil
}
