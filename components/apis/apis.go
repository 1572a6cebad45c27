package apis

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/propagation"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Args configures the APIs.
type Args struct {
	// Project whose APIs are enabled. Required.
	Project string
	// Services are the APIs, e.g. "container.googleapis.com". Required.
	Services []string
	// PropagationWait is how long each API, once enabled by this component, is given before
	// anything that waits for it starts (see package propagation). 0: no wait.
	PropagationWait time.Duration
}

// APIs is the component's public face: give WaitFor() to anything that calls one of the
// APIs.
type APIs struct {
	pulumi.ResourceState

	// Services are the enabled APIs, sorted.
	Services []string

	enabled []pulumi.Resource
}

// WaitFor makes a resource wait until every API is enabled. It names the Service resources
// themselves: the Go SDK records a component's children while they register, concurrently,
// so depending on the component can miss some of them (seen as a Network created before
// compute.googleapis.com was enabled).
func (a *APIs) WaitFor() pulumi.ResourceOption {
	return pulumi.DependsOn(a.enabled)
}

var serviceRe = regexp.MustCompile(`^[a-z][a-z0-9-]*\.googleapis\.com$`)

// Validate checks args; key prefixes every message.
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	p.Required(validate.Key(key, "Project"), a.Project, "the Google Cloud project ID")
	if len(a.Services) == 0 {
		p.Addf(validate.Key(key, "Services"), "missing; want the APIs to enable, e.g. container.googleapis.com")
	}
	for i, s := range a.Services {
		p.Matches(fmt.Sprintf("%s[%d]", validate.Key(key, "Services"), i), s, serviceRe, "a service name such as container.googleapis.com")
	}
	return p
}

// NewAPIs enables each service. They stay enabled when the stack is destroyed: other
// workloads in the project may use them, and disabling an API can delete its resources.
func NewAPIs(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*APIs, error) {
	if args == nil {
		return nil, fmt.Errorf("apis %q: args are required", name)
	}
	if err := args.Validate("").Err(fmt.Sprintf("apis %q", name)); err != nil {
		return nil, err
	}
	services := slices.Clone(args.Services)
	slices.Sort(services)
	services = slices.Compact(services)
	a := &APIs{Services: services}
	if err := ctx.RegisterComponentResource("wso2apim:apis:APIs", name, a, opts...); err != nil {
		return nil, err
	}
	// Service Usage reports an API enabled before every Google front end accepts calls to it
	// ("If you enabled this API recently, wait a few minutes for the action to propagate").
	wait, err := propagation.New(ctx, name+"-propagation", args.PropagationWait)
	if err != nil {
		return nil, err
	}
	for _, s := range services {
		svc, err := projects.NewService(ctx, name+"-"+strings.TrimSuffix(s, ".googleapis.com"), &projects.ServiceArgs{
			Project:                  pulumi.String(args.Project),
			Service:                  pulumi.String(s),
			DisableOnDestroy:         pulumi.Bool(false),
			DisableDependentServices: pulumi.Bool(false),
		}, pulumi.Parent(a), wait.After())
		if err != nil {
			return nil, err
		}
		a.enabled = append(a.enabled, svc)
	}
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{"services": pulumi.ToStringArray(services)}); err != nil {
		return nil, err
	}
	return a, nil
}
