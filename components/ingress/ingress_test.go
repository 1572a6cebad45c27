package ingress_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeIngressComp = "wso2apim:ingress:Ingress"

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
	g := harness.MustRunComponent(t, harness.GCPAndKubernetes("my-project-1"), func(ctx *pulumi.Context, providers pulumi.ResourceOption) (err error) {
		if ing, err = ingress.NewIngress(ctx, "edge", args, providers); err != nil {
			return err
		}
		ing.Address.ApplyT(func(a string) string { address = a; return a })
		return nil
	})
	return g, ing, address
}

func TestClassAlone(t *testing.T) {
	g, ing, _ := run(t, classArgs())
	tlsName := "edge-tls-8d27a64b" // the hosts' hash
	assert.ElementsMatch(t, []string{harness.TypeIngress + " edge-am", harness.TypeIngress + " edge-echo", harness.TypeSecret + " " + tlsName}, harness.Children(t, g, typeIngressComp),
		"one Ingress per host and a certificate, nothing on Google Cloud")
	assert.Equal(t, "https", ing.Scheme, "TLS defaults to a self-signed certificate in mode class: the portals need TLS")

	am := g.Find(harness.TypeIngress, "edge-am")
	assert.Equal(t, "edge-am", am.Get("metadata.name"))
	assert.Equal(t, "apps", am.Get("metadata.namespace"))
	assert.Equal(t, "nginx", am.Get("spec.ingressClassName"), "default class")
	assert.Equal(t, []any{map[string]any{"hosts": []any{"am.example.com"}, "secretName": tlsName}}, am.Get("spec.tls"))
	cert := g.Find(harness.TypeSecret, tlsName)
	require.NotNil(t, cert)
	assert.Equal(t, "kubernetes.io/tls", cert.Get("type"))
	assert.Equal(t, []string{"stringData", "data"}, cert.IgnoreChanges, "made once and kept")
	assert.True(t, cert.IsSecret("stringData[tls.key]"))
	assert.True(t, g.DependsOn(am, cert), "served once it exists")
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

	echo := g.Find(harness.TypeIngress, "edge-echo")
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
	assert.ElementsMatch(t, []string{harness.TypeSecret + " edge-tls", harness.TypeIngress + " edge-am", harness.TypeIngress + " edge-echo"}, harness.Children(t, g, typeIngressComp))
	assert.Equal(t, "https", ing.Scheme)

	secret := g.Find(harness.TypeSecret, "edge-tls")
	assert.Equal(t, "edge-tls", secret.Get("metadata.name"))
	assert.Equal(t, "kubernetes.io/tls", secret.Get("type"))
	assert.True(t, secret.IsSecret("stringData.tls.crt"))
	assert.True(t, secret.IsSecret("stringData.tls.key"), "the private key is a secret in state")
	assert.Contains(t, secret.String("stringData[tls.key]"), "BEGIN PRIVATE KEY")

	for _, n := range []string{"edge-am", "edge-echo"} {
		ing := g.Find(harness.TypeIngress, n)
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
	assert.Empty(t, g.OfType(harness.TypeSecret), "the named Secret is used, none is created")
	assert.Equal(t, "wildcard-tls", g.Find(harness.TypeIngress, "edge-am").Get("spec.tls.0.secretName"))
	assert.Nil(t, g.Find(harness.TypeIngress, "edge-am").Get("metadata.annotations[pulumi.com/skipAwait]"))
}

func TestGKEAlone(t *testing.T) {
	g, ing, address := run(t, gkeArgs())
	assert.ElementsMatch(t, []string{
		harness.TypeGCPGlobalAddress + " edge",
		harness.TypeBackendConfig + " edge-apim-cp-https-lb",
		harness.TypeBackendConfig + " edge-hello-http-lb",
		harness.TypeFrontendConfig + " edge-frontend",
		harness.TypeManagedCertificate + " edge-cert",
		harness.TypeIngress + " edge",
	}, harness.Children(t, g, typeIngressComp))
	assert.Equal(t, "https", ing.Scheme, "TLS defaults to managed in mode gke")
	assert.Equal(t, "198.51.100.20", address, "the reserved address")

	addr := g.Find(harness.TypeGCPGlobalAddress, "edge")
	assert.Equal(t, "my-project-1", addr.Get("project"))

	am := g.Find(harness.TypeBackendConfig, "edge-apim-cp-https-lb")
	assert.Equal(t, "apim-cp-https-lb", am.Get("metadata.name"), "the name the Service annotation refers to")
	assert.Equal(t, map[string]any{
		"type": "HTTPS", "requestPath": "/services/Version", "port": 9763.0,
		"checkIntervalSec": 10.0, "timeoutSec": 5.0, "healthyThreshold": 1.0, "unhealthyThreshold": 3.0,
	}, am.Get("spec.healthCheck"))
	assert.Equal(t, 300.0, am.Get("spec.timeoutSec"), "default timeout")
	assert.Equal(t, map[string]any{"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": 3600.0}, am.Get("spec.sessionAffinity"))
	echo := g.Find(harness.TypeBackendConfig, "edge-hello-http-lb")
	assert.Equal(t, "HTTP", echo.Get("spec.healthCheck.type"))
	assert.Equal(t, 60.0, echo.Get("spec.timeoutSec"))
	assert.Nil(t, echo.Get("spec.sessionAffinity"))

	front := g.Find(harness.TypeFrontendConfig, "edge-frontend")
	assert.Equal(t, map[string]any{"enabled": true, "responseCodeName": "MOVED_PERMANENTLY_DEFAULT"}, front.Get("spec.redirectToHttps"))
	cert := g.Find(harness.TypeManagedCertificate, "edge-cert")
	assert.Equal(t, []any{"am.example.com", "echo.example.com"}, cert.Get("spec.domains"))

	lb := g.Find(harness.TypeIngress, "edge")
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
	assert.Empty(t, g.OfType(harness.TypeManagedCertificate))
	assert.Equal(t, false, g.Find(harness.TypeFrontendConfig, "edge-frontend").Get("spec.redirectToHttps.enabled"), "no redirect to a port that does not answer")
	assert.Nil(t, g.Find(harness.TypeIngress, "edge").Get("metadata.annotations[networking.gke.io/managed-certificates]"))
	assert.Nil(t, g.Find(harness.TypeBackendConfig, "edge-apim-cp-https-lb").Get("spec.customResponseHeaders"), "no HSTS without TLS")
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

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	const badRoute = "want a unique Name, a Host, and a Backend with Service, Port and PortName"
	with := func(base *ingress.Args, f func(a *ingress.Args)) *ingress.Args { f(base); return base }
	cases := []harness.Refusal[*ingress.Args]{
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
			`ingress "edge": tls: "managed" needs GKE's load balancer (Google-managed certificates); use secret or self-signed`},
	}
	harness.ExpectRefusals(t, ingress.NewIngress, "edge", cases)
}

