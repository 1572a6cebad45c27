package gke

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/kms"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/propagation"
)

// ImageType is the node OS: Container-Optimized OS with containerd, GKE's hardened default.
const ImageType = "COS_CONTAINERD"

// KMSRole is what GKE's service agent needs on the Secrets encryption key.
const KMSRole = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

// secretsKey returns the key that encrypts Kubernetes Secrets (nil when off) and what the
// cluster must wait for before using it. Unless a key is named, it creates a key ring and a
// key in the cluster's region, rotated every 90 days, and lets GKE's service agent use it.
// Cloud KMS never deletes keys (a destroy only destroys their versions), so they are
// protected like the cluster. The grant, once created, waits for IAM to propagate: GKE checks
// it when the cluster is created.
func secretsKey(ctx *pulumi.Context, name string, a ClusterArgs, wait *propagation.Wait, opts ...pulumi.ResourceOption) (pulumi.StringInput, []pulumi.Resource, error) {
	if !*a.SecretsEncryption {
		return nil, nil, nil
	}
	agent, err := projects.NewServiceIdentity(ctx, name+"-gke-agent", &projects.ServiceIdentityArgs{
		Project: pulumi.String(a.Project),
		Service: pulumi.String("container.googleapis.com"),
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	var key pulumi.StringInput = pulumi.String(a.KMSKeyName)
	if a.KMSKeyName == "" {
		protect := append(opts, pulumi.Protect(*a.DeletionProtection))
		ring, err := kms.NewKeyRing(ctx, name+"-secrets", &kms.KeyRingArgs{
			Project:  pulumi.String(a.Project),
			Location: pulumi.String(a.Region),
		}, protect...)
		if err != nil {
			return nil, nil, err
		}
		k, err := kms.NewCryptoKey(ctx, name+"-secrets", &kms.CryptoKeyArgs{
			KeyRing:        ring.ID(),
			Purpose:        pulumi.String("ENCRYPT_DECRYPT"),
			RotationPeriod: pulumi.String("7776000s"),
		}, protect...)
		if err != nil {
			return nil, nil, err
		}
		key = k.ID()
	}
	binding, err := kms.NewCryptoKeyIAMMember(ctx, name+"-secrets-gke-agent", &kms.CryptoKeyIAMMemberArgs{
		CryptoKeyId: key,
		Role:        pulumi.String(KMSRole),
		Member:      agent.Member,
	}, append(opts, wait.After())...)
	if err != nil {
		return nil, nil, err
	}
	return key, []pulumi.Resource{binding}, nil
}
