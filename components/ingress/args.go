package ingress

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// Modes.
const (
	// ModeGKE uses GKE's built-in Ingress controller and Google Cloud load balancer.
	ModeGKE = "gke"
	// ModeClass uses an Ingress controller already in the cluster, named by ClassName.
	ModeClass = "class"
)

// TLS modes.
const (
	TLSManaged = "managed" // Google-managed certificates (mode gke)
	TLSSecret  = "secret"  // an existing kubernetes.io/tls Secret, e.g. from cert-manager
	// TLSSelfSigned serves a certificate made once for the hosts and kept: TLS for clusters
	// where nobody issues one (clients must accept it, e.g. curl -k).
	TLSSelfSigned = "self-signed"
	TLSNone       = "none" // HTTP only: the portals' login does not work without TLS
)

// Backend is a Service port behind a host.
type Backend struct {
	// Service and Port (and its name in the Service, PortName) receive the traffic.
	Service  string
	Port     int
	PortName string
	// HTTP marks a plain-HTTP backend; API Manager's listeners are TLS, so the load balancer
	// speaks HTTPS to them by default.
	HTTP bool
	// HealthPath is checked on HealthPort by the GKE load balancer (over HTTPS unless HTTP).
	HealthPath string
	HealthPort int
	// TimeoutSeconds bounds a request at the GKE load balancer; for WebSocket backends it
	// bounds the connection's lifetime. Defaults to 300.
	TimeoutSeconds int
}

// Route is one host behind the load balancer.
type Route struct {
	// Name tells the routes apart in resource names, e.g. "am" or "gw". Required, unique.
	Name string
	// Host is the public host name, e.g. am.example.com. Required.
	Host    string
	Backend Backend
	// Affinity keeps a client on one pod with a cookie: API Manager's portals keep session
	// state per server, and login breaks without it.
	Affinity bool
	// AdminPaths are path prefixes of Host that only Args.AdminAllowedCIDRs may reach, when
	// that is set (e.g. /carbon, /admin, /api/am/admin of the portals).
	AdminPaths []string
}

// Args configures the Ingress. Zero values are replaced by the defaults in WithDefaults. The
// JSON names are the settings of a stack's `ingress` config key.
type Args struct {
	// Mode is gke or class. Required.
	Mode string `json:"-"`
	// Namespace of the backends. Required.
	Namespace pulumi.StringInput `json:"-"`
	// Routes are the hosts and their backends. Required.
	Routes []Route `json:"-"`
	// Project holds the reserved global address (mode gke). Required for gke.
	Project string `json:"-"`
	// ClassName of the Ingress controller (mode class). Defaults to nginx.
	ClassName string `json:"className"`
	// ControllerNamespace is where the Ingress controller's pods run (mode class): only they
	// may reach the backends. Defaults to ingress-nginx.
	ControllerNamespace string `json:"controllerNamespace"`
	// TLS is managed (Google-managed certificates, mode gke only), secret (a
	// kubernetes.io/tls Secret), self-signed (made once and kept) or none. Defaults to
	// managed (gke) or self-signed (class).
	TLS string `json:"tls"`
	// TLSSecretName names an existing kubernetes.io/tls Secret, e.g. from cert-manager (TLS
	// secret). When empty, TLSCertificate and TLSKey (PEM, secrets) are stored in a Secret the
	// component creates.
	TLSSecretName  string             `json:"tlsSecretName"`
	TLSCertificate pulumi.StringInput `json:"-"`
	TLSKey         pulumi.StringInput `json:"-"`
	// AffinityCookieTTLSeconds keeps a portal user on one control plane pod, which login
	// needs. Defaults to 3600.
	AffinityCookieTTLSeconds int `json:"affinityCookieTtlSeconds"`
	// SkipAwait tells the provider not to wait for a load balancer address, for clusters
	// without an Ingress controller (such as the end-to-end suite's). Defaults to false.
	SkipAwait bool `json:"skipAwait"`
	// DrainingTimeoutSeconds is how long the GKE load balancer lets a backend that leaves
	// (a pod stopping) finish its requests; the pods' preStop sleep is derived from it
	// (PreStopSeconds) so they keep serving that long. Defaults to 30, 0..600.
	DrainingTimeoutSeconds *int `json:"drainingTimeoutSeconds"`
	// AdminAllowedCIDRs are the client ranges that may reach the routes' AdminPaths (your
	// operators' office or VPN): on GKE a Cloud Armor policy on those backends, elsewhere
	// the controller's source-range allow-list. Empty: the admin paths are as public as the
	// rest of the host (a preview warns).
	AdminAllowedCIDRs []string `json:"adminAllowedCidrs"`
}

// GoogleFrontEnds are the ranges Google's load balancers and their health checks connect from;
// with container-native load balancing they reach the pods directly.
var GoogleFrontEnds = []string{"35.191.0.0/16", "130.211.0.0/22"}

// Clients are the peers that carry this ingress's traffic to the backends: Google's front
// ends (mode gke) or the Ingress controller's pods (mode class).
func (a Args) Clients() []kube.Peer {
	if a.Mode == ModeGKE {
		var out []kube.Peer
		for _, c := range GoogleFrontEnds {
			out = append(out, kube.Peer{CIDR: c})
		}
		return out
	}
	return []kube.Peer{kube.InNamespace(a.ControllerNamespace)}
}