func TestRefusesMissingMode(t *testing.T) {
	a := classArgs()
	a.Mode = ""
	err := harness.Refused(t, ingress.NewIngress, "edge", a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Mode: missing")
}

func TestRefusesRouteWithoutPort(t *testing.T) {
	a := classArgs()
	a.Routes[0].Backend.Port = 0
	err := harness.Refused(t, ingress.NewIngress, "edge", a)
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
	g, _, err := harness.TryConstruct(harness.Mocks{}, ingress.NewIngress, "edge", a)
	if err != nil {
		assert.NotContains(t, err.Error(), "duplicate resource URN")
		assert.Empty(t, g.All(), "a refusal registers nothing")
		return
	}
	assert.Len(t, g.OfType(harness.TypeBackendConfig), 2, "one per distinct backend")
}

func TestWithDefaults(t *testing.T) {
	a := ingress.Args{Routes: routes()}.WithDefaults()
	assert.Equal(t, "nginx", a.ClassName)
	assert.Equal(t, ingress.TLSSelfSigned, a.TLS)
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
	cases := []harness.Validation[ingress.Args]{
		{"class defaults", ingress.Args{Mode: ingress.ModeClass}, ""},
		{"gke defaults", ingress.Args{Mode: ingress.ModeGKE}, ""},
		{"tls secret", ingress.Args{Mode: ingress.ModeClass, TLS: ingress.TLSSecret, TLSSecretName: "wildcard-tls"}, ""},
		{"tls", ingress.Args{Mode: ingress.ModeClass, TLS: "acme"}, `ingress.tls: "acme" is not valid; use one of managed, secret, self-signed, none`},
		{"managed outside GKE", ingress.Args{Mode: ingress.ModeClass, TLS: ingress.TLSManaged},
			`ingress.tls: "managed" needs GKE's load balancer (Google-managed certificates); use secret or self-signed`},
		{"class name valid", ingress.Args{Mode: ingress.ModeClass, ClassName: "haproxy-internal"}, ""},
		{"class name", ingress.Args{Mode: ingress.ModeClass, ClassName: "Nginx"},
			`ingress.className: "Nginx" is not valid; want an IngressClass name such as nginx`},
		{"TLS secret name", ingress.Args{Mode: ingress.ModeClass, TLS: ingress.TLSSecret, TLSSecretName: "my_tls"},
			`ingress.tlsSecretName: "my_tls" is not valid; want the name of a kubernetes.io/tls Secret`},
		{"cookie TTL of 1", ingress.Args{Mode: ingress.ModeGKE, AffinityCookieTTLSeconds: 1}, ""},
		{"cookie TTL", ingress.Args{Mode: ingress.ModeGKE, AffinityCookieTTLSeconds: -5},
			"ingress.affinityCookieTtlSeconds: -5 is not valid; want 1 or more"},
		{"admin ranges", ingress.Args{Mode: ingress.ModeGKE, AdminAllowedCIDRs: []string{"10.8.0.0/16", "2001:db8::/32"}},
			`ingress.adminAllowedCidrs[1]: "2001:db8::/32" is not valid; want an IPv4 network in CIDR form such as 10.10.0.0/20`},
		{"admin placeholder range", ingress.Args{Mode: ingress.ModeClass, AdminAllowedCIDRs: []string{"198.51.100.0/24"}},
			`ingress.adminAllowedCidrs[0]: "198.51.100.0/24" is a documentation range (RFC 5737) that no real client uses; set your operators' ranges (office, VPN)`},
	}
	harness.ExpectProblems(t, func(args ingress.Args) []string { return args.WithDefaults().Validate("ingress") }, cases)
}

// adminRoutes are routes() with the portals' admin paths marked.
func adminRoutes() []ingress.Route {
	r := routes()
	r[0].AdminPaths = []string{"/carbon", "/admin", "/api/am/admin"}
	return r
}

// On GKE the admin paths get a Cloud Armor policy on the portals' backend only: the allowed
// ranges first (ten to a rule), then a 403 for the admin paths, then the declared default.
func TestGKEAdminPathsFencedByCloudArmor(t *testing.T) {
	a := gkeArgs()
	a.Routes = adminRoutes()
	var cidrs []string
	for i := range 12 {
		cidrs = append(cidrs, fmt.Sprintf("10.%d.0.0/16", i))
	}
	a.AdminAllowedCIDRs = cidrs
	g, _, _ := run(t, a)
	policies := g.OfType("gcp:compute/securityPolicy:SecurityPolicy")
	require.Len(t, policies, 1)
	pol := policies[0]
	assert.Equal(t, "my-project-1", pol.Get("project"))
	assert.Equal(t, harness.TypeGCPProvider, g.ProviderOf(pol).Type, "on the explicit gcp provider")
	rules := pol.Get("rules").([]any)
	require.Len(t, rules, 4)
	rule := func(i int) map[string]any { return rules[i].(map[string]any) }
	assert.Equal(t, "allow", rule(0)["action"])
	assert.Equal(t, 1000.0, rule(0)["priority"])
	assert.Equal(t, toAny(cidrs[:10]), rule(0)["match"].(map[string]any)["config"].(map[string]any)["srcIpRanges"])
	assert.Equal(t, 1001.0, rule(1)["priority"])
	assert.Equal(t, toAny(cidrs[10:]), rule(1)["match"].(map[string]any)["config"].(map[string]any)["srcIpRanges"])
	assert.Equal(t, "deny(403)", rule(2)["action"])
	assert.Equal(t, `request.path.urlDecode().lower().matches('^/+(carbon|admin|api/am/admin)([/?;]|$)')`,
		rule(2)["match"].(map[string]any)["expr"].(map[string]any)["expression"])
	assert.Equal(t, 2147483647.0, rule(3)["priority"], "the default rule is declared: no diff on every preview")
	assert.Equal(t, []any{"*"}, rule(3)["match"].(map[string]any)["config"].(map[string]any)["srcIpRanges"])

	am := g.Find(harness.TypeBackendConfig, "edge-apim-cp-https-lb")
	require.NotNil(t, am)
	// The policy's name is the provider's (auto-named): the mock answers with the resource's.
	assert.Equal(t, map[string]any{"name": "edge-admin"}, am.Get("spec.securityPolicy"), "the portals' backend is fenced")
	assert.True(t, g.DependsOn(am, pol))
	echo := g.Find(harness.TypeBackendConfig, "edge-hello-http-lb")
	require.NotNil(t, echo)
	assert.Nil(t, echo.Get("spec.securityPolicy"), "other hosts are not")
	for _, bc := range []*harness.Resource{am, echo} {
		assert.Equal(t, []any{ingress.HSTSHeader}, bc.Get("spec.customResponseHeaders.headers"), "HSTS behind TLS")
	}
}

// The expression catches what the server would resolve to an admin path, and nothing else.
func TestAdminPathExpressionMatchesWhatTheServerServes(t *testing.T) {
	expr := ingress.AdminPathExpression([]string{"/carbon", "/admin", "/api/am/admin"})
	m := regexp.MustCompile(`matches\('(.*)'\)$`).FindStringSubmatch(expr)
	require.Len(t, m, 2)
	re := regexp.MustCompile(m[1])
	// Cloud Armor decodes and lower-cases before matching; so does this.
	match := func(path string) bool {
		decoded, err := url.PathUnescape(path)
		require.NoError(t, err)
		return re.MatchString(strings.ToLower(decoded))
	}
	for _, p := range []string{"/carbon", "/carbon/", "/Carbon/admin/login.jsp", "//carbon", "/%63arbon/", "/admin", "/admin/site/public",
		"/api/am/admin/v4/throttling/policies", "/carbon;jsessionid=1", "/admin?x=1"} {
		assert.True(t, match(p), p)
	}
	for _, p := range []string{"/", "/publisher", "/devportal", "/api/am/publisher/v4/apis", "/carbonara", "/administrator", "/oauth2/token"} {
		assert.False(t, match(p), p)
	}
}

// Elsewhere the admin paths get an Ingress of their own with the controller's allow-list,
// and the rest of the host keeps its own (unfenced) Ingress.
func TestClassAdminPathsFencedBySourceRange(t *testing.T) {
	a := classArgs()
	a.Routes = adminRoutes()
	a.AdminAllowedCIDRs = []string{"10.8.0.0/16", "172.20.0.0/16"}
	g, _, _ := run(t, a)
	admin := g.Find(harness.TypeIngress, "edge-am-admin")
	require.NotNil(t, admin)
	assert.Equal(t, "10.8.0.0/16,172.20.0.0/16", admin.Get("metadata.annotations[nginx.ingress.kubernetes.io/whitelist-source-range]"))
	assert.Equal(t, "cookie", admin.Get("metadata.annotations[nginx.ingress.kubernetes.io/affinity]"), "the admin portal keeps its session too")
	assert.Equal(t, "HTTPS", admin.Get("metadata.annotations[nginx.ingress.kubernetes.io/backend-protocol]"))
	var paths []any
	for _, p := range admin.Get("spec.rules.0.http.paths").([]any) {
		paths = append(paths, p.(map[string]any)["path"])
	}
	assert.Equal(t, []any{"/carbon", "/admin", "/api/am/admin"}, paths)
	assert.Equal(t, "am.example.com", admin.Get("spec.rules.0.host"))
	main := g.Find(harness.TypeIngress, "edge-am")
	require.NotNil(t, main)
	assert.Nil(t, main.Get("metadata.annotations[nginx.ingress.kubernetes.io/whitelist-source-range]"))
	assert.Nil(t, g.Find(harness.TypeIngress, "edge-echo-admin"), "routes without admin paths get none")

	a.AdminAllowedCIDRs = nil
	g, _, _ = run(t, a)
	assert.Nil(t, g.Find(harness.TypeIngress, "edge-am-admin"), "no ranges, no fence")
	assert.Empty(t, g.OfType("gcp:compute/securityPolicy:SecurityPolicy"))
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// A self-signed certificate, as `up` makes it: valid for every host, for years, and a key
// that matches it.
func TestSelfSignedCertificateCoversTheHosts(t *testing.T) {
	g, _ := harness.Construct(t, harness.Mocks{Kubernetes: true, Up: true}, ingress.NewIngress, "edge", classArgs())
	s := g.OfType(harness.TypeSecret)[0]
	pair, err := tlsPair(s.String("stringData[tls.crt]"), s.String("stringData[tls.key]"))
	require.NoError(t, err, "the key matches the certificate")
	for _, h := range []string{"am.example.com", "echo.example.com"} {
		assert.NoError(t, pair.VerifyHostname(h), h)
	}
	assert.Greater(t, time.Until(pair.NotAfter), 4*365*24*time.Hour)
}

func tlsPair(certPEM, keyPEM string) (*x509.Certificate, error) {
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(pair.Certificate[0])
}
