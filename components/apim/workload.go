package apim

import (
	"fmt"
	"path"
	"slices"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// uid and gid the WSO2 images run as.
const wso2UID = 10001

// shutdownSeconds is what the grace period leaves Carbon's graceful shutdown after the preStop
// sleep.
const shutdownSeconds = 60

// workloadSpec is what differs between the control plane and the gateway.
type workloadSpec struct {
	w         Workload
	sh        Shared
	component string
	// tomls is the one deployment.toml of a Deployment's pods, or each node's of a
	// StatefulSet (nodes > 0), node 0 first.
	tomls []string
	// nodes > 0 makes the workload a StatefulSet of that many nodes, each addressable by name
	// (NodeHosts) and given its own deployment.toml; 0 makes it a Deployment.
	nodes int
	ports map[string]int
	// trustedCM names the ConfigMap of extra CA certificates, when there are any.
	trustedCM pulumi.StringInput
}

func (s workloadSpec) labels() map[string]string {
	return kube.Labels(s.w.Name, s.component, kube.ImageTag(s.w.Image), s.w.PodLabels)
}

func (s workloadSpec) selector() map[string]string { return kube.Selector(s.w.Name, s.component) }

func (s workloadSpec) meta(name string) *metav1.ObjectMetaArgs {
	return kube.Meta(name, s.sh.Namespace, s.labels())
}

// tomlKey is the ConfigMap key of node i's deployment.toml ("deployment.toml" for a
// Deployment, whose pods share one).
func (s workloadSpec) tomlKey(i int) string {
	if s.nodes == 0 {
		return "deployment.toml"
	}
	return fmt.Sprintf("deployment-%d.toml", i)
}

// newWorkload registers the ConfigMap, the Deployment or StatefulSet, its Services and its
// PodDisruptionBudget, shared by both API Manager workloads. It returns the workload's name.
func newWorkload(ctx *pulumi.Context, name string, s workloadSpec, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	data := pulumi.StringMap{Log4j2Key: pulumi.String(s.log4j2())}
	for i, t := range s.tomls {
		data[s.tomlKey(i)] = pulumi.String(t)
	}
	cm, err := corev1.NewConfigMap(ctx, name+"-conf", &corev1.ConfigMapArgs{
		Metadata: s.meta(s.w.Name + "-conf"),
		Data:     data,
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if trusted := s.sh.trustedBundle(); trusted != nil {
		tcm, err := corev1.NewConfigMap(ctx, name+"-trusted-certs", &corev1.ConfigMapArgs{
			Metadata: s.meta(s.w.Name + "-trusted-certs"),
			Data:     pulumi.StringMap{TrustedCertsKey: trusted},
		}, opts...)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		s.trustedCM = tcm.Metadata.Name().Elem()
	}

	var ports corev1.ServicePortArray
	for _, pname := range kube.SortedKeys(s.ports) {
		ports = append(ports, corev1.ServicePortArgs{
			Name: pulumi.String(pname), Port: pulumi.Int(s.ports[pname]), TargetPort: pulumi.Int(s.ports[pname]),
		})
	}
	svcMeta := s.meta(s.w.Name)
	if len(s.w.ServiceAnnotations) > 0 {
		svcMeta.Annotations = pulumi.ToStringMap(s.w.ServiceAnnotations)
	}
	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: svcMeta,
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(s.selector()),
			Ports:    ports,
		},
	}, opts...); err != nil {
		return pulumi.StringOutput{}, err
	}

	// API Manager takes minutes to start; the default 10 minutes is too tight for a rollout
	// of several pods, each waiting minReadySeconds.
	long := append(opts, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "30m", Update: "30m"}))
	var workload pulumi.StringOutput
	if s.nodes == 0 {
		dep, err := appsv1.NewDeployment(ctx, name, s.deploymentArgs(cm), long...)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		workload = dep.Metadata.Name().Elem()
	} else {
		// Each node's name resolves from the first moment (publishNotReadyAddresses): nodes
		// start together and must reach each other's brokers to forward events.
		if _, err := corev1.NewService(ctx, name+"-nodes", &corev1.ServiceArgs{
			Metadata: s.meta(NodesService(s.w.Name)),
			Spec: &corev1.ServiceSpecArgs{
				ClusterIP:                pulumi.String("None"),
				PublishNotReadyAddresses: pulumi.Bool(true),
				Selector:                 pulumi.ToStringMap(s.selector()),
				Ports:                    ports,
			},
		}, opts...); err != nil {
			return pulumi.StringOutput{}, err
		}
		sts, err := appsv1.NewStatefulSet(ctx, name, s.statefulSetArgs(cm), long...)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		workload = sts.Metadata.Name().Elem()
	}

	if err := kube.NewDrainablePDB(ctx, name, s.meta(s.w.Name), s.selector(), opts...); err != nil {
		return pulumi.StringOutput{}, err
	}
	return workload, nil
}

