package tests

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeGCPService = "gcp:projects/service:Service"

// On a fresh project every API the stack calls is enabled first, stays enabled on destroy,
// and everything that calls one waits for it.
func TestServiceAPIsAreEnabledFirst(t *testing.T) {
	want := map[string][]string{
		"dev": {"cloudresourcemanager.googleapis.com", "compute.googleapis.com", "container.googleapis.com",
			"iam.googleapis.com", "iamcredentials.googleapis.com"},
		"prod": {"cloudkms.googleapis.com", "cloudresourcemanager.googleapis.com", "compute.googleapis.com", "container.googleapis.com",
			"file.googleapis.com", "iam.googleapis.com", "iamcredentials.googleapis.com"},
	}
	for stack, services := range want {
		g := run(t, stack, nil)
		var got []string
		byName := map[string]*harness.Resource{}
		for _, s := range g.OfType(typeGCPService) {
			got = append(got, s.String("service"))
			byName[s.String("service")] = s
			assert.Equal(t, false, s.Get("disableOnDestroy"), "%s: other workloads of the project may use it", s.Name)
			assert.Equal(t, harness.TestGCPProject, s.Get("project"))
		}
		assert.ElementsMatch(t, services, got, stack)
		mustWait := map[string]string{
			"gcp:compute/network:Network":             "compute.googleapis.com",
			"gcp:compute/subnetwork:Subnetwork":       "compute.googleapis.com",
			"gcp:serviceaccount/account:Account":      "iam.googleapis.com",
			"gcp:container/cluster:Cluster":           "container.googleapis.com",
			"gcp:compute/globalAddress:GlobalAddress": "compute.googleapis.com",
		}
		if stack == "prod" {
			mustWait[typeFilestore] = "file.googleapis.com"
			mustWait["gcp:kms/keyRing:KeyRing"] = "cloudkms.googleapis.com"
		}
		for typ, api := range mustWait {
			r := one(t, g, typ)
			assert.True(t, g.DependsOn(r, byName[api]), "%s: %s must wait for %s", stack, typ, api)
		}
	}
}

