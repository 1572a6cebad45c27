package backend

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Args configures the backend. Zero values are replaced by the defaults in WithDefaults. The
// JSON names are the settings of a stack's `backend` config key.
type Args struct {
	// Namespace to deploy into. Required.
	Namespace pulumi.StringInput `json:"-"`
	// Name of the Deployment and Service. Defaults to "hello".
	Name string `json:"-"`
	// NodeSpread says how strictly replicas keep to different nodes (kube.Spread).
	// Defaults to preferred (a cluster may have one node); the Platform asks for required on
	// GKE, whose autoscaler adds the nodes.
	NodeSpread kube.NodeSpread `json:"-"`
	// Image defaults to hashicorp/http-echo:1.0.0 answering "Hello Kubernetes!!!" on every
	// path, including the article's /kuberneteshello. The article's
	// wso2am/kubernetes-hello:v1 is unmaintained and runs as root.
	Image string `json:"image"`
	// Args are the container's arguments. Default to http-echo's listen address and text.
	Args []string `json:"args"`
	// Replicas defaults to 2 so that the backend survives a node drain.
	Replicas int `json:"replicas"`
	// Resources default to requests 10m/16Mi and limits 100m/64Mi; ephemeral storage
	// 16Mi, up to 64Mi.
	Resources kube.Resources `json:"resources"`
	// MinReadySeconds defaults to 5.
	MinReadySeconds *int `json:"minReadySeconds"`
	// PodLabels are added to the pods.
	PodLabels map[string]string `json:"-"`
	// Clients may call the API (e.g. the gateways); a NetworkPolicy denies everyone else,
	// and the backend itself may call nothing. Empty: the pods of the namespace.
	Clients []kube.Peer `json:"-"`
}

// Port and BasePath are the article's.
const (
	Port     = 9090
	BasePath = "/kuberneteshello"
	uid      = 65532
	// preStopSeconds the pods keep serving after they are told to stop (see the Deployment).
	preStopSeconds = 5
)

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.Name == "" {
		a.Name = "hello"
	}
	if a.NodeSpread == "" {
		a.NodeSpread = kube.SpreadNodesPreferred
	}
	if a.Image == "" {
		a.Image = "hashicorp/http-echo:1.0.0"
		if a.Args == nil {
			a.Args = []string{fmt.Sprintf("-listen=:%d", Port), "-text=Hello Kubernetes!!!"}
		}
	}
	if a.Replicas == 0 {
		a.Replicas = 2
	}
	a.Resources = a.Resources.WithDefaults(kube.Resources{
		Requests: kube.Compute{CPU: "10m", Memory: "16Mi", EphemeralStorage: "16Mi"},
		Limits:   kube.Compute{CPU: "100m", Memory: "64Mi", EphemeralStorage: "64Mi"},
	})
	if a.MinReadySeconds == nil {
		v := 5
		a.MinReadySeconds = &v
	}
	return a
}

// Validate checks defaulted args; key prefixes every message (e.g. "backend").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	p.Image(k("image"), a.Image, "hashicorp/http-echo:1.0.0")
	if a.Replicas < 1 {
		p.Addf(k("replicas"), "%d is not valid; want 1 or more", a.Replicas)
	}
	p.Resources(k("resources"), a.Resources)
	p.AtLeast(k("minReadySeconds"), a.MinReadySeconds, 0)
	return p
}

// Backend is the component's public face.
type Backend struct {
	pulumi.ResourceState

	// URL is the in-cluster URL of the API, e.g. http://hello:9090/kuberneteshello.
	URL string
}

// NewBackend creates the Deployment, Service and PodDisruptionBudget.
func NewBackend(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Backend, error) {
	if args == nil || args.Namespace == nil {
		return nil, fmt.Errorf("backend %q: Namespace is required", name)
	}
	a := args.WithDefaults()
	if err := a.Validate("").Err(fmt.Sprintf("backend %q", name)); err != nil {
		return nil, err
	}
	b := &Backend{URL: fmt.Sprintf("http://%s:%d%s", a.Name, Port, BasePath)}
	if err := ctx.RegisterComponentResource("wso2apim:backend:Backend", name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)
	labels := kube.Labels(a.Name, Component, "", a.PodLabels)
	selector := Selector(a.Name)
	// Ready when it answers the API; alive while it listens: a slow answer must not get a
	// healthy process restarted.
	answers := &corev1.HTTPGetActionArgs{Path: pulumi.String(BasePath), Port: pulumi.Int(Port)}
	listens := &corev1.TCPSocketActionArgs{Port: pulumi.Int(Port)}

	if _, err := appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: kube.Meta(a.Name, a.Namespace, labels),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas:        pulumi.Int(a.Replicas),
			MinReadySeconds: pulumi.Int(*a.MinReadySeconds),
			Selector:        &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			Strategy: &appsv1.DeploymentStrategyArgs{
				Type:          pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{MaxSurge: pulumi.Int(1), MaxUnavailable: pulumi.Int(0)},
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					SecurityContext:              kube.PodSecurity(uid),
					AutomountServiceAccountToken: pulumi.Bool(false),
					TopologySpreadConstraints:    kube.Spread(selector, a.NodeSpread, "pod-template-hash"),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String("hello"),
						Image:           pulumi.String(a.Image),
						Args:            pulumi.ToStringArray(a.Args),
						Ports:           corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(Port)}},
						Resources:       a.Resources.Args(),
						SecurityContext: kube.ContainerSecurity(uid, true),
						StartupProbe:    &corev1.ProbeArgs{HttpGet: answers, PeriodSeconds: pulumi.Int(2), FailureThreshold: pulumi.Int(30)},
						ReadinessProbe:  &corev1.ProbeArgs{HttpGet: answers, PeriodSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(3)},
						LivenessProbe:   &corev1.ProbeArgs{TcpSocket: listens, PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(3)},
						// http-echo exits at once on SIGTERM, while the Service may still send it
						// new connections until every kube-proxy has caught up: keep serving for
						// a few seconds first. A sleep action, as the image has no shell.
						Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
							Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(preStopSeconds)},
						}},
					}},
				},
			},
		},
	}, parent); err != nil {
		return nil, err
	}
	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: kube.Meta(a.Name, a.Namespace, labels),
		Spec: &corev1.ServiceSpecArgs{
			Selector: pulumi.ToStringMap(selector),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("http"), Port: pulumi.Int(Port), TargetPort: pulumi.Int(Port)}},
		},
	}, parent); err != nil {
		return nil, err
	}
	if err := kube.NewDrainablePDB(ctx, name, kube.Meta(a.Name, a.Namespace, labels), selector, parent); err != nil {
		return nil, err
	}
	clients := a.Clients
	if len(clients) == 0 {
		clients = []kube.Peer{{}}
	}
	if err := kube.NewPolicy(ctx, name, kube.Meta(a.Name, a.Namespace, labels), selector,
		[]kube.Rule{{Peers: clients, Ports: kube.TCP(Port)}}, nil, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{"url": pulumi.String(b.URL)}); err != nil {
		return nil, err
	}
	return b, nil
}

// Component is the backend pods' component label.
const Component = "backend"

// Selector picks the pods of the backend named name: the gateways call them.
func Selector(name string) map[string]string { return kube.Selector(name, Component) }
