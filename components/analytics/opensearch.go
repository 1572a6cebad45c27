package analytics

import (
	"fmt"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

const (
	httpPort       = HTTPPort
	transportPort  = 9300
	dashboardsPort = DashboardsPort
	opensearchUID  = 1000
)

// NewAnalytics creates OpenSearch, OpenSearch Dashboards and the shipper's configuration.
func NewAnalytics(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Analytics, error) {
	if args == nil {
		return nil, fmt.Errorf("analytics %q: args are required", name)
	}
	a := args.WithDefaults()
	p := a.Validate("")
	if a.Namespace == nil || a.AdminPassword == nil {
		p.Addf("args", "Namespace and AdminPassword are required")
	}
	if err := p.Err(fmt.Sprintf("analytics %q", name)); err != nil {
		return nil, err
	}
	dash := a.DashboardsName()
	an := &Analytics{
		Endpoint:          fmt.Sprintf("https://%s:%d", a.Name, httpPort),
		Credentials:       kube.SecretRef{Name: a.Name + "-credentials", Key: "admin-password"},
		DashboardsService: dash,
		DashboardsPort:    dashboardsPort,
		ShipperConfigMap:  a.Name + "-shipper",
		ShipperImage:      a.ShipperImage,
	}
	if err := ctx.RegisterComponentResource("wso2apim:analytics:Analytics", name, an, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(an)
	labels := kube.Labels(a.Name, StoreComponent, kube.ImageTag(a.Image), nil)
	selector := StoreSelector(a.Name)
	dashSelector := kube.Selector(dash, "analytics-dashboards")
	meta := func(n string, l map[string]string) *metav1.ObjectMetaArgs { return kube.Meta(n, a.Namespace, l) }

	if _, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
		Metadata:   meta(an.Credentials.Name, labels),
		StringData: pulumi.StringMap{an.Credentials.Key: pulumi.ToSecret(a.AdminPassword).(pulumi.StringOutput)},
	}, parent); err != nil {
		return nil, err
	}
	if _, err := corev1.NewConfigMap(ctx, name+"-shipper", &corev1.ConfigMapArgs{
		Metadata: meta(an.ShipperConfigMap, labels),
		Data: pulumi.StringMap{
			"fluent-bit.conf": pulumi.String(ShipperConfig(ShipperLogsDir, a.Name, httpPort)),
			"parsers.conf":    pulumi.String(shipperParsers),
		},
	}, parent); err != nil {
		return nil, err
	}

	headless := a.Name + "-headless"
	for _, svc := range []struct {
		rname, name string
		headless    bool
		ports       map[string]int
	}{{name, a.Name, false, map[string]int{"http": httpPort}}, {name + "-headless", headless, true, map[string]int{"http": httpPort, "transport": transportPort}}} {
		var ports corev1.ServicePortArray
		for _, p := range kube.SortedKeys(svc.ports) {
			ports = append(ports, corev1.ServicePortArgs{
				Name: pulumi.String(p), Port: pulumi.Int(svc.ports[p]), TargetPort: pulumi.Int(svc.ports[p])})
		}
		spec := &corev1.ServiceSpecArgs{Selector: pulumi.ToStringMap(selector), Ports: ports}
		if svc.headless {
			// Nodes must find each other before any is ready, or the cluster never forms.
			spec.ClusterIP = pulumi.String("None")
			spec.PublishNotReadyAddresses = pulumi.Bool(true)
		}
		if _, err := corev1.NewService(ctx, svc.rname, &corev1.ServiceArgs{Metadata: meta(svc.name, labels), Spec: spec}, parent); err != nil {
			return nil, err
		}
	}

	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("cluster.name"), Value: pulumi.String("apim-analytics")},
		corev1.EnvVarArgs{Name: pulumi.String("node.name"), ValueFrom: &corev1.EnvVarSourceArgs{
			FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("metadata.name")}}},
		corev1.EnvVarArgs{Name: pulumi.String("OPENSEARCH_JAVA_OPTS"), Value: pulumi.Sprintf("-Xms%dm -Xmx%dm", a.HeapMB, a.HeapMB)},
		// mmap would need vm.max_map_count raised by a privileged init container, which the
		// restricted namespace forbids; niofs is a little slower and needs nothing.
		corev1.EnvVarArgs{Name: pulumi.String("node.store.allow_mmap"), Value: pulumi.String("false")},
		// The security plugin stays on: the image sets it up with this admin password and TLS
		// on transport and HTTP (its demo certificates; docs/design.md, Analytics).
		kube.SecretEnv("OPENSEARCH_INITIAL_ADMIN_PASSWORD", an.Credentials),
	}
	if a.Replicas == 1 {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("discovery.type"), Value: pulumi.String("single-node")})
	} else {
		var managers []string
		for i := range a.Replicas {
			managers = append(managers, fmt.Sprintf("%s-%d", a.Name, i))
		}
		env = append(env,
			corev1.EnvVarArgs{Name: pulumi.String("discovery.seed_hosts"), Value: pulumi.String(headless)},
			corev1.EnvVarArgs{Name: pulumi.String("cluster.initial_cluster_manager_nodes"), Value: pulumi.String(strings.Join(managers, ","))},
		)
	}
	tcp := func(port int) *corev1.TCPSocketActionArgs { return &corev1.TCPSocketActionArgs{Port: pulumi.Int(port)} }
	claim := corev1.PersistentVolumeClaimTypeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("data"), Labels: pulumi.ToStringMap(labels)},
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(a.StorageSize)}},
		},
	}
	if a.StorageClass != "" {
		claim.Spec.(*corev1.PersistentVolumeClaimSpecArgs).StorageClassName = pulumi.String(a.StorageClass)
	}
	if _, err := appsv1.NewStatefulSet(ctx, name, &appsv1.StatefulSetArgs{
		Metadata: meta(a.Name, labels),
		Spec: &appsv1.StatefulSetSpecArgs{
			ServiceName: pulumi.String(headless),
			Replicas:    pulumi.Int(a.Replicas),
			Selector:    &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			// All nodes start together so that a new cluster can elect its manager.
			PodManagementPolicy: pulumi.String("Parallel"),
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"), WhenScaled: pulumi.String("Retain"),
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					SecurityContext:              kube.PodSecurity(opensearchUID),
					AutomountServiceAccountToken: pulumi.Bool(false),
					TopologySpreadConstraints:    kube.Spread(selector, a.NodeSpread),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:      pulumi.String("opensearch"),
						Image:     pulumi.String(a.Image),
						Env:       env,
						Ports:     corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(httpPort)}, corev1.ContainerPortArgs{Name: pulumi.String("transport"), ContainerPort: pulumi.Int(transportPort)}},
						Resources: a.Resources.Args(),
						// Not read-only: the image writes its demo TLS certificates and security
						// configuration into its config directory at first start.
						SecurityContext: kube.ContainerSecurity(opensearchUID, false),
						StartupProbe:    &corev1.ProbeArgs{TcpSocket: tcp(httpPort), PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(30)},
						ReadinessProbe:  &corev1.ProbeArgs{TcpSocket: tcp(httpPort), PeriodSeconds: pulumi.Int(10)},
						LivenessProbe:   &corev1.ProbeArgs{TcpSocket: tcp(transportPort), PeriodSeconds: pulumi.Int(20), FailureThreshold: pulumi.Int(3)},
						VolumeMounts:    corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/usr/share/opensearch/data")}},
					}},
				},
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{claim},
		},
	}, parent, pulumi.Protect(*a.Protect)); err != nil {
		return nil, err
	}

	// rname is the Pulumi name (from the component's), object the Kubernetes one.
	pdb := func(rname, object string, sel map[string]string, l map[string]string) error {
		return kube.NewDrainablePDB(ctx, rname, meta(object, l), sel, parent)
	}
	if err := pdb(name, a.Name, selector, labels); err != nil {
		return nil, err
	}

	// Only the shippers and Dashboards reach the HTTP API; only the nodes reach transport;
	// the nodes call nothing but each other.
	clients := []kube.Peer{{Pods: dashSelector}}
	for _, c := range a.ShipperClients {
		clients = append(clients, kube.Peer{Pods: c})
	}
	nodes := []kube.Peer{{Pods: selector}}
	if err := kube.NewPolicy(ctx, name, meta(a.Name, labels), selector,
		[]kube.Rule{{Peers: clients, Ports: kube.TCP(httpPort)}, {Peers: nodes, Ports: kube.TCP(transportPort)}},
		[]kube.Rule{{Peers: nodes, Ports: kube.TCP(httpPort, transportPort)}}, parent); err != nil {
		return nil, err
	}

	if err := newDashboards(ctx, name, a, an, dashSelector, meta, pdb, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(an, pulumi.Map{"endpoint": pulumi.String(an.Endpoint)}); err != nil {
		return nil, err
	}
	return an, nil
}

