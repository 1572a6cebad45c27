package nfs

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

const inClusterExport = "/exports"

// newInCluster runs an NFS server pod on a ReadWriteOnce claim and returns its Service's
// cluster IP: the kubelet mounts from the node, where Service DNS names do not resolve.
func newInCluster(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	server := name + "-server"
	labels := kube.Labels(server, "nfs-server", "", nil)
	selector := kube.Selector(server, "nfs-server")

	claim := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(a.Size)}},
	}
	if a.StorageClass != "" {
		claim.StorageClassName = pulumi.String(a.StorageClass)
	}
	data, err := corev1.NewPersistentVolumeClaim(ctx, server, &corev1.PersistentVolumeClaimArgs{
		Metadata: kube.Meta(server, a.ServerNamespace, labels),
		Spec:     claim,
	}, append(opts, pulumi.Protect(*a.Protect))...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	ports := map[string]int{"nfs": 2049, "mountd": mountdPort, "rpcbind": 111}
	var cports corev1.ContainerPortArray
	var sports corev1.ServicePortArray
	for _, n := range []string{"nfs", "mountd", "rpcbind"} {
		cports = append(cports, corev1.ContainerPortArgs{Name: pulumi.String(n), ContainerPort: pulumi.Int(ports[n])})
		sports = append(sports, corev1.ServicePortArgs{Name: pulumi.String(n), Port: pulumi.Int(ports[n]), TargetPort: pulumi.Int(ports[n])})
	}
	// Ready when nfsd listens; alive while the portmapper does (a different daemon: a busy
	// nfsd must not get the server restarted).
	nfsd, rpcbind := &corev1.TCPSocketActionArgs{Port: pulumi.Int(2049)}, &corev1.TCPSocketActionArgs{Port: pulumi.Int(111)}
	meta := kube.Meta(server, a.ServerNamespace, labels)
	meta.Annotations = pulumi.StringMap{
		"wso2apim.io/rollout-exemption": pulumi.String("one ReadWriteOnce volume: the old server must stop before the new one starts"),
	}
	if _, err := appsv1.NewDeployment(ctx, server, &appsv1.DeploymentArgs{
		Metadata: meta,
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			// Its disk is ReadWriteOnce: a second server could not attach it, so the old
			// one must go first. API Manager keeps running from its local copy meanwhile.
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false),
					InitContainers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:         pulumi.String("dirs"),
						Image:        pulumi.String(a.ServerImage),
						Command:      pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(DirectoriesScript)},
						Env:          directoriesEnv(inClusterExport, a.Directories),
						Resources:    ToolsResources.Args(),
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(inClusterExport)}},
					}},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("nfs"),
						Image: pulumi.String(a.ServerImage),
						Args:  pulumi.StringArray{pulumi.String(inClusterExport)},
						Ports: cports,
						// The kernel NFS server needs it; this pod lives in its own namespace
						// for that reason, and nothing but the clients may reach it.
						SecurityContext: &corev1.SecurityContextArgs{Privileged: pulumi.Bool(true)},
						Resources: kube.Resources{Requests: kube.Compute{CPU: "100m", Memory: "128Mi", EphemeralStorage: "32Mi"},
							Limits: kube.Compute{CPU: "1", Memory: "512Mi", EphemeralStorage: "256Mi"}}.Args(),
						ReadinessProbe: &corev1.ProbeArgs{TcpSocket: nfsd, PeriodSeconds: pulumi.Int(10)},
						LivenessProbe:  &corev1.ProbeArgs{TcpSocket: rpcbind, PeriodSeconds: pulumi.Int(20)},
						VolumeMounts:   corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(inClusterExport)}},
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("data"),
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: data.Metadata.Name().Elem()}}},
				},
			},
		},
	}, opts...); err != nil {
		return pulumi.StringOutput{}, err
	}

	svc, err := corev1.NewService(ctx, server, &corev1.ServiceArgs{
		Metadata: kube.Meta(server, a.ServerNamespace, labels),
		Spec:     &corev1.ServiceSpecArgs{Selector: pulumi.ToStringMap(selector), Ports: sports},
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	// Only the kubelets mount the share, from the node ranges; pods never talk to the server
	// directly, and it calls nothing.
	var clients []kube.Peer
	for _, cidr := range a.ClientCIDRs {
		clients = append(clients, kube.Peer{CIDR: cidr})
	}
	if err := kube.NewPolicy(ctx, server, kube.Meta(server, a.ServerNamespace, labels), selector,
		[]kube.Rule{{Peers: clients, Ports: kube.TCP(2049, mountdPort, 111)}}, nil, opts...); err != nil {
		return pulumi.StringOutput{}, err
	}
	return svc.Spec.ClusterIP().Elem(), nil
}
