package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	goapi "github.com/wso2-k8s/apim-gke/components/platform"
)

// Component is the Platform's entry in the provider.
type Component struct{}

// Annotate keeps the Go API's type token: a stack that moves between the Go program and the
// package keeps its resources' URNs.
func (c *Component) Annotate(a infer.Annotator) {
	a.SetToken("platform", "Platform")
	a.Describe(c, "WSO2 API Manager on Kubernetes as one component: a GKE cluster with its autoscaled node pool (or a "+
		"cluster you already have), shared NFS storage, MySQL, API Manager's control plane and autoscaled gateway, "+
		"analytics, a sample backend, ingress and the sample API's publisher. The inputs are a stack's config keys "+
		"(docs/configuration.md); the outputs its stack outputs.")
}

// Construct makes the Platform with the Go API.
func (*Component) Construct(ctx *pulumi.Context, name, _ string, args PlatformArgs, opts pulumi.ResourceOption) (*Platform, error) {
	a, err := args.goArgs()
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", name, err)
	}
	// Nothing is registered until the args are known to be good (the Go API's promise too).
	// Resolved once here; NewPlatform trusts the result (goapi.Resolve).
	defaulted, problems := goapi.Resolve(goapi.ContextOf(ctx, name), a)
	if args.Kubeconfig != nil && defaulted.Cluster.Mode != goapi.ModeExisting {
		problems = append(problems, fmt.Sprintf("kubeconfig: reaches an existing cluster; set cluster.mode existing (it is %q) or leave kubeconfig unset", defaulted.Cluster.Mode))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("platform %q: invalid args (%d problem(s)); nothing was deployed:\n  - %s", name, len(problems), strings.Join(problems, "\n  - "))
	}
	if args.Kubeconfig != nil {
		// The package's stand-in for cluster.Provider: the provider the Go API would make from
		// cluster.kubeconfig, made from an input that may be another resource's output.
		defaulted.Cluster.Provider, err = kubernetes.NewProvider(ctx, name+"-kubeconfig", &kubernetes.ProviderArgs{
			Kubeconfig:             args.Kubeconfig,
			Context:                optional(defaulted.Cluster.Context),
			ClusterIdentifier:      pulumi.String("existing/" + defaulted.Cluster.Name),
			EnableConfigMapMutable: pulumi.Bool(true),
			EnableSecretMutable:    pulumi.Bool(true),
		}, opts)
		if err != nil {
			return nil, err
		}
	}
	p, err := goapi.NewPlatform(ctx, name, &defaulted, opts)
	if err != nil {
		return nil, err
	}
	out := newPlatform(p)
	if args.Kubeconfig != nil {
		out.Kubeconfig = pulumi.ToSecret(args.Kubeconfig).(pulumi.StringOutput)
	}
	return out, nil
}

func optional(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}

// goArgs is the Go API's Args: the settings through JSON, whose names the generated types
// share with platform.Args, and the secret inputs by config key.
func (a PlatformArgs) goArgs() (goapi.Args, error) {
	var out goapi.Args
	b, err := json.Marshal(a)
	if err != nil {
		return out, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return out, fmt.Errorf("the package's inputs do not match platform.Args (regenerate args_gen.go): %w", err)
	}
	secrets := reflect.ValueOf(&out.Secrets).Elem()
	for i, key := range goapi.SecretKeys() {
		if v := a.secret(key); v != nil {
			secrets.Field(i).Set(reflect.ValueOf(pulumi.ToSecret(v).(pulumi.StringOutput)))
		}
	}
	return out, nil
}

// secret is the secret input of a config key, or nil.
func (a PlatformArgs) secret(key string) pulumi.StringInput {
	v := reflect.ValueOf(a)
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("pulumi"), ","); name == key {
			in, _ := v.Field(i).Interface().(pulumi.StringInput)
			return in
		}
	}
	return nil
}