// podTemplate is the pod template of either kind of workload.
func (s workloadSpec) podTemplate(cm *corev1.ConfigMap) *corev1.PodTemplateSpecArgs {
	return &corev1.PodTemplateSpecArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Labels: pulumi.ToStringMap(s.labels()),
			// The ConfigMap keeps its name, so without this a config change would not
			// restart anything.
			Annotations: pulumi.StringMap{"checksum/config": pulumi.String(kube.Checksum(append(slices.Clone(s.tomls), s.log4j2())...))},
		},
		Spec: s.withMetricsAgent(s.podSpec(cm)),
	}
}

// statefulSetArgs: the control plane's nodes. A rolling update replaces one node at a time,
// the highest first, each only once the one before is ready, so every node that runs belongs
// to the same set (never two unclustered generations side by side, as a surging Deployment
// would run) and, with two or more, the others serve meanwhile. Nodes start in parallel.
func (s workloadSpec) statefulSetArgs(cm *corev1.ConfigMap) *appsv1.StatefulSetArgs {
	return &appsv1.StatefulSetArgs{Metadata: s.meta(s.w.Name), Spec: &appsv1.StatefulSetSpecArgs{
		ServiceName:          pulumi.String(NodesService(s.w.Name)),
		Replicas:             pulumi.Int(s.nodes),
		Selector:             &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(s.selector())},
		MinReadySeconds:      pulumi.Int(*s.w.MinReadySeconds),
		RevisionHistoryLimit: pulumi.Int(5),
		PodManagementPolicy:  pulumi.String("Parallel"),
		UpdateStrategy:       &appsv1.StatefulSetUpdateStrategyArgs{Type: pulumi.String("RollingUpdate")},
		Template:             s.podTemplate(cm),
	}}
}

func (s workloadSpec) deploymentArgs(cm *corev1.ConfigMap) *appsv1.DeploymentArgs {
	w := s.w
	spec := &appsv1.DeploymentSpecArgs{
		Selector:                &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(s.selector())},
		MinReadySeconds:         pulumi.Int(*w.MinReadySeconds),
		ProgressDeadlineSeconds: pulumi.Int(900),
		RevisionHistoryLimit:    pulumi.Int(5),
		// Zero downtime: a new pod must be ready (and stay ready minReadySeconds) before an
		// old one is taken away.
		Strategy: &appsv1.DeploymentStrategyArgs{
			Type: pulumi.String("RollingUpdate"),
			RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
				MaxSurge:       pulumi.Int(1),
				MaxUnavailable: pulumi.Int(0),
			},
		},
		Template: s.podTemplate(cm),
	}
	return &appsv1.DeploymentArgs{Metadata: s.meta(w.Name), Spec: spec}
}

