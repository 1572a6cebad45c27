package stacks

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/backend"
	"github.com/wso2-k8s/apim-gke/components/ingress"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/components/nfs"
)

// workloads is what the workload step hands to later steps and to stack outputs.
type workloads struct {
	namespace    *corev1.Namespace
	controlPlane *apim.ControlPlane
	gateway      *apim.Gateway
	database     *mysql.MySQL
	files        *nfs.FileServer
	edge         *edge
	analytics    *analytics.Analytics
	backend      *backend.Backend
}

// The workload args are built from config alone (secrets and the namespace are filled in by
// newWorkloads), so validation can check the very values the components will use.

func (c *Config) hosts() (management, gateway string) {
	return "am." + c.APIM.Domain, "gw." + c.APIM.Domain
}

func (c *Config) controlPlaneArgs() apim.ControlPlaneArgs {
	mgmt, gw := c.hosts()
	return apim.ControlPlaneArgs{
		Workload: apim.Workload{
			Image:              c.APIM.Image,
			Resources:          c.APIM.Resources,
			HeapMB:             c.APIM.HeapMB,
			MinReadySeconds:    c.APIM.MinReadySeconds,
			AdminUsername:      c.APIM.AdminUsername,
			JDBCDriver:         apim.JDBCDriver{URL: c.APIM.JDBCDriver.URL, SHA256: c.APIM.JDBCDriver.SHA256, Image: c.APIM.JDBCDriver.Image},
			ManagementHostname: mgmt,
			GatewayHostname:    gw,
		},
	}.WithDefaults()
}

func (c *Config) gatewayArgs() apim.GatewayArgs {
	cp := c.controlPlaneArgs()
	g := c.Gateway
	target := 0
	if g.CPUTargetPercent != nil {
		target = *g.CPUTargetPercent
	}
	return apim.GatewayArgs{
		Workload: apim.Workload{
			Image:              g.Image,
			Resources:          g.Resources,
			HeapMB:             g.HeapMB,
			MinReadySeconds:    g.MinReadySeconds,
			AdminUsername:      cp.AdminUsername,
			JDBCDriver:         cp.JDBCDriver,
			ManagementHostname: cp.ManagementHostname,
			GatewayHostname:    cp.GatewayHostname,
		},
		ControlPlaneService:           cp.Name,
		MinReplicas:                   g.MinReplicas,
		MaxReplicas:                   g.MaxReplicas,
		CPUTargetPercent:              target,
		ScaleDownStabilizationSeconds: g.ScaleDownStabilizationSeconds,
	}.WithDefaults()
}

func (c *Config) mysqlArgs() mysql.Args {
	m := c.MySQL
	return mysql.Args{
		Image:        m.Image,
		APIMImage:    c.controlPlaneArgs().Image,
		Username:     m.Username,
		StorageSize:  m.StorageSize,
		StorageClass: m.StorageClass,
		Resources:    m.Resources,
		Protect:      m.Protect,
	}.WithDefaults()
}

func (c *Config) backendArgs() backend.Args {
	b := c.Backend
	return backend.Args{Image: b.Image, Args: b.Args, Replicas: b.Replicas}.WithDefaults()
}

