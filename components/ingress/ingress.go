package ingress

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// NewIngress creates the Ingress(es) and, on GKE, the address, certificates and load balancer
// settings. Pass the Kubernetes provider (and the gcp provider for gke) in opts.
func NewIngress(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Ingress, error) {
	if args == nil {
		return nil, fmt.Errorf("ingress %q: args are required", name)
	}
	a := args.WithDefaults()
	if a.Namespace == nil || a.ManagementHost == "" || a.GatewayHost == "" || a.Management.Service == "" || a.Gateway.Service == "" {
		return nil, fmt.Errorf("ingress %q: Namespace, hosts and backends are required", name)
	}
	ing := &Ingress{Scheme: "https"}
	if a.TLS == TLSNone {
		ing.Scheme = "http"
	}
	if err := ctx.RegisterComponentResource("wso2apim:ingress:Ingress", name, ing, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(ing)
	if a.TLS == TLSSecret && a.TLSSecretName == "" {
		if a.TLSCertificate == nil || a.TLSKey == nil {
			return nil, fmt.Errorf("ingress %q: TLS secret needs TLSSecretName, or TLSCertificate and TLSKey", name)
		}
		a.TLSSecretName = name + "-tls"
		if _, err := corev1.NewSecret(ctx, name+"-tls", &corev1.SecretArgs{
			Metadata: kube.Meta(a.TLSSecretName, a.Namespace, labels()),
			Type:     pulumi.String("kubernetes.io/tls"),
			StringData: pulumi.StringMap{
				"tls.crt": pulumi.ToSecret(a.TLSCertificate).(pulumi.StringOutput),
				"tls.key": pulumi.ToSecret(a.TLSKey).(pulumi.StringOutput),
			},
		}, parent); err != nil {
			return nil, err
		}
	}
	var err error
	if a.Mode == ModeGKE {
		err = newGKE(ctx, name, a, ing, parent)
	} else {
		err = newClass(ctx, name, a, ing, parent)
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(ing, pulumi.Map{"address": ing.Address}); err != nil {
		return nil, err
	}
	return ing, nil
}

func labels() map[string]string { return kube.Labels("apim-ingress", "ingress", "", nil) }

func meta(name string, a Args, annotations pulumi.StringMap) *metav1.ObjectMetaArgs {
	m := kube.Meta(name, a.Namespace, labels())
	if a.SkipAwait {
		// Documented config switch (ingress.skipAwait) for clusters with no controller to
		// ever report an address: without it `pulumi up` would wait forever.
		annotations["pulumi.com/skipAwait"] = pulumi.String("true")
	}
	m.Annotations = annotations
	return m
}

func rule(host string, b Backend) networkingv1.IngressRuleArgs {
	return networkingv1.IngressRuleArgs{
		Host: pulumi.String(host),
		Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{
			networkingv1.HTTPIngressPathArgs{
				Path:     pulumi.String("/"),
				PathType: pulumi.String("Prefix"),
				Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
					Name: pulumi.String(b.Service),
					Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(b.Port)},
				}},
			},
		}},
	}
}

func tls(a Args, hosts ...string) networkingv1.IngressTLSArray {
	if a.TLS != TLSSecret {
		return nil
	}
	return networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
		Hosts:      pulumi.ToStringArray(hosts),
		SecretName: pulumi.String(a.TLSSecretName),
	}}
}

