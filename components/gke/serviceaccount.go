package gke

import (
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/propagation"
)

// NodeServiceAccountID derives the node service account's ID from the cluster name, cut to
// the 30 characters IAM allows and never ending in '-'.
func NodeServiceAccountID(clusterName string) string {
	const suffix = "-nodes"
	base := clusterName
	if len(base) > 30-len(suffix) {
		base = strings.TrimRight(base[:30-len(suffix)], "-")
	}
	return base + suffix
}

// newNodeServiceAccount replaces the Compute Engine default service account (Editor on the
// whole project) with one that holds NodeServiceAccountRoles and nothing else.
// It returns the account and its role bindings, which the cluster and the node pool wait for:
// nodes that boot before their account may write logs and metrics fail to register. Each
// binding, once created, waits for IAM to propagate.
func newNodeServiceAccount(ctx *pulumi.Context, name string, a ClusterArgs, wait *propagation.Wait, opts ...pulumi.ResourceOption) (*serviceaccount.Account, []pulumi.Resource, error) {
	sa, err := serviceaccount.NewAccount(ctx, name+"-nodes", &serviceaccount.AccountArgs{
		Project:     pulumi.String(a.Project),
		AccountId:   pulumi.String(NodeServiceAccountID(a.Name)),
		DisplayName: pulumi.String("GKE nodes of " + a.Name),
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	var bindings []pulumi.Resource
	for _, role := range NodeServiceAccountRoles {
		// IAMMember is additive: it never removes bindings that others manage on the project.
		m, err := projects.NewIAMMember(ctx, name+"-nodes-"+roleSuffix(role), &projects.IAMMemberArgs{
			Project: pulumi.String(a.Project),
			Role:    pulumi.String(role),
			Member:  pulumi.Sprintf("serviceAccount:%s", sa.Email),
		}, append(opts, wait.After())...)
		if err != nil {
			return nil, nil, err
		}
		bindings = append(bindings, m)
	}
	return sa, bindings, nil
}

// roleSuffix turns "roles/container.defaultNodeServiceAccount" into a resource-name-friendly
// "container-defaultNodeServiceAccount".
func roleSuffix(role string) string {
	return strings.ReplaceAll(strings.TrimPrefix(role, "roles/"), ".", "-")
}
