package platform

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apis"
	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/network"
	"github.com/wso2-k8s/apim-gke/components/nfs"
)

// builder carries what one Platform's steps hand to each other.
type builder struct {
	ctx    *pulumi.Context
	name   string
	a      Args
	p      *Platform
	parent pulumi.ResourceOption

	gcp     *gcp.Provider    // nil in mode existing
	apis    *apis.APIs       // nil in mode existing
	network *network.Network // nil in mode existing
	k8s     *kubernetes.Provider

	namespace    pulumi.StringOutput
	nfsNamespace pulumi.StringOutput // only with the in-cluster NFS server
	secret       map[string]pulumi.StringOutput
	// keystoreSecret names the Secret of the API Manager pods' stores.
	keystoreSecret pulumi.StringOutput
	claim          pulumi.StringOutput
	work           workloads
}

// child names a child resource from the platform's name.
func (b *builder) child(suffix string) string { return b.name + "-" + suffix }

// withK8s and withClouds are the options of the platform's children.
func (b *builder) withK8s() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{b.parent, pulumi.Provider(b.k8s)}
}

func (b *builder) withClouds() []pulumi.ResourceOption {
	if b.gcp == nil {
		return b.withK8s()
	}
	return []pulumi.ResourceOption{b.parent, pulumi.Providers(b.gcp, b.k8s), b.afterAPIs()}
}

// afterAPIs makes what calls a Google Cloud API wait until the project has it enabled.
func (b *builder) afterAPIs() pulumi.ResourceOption {
	return b.apis.WaitFor()
}

// Services are the Google Cloud APIs a platform of these args calls: compute and container
// always, IAM for the node service account, Resource Manager for its project role,
// IAM Credentials for CI's Workload Identity Federation, and the optional parts' own.
func (a Args) Services() []string {
	s := []string{"compute.googleapis.com", "container.googleapis.com", "iam.googleapis.com",
		"cloudresourcemanager.googleapis.com", "iamcredentials.googleapis.com"}
	if a.NFS.Backend == nfs.BackendFilestore {
		s = append(s, "file.googleapis.com")
	}
	if *a.Cluster.SecretsEncryption {
		s = append(s, "cloudkms.googleapis.com")
	}
	if a.Cluster.BinaryAuthorization {
		s = append(s, "binaryauthorization.googleapis.com")
	}
	s = append(s, a.databaseServices()...)
	s = append(s, a.monitoringServices()...)
	return s
}

func (b *builder) cluster() error {
	c := b.a.Cluster
	if c.Mode == ModeExisting {
		return b.existingCluster()
	}
	// An explicit provider: nothing depends on the ambient gcloud project or region.
	var err error
	b.gcp, err = gcp.NewProvider(b.ctx, b.child("gcp"), &gcp.ProviderArgs{
		Project: pulumi.String(c.Project),
		Region:  pulumi.String(c.Region),
	}, b.parent)
	if err != nil {
		return err
	}
	if b.apis, err = apis.NewAPIs(b.ctx, b.child("apis"), &apis.Args{Project: c.Project, Services: b.a.Services(), PropagationWait: c.PropagationWait()},
		b.parent, pulumi.Provider(b.gcp)); err != nil {
		return err
	}
	withGCP := []pulumi.ResourceOption{b.parent, pulumi.Provider(b.gcp), b.afterAPIs()}

	net := c.Network
	// Private nodes have no route to Docker Hub without NAT, and the NFS VM (no external IP)
	// needs it for its packages.
	net.CloudNAT = c.PrivateNodes || b.a.NFS.Backend == nfs.BackendVM
	if b.network, err = network.NewNetwork(b.ctx, b.child("vpc"), &net, withGCP...); err != nil {
		return err
	}
	ca := c.ClusterArgs
	ca.NetworkSelfLink, ca.SubnetworkSelfLink = b.network.NetworkSelfLink, b.network.SubnetworkSelfLink
	ca.PodRangeName, ca.ServiceRangeName = network.PodRangeName, network.ServiceRangeName
	cluster, err := gke.NewCluster(b.ctx, b.child("gke"), &ca, withGCP...)
	if err != nil {
		return err
	}
	b.k8s = cluster.Provider
	b.p.KubernetesProvider = cluster.Provider
	b.p.ClusterName, b.p.ClusterEndpoint, b.p.Kubeconfig = cluster.ClusterName, cluster.Endpoint, cluster.Kubeconfig
	return nil
}