func newDashboards(ctx *pulumi.Context, name string, a Args, an *Analytics, selector map[string]string,
	meta func(string, map[string]string) *metav1.ObjectMetaArgs, pdb func(string, string, map[string]string, map[string]string) error,
	opts ...pulumi.ResourceOption) error {
	labels := kube.Labels(an.DashboardsService, "analytics-dashboards", kube.ImageTag(a.DashboardsImage), nil)
	tcp := &corev1.TCPSocketActionArgs{Port: pulumi.Int(dashboardsPort)}
	if _, err := appsv1.NewDeployment(ctx, name+"-dashboards", &appsv1.DeploymentArgs{
		Metadata: meta(an.DashboardsService, labels),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{MaxSurge: pulumi.Int(1), MaxUnavailable: pulumi.Int(0)}},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					SecurityContext:              kube.PodSecurity(opensearchUID),
					AutomountServiceAccountToken: pulumi.Bool(false),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("dashboards"),
						Image: pulumi.String(a.DashboardsImage),
						Env: corev1.EnvVarArray{
							corev1.EnvVarArgs{Name: pulumi.String("OPENSEARCH_HOSTS"), Value: pulumi.String(fmt.Sprintf(`["%s"]`, an.Endpoint))},
							corev1.EnvVarArgs{Name: pulumi.String("OPENSEARCH_USERNAME"), Value: pulumi.String("admin")},
							kube.SecretEnv("OPENSEARCH_PASSWORD", an.Credentials),
						},
						Ports:     corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(dashboardsPort)}},
						Resources: DashboardsResources.Args(),
						// Not read-only: Dashboards writes its optimizer bundles and data next
						// to its install.
						SecurityContext: kube.ContainerSecurity(opensearchUID, false),
						StartupProbe:    &corev1.ProbeArgs{TcpSocket: tcp, PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(30)},
						// Ready when the login page renders (the server is up and reached
						// OpenSearch); alive while it listens.
						ReadinessProbe: &corev1.ProbeArgs{HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String(DashboardsHealthPath), Port: pulumi.Int(dashboardsPort)},
							PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5)},
						LivenessProbe: &corev1.ProbeArgs{TcpSocket: tcp, PeriodSeconds: pulumi.Int(20), FailureThreshold: pulumi.Int(3)},
						// Serves on while the edge drains it (the image has no shell: the
						// kubelet's own sleep).
						Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
							Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(a.PreStopSeconds)}}},
					}},
					TerminationGracePeriodSeconds: pulumi.Int(a.PreStopSeconds + 30),
				},
			},
		},
	}, opts...); err != nil {
		return err
	}
	svcMeta := meta(an.DashboardsService, labels)
	if len(a.DashboardsServiceAnnotations) > 0 {
		svcMeta.Annotations = pulumi.ToStringMap(a.DashboardsServiceAnnotations)
	}
	// In: the clients given (the load balancer or the ingress controller); out: OpenSearch.
	clients := a.DashboardsClients
	if len(clients) == 0 {
		clients = []kube.Peer{{}}
	}
	if err := kube.NewPolicy(ctx, name+"-dashboards", meta(an.DashboardsService, labels), selector,
		[]kube.Rule{{Peers: clients, Ports: kube.TCP(dashboardsPort)}},
		[]kube.Rule{{Peers: []kube.Peer{{Pods: StoreSelector(a.Name)}}, Ports: kube.TCP(httpPort)}}, opts...); err != nil {
		return err
	}
	if _, err := corev1.NewService(ctx, name+"-dashboards", &corev1.ServiceArgs{
		Metadata: svcMeta,
		Spec: &corev1.ServiceSpecArgs{
			Selector: pulumi.ToStringMap(selector),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String(DashboardsPortName),
				Port: pulumi.Int(dashboardsPort), TargetPort: pulumi.Int(dashboardsPort)}},
		},
	}, opts...); err != nil {
		return err
	}
	return pdb(name+"-dashboards", an.DashboardsService, selector, labels)
}