// newGKE: one Ingress for both hosts behind one reserved IP; per-backend behaviour lives in
// the BackendConfigs the Services point at.
func newGKE(ctx *pulumi.Context, name string, a Args, ing *Ingress, opts ...pulumi.ResourceOption) error {
	// Reserved, so the IP (and the DNS records pointing at it) survives re-creating the
	// Ingress.
	addr, err := compute.NewGlobalAddress(ctx, name, &compute.GlobalAddressArgs{Project: pulumi.String(a.Project)}, opts...)
	if err != nil {
		return err
	}
	ing.Address = addr.Address

	custom := func(rname, apiVersion, kind string, spec map[string]any) (*apiextensions.CustomResource, error) {
		return apiextensions.NewCustomResource(ctx, rname, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String(apiVersion),
			Kind:        pulumi.String(kind),
			Metadata:    kube.Meta(rname, a.Namespace, labels()),
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, opts...)
	}
	backends := []struct {
		backend  Backend
		affinity bool
	}{{a.Management, true}, {a.Gateway, false}}
	for _, r := range a.Extra {
		backends = append(backends, struct {
			backend  Backend
			affinity bool
		}{r.Backend, false})
	}
	for _, b := range backends {
		proto := "HTTPS"
		if b.backend.HTTP {
			proto = "HTTP"
		}
		spec := map[string]any{
			"healthCheck": map[string]any{
				"type": proto, "requestPath": b.backend.HealthPath, "port": b.backend.HealthPort,
				"checkIntervalSec": 10, "timeoutSec": 5, "healthyThreshold": 1, "unhealthyThreshold": 3,
			},
			"timeoutSec": 300,
			// Matches the pods' preStop sleep: in-flight requests finish during a rollout.
			"connectionDraining": map[string]any{"drainingTimeoutSec": 30},
		}
		if b.affinity {
			// The portals keep session state per server: login breaks without affinity.
			spec["sessionAffinity"] = map[string]any{"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": a.AffinityCookieTTLSeconds}
		}
		if _, err := custom(BackendConfigName(b.backend.Service), "cloud.google.com/v1", "BackendConfig", spec); err != nil {
			return err
		}
	}
	frontend := name + "-frontend"
	if _, err := custom(frontend, "networking.gke.io/v1beta1", "FrontendConfig", map[string]any{
		"redirectToHttps": map[string]any{"enabled": a.TLS != TLSNone, "responseCodeName": "MOVED_PERMANENTLY_DEFAULT"},
	}); err != nil {
		return err
	}
	annotations := pulumi.StringMap{
		"kubernetes.io/ingress.class":                 pulumi.String("gce"),
		"networking.gke.io/v1beta1.FrontendConfig":    pulumi.String(frontend),
		"kubernetes.io/ingress.global-static-ip-name": addr.Name,
	}
	if a.TLS == TLSManaged {
		cert := name + "-cert"
		if _, err := apiextensions.NewCustomResource(ctx, cert, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("networking.gke.io/v1"),
			Kind:        pulumi.String("ManagedCertificate"),
			Metadata:    kube.Meta(cert, a.Namespace, labels()),
			OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{"domains": a.hosts()}},
		}, opts...); err != nil {
			return err
		}
		annotations["networking.gke.io/managed-certificates"] = pulumi.String(cert)
	}
	_, err = networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: meta(name, a, annotations),
		Spec: &networkingv1.IngressSpecArgs{
			Rules: append(networkingv1.IngressRuleArray{rule(a.ManagementHost, a.Management), rule(a.GatewayHost, a.Gateway)}, a.extraRules()...),
			Tls:   tls(a, a.hosts()...),
		},
	}, opts...)
	return err
}

// newClass: two Ingresses, because the controller's annotations apply per Ingress and only
// the management host wants cookie affinity.
func newClass(ctx *pulumi.Context, name string, a Args, ing *Ingress, opts ...pulumi.ResourceOption) error {
	common := func() pulumi.StringMap {
		return pulumi.StringMap{
			// API Manager only listens on TLS ports: the controller must speak HTTPS to it.
			"nginx.ingress.kubernetes.io/backend-protocol": pulumi.String("HTTPS"),
			"nginx.ingress.kubernetes.io/proxy-body-size":  pulumi.String("50m"),
		}
	}
	mgmt, gw := common(), common()
	mgmt["nginx.ingress.kubernetes.io/affinity"] = pulumi.String("cookie")
	mgmt["nginx.ingress.kubernetes.io/session-cookie-name"] = pulumi.String("apim-route")
	mgmt["nginx.ingress.kubernetes.io/session-cookie-max-age"] = pulumi.String(fmt.Sprint(a.AffinityCookieTTLSeconds))
	type ingressSpec struct {
		suffix      string
		host        string
		backend     Backend
		annotations pulumi.StringMap
	}
	specs := []ingressSpec{{"management", a.ManagementHost, a.Management, mgmt}, {"gateway", a.GatewayHost, a.Gateway, gw}}
	for _, r := range a.Extra {
		specs = append(specs, ingressSpec{r.Backend.Service, r.Host, r.Backend, pulumi.StringMap{}})
	}
	var first *networkingv1.Ingress
	for _, x := range specs {
		r, err := networkingv1.NewIngress(ctx, name+"-"+x.suffix, &networkingv1.IngressArgs{
			Metadata: meta(name+"-"+x.suffix, a, x.annotations),
			Spec: &networkingv1.IngressSpecArgs{
				IngressClassName: pulumi.String(a.ClassName),
				Rules:            networkingv1.IngressRuleArray{rule(x.host, x.backend)},
				Tls:              tls(a, x.host),
			},
		}, opts...)
		if err != nil {
			return err
		}
		if first == nil {
			first = r
		}
	}
	// The controller's first address, or "" while it has none (or never will: SkipAwait).
	ing.Address = first.Status.LoadBalancer().Ingress().ApplyT(func(ls []networkingv1.IngressLoadBalancerIngress) string {
		for _, l := range ls {
			if l.Ip != nil {
				return *l.Ip
			}
			if l.Hostname != nil {
				return *l.Hostname
			}
		}
		return ""
	}).(pulumi.StringOutput)
	return nil
}

func (a Args) hosts() []string {
	hosts := []string{a.ManagementHost, a.GatewayHost}
	for _, r := range a.Extra {
		hosts = append(hosts, r.Host)
	}
	return hosts
}

func (a Args) extraRules() []networkingv1.IngressRuleInput {
	var out []networkingv1.IngressRuleInput
	for _, r := range a.Extra {
		out = append(out, rule(r.Host, r.Backend))
	}
	return out
}
