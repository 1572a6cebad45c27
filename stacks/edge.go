package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/publisher"
)

const healthPath = "/api/am/gateway/v2/server-startup-healthcheck"

func (c *Config) ingressMode() string {
	if c.Cluster.Mode == ModeGKE {
		return ingress.ModeGKE
	}
	return ingress.ModeClass
}

func (c *Config) ingressArgs(cp apim.ControlPlaneArgs, gw apim.GatewayArgs) ingress.Args {
	i := c.Ingress
	return ingress.Args{
		Mode:           c.ingressMode(),
		ManagementHost: cp.ManagementHostname,
		GatewayHost:    cp.GatewayHostname,
		Management:     ingress.Backend{Service: cp.Name, Port: apim.PortHTTPS, HealthPath: healthPath, HealthPort: apim.PortHTTPS},
		Gateway:        ingress.Backend{Service: gw.Name, Port: apim.PortGatewayHTTPS, HealthPath: healthPath, HealthPort: apim.PortHTTPS},
		Project:        c.Cluster.Project,
		ClassName:      i.ClassName,
		TLS:            i.TLS,
		TLSSecretName:  i.TLSSecretName,
		SkipAwait:      i.SkipAwait,
	}.WithDefaults()
}

// edge is what the ingress step adds to the stack outputs.
type edge struct {
	address                       pulumi.StringOutput
	publisherURL, devportalURL    string
	helloURL, managementURLScheme string
	dashboardsURL                 string
}

// newEdge publishes the hosts and the sample API. Both wait for nothing in the graph but the
// namespace: the Ingress routes to Services by name, and the publisher Job waits for the
// control plane at run time.
func newEdge(ctx *pulumi.Context, cfg *Config, p *platform, w *workloads, namespace pulumi.StringInput,
	cp apim.ControlPlaneArgs, gw apim.GatewayArgs) (*edge, error) {
	e := &edge{}
	if *cfg.Ingress.Enabled {
		a := cfg.ingressArgs(cp, gw)
		a.Namespace = namespace
		if cfg.ingressTLSFromConfig() {
			a.TLSCertificate = cfg.secret(SecretIngressTLSCertificate)
			a.TLSKey = cfg.secret(SecretIngressTLSKey)
		}
		if w.analytics != nil {
			e.dashboardsURL = "dashboards." + cfg.APIM.Domain
			a.Extra = append(a.Extra, ingress.Route{Host: e.dashboardsURL, Backend: ingress.Backend{
				Service: w.analytics.DashboardsService, Port: w.analytics.DashboardsPort,
				HealthPath: "/app/login", HealthPort: w.analytics.DashboardsPort, HTTP: true,
			}})
		}
		opts := []pulumi.ResourceOption{pulumi.Providers(p.kube)}
		if p.gcp != nil {
			opts = []pulumi.ResourceOption{pulumi.Providers(p.gcp, p.kube)}
		}
		ing, err := ingress.NewIngress(ctx, "ingress", &a, opts...)
		if err != nil {
			return nil, err
		}
		e.address = ing.Address
		e.publisherURL = fmt.Sprintf("%s://%s/publisher", ing.Scheme, cp.ManagementHostname)
		e.devportalURL = fmt.Sprintf("%s://%s/devportal", ing.Scheme, cp.ManagementHostname)
		e.managementURLScheme = ing.Scheme
		if e.dashboardsURL != "" {
			e.dashboardsURL = ing.Scheme + "://" + e.dashboardsURL
		}
	}
	if *cfg.Publisher.Enabled && w.backend != nil {
		pub, err := publisher.NewPublisher(ctx, "publish-hello", &publisher.Args{
			Namespace:       namespace,
			ControlPlaneURL: fmt.Sprintf("https://%s:%d", cp.Name, apim.PortHTTPS),
			AdminUsername:   cp.AdminUsername,
			AdminPassword:   w.controlPlane.Credentials.AdminPassword,
			GatewayVHost:    cp.GatewayHostname,
			Endpoint:        w.backend.URL,
			Image:           cfg.Publisher.Image,
		}, pulumi.Provider(p.kube))
		if err != nil {
			return nil, err
		}
		scheme := e.managementURLScheme
		if scheme == "" {
			scheme = "https"
		}
		e.helloURL = fmt.Sprintf("%s://%s%s", scheme, cp.GatewayHostname, pub.Path)
	}
	return e, nil
}
