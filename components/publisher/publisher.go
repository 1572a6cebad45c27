package publisher

import (
	_ "embed"
	"fmt"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

//go:embed publish.py
var Script string

// Args configures the publisher. Zero values are replaced by the defaults in WithDefaults. The
// JSON names are the settings of a stack's `publisher` config key.
type Args struct {
	// Namespace of the control plane. Required.
	Namespace pulumi.StringInput `json:"-"`
	// ControlPlaneURL, e.g. https://apim-cp:9443. Required.
	ControlPlaneURL string `json:"-"`
	// AdminUsername and AdminPassword (a Secret key) log in. Required.
	AdminUsername string         `json:"-"`
	AdminPassword kube.SecretRef `json:"-"`
	// GatewayVHost is the gateway environment's virtual host, e.g. gw.example.com. Required.
	GatewayVHost string `json:"-"`
	// Endpoint is the backend URL. Required.
	Endpoint string `json:"-"`
	// Name, Context and Version of the API. Default HelloKubernetes, /hello, 1.0.0.
	Name    string `json:"-"`
	Context string `json:"-"`
	Version string `json:"-"`
	// Image runs the script (Python 3 standard library only). Defaults to python:3.13-alpine.
	Image string `json:"image"`
	// WaitSeconds for the control plane to become ready. Defaults to 1200.
	WaitSeconds int `json:"waitSeconds"`
	// PodLabels are added to the Job's pod, e.g. for policies of your own that select it.
	PodLabels map[string]string `json:"-"`
	// ControlPlane is the control plane's pods: the Job's only destination (besides DNS).
	// Empty: the pods of the namespace on the control plane's port.
	ControlPlane []kube.Peer `json:"-"`
}

// Validate checks defaulted args; key prefixes every message (e.g. "publisher").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	p.Matches(validate.Key(key, "image"), a.Image, validate.ImageRe, "an image reference with python3 such as python:3.13-alpine")
	if a.WaitSeconds < 1 {
		p.Addf(validate.Key(key, "waitSeconds"), "%d is not valid; want 1 or more", a.WaitSeconds)
	}
	return p
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.Name == "" {
		a.Name = "HelloKubernetes"
	}
	if a.Context == "" {
		a.Context = "/hello"
	}
	if a.Version == "" {
		a.Version = "1.0.0"
	}
	if a.Image == "" {
		a.Image = "python:3.13-alpine"
	}
	if a.WaitSeconds == 0 {
		a.WaitSeconds = 1200
	}
	return a
}

// Resources are what the publishing Job's container requests and may use.
var Resources = kube.Resources{Requests: kube.Compute{CPU: "50m", Memory: "64Mi", EphemeralStorage: "16Mi"},
	Limits: kube.Compute{CPU: "200m", Memory: "128Mi", EphemeralStorage: "64Mi"}}

// Publisher is the component's public face.
type Publisher struct {
	pulumi.ResourceState

	// Path is the API's path on the gateway, e.g. /hello/1.0.0.
	Path string
}

// NewPublisher creates the script's ConfigMap and the Job.
func NewPublisher(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Publisher, error) {
	if args == nil {
		return nil, fmt.Errorf("publisher %q: args are required", name)
	}
	a := args.WithDefaults()
	problems := a.Validate("")
	if a.Namespace == nil || a.ControlPlaneURL == "" || a.AdminUsername == "" || a.AdminPassword.Name == "" || a.GatewayVHost == "" || a.Endpoint == "" {
		problems.Addf("args", "Namespace, ControlPlaneURL, AdminUsername, AdminPassword, GatewayVHost and Endpoint are required")
	}
	if err := problems.Err(fmt.Sprintf("publisher %q", name)); err != nil {
		return nil, err
	}
	p := &Publisher{Path: a.Context + "/" + a.Version}
	if err := ctx.RegisterComponentResource("wso2apim:publisher:Publisher", name, p, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(p)
	labels := kube.Labels(name, Component, "", a.PodLabels)

	cm, err := corev1.NewConfigMap(ctx, name, &corev1.ConfigMapArgs{
		Metadata: kube.Meta(name, a.Namespace, labels),
		Data:     pulumi.StringMap{"publish.py": pulumi.String(Script)},
	}, parent)
	if err != nil {
		return nil, err
	}

	env := map[string]string{
		"APIM_URL": a.ControlPlaneURL, "APIM_USERNAME": a.AdminUsername, "API_NAME": a.Name,
		"API_CONTEXT": a.Context, "API_VERSION": a.Version, "API_ENDPOINT": a.Endpoint,
		"GATEWAY_VHOST": a.GatewayVHost, "WAIT_SECONDS": fmt.Sprint(a.WaitSeconds), "INSECURE_TLS": "true",
	}
	envArgs := corev1.EnvVarArray{kube.SecretEnv("APIM_PASSWORD", a.AdminPassword)}
	for _, k := range kube.SortedKeys(env) {
		envArgs = append(envArgs, corev1.EnvVarArgs{Name: pulumi.String(k), Value: pulumi.String(env[k])})
	}
	jobMeta := kube.Meta(name, a.Namespace, labels)
	// No fixed name: an input change replaces the Job, and Pulumi creates the new one (which
	// runs the script again) before deleting the old.
	jobMeta.Name = nil
	if _, err := batchv1.NewJob(ctx, name, &batchv1.JobArgs{
		Metadata: jobMeta,
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(4),
			ActiveDeadlineSeconds: pulumi.Int(a.WaitSeconds + 600),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      pulumi.ToStringMap(labels),
					Annotations: pulumi.StringMap{"checksum/inputs": pulumi.String(kube.Checksum(Script, fmt.Sprint(env)))},
				},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("OnFailure"),
					SecurityContext:              kube.PodSecurity(10001),
					AutomountServiceAccountToken: pulumi.Bool(false),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String("publish"),
						Image:           pulumi.String(a.Image),
						Command:         pulumi.StringArray{pulumi.String("python3"), pulumi.String("/scripts/publish.py")},
						Env:             envArgs,
						SecurityContext: kube.ContainerSecurity(10001, true),
						Resources:       Resources.Args(),
						VolumeMounts:    corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("scripts"), MountPath: pulumi.String("/scripts"), ReadOnly: pulumi.Bool(true)}},
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("scripts"),
						ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name()}}},
				},
			},
		},
	}, parent, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "40m", Update: "40m"})); err != nil {
		return nil, err
	}
	// Nothing calls the Job; it calls the control plane's REST API only.
	cp := a.ControlPlane
	if len(cp) == 0 {
		cp = []kube.Peer{{}}
	}
	if err := kube.NewPolicy(ctx, name, kube.Meta(name, a.Namespace, labels), Selector(name), nil,
		[]kube.Rule{{Peers: cp, Ports: kube.TCP(kube.PortOf(a.ControlPlaneURL))}}, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{"path": pulumi.String(p.Path)}); err != nil {
		return nil, err
	}
	return p, nil
}

// Component is the publisher Job's pods' component label.
const Component = "api-publisher"

// Selector picks the pods of the publisher named name: the control plane admits them.
func Selector(name string) map[string]string { return kube.Selector(name, Component) }