func TestGKEHardening(t *testing.T) {
	prod := run(t, "prod", nil)
	cluster := one(t, prod, typeCluster)
	sa := one(t, prod, typeSA)
	// The short-lived default pool boots as the least-privilege account too.
	assert.Equal(t, "apim-prod-nodes@"+harness.TestGCPProject+".iam.gserviceaccount.com", cluster.Get("nodeConfig.serviceAccount"))
	assert.Equal(t, []string{"nodeConfig"}, cluster.IgnoreChanges, "the removed default pool's settings are no change of ours")
	assert.Equal(t, gke.ImageType, cluster.Get("nodeConfig.imageType"))
	pool := one(t, prod, typeNodePool)
	assert.Equal(t, "COS_CONTAINERD", pool.Get("nodeConfig.imageType"))
	for _, m := range prod.OfType(typeIAMMember) {
		assert.True(t, prod.DependsOn(pool, m), "the pool waits for its account's role: %s", m.Name)
	}
	assert.True(t, prod.DependsOn(pool, sa))

	// Maintenance window: weekends 02:00-08:00 UTC by default.
	assert.Equal(t, "FREQ=WEEKLY;BYDAY=SA,SU", cluster.Get("maintenancePolicy.recurringWindow.recurrence"))
	assert.Equal(t, "2025-01-04T02:00:00Z", cluster.Get("maintenancePolicy.recurringWindow.startTime"))
	assert.Equal(t, "2025-01-04T08:00:00Z", cluster.Get("maintenancePolicy.recurringWindow.endTime"))

	// Secrets encryption with a key the program creates, usable by GKE's service agent.
	ring, key := one(t, prod, "gcp:kms/keyRing:KeyRing"), one(t, prod, "gcp:kms/cryptoKey:CryptoKey")
	assert.Equal(t, "europe-west1", ring.Get("location"))
	assert.True(t, ring.Protect)
	assert.True(t, key.Protect)
	assert.Equal(t, "7776000s", key.Get("rotationPeriod"), "rotated every 90 days")
	binding := one(t, prod, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
	assert.Equal(t, gke.KMSRole, binding.Get("role"))
	assert.Equal(t, "serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com", binding.Get("member"))
	assert.Equal(t, key.ID, binding.Get("cryptoKeyId"))
	assert.Equal(t, "ENCRYPTED", cluster.Get("databaseEncryption.state"))
	assert.Equal(t, key.ID, cluster.Get("databaseEncryption.keyName"))
	assert.True(t, prod.DependsOn(cluster, binding), "GKE must be able to use the key before it encrypts with it")
	assert.Nil(t, cluster.Get("binaryAuthorization"), "Binary Authorization is an option, off by default")

	// Flow logs in prod, not in dev.
	subnet := one(t, prod, "gcp:compute/subnetwork:Subnetwork")
	assert.Equal(t, "INTERVAL_5_MIN", subnet.Get("logConfig.aggregationInterval"))
	assert.Equal(t, 0.5, subnet.Get("logConfig.flowSampling"))

	dev := run(t, "dev", nil)
	assert.Nil(t, one(t, dev, "gcp:compute/subnetwork:Subnetwork").Get("logConfig"))
	assert.Empty(t, dev.WithPrefix("gcp:kms/"), "dev encrypts Secrets with Google's default encryption only")
	assert.Nil(t, one(t, dev, typeCluster).Get("databaseEncryption"))

	withBinAuthz := run(t, "dev", map[string]any{"cluster.binaryAuthorization": true})
	assert.Equal(t, "PROJECT_SINGLETON_POLICY_ENFORCE", one(t, withBinAuthz, typeCluster).Get("binaryAuthorization.evaluationMode"))
	var apis []string
	for _, s := range withBinAuthz.OfType(typeGCPService) {
		apis = append(apis, s.String("service"))
	}
	assert.Contains(t, apis, "binaryauthorization.googleapis.com")

	ownKey := run(t, "dev", map[string]any{"cluster.secretsEncryption": true,
		"cluster.kmsKeyName": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"})
	assert.Empty(t, ownKey.OfType("gcp:kms/keyRing:KeyRing"), "a named key is used, not created")
	assert.Equal(t, "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k", one(t, ownKey, typeCluster).Get("databaseEncryption.keyName"))
	assert.Equal(t, "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k",
		one(t, ownKey, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").Get("cryptoKeyId"))
}

// Each rule GKE or Filestore would enforce at apply time, refused before anything is
// registered, with the exact message.
func TestGCPValidation(t *testing.T) {
	cases := []struct {
		name  string
		stack string
		set   map[string]any
		want  string
	}{
		{"auto-upgrade off on a release channel", "dev", map[string]any{"nodePool.autoUpgrade": false},
			"nodePool.autoUpgrade: false is not allowed: the cluster is on a release channel, whose nodes GKE keeps upgraded; remove the setting (upgrades happen in the maintenance window)"},
		{"primary zone in node zones", "dev", map[string]any{"cluster.nodeZones": []any{"europe-west1-b", "europe-west1-c"}},
			`cluster.nodeZones[0]: "europe-west1-b" is the cluster's own zone; list only the additional zones, GKE always runs nodes in the cluster's zone`},
		{"master range overlaps the nodes", "prod", map[string]any{"cluster.masterCidr": "10.10.0.16/28"},
			"cluster.masterCidr: 10.10.0.16/28 overlaps cluster.network.nodeCidr (10.10.0.0/20); the control plane's range must not overlap the node, pod or service ranges"},
		{"documentation range", "dev", map[string]any{"cluster.masterAuthorizedNetworks": []any{map[string]any{"name": "ci", "cidr": "203.0.113.0/24"}}},
			`cluster.masterAuthorizedNetworks[0].cidr: "203.0.113.0/24" is a documentation range (RFC 5737) that no real client uses; set the address range of your operators or CI runner, or use cluster.privateEndpoint with a runner inside the VPC`},
		{"inside a documentation range", "dev", map[string]any{"cluster.masterAuthorizedNetworks": []any{map[string]any{"name": "ci", "cidr": "198.51.100.64/26"}}},
			`cluster.masterAuthorizedNetworks[0].cidr: "198.51.100.64/26" is a documentation range (RFC 5737) that no real client uses; set the address range of your operators or CI runner, or use cluster.privateEndpoint with a runner inside the VPC`},
		{"private endpoint on public nodes", "dev", map[string]any{"cluster.privateEndpoint": true},
			"cluster.privateEndpoint: true needs cluster.privateNodes true: a private control plane is only offered to private clusters"},
		{"regional Filestore tier in another region", "prod", map[string]any{"nfs.tier": "REGIONAL", "nfs.zone": "us-east1-b"},
			`nfs.zone: "us-east1-b" is not in region "europe-west1", where a REGIONAL instance is placed`},
		{"maintenance window end", "dev", map[string]any{"cluster.maintenanceWindow": map[string]any{"start": "2025-01-04T08:00:00Z", "end": "2025-01-04T02:00:00Z", "recurrence": "FREQ=DAILY"}},
			`cluster.maintenanceWindow.end: "2025-01-04T02:00:00Z" is not after cluster.maintenanceWindow.start ("2025-01-04T08:00:00Z")`},
		{"maintenance window time", "dev", map[string]any{"cluster.maintenanceWindow": map[string]any{"start": "Saturday 2am", "end": "2025-01-04T02:00:00Z", "recurrence": "FREQ=DAILY"}},
			`cluster.maintenanceWindow.start: "Saturday 2am" is not valid; want an RFC 3339 time such as 2025-01-04T02:00:00Z`},
		{"maintenance window recurrence", "dev", map[string]any{"cluster.maintenanceWindow.recurrence": "weekends"},
			`cluster.maintenanceWindow.recurrence: "weekends" is not valid; want an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=SA,SU`},
		{"KMS key name", "prod", map[string]any{"cluster.kmsKeyName": "my-key"},
			`cluster.kmsKeyName: "my-key" is not valid; want projects/<project>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := harness.Run(stacks.Program, tc.stack, harness.Options{Set: tc.set})
			require.Error(t, err)
			var cfgErr *stacks.ConfigError
			require.True(t, errors.As(err, &cfgErr), "%v", err)
			assert.Contains(t, cfgErr.Problems, tc.want)
			assert.Empty(t, g.All())
		})
	}
}
