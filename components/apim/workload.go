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
	return kube.Meta(name, s.w.Namespace, s.labels())
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
	w := s.w
	driverDir := path.Join(configVolumeRoot, "repository/components/lib")
	mounts := corev1.VolumeMountArray{
		// The image's entrypoint copies wso2-config-volume over the server home at start.
		corev1.VolumeMountArgs{Name: pulumi.String("conf"), MountPath: pulumi.String(configVolumeRoot + "/repository/conf/deployment.toml"), SubPath: pulumi.String("deployment.toml")},
		corev1.VolumeMountArgs{Name: pulumi.String(jdbcDriverVolName), MountPath: pulumi.String(driverDir)},
	}
	volumes := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String("conf"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name()}},
		corev1.VolumeArgs{Name: pulumi.String(jdbcDriverVolName), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}},
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
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(w.LogsVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}})
	}
	inits := corev1.ContainerArray{jdbcDriverInit(w.JDBCDriver, "/driver")}
	if w.Analytics.Type == "elk" {
		// The image's log4j2.properties lacks the metrics appender the ELK reporter writes
		// through; an init container adds it to a copy the entrypoint then installs.
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("log-conf"), MountPath: pulumi.String(path.Join(configVolumeRoot, "repository/conf/log4j2.properties")), SubPath: pulumi.String("log4j2.properties")})
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String("log-conf"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}})
		inits = append(inits, metricsLogInit(w, "/log-conf"))
	}
	for _, v := range w.ExtraVolumes {
		volumes = append(volumes, v)
	}

	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("NODE_IP"), ValueFrom: &corev1.EnvVarSourceArgs{
			FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("status.podIP")}}},
		corev1.EnvVarArgs{Name: pulumi.String("JVM_MEM_OPTS"), Value: pulumi.Sprintf("-Xms%dm -Xmx%dm", w.HeapMB, w.HeapMB)},
		kube.SecretEnv("WSO2_ADMIN_PASSWORD", w.Credentials.AdminPassword),
		kube.SecretEnv("WSO2_ENCRYPTION_KEY", w.Credentials.EncryptionKey),
		kube.SecretEnv("WSO2_DB_PASSWORD", w.Database.Password),
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
			Name:            pulumi.String("wso2am"),
			Image:           pulumi.String(w.Image),
			Env:             env,
			Ports:           cports,
			Resources:       w.Resources.Args(),
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

// jdbcDriverInit downloads the JDBC driver into the config volume and fails unless its sha256
// matches, so a wrong or tampered jar never reaches the server.
func jdbcDriverInit(d JDBCDriver, dir string) corev1.ContainerArgs {
	script := fmt.Sprintf(`set -eu
wget -q -O %[1]s/mysql-connector-j.jar.part %[2]q
echo "%[3]s  %[1]s/mysql-connector-j.jar.part" | sha256sum -c -
mv %[1]s/mysql-connector-j.jar.part %[1]s/mysql-connector-j.jar
`, dir, d.URL, d.SHA256)
	return corev1.ContainerArgs{
		Name:            pulumi.String("jdbc-driver"),
		Image:           pulumi.String(d.Image),
		Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(script)},
		SecurityContext: kube.ContainerSecurity(wso2UID, true),
		Resources: kube.Resources{Requests: kube.Compute{CPU: "50m", Memory: "32Mi"},
			Limits: kube.Compute{CPU: "200m", Memory: "64Mi"}}.Args(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String(jdbcDriverVolName), MountPath: pulumi.String(dir)},
		},
	}
}

func sidecars(w Workload) []corev1.ContainerInput {
	var out []corev1.ContainerInput
	for _, c := range w.Sidecars {
		out = append(out, c)
	}
	return out
}

// log4jMetricsAppender is what WSO2's ELK/OpenSearch analytics guide adds to
// log4j2.properties: the metrics appender the ELK reporter writes through, and its logger.
const log4jMetricsAppender = `appender.APIM_METRICS_APPENDER.type = RollingFile
appender.APIM_METRICS_APPENDER.name = APIM_METRICS_APPENDER
appender.APIM_METRICS_APPENDER.fileName = ${sys:carbon.home}/repository/logs/apim_metrics.log
appender.APIM_METRICS_APPENDER.filePattern = ${sys:carbon.home}/repository/logs/apim_metrics-%d{MM-dd-yyyy}-%i.log
appender.APIM_METRICS_APPENDER.layout.type = PatternLayout
appender.APIM_METRICS_APPENDER.layout.pattern = %d{HH:mm:ss,SSS} [%X{ip}-%X{host}] [%t] %5p %c{1} %m%n
appender.APIM_METRICS_APPENDER.policies.type = Policies
appender.APIM_METRICS_APPENDER.policies.time.type = TimeBasedTriggeringPolicy
appender.APIM_METRICS_APPENDER.policies.time.interval = 1
appender.APIM_METRICS_APPENDER.policies.time.modulate = true
appender.APIM_METRICS_APPENDER.policies.size.type = SizeBasedTriggeringPolicy
appender.APIM_METRICS_APPENDER.policies.size.size = 100MB
appender.APIM_METRICS_APPENDER.strategy.type = DefaultRolloverStrategy
appender.APIM_METRICS_APPENDER.strategy.max = 10
logger.reporter.name = org.wso2.am.analytics.publisher.reporter.elk
logger.reporter.level = INFO
logger.reporter.additivity = false
logger.reporter.appenderRef.APIM_METRICS_APPENDER.ref = APIM_METRICS_APPENDER
`

// metricsLogInit copies the image's log4j2.properties and adds log4jMetricsAppender (once),
// so the rest of WSO2's logging configuration stays whatever the image ships.
func metricsLogInit(w Workload, dir string) corev1.ContainerArgs {
	script := fmt.Sprintf(`set -eu
dst=%[2]s/log4j2.properties
cp %[1]s/repository/conf/log4j2.properties "$dst"
if ! grep -q '^appender.APIM_METRICS_APPENDER' "$dst"; then
  sed -i 's/^appenders *= */appenders = APIM_METRICS_APPENDER, /; s/^loggers *= */loggers = reporter, /' "$dst"
  printf '%%s' "$APPENDER" >> "$dst"
fi
`, w.ServerHome, dir)
	return corev1.ContainerArgs{
		Name:            pulumi.String("log4j-analytics"),
		Image:           pulumi.String(w.Image),
		Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(script)},
		Env:             corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("APPENDER"), Value: pulumi.String(log4jMetricsAppender)}},
		SecurityContext: kube.ContainerSecurity(wso2UID, true),
		Resources: kube.Resources{Requests: kube.Compute{CPU: "50m", Memory: "32Mi"},
			Limits: kube.Compute{CPU: "200m", Memory: "64Mi"}}.Args(),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("log-conf"), MountPath: pulumi.String(dir)}},
	}
}
