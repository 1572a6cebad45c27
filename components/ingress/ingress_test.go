package ingress_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeIngressComp   = "wso2apim:ingress:Ingress"
	typeIngress       = "kubernetes:networking.k8s.io/v1:Ingress"
	typeSecret        = "kubernetes:core/v1:Secret"
	typeAddress       = "gcp:compute/globalAddress:GlobalAddress"
	typeBackendConfig = "kubernetes:cloud.google.com/v1:BackendConfig"
	typeFrontend      = "kubernetes:networking.gke.io/v1beta1:FrontendConfig"
	typeManagedCert   = "kubernetes:networking.gke.io/v1:ManagedCertificate"
)

// routes are the portals (TLS, affinity) and a plain-HTTP service.
func routes() []ingress.Route {
	return []ingress.Route{
		{Name: "am", Host: "am.example.com", Affinity: true,
			Backend: ingress.Backend{Service: "apim-cp", Port: 9443, PortName: "https", HealthPath: "/services/Version", HealthPort: 9763}},
		{Name: "echo", Host: "echo.example.com",
			Backend: ingress.Backend{Service: "hello", Port: 9090, PortName: "http", HTTP: true, HealthPath: "/", HealthPort: 9090, TimeoutSeconds: 60}},
	}
}

func classArgs() *ingress.Args {
	return &ingress.Args{Mode: ingress.ModeClass, Namespace: pulumi.String("apps"), Routes: routes()}
}

func gkeArgs() *ingress.Args {
	return &ingress.Args{Mode: ingress.ModeGKE, Namespace: pulumi.String("apps"), Routes: routes(), Project: "my-project-1"}
}

// run registers explicit gcp and kubernetes providers and one Ingress "edge" on both.
func run(t *testing.T, args *ingress.Args) (*harness.Graph, *ingress.Ingress, string) {
	t.Helper()
	var ing *ingress.Ingress
	var address string
	program := func(ctx *pulumi.Context) error {
		gcpProv, err := gcp.NewProvider(ctx, "gcp", &gcp.ProviderArgs{Project: pulumi.String("my-project-1")})
		if err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		ing, err = ingress.NewIngress(ctx, "edge", args, pulumi.Providers(gcpProv, k8s))
		if err != nil {
			return err
		}
		ing.Address.ApplyT(func(a string) string { address = a; return a })
		return nil
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	return g, ing, address
}

func children(t *testing.T, g *harness.Graph) []string {
	t.Helper()
	comp := g.OfType(typeIngressComp)
	require.Len(t, comp, 1)
	provs := map[string]*harness.Resource{
		"gcp:":        g.Find("pulumi:providers:gcp", "gcp"),
		"kubernetes:": g.Find("pulumi:providers:kubernetes", "k8s"),
	}
	var out []string
	for _, r := range g.All() {
		if r == comp[0] || strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue
		}
		out = append(out, r.Type+" "+r.Name)
		assert.Equal(t, comp[0].URN, r.Parent, "%s %s is the component's child", r.Type, r.Name)
		if r.Custom {
			pkg := r.Type[:strings.Index(r.Type, ":")+1]
			require.NotNil(t, provs[pkg])
			assert.Equal(t, provs[pkg].URN, r.Provider, "%s %s uses the explicit %s provider", r.Type, r.Name, pkg)
		}
	}
	return out
}