// TLSFromValues says the certificate comes from TLSCertificate and TLSKey.
func (a Args) TLSFromValues() bool { return a.TLS == TLSSecret && a.TLSSecretName == "" }

// Validate checks defaulted args; key prefixes every message (e.g. "ingress").
func (a Args) Validate(key string) validate.Problems {
	var p validate.Problems
	k := func(name string) string { return validate.Key(key, name) }
	p.OneOf(k("tls"), a.TLS, TLSManaged, TLSSecret, TLSSelfSigned, TLSNone)
	if a.TLS == TLSManaged && a.Mode != ModeGKE {
		p.Addf(k("tls"), "%q needs GKE's load balancer (Google-managed certificates); use secret or self-signed", a.TLS)
	}
	p.Matches(k("className"), a.ClassName, validate.DNSLabelRe, "an IngressClass name such as nginx")
	p.Matches(k("controllerNamespace"), a.ControllerNamespace, validate.DNSLabelRe, "the namespace of the Ingress controller, such as ingress-nginx")
	p.Matches(k("tlsSecretName"), a.TLSSecretName, validate.DNSLabelRe, "the name of a kubernetes.io/tls Secret")
	for i, c := range a.AdminAllowedCIDRs {
		p.CIDR(fmt.Sprintf("%s[%d]", k("adminAllowedCidrs"), i), c)
		p.NotDocumentationRange(fmt.Sprintf("%s[%d]", k("adminAllowedCidrs"), i), c, "your operators' ranges (office, VPN)")
	}
	if a.DrainingTimeoutSeconds != nil {
		p.Between(k("drainingTimeoutSeconds"), *a.DrainingTimeoutSeconds, 0, 600)
	}
	if a.AffinityCookieTTLSeconds < 1 {
		p.Addf(k("affinityCookieTtlSeconds"), "%d is not valid; want 1 or more", a.AffinityCookieTTLSeconds)
	}
	return p
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.ClassName == "" {
		a.ClassName = "nginx"
	}
	if a.ControllerNamespace == "" {
		a.ControllerNamespace = "ingress-nginx"
	}
	if a.TLS == "" {
		a.TLS = TLSSelfSigned
		if a.Mode == ModeGKE {
			a.TLS = TLSManaged
		}
	}
	if a.AffinityCookieTTLSeconds == 0 {
		a.AffinityCookieTTLSeconds = 3600
	}
	if a.DrainingTimeoutSeconds == nil {
		d := 30
		a.DrainingTimeoutSeconds = &d
	}
	a.Routes = slices.Clone(a.Routes)
	for i := range a.Routes {
		if a.Routes[i].Backend.TimeoutSeconds == 0 {
			a.Routes[i].Backend.TimeoutSeconds = 300
		}
	}
	return a
}

// BackendConfigName is the BackendConfig a GKE backend Service port points at.
func BackendConfigName(b Backend) string { return b.Service + "-" + b.PortName + "-lb" }

// ServiceAnnotations are what a Service needs in this mode for the ports of it that routes
// lead to: on GKE, container-native load balancing, a BackendConfig per port (health check,
// timeout, affinity) and HTTPS to the TLS ports. Other controllers read their settings from
// the Ingress, so elsewhere there are none.
func ServiceAnnotations(mode string, backends ...Backend) map[string]string {
	if mode != ModeGKE || len(backends) == 0 {
		return nil
	}
	configs, protocols := map[string]string{}, map[string]string{}
	for _, b := range backends {
		configs[b.PortName] = BackendConfigName(b)
		if !b.HTTP {
			protocols[b.PortName] = "HTTPS"
		}
	}
	a := map[string]string{
		"cloud.google.com/neg":            js(map[string]bool{"ingress": true}),
		"cloud.google.com/backend-config": js(map[string]any{"ports": configs}),
	}
	if len(protocols) > 0 {
		a["cloud.google.com/app-protocols"] = js(protocols)
	}
	return a
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Ingress is the component's public face.
type Ingress struct {
	pulumi.ResourceState

	// Address is the reserved IP (gke), or the load balancer's address once known.
	Address pulumi.StringOutput
	// Scheme is https unless TLS is none.
	Scheme string
}

// AdminRestricted says the admin paths of some route are fenced by AdminAllowedCIDRs.
func (a Args) AdminRestricted() bool {
	if len(a.AdminAllowedCIDRs) == 0 {
		return false
	}
	for _, r := range a.Routes {
		if len(r.AdminPaths) > 0 {
			return true
		}
	}
	return false
}

// EndpointPropagationSeconds is the margin for a stopping pod's removal from the endpoints to
// reach every kube-proxy, Ingress controller and the load balancer's endpoint group: until
// then new requests still arrive.
const EndpointPropagationSeconds = 5

// PreStopSeconds is how long a pod behind this edge keeps serving once told to stop: the
// load balancer's draining time plus the propagation margin. Both come from one setting so
// they cannot drift apart (a policy rule holds it).
func (a Args) PreStopSeconds() int { return *a.DrainingTimeoutSeconds + EndpointPropagationSeconds }
