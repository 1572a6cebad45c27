package vpa

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// UpdateMode is the only mode this package renders: the recommender computes requests from
// measured use and writes them to the object's status, and nothing acts on them. Requests
// change when a person changes the config; an automatic mode would evict pods to resize
// them, a restart of minutes for API Manager.
const UpdateMode = "Off"

// Target is one apps/v1 workload.
type Target struct {
	// Kind is Deployment or StatefulSet; Name the workload's name.
	Kind, Name string
}

// Args lists the workloads of a namespace to recommend requests for.
type Args struct {
	// Namespace of the workloads. Required.
	Namespace pulumi.StringInput
	// Targets are the workloads.
	Targets []Target
}

// VPA is the component's public face.
type VPA struct {
	pulumi.ResourceState
}

// NewVPA creates one VerticalPodAutoscaler per target. Pass the Kubernetes provider in opts.
func NewVPA(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*VPA, error) {
	if args == nil || args.Namespace == nil {
		return nil, fmt.Errorf("vpa %q: Namespace is required", name)
	}
	for _, t := range args.Targets {
		if t.Kind != "Deployment" && t.Kind != "StatefulSet" {
			return nil, fmt.Errorf("vpa %q: target %q: Kind %q is not valid; want Deployment or StatefulSet", name, t.Name, t.Kind)
		}
	}
	v := &VPA{}
	if err := ctx.RegisterComponentResource("wso2apim:vpa:VPA", name, v, opts...); err != nil {
		return nil, err
	}
	for _, t := range args.Targets {
		if _, err := apiextensions.NewCustomResource(ctx, name+"-"+t.Name, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("autoscaling.k8s.io/v1"),
			Kind:       pulumi.String("VerticalPodAutoscaler"),
			Metadata:   kube.Meta(t.Name, args.Namespace, kube.Labels(t.Name, "vertical-pod-autoscaler", "", nil)),
			OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
				"targetRef":    map[string]any{"apiVersion": "apps/v1", "kind": t.Kind, "name": t.Name},
				"updatePolicy": map[string]any{"updateMode": UpdateMode},
			}},
		}, pulumi.Parent(v)); err != nil {
			return nil, err
		}
	}
	return v, ctx.RegisterResourceOutputs(v, pulumi.Map{})
}
