package gke

import (
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
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
func newNodeServiceAccount(ctx *pulumi.Context, name string, a ClusterArgs, opts ...pulumi.ResourceOption) (*serviceaccount.Account, error) {
	sa, err := serviceaccount.NewAccount(ctx, name+"-nodes", &serviceaccount.AccountArgs{
		Project:     pulumi.String(a.Project),
		AccountId:   pulumi.String(NodeServiceAccountID(a.Name)),
		DisplayName: pulumi.String("GKE nodes of " + a.Name),
	}, opts...)
	if err != nil {
		return nil, err
	}
	for _, role := range NodeServiceAccountRoles {
		// IAMMember is additive: it never removes bindings that others manage on the project.
		if _, err := projects.NewIAMMember(ctx, name+"-nodes-"+roleSuffix(role), &projects.IAMMemberArgs{
			Project: pulumi.String(a.Project),
			Role:    pulumi.String(role),
			Member:  pulumi.Sprintf("serviceAccount:%s", sa.Email),
		}, opts...); err != nil {
			return nil, err
		}
	}
	return sa, nil
}

// roleSuffix turns "roles/container.defaultNodeServiceAccount" into a resource-name-friendly
// "container-defaultNodeServiceAccount".
func roleSuffix(role string) string {
	return strings.ReplaceAll(strings.TrimPrefix(role, "roles/"), ".", "-")
}
