// Command existing-cluster composes the leaf components in a program of your own: MySQL, the
// API Manager control plane and an autoscaled gateway, with your own names, sizes and
// namespace, in the cluster of your current kubeconfig context. No Google Cloud resource.
//
//	pulumi config set --secret adminPassword ...
//	pulumi config set --secret encryptionKey "$(openssl rand -hex 32)"
//	pulumi config set --secret dbRootPassword ...
//	pulumi config set --secret dbPassword ...
package main

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/keystores"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/mysql"
)

func main() { pulumi.Run(program) }

func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	// An explicit provider for the ambient kubeconfig's current context. The components
	// update their ConfigMaps in place and roll pods by checksum: without these flags the
	// provider would replace a changed ConfigMap, deleting the Deployments that use it first.
	k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{
		EnableConfigMapMutable: pulumi.Bool(true),
		EnableSecretMutable:    pulumi.Bool(true),
	})
	if err != nil {
		return err
	}
	withK8s := pulumi.Provider(k8s)

	ns, err := corev1.NewNamespace(ctx, "apis", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("apis"),
			Labels: pulumi.StringMap{"pod-security.kubernetes.io/enforce": pulumi.String("restricted")}},
	}, withK8s)
	if err != nil {
		return err
	}
	namespace := ns.Metadata.Name().Elem()

	db, err := mysql.NewMySQL(ctx, "db", &mysql.Args{
		Namespace:      namespace,
		Name:           "apim-db",
		APIMImage:      "wso2/wso2am:4.7.0",
		APIMServerHome: apim.ServerHomeFor("wso2/wso2am:4.7.0", "wso2am"),
		RootPassword:   cfg.RequireSecret("dbRootPassword"),
		Password:       cfg.RequireSecret("dbPassword"),
		StorageSize:    "50Gi",
		Clients: []kube.Peer{
			{Pods: kube.Selector("apis-cp", apim.ComponentControlPlane)},
			{Pods: kube.Selector("apis-gw", apim.ComponentGateway)},
		},
	}, withK8s)
	if err != nil {
		return err
	}

	// Keys of this deployment's own, never the images' (whose private keys are public),
	// kept across updates; bump Generation to rotate them.
	stores, err := keystores.NewKeystores(ctx, "keys", &keystores.Args{
		Namespace: namespace,
		Name:      "apis-keystores",
		DNSNames:  []string{"localhost", "apis-cp", "apis-cp.apis.svc", "*.apis-cp-nodes", "*.apis-cp-nodes.apis.svc", "apis-gw", "apis-gw.apis.svc"},
	}, withK8s)
	if err != nil {
		return err
	}

	// What the control plane and its gateways share; the JDBC driver comes from Maven
	// Central by default.
	shared := apim.Shared{
		Namespace:          namespace,
		Database:           apim.Database{Host: db.Host, Username: db.Username, Password: db.PasswordSecret},
		ManagementHostname: "portal.example.org",
		GatewayHostname:    "api.example.org",
		Keystores:          stores.SecretName,
	}
	cp, err := apim.NewControlPlane(ctx, "cp", &apim.ControlPlaneArgs{
		Workload:       apim.Workload{Name: "apis-cp"},
		Shared:         shared,
		GatewayService: "apis-gw",
		AdminPassword:  cfg.RequireSecret("adminPassword"),
		EncryptionKey:  cfg.RequireSecret("encryptionKey"),
	}, withK8s)
	if err != nil {
		return err
	}

	shared.Credentials = cp.Credentials
	gw, err := apim.NewGateway(ctx, "gw", &apim.GatewayArgs{
		Workload:            apim.Workload{Name: "apis-gw"},
		Shared:              shared,
		ControlPlaneService: cp.Service,
		MinReplicas:         2,
		MaxReplicas:         10,
		CPUTargetPercent:    60,
	}, withK8s)
	if err != nil {
		return err
	}

	ctx.Export("gatewayService", pulumi.String(gw.Service))
	return nil
}
