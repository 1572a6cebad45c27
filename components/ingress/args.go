package ingress

import (
	"encoding/json"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
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
	TLSNone    = "none"    // HTTP only (local tries)
)

// Backend is a Service port behind a host.
type Backend struct {
	Service string
	Port    int
	// HealthPath is checked over HTTPS on HealthPort by the GKE load balancer.
	HealthPath string
	HealthPort int
	// HTTP marks a plain-HTTP backend (API Manager's are HTTPS).
	HTTP bool
}

// Route is one more host behind the same load balancer, e.g. OpenSearch Dashboards.
type Route struct {
	Host    string
	Backend Backend
}

// Args configures the Ingress. Zero values are replaced by the defaults in WithDefaults.
type Args struct {
	// Mode is gke or class. Required.
	Mode string
	// Namespace of the backends. Required.
	Namespace pulumi.StringInput
	// ManagementHost and GatewayHost are the public host names. Required.
	ManagementHost, GatewayHost string
	// Management and Gateway are the backends. Required.
	Management, Gateway Backend
	// Extra routes more hosts, without cookie affinity.
	Extra []Route
	// Project holds the reserved global address (mode gke). Required for gke.
	Project string
	// ClassName is the IngressClass (mode class). Defaults to nginx.
	ClassName string
	// TLS is managed, secret or none. Defaults to managed (gke) or none (class).
	TLS string
	// TLSSecretName names an existing kubernetes.io/tls Secret (TLS secret). When empty,
	// TLSCertificate and TLSKey (PEM, secrets) are stored in a Secret the component creates.
	TLSSecretName          string
	TLSCertificate, TLSKey pulumi.StringInput
	// AffinityCookieTTLSeconds keeps a portal user on one control plane pod, which login
	// needs. Defaults to 3600.
	AffinityCookieTTLSeconds int
	// SkipAwait tells the provider not to wait for a load balancer address, for clusters
	// without an Ingress controller (such as the end-to-end suite's). Defaults to false.
	SkipAwait bool
}

// WithDefaults returns a copy of a with every empty setting replaced by its default.
func (a Args) WithDefaults() Args {
	if a.ClassName == "" {
		a.ClassName = "nginx"
	}
	if a.TLS == "" {
		a.TLS = TLSNone
		if a.Mode == ModeGKE {
			a.TLS = TLSManaged
		}
	}
	if a.AffinityCookieTTLSeconds == 0 {
		a.AffinityCookieTTLSeconds = 3600
	}
	return a
}

// BackendConfigName is the BackendConfig a GKE backend Service points at.
func BackendConfigName(service string) string { return service + "-lb" }

// ServiceAnnotations are what a backend Service needs for this mode: on GKE, HTTPS to the
// pods (API Manager only listens on TLS ports), container-native load balancing, and the
// BackendConfig with its health check. Other controllers read their settings from the Ingress.
func ServiceAnnotations(mode, service, portName string) map[string]string {
	a := HTTPServiceAnnotations(mode, service, portName)
	if a != nil {
		a["cloud.google.com/app-protocols"] = js(map[string]string{portName: "HTTPS"})
	}
	return a
}

// HTTPServiceAnnotations are ServiceAnnotations for a plain-HTTP backend.
func HTTPServiceAnnotations(mode, service, portName string) map[string]string {
	if mode != ModeGKE {
		return nil
	}
	return map[string]string{
		"cloud.google.com/neg":            js(map[string]bool{"ingress": true}),
		"cloud.google.com/backend-config": js(map[string]any{"ports": map[string]string{portName: BackendConfigName(service)}}),
	}
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
