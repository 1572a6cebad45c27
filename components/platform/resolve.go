package platform

import (
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// resolution is what WithDefaults derives from a Platform's config besides the config's own
// defaults: the API Manager components' args, each defaulted and validated once (their
// problems are reported by Validate), and, once Resolve has found no problem, the Context the
// args were resolved in.
type resolution struct {
	controlPlane                          apim.ControlPlaneArgs
	controlPlaneProblems, gatewayProblems validate.Problems
	checkedIn                             *Context
}

// Resolve applies every default (WithDefaults) and checks the result (Validate), once. Args it
// returns without a problem are trusted: NewPlatform, given them in the same Context, neither
// defaults nor validates them again, and neither do the components it hands them to. A
// program that reports config problems before creating the Platform (as package stacks does)
// resolves with this and passes the result on.
func Resolve(c Context, args Args) (Args, validate.Problems) {
	if r := args.resolved; r != nil && r.checkedIn != nil && *r.checkedIn == c {
		return args, nil
	}
	a := args.WithDefaults(c)
	p := a.Validate()
	if len(p) == 0 {
		a.resolved.checkedIn = &c
	}
	return a, p
}

// resolveAPIM derives the control plane's and the gateway's args from config, each resolved
// once by package apim (defaults and its rules); everything else reads them from a.
func (a *Args) resolveAPIM() {
	mgmt, gwHost := a.Hosts()
	shared := apim.Shared{
		AdminUsername:      a.APIM.AdminUsername,
		JDBCDriver:         a.APIM.JDBCDriver,
		ManagementHostname: mgmt,
		GatewayHostname:    gwHost,
		Metrics:            a.Monitoring.JMXExporter,
	}
	if *a.Ingress.Enabled {
		shared.WebSocketHostname, shared.WebSubHostname = "ws."+a.APIM.Domain, "websub."+a.APIM.Domain
		if a.Ingress.TLS == ingress.TLSNone {
			shared.EdgeScheme = "http"
		}
	}
	gw := a.Gateway
	gw.Shared = shared
	gw, gwProblems := gw.Resolve("gateway")
	cp, cpProblems := apim.ControlPlaneArgs{Workload: a.APIM.Workload, Shared: shared, Replicas: a.APIM.Replicas,
		GatewayService: gw.Name}.Resolve("apim")
	// Wiring, not config: the gateways talk to every control plane node.
	gw.ControlPlaneService, gw.ControlPlaneReplicas = cp.Name, cp.Replicas
	a.Gateway = gw
	a.APIM.Workload, a.APIM.Replicas, a.APIM.AdminUsername = cp.Workload, cp.Replicas, cp.AdminUsername
	a.resolved = &resolution{controlPlane: cp, controlPlaneProblems: cpProblems, gatewayProblems: gwProblems}
}