func (b *builder) existingCluster() error {
	c := b.a.Cluster
	b.p.ClusterName = pulumi.String(c.Name).ToStringOutput()
	b.p.ClusterEndpoint = pulumi.String("").ToStringOutput()
	b.p.Kubeconfig = pulumi.ToSecret(pulumi.String(c.Kubeconfig)).(pulumi.StringOutput)
	if c.Provider != nil {
		b.k8s, b.p.KubernetesProvider = c.Provider, c.Provider
		return nil
	}
	args := &kubernetes.ProviderArgs{
		// Moving the kubeconfig file must not replace every resource in the cluster.
		ClusterIdentifier: pulumi.String("existing/" + c.Name),
		// See gke.NewCluster: in-place ConfigMap/Secret updates keep rollouts zero-downtime.
		EnableConfigMapMutable: pulumi.Bool(true),
		EnableSecretMutable:    pulumi.Bool(true),
	}
	// A kubeconfig path or the file's contents; empty means the ambient one.
	if c.Kubeconfig != "" {
		args.Kubeconfig = pulumi.String(c.Kubeconfig)
	}
	if c.Context != "" {
		args.Context = pulumi.String(c.Context)
	}
	provider, err := kubernetes.NewProvider(b.ctx, b.child("k8s"), args, b.parent)
	if err != nil {
		return err
	}
	b.k8s, b.p.KubernetesProvider = provider, provider
	return nil
}

// namespaces creates the workloads' namespace (restricted Pod Security) and, for the in-cluster
// NFS server, its own privileged one. Everything in a namespace takes its name from the
// Namespace's output, so it waits for the Namespace and for nothing else.
func (b *builder) namespaces() error {
	// Deleting a namespace deletes its claims, and GKE's disk classes delete the disks with
	// them: the StatefulSets' retained claims guard nothing then. So the namespace is as
	// protected as the data in it.
	holdsData := *b.a.MySQL.Protect || (b.a.Analytics.Mode == analytics.ModeOpenSearch && *b.a.Analytics.Protect)
	ns, err := corev1.NewNamespace(b.ctx, b.child("ns"), &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(b.a.Cluster.Namespace),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":    pulumi.String(kube.PartOf),
				"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
				// Every pod here must meet the restricted Pod Security Standard.
				"pod-security.kubernetes.io/enforce": pulumi.String("restricted"),
				"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
			},
		},
	}, append(b.withK8s(), pulumi.Protect(holdsData))...)
	if err != nil {
		return err
	}
	b.namespace = ns.Metadata.Name().Elem()
	b.p.Namespace = b.namespace
	// Nothing moves in the namespace but what each workload's own policy allows.
	if err := kube.NewNamespacePolicies(b.ctx, b.child("ns"), b.namespace, b.withK8s()...); err != nil {
		return err
	}
	// The in-cluster NFS server is a privileged pod; the Filestore directory Job runs as
	// root to chown. Each gets a namespace of its own, with the least Pod Security level
	// that allows it, away from the restricted workload namespace.
	level := map[string]string{nfs.BackendInCluster: "privileged", nfs.BackendFilestore: "baseline"}[b.a.NFS.Backend]
	if level == "" {
		return nil
	}
	nfsNS, err := corev1.NewNamespace(b.ctx, b.child("nfs-ns"), &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(nfsNamespace(b.a.Cluster.Namespace)),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":          pulumi.String(kube.PartOf),
				"app.kubernetes.io/managed-by":       pulumi.String("pulumi"),
				"pod-security.kubernetes.io/enforce": pulumi.String(level),
			},
		},
		// The in-cluster server's disk claim lives here.
	}, append(b.withK8s(), pulumi.Protect(level == "privileged" && *b.a.NFS.Protect))...)
	if err != nil {
		return err
	}
	b.nfsNamespace = nfsNS.Metadata.Name().Elem()
	return kube.NewNamespacePolicies(b.ctx, b.child("nfs-ns"), b.nfsNamespace, b.withK8s()...)
}
