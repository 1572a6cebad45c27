package ingress

import (
	"fmt"
	"slices"
	"strings"

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
	p := a.Validate("")
	if p.Required("Mode", a.Mode, "gke or class") {
		p.OneOf("Mode", a.Mode, ModeGKE, ModeClass)
	}
	if a.Namespace == nil || len(a.Routes) == 0 {
		p.Addf("args", "Namespace and Routes are required")
	}
	seen := map[string]bool{}
	for i, r := range a.Routes {
		if r.Name == "" || r.Host == "" || r.Backend.Service == "" || r.Backend.PortName == "" || seen[r.Name] ||
			r.Backend.Port < 1 || r.Backend.Port > 65535 {
			p.Addf(fmt.Sprintf("Routes[%d]", i), "want a unique Name, a Host, and a Backend with Service, Port and PortName")
		}
		seen[r.Name] = true
	}
	if a.Mode == ModeGKE && a.Project == "" {
		p.Addf("Project", "missing; mode gke reserves a global address in the project")
	}
	// Several hosts may lead to one backend, but a backend has one set of load balancer
	// settings (one BackendConfig on GKE).
	backends := map[string]Route{}
	for i, r := range a.Routes {
		if first, ok := backends[BackendConfigName(r.Backend)]; ok && (first.Backend != r.Backend || first.Affinity != r.Affinity) {
			p.Addf(fmt.Sprintf("Routes[%d]", i), "leads to %s:%s like route %q, with other settings; one backend has one set of settings", r.Backend.Service, r.Backend.PortName, first.Name)
		}
		if _, ok := backends[BackendConfigName(r.Backend)]; !ok {
			backends[BackendConfigName(r.Backend)] = r
		}
	}
	if a.TLSFromValues() && (a.TLSCertificate == nil || a.TLSKey == nil) {
		p.Addf("tlsSecretName", "missing; TLS secret needs tlsSecretName, or TLSCertificate and TLSKey")
	}
	if err := p.Err(fmt.Sprintf("ingress %q", name)); err != nil {
		return nil, err
	}
	ing := &Ingress{Scheme: "https"}
	if a.TLS == TLSNone {
		ing.Scheme = "http"
	}
	if err := ctx.RegisterComponentResource("wso2apim:ingress:Ingress", name, ing, opts...); err != nil {
		return nil, err
	}
	var parent pulumi.ResourceOption = pulumi.Parent(ing)
	if a.TLSFromValues() {
		a.TLSSecretName = name + "-tls"
		tlsSecret, err := corev1.NewSecret(ctx, name+"-tls", &corev1.SecretArgs{
			Metadata: kube.Meta(a.TLSSecretName, a.Namespace, labels()),
			Type:     pulumi.String("kubernetes.io/tls"),
			StringData: pulumi.StringMap{
				"tls.crt": pulumi.ToSecret(a.TLSCertificate).(pulumi.StringOutput),
				"tls.key": pulumi.ToSecret(a.TLSKey).(pulumi.StringOutput),
			},
		}, parent)
		if err != nil {
			return nil, err
		}
		// The Ingress names the Secret; it must exist before a controller serves with it.
		parent = pulumi.Composite(parent, pulumi.DependsOn([]pulumi.Resource{tlsSecret}))
	}
	if a.TLS == TLSSelfSigned {
		secretName, tlsSecret, err := newSelfSignedSecret(ctx, name, a, parent)
		if err != nil {
			return nil, err
		}
		a.TLSSecretName = secretName
		parent = pulumi.Composite(parent, pulumi.DependsOn([]pulumi.Resource{tlsSecret}))
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

// HSTSHeader is the Strict-Transport-Security header the GKE load balancer adds.
const HSTSHeader = "Strict-Transport-Security: max-age=31536000; includeSubDomains"

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
		Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{path("/", b)}},
	}
}

func path(prefix string, b Backend) networkingv1.HTTPIngressPathArgs {
	return networkingv1.HTTPIngressPathArgs{
		Path:     pulumi.String(prefix),
		PathType: pulumi.String("Prefix"),
		Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
			Name: pulumi.String(b.Service),
			Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(b.Port)},
		}},
	}
}

