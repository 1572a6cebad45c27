package platform

import (
	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/backend"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/components/publisher"
)

// workloads is what the workload steps hand to the edge step.
type workloads struct {
	cp        *apim.ControlPlane
	gw        *apim.Gateway
	db        *mysql.MySQL
	backend   *backend.Backend
	analytics *analytics.Analytics
	cpArgs    apim.ControlPlaneArgs
	gwArgs    apim.GatewayArgs
}

// shipperLag is how much longer than the gateway the shipper runs when a pod stops: its tail
// reads the last lines once the gateway has written them (Refresh_Interval and a flush).
const shipperLag = 5

// logsVolume is the gateway's logs emptyDir the analytics shipper reads.
const logsVolume = "apim-logs"

// apimArgs are the control plane's and the gateway's args before the database and credentials
// exist: everything config decides, resolved once by WithDefaults.
func (a Args) apimArgs() (apim.ControlPlaneArgs, apim.GatewayArgs) {
	return a.resolved.controlPlane, a.Gateway
}

// apiManager creates analytics (when self-hosted), the control plane and the gateway. None of
// them waits for another in the graph: start-up order is handled at run time by readiness and
// retries.
func (b *builder) apiManager() error {
	cp, gw := b.a.apimArgs()
	database := b.apimDatabase()
	for _, s := range []*apim.Shared{&cp.Shared, &gw.Shared} {
		s.Namespace = b.namespace
		s.Database = database
		s.Keystores = b.keystoreSecret
		s.TrustedCertificates = b.a.trustedCertificates()
	}
	cp.SharedVolumes, gw.SharedVolumes = b.sharedVolumes(), b.sharedVolumes()
	if *b.a.Ingress.Enabled {
		cp.ServiceAnnotations = ingress.ServiceAnnotations(b.a.Ingress.Mode, b.a.backendsOf(cp.Name)...)
		gw.ServiceAnnotations = ingress.ServiceAnnotations(b.a.Ingress.Mode, b.a.backendsOf(gw.Name)...)
		// Keep serving while the edge drains them: one setting for both.
		cp.PreStopSeconds, gw.PreStopSeconds = b.a.Ingress.PreStopSeconds(), b.a.Ingress.PreStopSeconds()
	}
	b.allowTraffic(&cp, &gw)
	if err := b.analytics(&cp, &gw); err != nil {
		return err
	}
	cp.AdminPassword, cp.EncryptionKey = b.secret[SecretAdminPassword], b.secret[SecretEncryptionKey]
	if gw.Analytics.Type == apim.AnalyticsMoesif {
		gw.Analytics.MoesifKey = kube.SecretRef{Name: apim.CredentialsSecret(cp.Name).AdminPassword.Name, Key: apim.MoesifSecretKey}
	}
	var err error
	if b.work.cp, err = apim.NewControlPlane(b.ctx, b.child("cp"), &cp, b.withK8s()...); err != nil {
		return err
	}
	gw.Credentials = b.work.cp.Credentials
	if b.work.gw, err = apim.NewGateway(b.ctx, b.child("gw"), &gw, b.withK8s()...); err != nil {
		return err
	}
	b.work.cpArgs, b.work.gwArgs = cp, gw
	return nil
}

// analytics sets the analytics of the gateways (the pods that see API traffic) and, for
// opensearch, creates the OpenSearch stack and puts the shipper beside each gateway.
func (b *builder) analytics(cp *apim.ControlPlaneArgs, gw *apim.GatewayArgs) error {
	switch b.a.Analytics.Mode {
	case analytics.ModeMoesif:
		cp.MoesifKey = optional(b.a.Secrets.MoesifKey)
		gw.Analytics = apim.Analytics{Type: apim.AnalyticsMoesif}
	case analytics.ModeOpenSearch:
		a := b.a.Analytics.Args
		a.Namespace = b.namespace
		a.AdminPassword = b.secret[SecretAnalyticsAdminPassword]
		if *b.a.Ingress.Enabled {
			a.PreStopSeconds = b.a.Ingress.PreStopSeconds()
		}
		a.ShipperClients = []map[string]string{kube.Selector(gw.Name, apim.ComponentGateway)}
		if *b.a.Ingress.Enabled {
			a.DashboardsServiceAnnotations = ingress.ServiceAnnotations(b.a.Ingress.Mode, b.a.backendsOf(a.DashboardsName())...)
			a.DashboardsClients = b.a.Ingress.Clients()
		}
		an, err := analytics.NewAnalytics(b.ctx, b.child("analytics"), &a, b.withK8s()...)
		if err != nil {
			return err
		}
		b.work.analytics = an
		// WSO2's ELK reporter logs each event; the shipper carries the log to OpenSearch.
		gw.Analytics = apim.Analytics{Type: apim.AnalyticsELK}
		gw.LogsVolume = logsVolume
		gw.Sidecars = append(gw.Sidecars, analytics.ShipperSidecar(an, logsVolume, gw.PreStopSeconds+shipperLag))
		gw.ExtraVolumes = append(gw.ExtraVolumes, analytics.ShipperVolumes(an)...)
	}
	return nil
}

func (b *builder) backend() error {
	if !*b.a.Backend.Enabled {
		return nil
	}
	a := b.a.Backend.Args
	a.Namespace = b.namespace
	a.Clients = []kube.Peer{{Pods: kube.Selector(b.work.gwArgs.Name, apim.ComponentGateway)}}
	var err error
	b.work.backend, err = backend.NewBackend(b.ctx, b.child("hello"), &a, b.withK8s()...)
	return err
}

// allowTraffic fills in the NetworkPolicies' peers, the namespace denying everything else:
// the portals and the gateway's listeners take traffic from the load balancer (or the
// Ingress controller) only, the control plane also from the publisher Job; the workloads call
// MySQL, and the gateways the backends, OpenSearch and APIs outside the cluster.
func (b *builder) allowTraffic(cp *apim.ControlPlaneArgs, gw *apim.GatewayArgs) {
	a := b.a
	var edge []kube.Peer
	if *a.Ingress.Enabled {
		edge = a.Ingress.Clients()
	}
	// With nobody at the edge, only the namespace's own pods (kubectl port-forward goes
	// through the node and is not filtered).
	cp.Clients = append(edge, kube.Peer{Pods: publisher.Selector(b.child(publisherName))})
	gw.Clients = edge
	mysql := a.databaseEgress()
	// Backends outside the cluster (and analytics SaaS such as Moesif): the gateways carry
	// API traffic there, the control plane tests endpoints and imports definitions from URLs.
	var backends []kube.Rule
	for _, e := range a.APIM.BackendEgress {
		backends = append(backends, kube.Rule{Peers: []kube.Peer{{CIDR: e.CIDR}}, Ports: kube.TCP(e.Ports...)})
	}
	cp.Egress = append([]kube.Rule{mysql}, backends...)
	gw.Egress = append([]kube.Rule{mysql}, backends...)
	if *a.Backend.Enabled {
		gw.Egress = append(gw.Egress, kube.Rule{Peers: []kube.Peer{{Pods: backend.Selector(a.Backend.Name)}}, Ports: kube.TCP(backend.Port)})
	}
	if a.Analytics.Mode == analytics.ModeOpenSearch {
		// The shipper sidecar writes to OpenSearch.
		gw.Egress = append(gw.Egress, kube.Rule{Peers: []kube.Peer{{Pods: analytics.StoreSelector(a.Analytics.Name)}}, Ports: kube.TCP(analytics.HTTPPort)})
	}
}