func newWorkloads(ctx *pulumi.Context, cfg *Config, p *platform) (*workloads, error) {
	withK8s := pulumi.Provider(p.kube)
	ns, err := corev1.NewNamespace(ctx, "namespace", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(cfg.Cluster.Namespace),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":    pulumi.String(kube.PartOf),
				"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
				// Every pod here must meet the restricted Pod Security Standard.
				"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
				"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
			},
		},
	}, withK8s)
	if err != nil {
		return nil, err
	}
	// Taking the name from the Namespace's output makes everything in it wait for it, and
	// nothing else: the workloads themselves are created in parallel.
	namespace := ns.Metadata.Name().Elem()

	cpArgs, gwArgs, dbArgs := cfg.controlPlaneArgs(), cfg.gatewayArgs(), cfg.mysqlArgs()

	files, err := newFileServer(ctx, cfg, p, namespace)
	if err != nil {
		return nil, err
	}
	// Both mount the claim through its output: they are created after it and, since a claim
	// in use cannot be deleted, destroyed before it (the end-to-end suite's destroy hung on
	// exactly that before). Through the claim's volume they wait for the file server's
	// address, which their pods could not start without anyway.
	cpArgs.SharedVolumes = sharedVolumes(files.Claim)
	gwArgs.SharedVolumes = sharedVolumes(files.Claim)
	if *cfg.Ingress.Enabled {
		cpArgs.ServiceAnnotations = ingress.ServiceAnnotations(cfg.ingressMode(), cpArgs.Name, "https")
		gwArgs.ServiceAnnotations = ingress.ServiceAnnotations(cfg.ingressMode(), gwArgs.Name, "gw-https")
	}

	dbArgs.Namespace = namespace
	dbArgs.RootPassword = cfg.secret(SecretMySQLRootPassword)
	dbArgs.Password = cfg.secret(SecretMySQLPassword)
	dbArgs.Clients = []map[string]string{
		kube.Selector(cpArgs.Name, apim.ComponentControlPlane),
		kube.Selector(gwArgs.Name, apim.ComponentGateway),
	}
	db, err := mysql.NewMySQL(ctx, "mysql", &dbArgs, withK8s)
	if err != nil {
		return nil, err
	}
	database := apim.Database{Host: db.Host, Port: db.Port, Username: db.Username, Password: db.PasswordSecret}

	an, err := newAnalytics(ctx, cfg, namespace, &cpArgs, &gwArgs, withK8s)
	if err != nil {
		return nil, err
	}

	cpArgs.Namespace = namespace
	cpArgs.Database = database
	cpArgs.GatewayService = gwArgs.Name
	cpArgs.AdminPassword = cfg.secret(SecretAdminPassword)
	cpArgs.EncryptionKey = cfg.secret(SecretEncryptionKey)
	// Again now that the secrets are set: WithDefaults then names the Secret holding them.
	cpArgs = cpArgs.WithDefaults()
	if gwArgs.Analytics.Type == analytics.ModeMoesif {
		gwArgs.Analytics.MoesifKey = kube.SecretRef{Name: cpArgs.Credentials.AdminPassword.Name, Key: apim.MoesifSecretKey}
	}
	cp, err := apim.NewControlPlane(ctx, "apim-cp", &cpArgs, withK8s)
	if err != nil {
		return nil, err
	}

	gwArgs.Namespace = namespace
	gwArgs.Database = database
	gwArgs.Credentials = cp.Credentials
	gw, err := apim.NewGateway(ctx, "apim-gw", &gwArgs, withK8s)
	if err != nil {
		return nil, err
	}

	w := &workloads{namespace: ns, controlPlane: cp, gateway: gw, database: db, files: files, analytics: an}
	if *cfg.Backend.Enabled {
		bArgs := cfg.backendArgs()
		bArgs.Namespace = namespace
		if w.backend, err = backend.NewBackend(ctx, "hello", &bArgs, withK8s); err != nil {
			return nil, err
		}
	}
	if w.edge, err = newEdge(ctx, cfg, p, w, namespace, cpArgs, gwArgs); err != nil {
		return nil, err
	}
	return w, nil
}

func (c *Config) analyticsArgs() analytics.Args {
	a := c.Analytics
	return analytics.Args{
		Replicas: a.Replicas, Image: a.Image, DashboardsImage: a.DashboardsImage, ShipperImage: a.ShipperImage,
		StorageSize: a.StorageSize, StorageClass: a.StorageClass, Resources: a.Resources, HeapMB: a.HeapMB,
		Protect: a.Protect,
	}.WithDefaults()
}

// logsVolume is the gateway's logs emptyDir the analytics shipper reads.
const logsVolume = "apim-logs"

// newAnalytics sets the analytics of the gateways (the pods that see API traffic) and, for
// opensearch, creates the OpenSearch stack and puts the shipper beside each gateway.
func newAnalytics(ctx *pulumi.Context, cfg *Config, namespace pulumi.StringInput,
	cp *apim.ControlPlaneArgs, gw *apim.GatewayArgs, opts ...pulumi.ResourceOption) (*analytics.Analytics, error) {
	switch cfg.Analytics.Mode {
	case analytics.ModeMoesif:
		cp.MoesifKey = cfg.secret(SecretMoesifKey)
		gw.Analytics = apim.Analytics{Type: analytics.ModeMoesif}
		return nil, nil
	case analytics.ModeOpenSearch:
		a := cfg.analyticsArgs()
		a.Namespace = namespace
		a.AdminPassword = cfg.secret(SecretAnalyticsAdminPassword)
		a.ShipperClients = []map[string]string{kube.Selector(gw.Name, apim.ComponentGateway)}
		if *cfg.Ingress.Enabled {
			a.DashboardsServiceAnnotations = ingress.HTTPServiceAnnotations(cfg.ingressMode(), a.Name+"-dashboards", "http")
		}
		an, err := analytics.NewAnalytics(ctx, "analytics", &a, opts...)
		if err != nil {
			return nil, err
		}
		// WSO2's ELK reporter logs each event; the shipper carries the log to OpenSearch.
		gw.Analytics = apim.Analytics{Type: "elk"}
		gw.LogsVolume = logsVolume
		gw.Sidecars = append(gw.Sidecars, analytics.ShipperSidecar(an, logsVolume))
		gw.ExtraVolumes = append(gw.ExtraVolumes, analytics.ShipperVolumes(an)...)
		return an, nil
	}
	return nil, nil
}