// adminPaths are the admin path prefixes of every route, in order, once each.
func adminPaths(a Args) []string {
	var out []string
	for _, r := range a.Routes {
		for _, p := range r.AdminPaths {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func tls(a Args, hosts ...string) networkingv1.IngressTLSArray {
	if a.TLS != TLSSecret && a.TLS != TLSSelfSigned {
		return nil
	}
	return networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
		Hosts:      pulumi.ToStringArray(hosts),
		SecretName: pulumi.String(a.TLSSecretName),
	}}
}

// newGKE: one Ingress for every host behind one reserved IP; per-backend behaviour lives in
// the BackendConfigs the Services' ports point at.
func newGKE(ctx *pulumi.Context, name string, a Args, ing *Ingress, opts ...pulumi.ResourceOption) error {
	// Reserved, so the IP (and the DNS records pointing at it) survives re-creating the
	// Ingress.
	addr, err := compute.NewGlobalAddress(ctx, name, &compute.GlobalAddressArgs{Project: pulumi.String(a.Project)}, opts...)
	if err != nil {
		return err
	}
	ing.Address = addr.Address

	// rname is the Pulumi name (from the component's), object the Kubernetes one.
	custom := func(rname, object, apiVersion, kind string, spec map[string]any) error {
		_, err := apiextensions.NewCustomResource(ctx, rname, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String(apiVersion),
			Kind:        pulumi.String(kind),
			Metadata:    kube.Meta(object, a.Namespace, labels()),
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, opts...)
		return err
	}
	var policy *compute.SecurityPolicy
	if a.AdminRestricted() {
		var err error
		if policy, err = newAdminPolicy(ctx, name, a, adminPaths(a), opts...); err != nil {
			return err
		}
	}
	made := map[string]bool{}
	for _, r := range a.Routes {
		b := r.Backend
		if made[BackendConfigName(b)] {
			continue // another host of the same backend: its settings are the same (checked)
		}
		made[BackendConfigName(b)] = true
		proto := "HTTPS"
		if b.HTTP {
			proto = "HTTP"
		}
		spec := map[string]any{
			"healthCheck": map[string]any{
				"type": proto, "requestPath": b.HealthPath, "port": b.HealthPort,
				"checkIntervalSec": 10, "timeoutSec": 5, "healthyThreshold": 1, "unhealthyThreshold": 3,
			},
			"timeoutSec": b.TimeoutSeconds,
			// The pods' preStop outlasts this (PreStopSeconds): requests in flight finish.
			"connectionDraining": map[string]any{"drainingTimeoutSec": *a.DrainingTimeoutSeconds},
		}
		if a.TLS != TLSNone {
			// Browsers keep to HTTPS for a year (WSO2's guidelines ask for HSTS; ingress-nginx
			// sends it on TLS hosts by default, Google's load balancer only when told).
			spec["customResponseHeaders"] = map[string]any{"headers": []string{HSTSHeader}}
		}
		if policy != nil && len(r.AdminPaths) > 0 {
			spec["securityPolicy"] = map[string]any{"name": policy.Name}
		}
		if r.Affinity {
			spec["sessionAffinity"] = map[string]any{"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": a.AffinityCookieTTLSeconds}
		}
		if err := custom(name+"-"+BackendConfigName(b), BackendConfigName(b), "cloud.google.com/v1", "BackendConfig", spec); err != nil {
			return err
		}
	}
	frontend := name + "-frontend"
	if err := custom(frontend, frontend, "networking.gke.io/v1beta1", "FrontendConfig", map[string]any{
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
		if err := custom(cert, cert, "networking.gke.io/v1", "ManagedCertificate", map[string]any{"domains": a.hosts()}); err != nil {
			return err
		}
		annotations["networking.gke.io/managed-certificates"] = pulumi.String(cert)
	}
	var rules networkingv1.IngressRuleArray
	for _, r := range a.Routes {
		rules = append(rules, rule(r.Host, r.Backend))
	}
	_, err = networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: meta(name, a, annotations),
		Spec:     &networkingv1.IngressSpecArgs{Rules: rules, Tls: tls(a, a.hosts()...)},
	}, opts...)
	return err
}

// newClass: an Ingress per host, because the controller's annotations apply per Ingress and
// only some hosts want cookie affinity.
func newClass(ctx *pulumi.Context, name string, a Args, ing *Ingress, opts ...pulumi.ResourceOption) error {
	var first *networkingv1.Ingress
	for _, r := range a.Routes {
		annotations := pulumi.StringMap{
			"nginx.ingress.kubernetes.io/proxy-body-size":    pulumi.String("50m"),
			"nginx.ingress.kubernetes.io/proxy-read-timeout": pulumi.String(fmt.Sprint(r.Backend.TimeoutSeconds)),
			"nginx.ingress.kubernetes.io/proxy-send-timeout": pulumi.String(fmt.Sprint(r.Backend.TimeoutSeconds)),
		}
		if !r.Backend.HTTP {
			// API Manager only listens on TLS ports: the controller must speak HTTPS to it.
			annotations["nginx.ingress.kubernetes.io/backend-protocol"] = pulumi.String("HTTPS")
		}
		if r.Affinity {
			annotations["nginx.ingress.kubernetes.io/affinity"] = pulumi.String("cookie")
			annotations["nginx.ingress.kubernetes.io/session-cookie-name"] = pulumi.String("apim-route")
			annotations["nginx.ingress.kubernetes.io/session-cookie-max-age"] = pulumi.String(fmt.Sprint(a.AffinityCookieTTLSeconds))
		}
		rname := name + "-" + r.Name
		if a.AdminRestricted() && len(r.AdminPaths) > 0 {
			// The admin paths on an Ingress of their own: the allow-list annotation applies
			// per Ingress, and the controller routes the longer prefixes here.
			fenced := pulumi.StringMap{"nginx.ingress.kubernetes.io/whitelist-source-range": pulumi.String(strings.Join(a.AdminAllowedCIDRs, ","))}
			for k, v := range annotations {
				fenced[k] = v
			}
			var paths networkingv1.HTTPIngressPathArray
			for _, p := range r.AdminPaths {
				paths = append(paths, path(p, r.Backend))
			}
			if _, err := networkingv1.NewIngress(ctx, rname+"-admin", &networkingv1.IngressArgs{
				Metadata: meta(rname+"-admin", a, fenced),
				Spec: &networkingv1.IngressSpecArgs{
					IngressClassName: pulumi.String(a.ClassName),
					Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{Host: pulumi.String(r.Host),
						Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: paths}}},
					Tls: tls(a, r.Host),
				},
			}, opts...); err != nil {
				return err
			}
		}
		created, err := networkingv1.NewIngress(ctx, rname, &networkingv1.IngressArgs{
			Metadata: meta(rname, a, annotations),
			Spec: &networkingv1.IngressSpecArgs{
				IngressClassName: pulumi.String(a.ClassName),
				Rules:            networkingv1.IngressRuleArray{rule(r.Host, r.Backend)},
				Tls:              tls(a, r.Host),
			},
		}, opts...)
		if err != nil {
			return err
		}
		if first == nil {
			first = created
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
	var hosts []string
	for _, r := range a.Routes {
		hosts = append(hosts, r.Host)
	}
	return hosts
}