func (s workloadSpec) podSpec(cm *corev1.ConfigMap) *corev1.PodSpecArgs {
	w, sh := s.w, s.sh
	driverDir := path.Join(configVolumeRoot, "repository/components/lib")
	// The image's entrypoint copies wso2-config-volume over the server home at start: the
	// ConfigMap's one deployment.toml, or this node's, picked by the node-config init
	// container into an emptyDir.
	tomlVolume := "conf"
	if s.nodes > 0 {
		tomlVolume = nodeConfVolume
	}
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String(tomlVolume), MountPath: pulumi.String(configVolumeRoot + "/repository/conf/deployment.toml"), SubPath: pulumi.String("deployment.toml")},
		corev1.VolumeMountArgs{Name: pulumi.String(jdbcDriverVolName), MountPath: pulumi.String(driverDir)},
	}
	volumes := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String("conf"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name()}},
		// The driver is a few MB; the limit keeps a wrong URL from filling the node's disk.
		corev1.VolumeArgs{Name: pulumi.String(jdbcDriverVolName), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")}},
	}
	for i, sv := range w.SharedVolumes {
		vol := fmt.Sprintf("shared-%d", i)
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(vol), SubPath: pulumi.String(sv.SubPath),
			// Into the server home itself, not the config volume: the entrypoint copies that
			// once at start, which would make a snapshot instead of a live shared directory.
			MountPath: pulumi.String(path.Join(w.ServerHome, sv.Path))})
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(vol),
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: sv.Claim}})
	}

	if w.LogsVolume != "" {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(w.LogsVolume), MountPath: pulumi.String(path.Join(w.ServerHome, LogsDir))})
		// Holds what the project's log4j2.properties keeps (logs.go).
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(w.LogsVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String(LogsSizeLimit)}})
	}
	// 4.7.0's log4j2.properties already routes the ELK reporter to repository/logs/
	// apim_metrics.log (APIM_METRICS_APPENDER), so analytics needs no logging change here.
	inits := corev1.ContainerArray{jdbcDriverInit(sh.JDBCDriver, w.Image, "/driver"), keystoresInit(w.Image, sh, s.trustedCM)}
	if s.nodes > 0 {
		inits = append(corev1.ContainerArray{nodeConfigInit(w.Image)}, inits...)
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(nodeConfVolume),
			EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("1Mi")}})
	}
	mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(securityVolume), MountPath: pulumi.String(securityDir)})
	logMounts, logVolumes, javaOptsEnv := s.logging()
	mounts, volumes = append(mounts, logMounts...), append(volumes, logVolumes...)
	volumes = append(volumes, keystoreVolumes(sh, s.trustedCM)...)
	inits, volumes = append(inits, databaseWait(sh.Database, s.component)), append(volumes, dbWaitVolumeArgs())
	for _, v := range w.ExtraVolumes {
		volumes = append(volumes, v)
	}

	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("NODE_IP"), ValueFrom: &corev1.EnvVarSourceArgs{
			FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("status.podIP")}}},
		corev1.EnvVarArgs{Name: pulumi.String("JVM_MEM_OPTS"), Value: pulumi.Sprintf("-Xms%dm -Xmx%dm", w.HeapMB, w.HeapMB)},
		kube.SecretEnv("WSO2_ADMIN_PASSWORD", sh.Credentials.AdminPassword),
		kube.SecretEnv("WSO2_ENCRYPTION_KEY", sh.Credentials.EncryptionKey),
		kube.SecretEnv("WSO2_DB_PASSWORD", sh.Database.Password),
		keystorePasswordEnv(KeystorePasswordEnv, sh.Keystores),
		javaOptsEnv,
	}
	if w.Analytics.Type == AnalyticsMoesif {
		env = append(env, kube.SecretEnv("WSO2_MOESIF_KEY", w.Analytics.MoesifKey))
	}

	var cports corev1.ContainerPortArray
	for _, pname := range kube.SortedKeys(s.ports) {
		cports = append(cports, corev1.ContainerPortArgs{Name: pulumi.String(pname), ContainerPort: pulumi.Int(s.ports[pname])})
	}

	return &corev1.PodSpecArgs{
		SecurityContext:               kube.PodSecurity(wso2UID),
		AutomountServiceAccountToken:  pulumi.Bool(false),
		TopologySpreadConstraints:     s.spread(),
		TerminationGracePeriodSeconds: pulumi.Int(w.PreStopSeconds + shutdownSeconds),
		InitContainers:                inits,
		Containers: append(corev1.ContainerArray{corev1.ContainerArgs{
			Name:      pulumi.String("wso2am"),
			Image:     pulumi.String(w.Image),
			Env:       env,
			Ports:     cports,
			Resources: w.Resources.Args(),
			// Not read-only: the entrypoint copies the config volume over the server home and
			// the config mapper renders repository/conf at every start (WSO2's chart does
			// not set it either).
			SecurityContext: kube.ContainerSecurity(wso2UID, false),
			VolumeMounts:    mounts,
			// 4.x images have no netcat: every probe is a plain TCP or HTTP check.
			// Startup: the port opens once Carbon is up; up to 10 minutes on a cold node.
			StartupProbe: &corev1.ProbeArgs{
				TcpSocket:     &corev1.TCPSocketActionArgs{Port: pulumi.Int(PortHTTPS)},
				PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(60),
			},
			// Liveness: the server answers at all. Restarting on anything more would kill a
			// server that is only busy.
			LivenessProbe: &corev1.ProbeArgs{
				HttpGet:       &corev1.HTTPGetActionArgs{Path: pulumi.String("/services/Version"), Port: pulumi.Int(PortHTTP)},
				PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(3),
			},
			// Readiness: the server has deployed its APIs and can serve them.
			ReadinessProbe: &corev1.ProbeArgs{
				HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String(ReadinessPath),
					Port: pulumi.Int(PortHTTPS), Scheme: pulumi.String("HTTPS")},
				PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(3),
			},
			// Keep serving while endpoints and load balancers stop sending new requests,
			// then let SIGTERM run Carbon's graceful shutdown within the grace period.
			Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
				Exec: &corev1.ExecActionArgs{Command: pulumi.StringArray{pulumi.String("sleep"), pulumi.String(fmt.Sprint(w.PreStopSeconds))}},
			}},
		}}, sidecars(w)...),
		Volumes: volumes,
	}
}

func sidecars(w Workload) []corev1.ContainerInput {
	var out []corev1.ContainerInput
	for _, c := range w.Sidecars {
		out = append(out, c)
	}
	return out
}

// spread keeps replicas on different zones and nodes; a Deployment's ReplicaSets spread on
// their own, so a rollout's new pod is never held back by the old ones.
func (s workloadSpec) spread() corev1.TopologySpreadConstraintArray {
	if s.nodes > 0 {
		return kube.Spread(s.selector(), s.w.NodeSpread)
	}
	return kube.Spread(s.selector(), s.w.NodeSpread, "pod-template-hash")
}
