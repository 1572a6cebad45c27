package mysql

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// NewMySQL creates the Secret, init script, headless Service, StatefulSet and NetworkPolicy,
// and the scheduled backup (see BackupArgs). Pass the Kubernetes provider in opts.
func NewMySQL(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*MySQL, error) {
	if args == nil {
		return nil, fmt.Errorf("mysql %q: args are required", name)
	}
	a := args.WithDefaults()
	p := a.Validate("")
	if a.Namespace == nil || a.APIMImage == "" || a.APIMServerHome == "" || a.RootPassword == nil || a.Password == nil {
		p.Addf("args", "Namespace, APIMImage, APIMServerHome, RootPassword and Password are required")
	}
	if *a.Backup.Enabled && (a.Backup.Bucket == nil) != (a.Backup.GoogleServiceAccount == nil) {
		p.Addf("args", "Backup.Bucket and Backup.GoogleServiceAccount go together")
	}
	if err := p.Err(fmt.Sprintf("mysql %q", name)); err != nil {
		return nil, err
	}
	m := &MySQL{Host: a.Name, Port: Port, Username: a.Username, SSLMode: "REQUIRED",
		PasswordSecret: kube.SecretRef{Name: a.Name + "-credentials", Key: "password"}}
	if err := ctx.RegisterComponentResource("wso2apim:mysql:MySQL", name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)
	labels := kube.Labels(a.Name, Component, kube.ImageTag(a.Image), nil)
	selector := Selector(a.Name)
	meta := func(n string) *metav1.ObjectMetaArgs { return kube.Meta(n, a.Namespace, labels) }

	secret, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
		Metadata: meta(m.PasswordSecret.Name),
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			"root-password": pulumi.ToSecret(a.RootPassword).(pulumi.StringOutput),
			"password":      pulumi.ToSecret(a.Password).(pulumi.StringOutput),
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	initdb, err := corev1.NewConfigMap(ctx, name+"-initdb", &corev1.ConfigMapArgs{
		Metadata: meta(a.Name + "-initdb"),
		Data:     pulumi.StringMap{"01-apim-databases.sh": pulumi.String(initScript())},
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: meta(a.Name),
		Spec: &corev1.ServiceSpecArgs{
			// Headless: the StatefulSet's governing Service, and a stable name for clients.
			ClusterIP: pulumi.String("None"),
			Selector:  pulumi.ToStringMap(selector),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("mysql"), Port: pulumi.Int(Port), TargetPort: pulumi.Int(Port),
			}},
		},
	}, parent); err != nil {
		return nil, err
	}

	if _, err := appsv1.NewStatefulSet(ctx, name, statefulSetArgs(a, meta(a.Name), labels, selector, secret, initdb), parent,
		pulumi.Protect(*a.Protect)); err != nil {
		return nil, err
	}

	if *a.Backup.Enabled {
		if err := newBackup(ctx, name, a, secret.Metadata.Name().Elem(), parent); err != nil {
			return nil, err
		}
	}

	var ingress []kube.Rule
	if clients := append(append([]kube.Peer(nil), a.Clients...), backupClients(a)...); len(clients) > 0 {
		ingress = []kube.Rule{{Peers: clients, Ports: kube.TCP(Port)}}
	}
	if err := kube.NewPolicy(ctx, name, meta(a.Name), selector, ingress, nil, parent); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{"host": pulumi.String(m.Host)}); err != nil {
		return nil, err
	}
	return m, nil
}

