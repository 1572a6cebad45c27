package platform

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/publisher"
)

// publisherName names the sample API's publisher (after the platform's name).
const publisherName = "publish-hello"

// AdminPaths are the portals host's paths that administer the whole deployment: the Carbon
// management console, the admin portal and the admin REST API. ingress.adminAllowedCidrs
// fences them.
var AdminPaths = []string{"/carbon", "/admin", "/api/am/admin"}

// routes are the public hosts and what serves them: the portals (cookie affinity: their login
// keeps server-side state), the gateway's REST/SOAP, WebSocket and WebSub listeners, and
// OpenSearch Dashboards. Both the Services' annotations and the Ingress come from here.
func (a Args) routes() []ingress.Route {
	cp, gw := a.apimArgs()
	health := func(b ingress.Backend) ingress.Backend {
		b.HealthPath, b.HealthPort = apim.ReadinessPath, apim.PortHTTPS
		return b
	}
	routes := []ingress.Route{
		{Name: "am", Host: cp.ManagementHostname, Affinity: true, AdminPaths: AdminPaths,
			Backend: health(ingress.Backend{Service: cp.Name, Port: apim.PortHTTPS, PortName: apim.PortNameHTTPS})},
		{Name: "gw", Host: cp.GatewayHostname,
			Backend: health(ingress.Backend{Service: gw.Name, Port: apim.PortGatewayHTTPS, PortName: apim.PortNameGatewayHTTPS})},
		// A WebSocket connection lives as long as the load balancer's timeout allows.
		{Name: "ws", Host: cp.WebSocketHostname,
			Backend: health(ingress.Backend{Service: gw.Name, Port: apim.PortWebSocketSecure, PortName: apim.PortNameWebSocketSecure, TimeoutSeconds: 3600})},
		{Name: "websub", Host: cp.WebSubHostname,
			Backend: health(ingress.Backend{Service: gw.Name, Port: apim.PortWebSubSecure, PortName: apim.PortNameWebSubSecure})},
	}
	if a.Analytics.Mode == analytics.ModeOpenSearch {
		routes = append(routes, ingress.Route{Name: "dashboards", Host: "dashboards." + a.APIM.Domain,
			Backend: ingress.Backend{Service: a.Analytics.DashboardsName(), Port: analytics.DashboardsPort, PortName: analytics.DashboardsPortName,
				HTTP: true, HealthPath: analytics.DashboardsHealthPath, HealthPort: analytics.DashboardsPort}})
	}
	return routes
}

// backendsOf are the route backends a Service serves.
func (a Args) backendsOf(service string) []ingress.Backend {
	var out []ingress.Backend
	for _, r := range a.routes() {
		if r.Backend.Service == service {
			out = append(out, r.Backend)
		}
	}
	return out
}

// edge publishes the hosts and the sample API. Both wait for nothing in the graph but the
// namespace: the Ingress routes to Services by name, and the publisher Job waits for the
// control plane at run time.
func (b *builder) edge() error {
	cp := b.work.cpArgs
	scheme := "https"
	b.p.IngressAddress = pulumi.String("").ToStringOutput()
	b.p.PublisherURL = pulumi.String("").ToStringOutput()
	b.p.DevportalURL = pulumi.String("").ToStringOutput()
	b.p.DashboardsURL = pulumi.String("").ToStringOutput()
	b.p.HelloAPIURL = pulumi.String("").ToStringOutput()
	if *b.a.Ingress.Enabled {
		a := b.a.Ingress.Args
		a.Namespace = b.namespace
		a.Project = b.a.Cluster.Project
		a.Routes = b.a.routes()
		if a.TLSFromValues() {
			a.TLSCertificate = optional(b.a.Secrets.IngressTLSCertificate)
			a.TLSKey = optional(b.a.Secrets.IngressTLSKey)
		}
		ing, err := ingress.NewIngress(b.ctx, b.child("ingress"), &a, b.withClouds()...)
		if err != nil {
			return err
		}
		scheme = ing.Scheme
		b.p.IngressAddress = ing.Address
		b.p.PublisherURL = pulumi.Sprintf("%s://%s/publisher", scheme, cp.ManagementHostname)
		b.p.DevportalURL = pulumi.Sprintf("%s://%s/devportal", scheme, cp.ManagementHostname)
		if b.work.analytics != nil {
			b.p.DashboardsURL = pulumi.Sprintf("%s://dashboards.%s", scheme, b.a.APIM.Domain)
		}
	}
	if !*b.a.Publisher.Enabled || b.work.backend == nil {
		return nil
	}
	a := b.a.Publisher.Args
	a.Namespace = b.namespace
	a.ControlPlaneURL = fmt.Sprintf("https://%s:%d", cp.Name, apim.PortHTTPS)
	a.AdminUsername = cp.AdminUsername
	a.AdminPassword = b.work.cp.Credentials.AdminPassword
	a.GatewayVHost = cp.GatewayHostname
	a.Endpoint = b.work.backend.URL
	a.ControlPlane = []kube.Peer{{Pods: kube.Selector(cp.Name, apim.ComponentControlPlane)}}
	pub, err := publisher.NewPublisher(b.ctx, b.child(publisherName), &a, b.withK8s()...)
	if err != nil {
		return err
	}
	b.p.HelloAPIURL = pulumi.Sprintf("%s://%s%s", scheme, cp.GatewayHostname, pub.Path)
	return nil
}

// outputs fills the Platform's remaining outputs.
func (b *builder) outputs() {
	p, w := b.p, b.work
	mgmt, gwHost := b.a.Hosts()
	p.ManagementHost = pulumi.String(mgmt).ToStringOutput()
	p.GatewayHost = pulumi.String(gwHost).ToStringOutput()
	p.ControlPlaneService = pulumi.String(w.cp.Service).ToStringOutput()
	p.GatewayService = pulumi.String(w.gw.Service).ToStringOutput()
	p.MySQLService = pulumi.String(w.db.Host).ToStringOutput()
	p.AdminUsername = pulumi.String(w.cpArgs.AdminUsername).ToStringOutput()
	p.BackendURL = pulumi.String("").ToStringOutput()
	if w.backend != nil {
		p.BackendURL = pulumi.String(w.backend.URL).ToStringOutput()
	}
}
