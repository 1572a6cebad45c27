package gke_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func TestNodeServiceAccountID(t *testing.T) {
	cases := map[string]string{
		"apim-dev": "apim-dev-nodes",
		"a-very-long-cluster-name-for-production": "a-very-long-cluster-name-nodes",
		"abcdefghij-abcdefghijkl-rest":            "abcdefghij-abcdefghijkl-nodes",
	}
	for in, want := range cases {
		got := gke.NodeServiceAccountID(in)
		assert.Equal(t, want, got, in)
		assert.LessOrEqual(t, len(got), 30, "IAM allows 30 characters")
		assert.GreaterOrEqual(t, len(got), 6, "IAM wants 6 characters")
	}
}

func TestKubeconfigUsesAuthPlugin(t *testing.T) {
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `yaml:"server"`
				CA     string `yaml:"certificate-authority-data"`
			} `yaml:"cluster"`
		} `yaml:"clusters"`
		CurrentContext string `yaml:"current-context"`
		Users          []struct {
			User struct {
				Exec struct {
					Command    string `yaml:"command"`
					APIVersion string `yaml:"apiVersion"`
				} `yaml:"exec"`
				Token string `yaml:"token"`
			} `yaml:"user"`
		} `yaml:"users"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(gke.Kubeconfig("c1", "203.0.113.1", "Q0E=")), &kc))
	assert.Equal(t, "https://203.0.113.1", kc.Clusters[0].Cluster.Server)
	assert.Equal(t, "Q0E=", kc.Clusters[0].Cluster.CA)
	assert.Equal(t, "c1", kc.CurrentContext)
	assert.Equal(t, "gke-gcloud-auth-plugin", kc.Users[0].User.Exec.Command)
	assert.Equal(t, "client.authentication.k8s.io/v1beta1", kc.Users[0].User.Exec.APIVersion)
	assert.Empty(t, kc.Users[0].User.Token, "no static token")
}

// The component stands alone: given only a project, name, location and network, it applies
// safe defaults.
func TestClusterAloneAppliesSafeDefaults(t *testing.T) {
	g, _ := harness.Construct(t, harness.Mocks{}, gke.NewCluster, "solo", &gke.ClusterArgs{
		Project:            "my-project-1",
		Name:               "solo",
		Region:             "us-central1",
		NetworkSelfLink:    pulumi.String("net"),
		SubnetworkSelfLink: pulumi.String("subnet"),
	})

	cluster := g.Find(harness.TypeGKECluster, "solo")
	require.NotNil(t, cluster)
	assert.Equal(t, true, cluster.Get("deletionProtection"), "a library default must be the safe one")
	assert.True(t, cluster.Protect)
	assert.Equal(t, "REGULAR", cluster.Get("releaseChannel.channel"))
	assert.Equal(t, "BALANCED", cluster.Get("clusterAutoscaling.autoscalingProfile"))
	assert.Equal(t, "net", cluster.Get("network"))

	pool := g.Find(harness.TypeGKENodePool, "solo")
	require.NotNil(t, pool)
	assert.Equal(t, 1.0, pool.Get("autoscaling.minNodeCount"))
	assert.Equal(t, 3.0, pool.Get("autoscaling.maxNodeCount"))
	assert.Equal(t, "BALANCED", pool.Get("autoscaling.locationPolicy"))
	assert.Equal(t, "e2-standard-4", pool.Get("nodeConfig.machineType"))
	for _, r := range g.All() {
		if r.Type != "wso2apim:gke:Cluster" {
			assert.Equal(t, "wso2apim:gke:Cluster", g.ParentOf(r).Type, "%s %s is inside the component", r.Type, r.Name)
		}
	}
}

func TestClusterRequiresItsInputs(t *testing.T) {
	g, _, err := harness.TryConstruct(harness.Mocks{}, gke.NewCluster, "solo", &gke.ClusterArgs{Name: "solo"})
	require.ErrorContains(t, err, `gke cluster "solo": project: missing; the Google Cloud project ID; region: missing; a region such as europe-west1; NetworkSelfLink: missing;`)
	assert.Empty(t, g.All())
}