func statefulSetArgs(a Args, meta *metav1.ObjectMetaArgs, labels, selector map[string]string,
	secret *corev1.Secret, initdb *corev1.ConfigMap) *appsv1.StatefulSetArgs {
	secretName := secret.Metadata.Name().Elem()
	ping := &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{
		// TCP, not the socket: during first-start initialisation the server listens on the
		// socket only, so this stays false until the schemas are loaded. mysqladmin ping
		// succeeds on "access denied" too, so no password is needed here.
		"mysqladmin", "ping", "--protocol=tcp", "-h", "127.0.0.1", "--silent",
	})}
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("MYSQL_ROOT_PASSWORD"), ValueFrom: &corev1.EnvVarSourceArgs{
			SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: secretName, Key: pulumi.String("root-password")}}},
		corev1.EnvVarArgs{Name: pulumi.String("MYSQL_USER"), Value: pulumi.String(a.Username)},
		corev1.EnvVarArgs{Name: pulumi.String("MYSQL_PASSWORD"), ValueFrom: &corev1.EnvVarSourceArgs{
			SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: secretName, Key: pulumi.String("password")}}},
	}
	claim := corev1.PersistentVolumeClaimTypeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(DataVolume), Labels: pulumi.ToStringMap(labels)},
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			Resources: &corev1.VolumeResourceRequirementsArgs{
				Requests: pulumi.StringMap{"storage": pulumi.String(a.StorageSize)},
			},
		},
	}
	if a.StorageClass != "" {
		claim.Spec.(*corev1.PersistentVolumeClaimSpecArgs).StorageClassName = pulumi.String(a.StorageClass)
	}
	return &appsv1.StatefulSetArgs{
		Metadata: meta,
		Spec: &appsv1.StatefulSetSpecArgs{
			ServiceName: pulumi.String(a.Name),
			Replicas:    pulumi.Int(1),
			Selector:    &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			// The data outlives the StatefulSet: deleting or scaling it never deletes the
			// volume.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"),
				WhenScaled:  pulumi.String("Retain"),
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels: pulumi.ToStringMap(labels),
					// A changed init script only matters for a new, empty volume, but rolling
					// the pod keeps what runs equal to what is declared.
					Annotations: pulumi.StringMap{"checksum/initdb": pulumi.String(kube.Checksum(initScript(), copySchemas(a.APIMServerHome)))},
				},
				Spec: &corev1.PodSpecArgs{
					SecurityContext:               kube.PodSecurity(uid),
					AutomountServiceAccountToken:  pulumi.Bool(false),
					TerminationGracePeriodSeconds: pulumi.Int(60),
					InitContainers:                corev1.ContainerArray{schemasInit(a.APIMImage, a.APIMServerHome)},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String(ContainerName),
						Image: pulumi.String(a.Image),
						// The entrypoint runs mysqld with these options. API Manager's pools
						// may open more than MySQL's default 151 connections.
						Args:      pulumi.StringArray{pulumi.Sprintf("--max-connections=%d", a.MaxConnections)},
						Env:       env,
						Ports:     corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("mysql"), ContainerPort: pulumi.Int(Port)}},
						Resources: a.Resources.Args(),
						// Read-only: what MySQL writes goes to its volume, its socket directory
						// and /tmp.
						SecurityContext: kube.ContainerSecurity(uid, true),
						// Loading the APIM schemas on first start takes minutes on small disks.
						StartupProbe:   &corev1.ProbeArgs{Exec: ping, PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(60)},
						ReadinessProbe: &corev1.ProbeArgs{Exec: ping, PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5)},
						LivenessProbe: &corev1.ProbeArgs{
							TcpSocket:     &corev1.TCPSocketActionArgs{Port: pulumi.Int(Port)},
							PeriodSeconds: pulumi.Int(20), TimeoutSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(3),
						},
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String(DataVolume), MountPath: pulumi.String("/var/lib/mysql")},
							corev1.VolumeMountArgs{Name: pulumi.String("initdb"), MountPath: pulumi.String("/docker-entrypoint-initdb.d"), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("schemas"), MountPath: pulumi.String(schemaDir), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("run"), MountPath: pulumi.String("/var/run/mysqld")},
							corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
						},
					}},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String("initdb"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{
							Name: initdb.Metadata.Name(), DefaultMode: pulumi.Int(initScriptMode)}},
						corev1.VolumeArgs{Name: pulumi.String("schemas"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")}},
						corev1.VolumeArgs{Name: pulumi.String("run"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("16Mi")}},
						corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("512Mi")}},
					},
				},
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{claim},
		},
	}
}

// schemasInit copies WSO2's own schema scripts out of the API Manager image (the one the
// servers run, so the schemas always match them) into the schemas volume.
func schemasInit(apimImage, serverHome string) corev1.ContainerArgs {
	return corev1.ContainerArgs{
		Name:            pulumi.String("apim-schemas"),
		Image:           pulumi.String(apimImage),
		Command:         pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(copySchemas(serverHome))},
		SecurityContext: kube.ContainerSecurity(10001, true),
		Resources:       SchemaInitResources.Args(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("schemas"), MountPath: pulumi.String(schemaDir)},
		},
	}
}