func TestClassAlone(t *testing.T) {
	g, ing, _ := run(t, classArgs())
	assert.ElementsMatch(t, []string{typeIngress + " edge-am", typeIngress + " edge-echo"}, children(t, g),
		"one Ingress per host, nothing on Google Cloud")
	assert.Equal(t, "http", ing.Scheme, "TLS defaults to none in mode class")

	am := g.Find(typeIngress, "edge-am")
	assert.Equal(t, "edge-am", am.Get("metadata.name"))
	assert.Equal(t, "apps", am.Get("metadata.namespace"))
	assert.Equal(t, "nginx", am.Get("spec.ingressClassName"), "default class")
	assert.Nil(t, am.Get("spec.tls"))
	assert.Equal(t, "am.example.com", am.Get("spec.rules.0.host"))
	assert.Equal(t, map[string]any{"name": "apim-cp", "port": map[string]any{"number": 9443.0}}, am.Get("spec.rules.0.http.paths.0.backend.service"))
	assert.Equal(t, "Prefix", am.Get("spec.rules.0.http.paths.0.pathType"))
	assert.Equal(t, map[string]any{
		"nginx.ingress.kubernetes.io/proxy-body-size":        "50m",
		"nginx.ingress.kubernetes.io/proxy-read-timeout":     "300",
		"nginx.ingress.kubernetes.io/proxy-send-timeout":     "300",
		"nginx.ingress.kubernetes.io/backend-protocol":       "HTTPS",
		"nginx.ingress.kubernetes.io/affinity":               "cookie",
		"nginx.ingress.kubernetes.io/session-cookie-name":    "apim-route",
		"nginx.ingress.kubernetes.io/session-cookie-max-age": "3600",
	}, am.Get("metadata.annotations"), "default timeout 300 s and cookie TTL 3600 s")

	echo := g.Find(typeIngress, "edge-echo")
	assert.Equal(t, map[string]any{
		"nginx.ingress.kubernetes.io/proxy-body-size":    "50m",
		"nginx.ingress.kubernetes.io/proxy-read-timeout": "60",
		"nginx.ingress.kubernetes.io/proxy-send-timeout": "60",
	}, echo.Get("metadata.annotations"), "plain HTTP, no affinity, its own timeout")
}

func TestClassWithTLSFromValues(t *testing.T) {
	a := classArgs()
	a.TLS, a.ClassName, a.SkipAwait = ingress.TLSSecret, "traefik", true
	a.TLSCertificate = pulumi.String("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n")
	a.TLSKey = pulumi.String("-----BEGIN PRIVATE KEY-----\ntest\n-----END PRIVATE KEY-----\n")
	g, ing, _ := run(t, a)
	assert.ElementsMatch(t, []string{typeSecret + " edge-tls", typeIngress + " edge-am", typeIngress + " edge-echo"}, children(t, g))
	assert.Equal(t, "https", ing.Scheme)

	secret := g.Find(typeSecret, "edge-tls")
	assert.Equal(t, "edge-tls", secret.Get("metadata.name"))
	assert.Equal(t, "kubernetes.io/tls", secret.Get("type"))
	assert.True(t, secret.IsSecret("stringData.tls.crt"))
	assert.True(t, secret.IsSecret("stringData.tls.key"), "the private key is a secret in state")
	assert.Contains(t, secret.String("stringData[tls.key]"), "BEGIN PRIVATE KEY")

	for _, n := range []string{"edge-am", "edge-echo"} {
		ing := g.Find(typeIngress, n)
		assert.Equal(t, "traefik", ing.Get("spec.ingressClassName"))
		assert.Equal(t, secret.Get("metadata.name"), ing.Get("spec.tls.0.secretName"), n)
		assert.Equal(t, []any{ing.Get("spec.rules.0.host")}, ing.Get("spec.tls.0.hosts"), n)
		assert.Equal(t, "true", ing.Get("metadata.annotations[pulumi.com/skipAwait]"), n)
	}
}

func TestClassWithExistingTLSSecret(t *testing.T) {
	a := classArgs()
	a.TLS, a.TLSSecretName = ingress.TLSSecret, "wildcard-tls"
	g, _, _ := run(t, a)
	assert.Empty(t, g.OfType(typeSecret), "the named Secret is used, none is created")
	assert.Equal(t, "wildcard-tls", g.Find(typeIngress, "edge-am").Get("spec.tls.0.secretName"))
	assert.Nil(t, g.Find(typeIngress, "edge-am").Get("metadata.annotations[pulumi.com/skipAwait]"))
}

