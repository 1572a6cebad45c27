package apim

import (
	"fmt"
	"path"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// uid and gid the WSO2 images run as.
const wso2UID = 10001

// workloadSpec is what differs between the control plane and the gateway.
type workloadSpec struct {
	w         Workload
	sh        Shared
	component string
	toml      string
	ports     map[string]int
	// replicas is nil when an autoscaler owns the count: declaring it would reset the
	// autoscaler's choice on every update and show as a permanent diff.
	replicas *int
}

func (s workloadSpec) labels() map[string]string {
	return kube.Labels(s.w.Name, s.component, kube.ImageTag(s.w.Image), s.w.PodLabels)
}

func (s workloadSpec) selector() map[string]string { return kube.Selector(s.w.Name, s.component) }

func (s workloadSpec) meta(name string) *metav1.ObjectMetaArgs {
	return kube.Meta(name, s.sh.Namespace, s.labels())
}

// newWorkload registers the ConfigMap, Deployment, Service and PodDisruptionBudget shared by
// both API Manager workloads.
func newWorkload(ctx *pulumi.Context, name string, s workloadSpec, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	cm, err := corev1.NewConfigMap(ctx, name+"-conf", &corev1.ConfigMapArgs{
		Metadata: s.meta(s.w.Name + "-conf"),
		Data:     pulumi.StringMap{"deployment.toml": pulumi.String(s.toml)},
	}, opts...)
	if err != nil {
		return nil, err
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
		return nil, err
	}

	dep, err := appsv1.NewDeployment(ctx, name, s.deploymentArgs(cm), append(opts,
		// API Manager takes minutes to start; the default 10 minutes is too tight for a
		// rollout of several pods, each waiting minReadySeconds.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "30m", Update: "30m"}))...)
	if err != nil {
		return nil, err
	}

	if err := kube.NewDrainablePDB(ctx, name, s.meta(s.w.Name), s.selector(), opts...); err != nil {
		return nil, err
	}
	return dep, nil
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
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Labels: pulumi.ToStringMap(s.labels()),
				// The ConfigMap keeps its name, so without this a config change would not
				// restart anything.
				Annotations: pulumi.StringMap{"checksum/config": pulumi.String(kube.Checksum(s.toml))},
			},
			Spec: s.podSpec(cm),
		},
	}
	if s.replicas != nil {
		spec.Replicas = pulumi.Int(*s.replicas)
	}
	return &appsv1.DeploymentArgs{Metadata: s.meta(w.Name), Spec: spec}
}

func (s workloadSpec) podSpec(cm *corev1.ConfigMap) *corev1.PodSpecArgs {
	w, sh := s.w, s.sh
	driverDir := path.Join(configVolumeRoot, "repository/components/lib")
	mounts := corev1.VolumeMountArray{
		// The image's entrypoint copies wso2-config-volume over the server home at start.
		corev1.VolumeMountArgs{Name: pulumi.String("conf"), MountPath: pulumi.String(configVolumeRoot + "/repository/conf/deployment.toml"), SubPath: pulumi.String("deployment.toml")},
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
		// Rolled at 100 MB a file by WSO2's log4j configuration.
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(w.LogsVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("2Gi")}})
	}
	// 4.7.0's log4j2.properties already routes the ELK reporter to repository/logs/
	// apim_metrics.log (APIM_METRICS_APPENDER), so analytics needs no logging change here.
	inits := corev1.ContainerArray{jdbcDriverInit(sh.JDBCDriver, "/driver")}
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
	}
	if w.Analytics.Type == "moesif" {
		env = append(env, kube.SecretEnv("WSO2_MOESIF_KEY", w.Analytics.MoesifKey))
	}

	var cports corev1.ContainerPortArray
	for _, pname := range kube.SortedKeys(s.ports) {
		cports = append(cports, corev1.ContainerPortArgs{Name: pulumi.String(pname), ContainerPort: pulumi.Int(s.ports[pname])})
	}

	return &corev1.PodSpecArgs{
		SecurityContext:               kube.PodSecurity(wso2UID),
		AutomountServiceAccountToken:  pulumi.Bool(false),
		Affinity:                      kube.SpreadAffinity(s.selector()),
		TerminationGracePeriodSeconds: pulumi.Int(60),
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
				HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String("/api/am/gateway/v2/server-startup-healthcheck"),
					Port: pulumi.Int(PortHTTPS), Scheme: pulumi.String("HTTPS")},
				PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(3),
			},
			// Keep serving while endpoints and load balancers stop sending new requests,
			// then let SIGTERM run Carbon's graceful shutdown within the grace period.
			Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
				Exec: &corev1.ExecActionArgs{Command: pulumi.StringArray{pulumi.String("sleep"), pulumi.String("15")}},
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