func TestGKEAlone(t *testing.T) {
	g, ing, address := run(t, gkeArgs())
	assert.ElementsMatch(t, []string{
		typeAddress + " edge",
		typeBackendConfig + " edge-apim-cp-https-lb",
		typeBackendConfig + " edge-hello-http-lb",
		typeFrontend + " edge-frontend",
		typeManagedCert + " edge-cert",
		typeIngress + " edge",
	}, children(t, g))
	assert.Equal(t, "https", ing.Scheme, "TLS defaults to managed in mode gke")
	assert.Equal(t, "198.51.100.20", address, "the reserved address")

	addr := g.Find(typeAddress, "edge")
	assert.Equal(t, "my-project-1", addr.Get("project"))

	am := g.Find(typeBackendConfig, "edge-apim-cp-https-lb")
	assert.Equal(t, "apim-cp-https-lb", am.Get("metadata.name"), "the name the Service annotation refers to")
	assert.Equal(t, map[string]any{
		"type": "HTTPS", "requestPath": "/services/Version", "port": 9763.0,
		"checkIntervalSec": 10.0, "timeoutSec": 5.0, "healthyThreshold": 1.0, "unhealthyThreshold": 3.0,
	}, am.Get("spec.healthCheck"))
	assert.Equal(t, 300.0, am.Get("spec.timeoutSec"), "default timeout")
	assert.Equal(t, map[string]any{"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": 3600.0}, am.Get("spec.sessionAffinity"))
	echo := g.Find(typeBackendConfig, "edge-hello-http-lb")
	assert.Equal(t, "HTTP", echo.Get("spec.healthCheck.type"))
	assert.Equal(t, 60.0, echo.Get("spec.timeoutSec"))
	assert.Nil(t, echo.Get("spec.sessionAffinity"))

	front := g.Find(typeFrontend, "edge-frontend")
	assert.Equal(t, map[string]any{"enabled": true, "responseCodeName": "MOVED_PERMANENTLY_DEFAULT"}, front.Get("spec.redirectToHttps"))
	cert := g.Find(typeManagedCert, "edge-cert")
	assert.Equal(t, []any{"am.example.com", "echo.example.com"}, cert.Get("spec.domains"))

	lb := g.Find(typeIngress, "edge")
	assert.Equal(t, map[string]any{
		"kubernetes.io/ingress.class":                 "gce",
		"networking.gke.io/v1beta1.FrontendConfig":    "edge-frontend",
		"kubernetes.io/ingress.global-static-ip-name": "edge",
		"networking.gke.io/managed-certificates":      "edge-cert",
	}, lb.Get("metadata.annotations"))
	assert.Len(t, lb.Get("spec.rules"), 2, "every host on one load balancer")
	assert.Nil(t, lb.Get("spec.tls"), "managed certificates, no Secret")
	assert.Nil(t, lb.Get("spec.ingressClassName"))
	assert.True(t, g.DependsOn(lb, addr))
}

func TestGKEWithoutTLS(t *testing.T) {
	a := gkeArgs()
	a.TLS = ingress.TLSNone
	g, ing, _ := run(t, a)
	assert.Equal(t, "http", ing.Scheme)
	assert.Empty(t, g.OfType(typeManagedCert))
	assert.Equal(t, false, g.Find(typeFrontend, "edge-frontend").Get("spec.redirectToHttps.enabled"), "no redirect to a port that does not answer")
	assert.Nil(t, g.Find(typeIngress, "edge").Get("metadata.annotations[networking.gke.io/managed-certificates]"))
}

func TestServiceAnnotations(t *testing.T) {
	r := routes()
	assert.Nil(t, ingress.ServiceAnnotations(ingress.ModeClass, r[0].Backend), "other controllers read the Ingress")
	assert.Nil(t, ingress.ServiceAnnotations(ingress.ModeGKE), "no backend, no annotation")
	assert.Equal(t, map[string]string{
		"cloud.google.com/neg":            `{"ingress":true}`,
		"cloud.google.com/backend-config": `{"ports":{"https":"apim-cp-https-lb"}}`,
		"cloud.google.com/app-protocols":  `{"https":"HTTPS"}`,
	}, ingress.ServiceAnnotations(ingress.ModeGKE, r[0].Backend))
	assert.Equal(t, map[string]string{
		"cloud.google.com/neg":            `{"ingress":true}`,
		"cloud.google.com/backend-config": `{"ports":{"http":"hello-http-lb"}}`,
	}, ingress.ServiceAnnotations(ingress.ModeGKE, r[1].Backend), "plain HTTP needs no app-protocols")
	assert.Equal(t, "apim-cp-https-lb", ingress.BackendConfigName(r[0].Backend))
}

func TestTLSFromValues(t *testing.T) {
	assert.True(t, ingress.Args{TLS: ingress.TLSSecret}.TLSFromValues())
	assert.False(t, ingress.Args{TLS: ingress.TLSSecret, TLSSecretName: "x"}.TLSFromValues())
	assert.False(t, ingress.Args{TLS: ingress.TLSManaged}.TLSFromValues())
	assert.False(t, ingress.Args{TLS: ingress.TLSNone}.TLSFromValues())
}

func refused(t *testing.T, args *ingress.Args) error {
	t.Helper()
	var newErr error
	program := func(ctx *pulumi.Context) error {
		_, newErr = ingress.NewIngress(ctx, "edge", args)
		return newErr
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.Error(t, err)
	assert.Empty(t, g.All(), "nothing registered")
	return newErr
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	const badRoute = "want a unique Name, a Host, and a Backend with Service, Port and PortName"
	with := func(base *ingress.Args, f func(a *ingress.Args)) *ingress.Args { f(base); return base }
	cases := []struct {
		name string
		args *ingress.Args
		want string
	}{
		{"nil args", nil, `ingress "edge": args are required`},
		{"no namespace, no routes", &ingress.Args{Mode: ingress.ModeClass}, `ingress "edge": args: Namespace and Routes are required`},
		{"unknown mode", with(classArgs(), func(a *ingress.Args) { a.Mode = "alb" }), `ingress "edge": Mode: "alb" is not valid; use one of gke, class`},
		{"route without a name", with(classArgs(), func(a *ingress.Args) { a.Routes[1].Name = "" }), `ingress "edge": Routes[1]: ` + badRoute},
		{"route without a host", with(classArgs(), func(a *ingress.Args) { a.Routes[0].Host = "" }), `ingress "edge": Routes[0]: ` + badRoute},
		{"route without a service", with(classArgs(), func(a *ingress.Args) { a.Routes[0].Backend.Service = "" }), `ingress "edge": Routes[0]: ` + badRoute},
		{"route without a port name", with(classArgs(), func(a *ingress.Args) { a.Routes[0].Backend.PortName = "" }), `ingress "edge": Routes[0]: ` + badRoute},
		{"two routes of one name", with(classArgs(), func(a *ingress.Args) { a.Routes[1].Name = "am" }), `ingress "edge": Routes[1]: ` + badRoute},
		{"gke without a project", with(gkeArgs(), func(a *ingress.Args) { a.Project = "" }),
			`ingress "edge": Project: missing; mode gke reserves a global address in the project`},
		{"TLS secret without a certificate", with(classArgs(), func(a *ingress.Args) { a.TLS = ingress.TLSSecret; a.TLSKey = pulumi.String("k") }),
			`ingress "edge": tlsSecretName: missing; TLS secret needs tlsSecretName, or TLSCertificate and TLSKey`},
		{"managed certificates outside GKE", with(classArgs(), func(a *ingress.Args) { a.TLS = ingress.TLSManaged }),
			`ingress "edge": tls: "managed" needs GKE's load balancer (Google-managed certificates); use secret or none`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := refused(t, c.args)
			require.Error(t, err)
			assert.EqualError(t, err, c.want)
		})
	}
}

func TestRefusesMissingMode(t *testing.T) {
	a := classArgs()
	a.Mode = ""
	err := refused(t, a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Mode: missing")
}

func TestRefusesRouteWithoutPort(t *testing.T) {
	a := classArgs()
	a.Routes[0].Backend.Port = 0
	err := refused(t, a)
	require.Error(t, err)
	assert.EqualError(t, err, `ingress "edge": Routes[0]: want a unique Name, a Host, and a Backend with Service, Port and PortName`)
}

// Two hosts in front of the same Service port (e.g. a second portal name) register two
// BackendConfigs under one name.
func TestGKETwoRoutesToOneBackend(t *testing.T) {
	a := gkeArgs()
	second := a.Routes[0]
	second.Name, second.Host = "portal", "portal.example.com"
	a.Routes = append(a.Routes, second)
	var newErr error
	program := func(ctx *pulumi.Context) error {
		_, newErr = ingress.NewIngress(ctx, "edge", a)
		return newErr
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	if err != nil {
		assert.NotContains(t, err.Error(), "duplicate resource URN")
		assert.Empty(t, g.All(), "a refusal registers nothing")
		return
	}
	assert.Len(t, g.OfType(typeBackendConfig), 2, "one per distinct backend")
}

func TestWithDefaults(t *testing.T) {
	a := ingress.Args{Routes: routes()}.WithDefaults()
	assert.Equal(t, "nginx", a.ClassName)
	assert.Equal(t, ingress.TLSNone, a.TLS)
	assert.Equal(t, 3600, a.AffinityCookieTTLSeconds)
	assert.Equal(t, 300, a.Routes[0].Backend.TimeoutSeconds)
	assert.Equal(t, 60, a.Routes[1].Backend.TimeoutSeconds, "a set timeout stays")
	assert.Equal(t, ingress.TLSManaged, ingress.Args{Mode: ingress.ModeGKE}.WithDefaults().TLS)
	assert.Equal(t, ingress.TLSSecret, ingress.Args{Mode: ingress.ModeGKE, TLS: ingress.TLSSecret}.WithDefaults().TLS)

	r := routes()
	_ = ingress.Args{Routes: r}.WithDefaults()
	assert.Equal(t, 0, r[0].Backend.TimeoutSeconds, "the caller's routes are not modified")
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		args ingress.Args
		want string // "": valid
	}{
		{"class defaults", ingress.Args{Mode: ingress.ModeClass}, ""},
		{"gke defaults", ingress.Args{Mode: ingress.ModeGKE}, ""},
		{"tls secret", ingress.Args{Mode: ingress.ModeClass, TLS: ingress.TLSSecret, TLSSecretName: "wildcard-tls"}, ""},
		{"tls", ingress.Args{Mode: ingress.ModeClass, TLS: "acme"}, `ingress.tls: "acme" is not valid; use one of managed, secret, none`},
		{"managed outside GKE", ingress.Args{Mode: ingress.ModeClass, TLS: ingress.TLSManaged},
			`ingress.tls: "managed" needs GKE's load balancer (Google-managed certificates); use secret or none`},
		{"class name valid", ingress.Args{Mode: ingress.ModeClass, ClassName: "haproxy-internal"}, ""},
		{"class name", ingress.Args{Mode: ingress.ModeClass, ClassName: "Nginx"},
			`ingress.className: "Nginx" is not valid; want an IngressClass name such as nginx`},
		{"TLS secret name", ingress.Args{Mode: ingress.ModeClass, TLS: ingress.TLSSecret, TLSSecretName: "my_tls"},
			`ingress.tlsSecretName: "my_tls" is not valid; want the name of a kubernetes.io/tls Secret`},
		{"cookie TTL of 1", ingress.Args{Mode: ingress.ModeGKE, AffinityCookieTTLSeconds: 1}, ""},
		{"cookie TTL", ingress.Args{Mode: ingress.ModeGKE, AffinityCookieTTLSeconds: -5},
			"ingress.affinityCookieTtlSeconds: -5 is not valid; want 1 or more"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.args.WithDefaults().Validate("ingress")
			if c.want == "" {
				assert.Empty(t, p)
				return
			}
			assert.Contains(t, p, c.want)
			assert.Len(t, p, 1, "one problem only: %v", p)
		})
	}
}
