package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/gke"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeGCPService = "gcp:projects/service:Service"

// On a fresh project every API the stack calls is enabled first, stays enabled on destroy,
// and everything that calls one waits for it.
func TestServiceAPIsAreEnabledFirst(t *testing.T) {
	want := map[string][]string{
		"dev": {"cloudresourcemanager.googleapis.com", "compute.googleapis.com", "container.googleapis.com",
			"iam.googleapis.com", "iamcredentials.googleapis.com", "monitoring.googleapis.com", "servicenetworking.googleapis.com", "sqladmin.googleapis.com"},
		"prod": {"cloudkms.googleapis.com", "cloudresourcemanager.googleapis.com", "compute.googleapis.com", "container.googleapis.com",
			"file.googleapis.com", "iam.googleapis.com", "iamcredentials.googleapis.com", "monitoring.googleapis.com", "servicenetworking.googleapis.com", "sqladmin.googleapis.com"},
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
			typePSAConnection:                         "servicenetworking.googleapis.com",
			typeSQLInstance:                           "sqladmin.googleapis.com",
			typeSQLDatabase:                           "sqladmin.googleapis.com",
			typeSQLUser:                               "sqladmin.googleapis.com",
		}
		for _, typ := range []string{typeAlertPolicy, typeDashboard, typeUptimeCheck} {
			mustWait[typ] = "monitoring.googleapis.com"
		}
		if stack == "prod" {
			mustWait[typeFilestore] = "file.googleapis.com"
			mustWait["gcp:kms/keyRing:KeyRing"] = "cloudkms.googleapis.com"
		}
		for typ, api := range mustWait {
			rs := g.OfType(typ)
			require.NotEmpty(t, rs, "%s: %s", stack, typ)
			for _, r := range rs {
				assert.True(t, g.DependsOn(r, byName[api]), "%s: %s %s must wait for %s", stack, typ, r.Name, api)
			}
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
	expectConfigRefusals(t, []configRefusal{
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
		{"public network on a private endpoint", "prod", map[string]any{"cluster.masterAuthorizedNetworks": []any{map[string]any{"name": "office", "cidr": "81.2.69.0/24"}}},
			`cluster.masterAuthorizedNetworks[0].cidr: "81.2.69.0/24" is not a private range, and with cluster.privateEndpoint true GKE admits only internal addresses to the control plane; want a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (e.g. a CI runner's subnet), or cluster.privateEndpoint false to fence the public endpoint with it`},
		{"propagation wait", "prod", map[string]any{"cluster.propagationWaitSeconds": 901},
			"cluster.propagationWaitSeconds: 901 is not valid; want 0 to 900"},
		{"Filestore capacity off the tier's steps", "prod", map[string]any{"nfs.tier": "ZONAL", "nfs.capacityGb": 1100, "nfs.reservedIpRange": "10.30.0.0/26"},
			"nfs.capacityGb: 1100 is not a size the ZONAL tier offers; want 1024 to 9984 GiB in steps of 256 GiB, or 10240 to 102400 GiB in steps of 2560 GiB"},
		{"Filestore capacity above the tier's maximum", "prod", map[string]any{"nfs.tier": "BASIC_HDD", "nfs.reservedIpRange": "10.30.0.0/29", "nfs.capacityGb": 70000},
			"nfs.capacityGb: 70000 is not a size the BASIC_HDD tier offers; want 1024 to 65433 GiB"},
		{"Filestore range on the nodes", "prod", map[string]any{"nfs.reservedIpRange": "10.10.0.0/29"},
			"nfs.reservedIpRange: 10.10.0.0/29 overlaps cluster.network.nodeCidr (10.10.0.0/20); Filestore's range must not overlap the node, pod, service or control-plane ranges"},
		{"Filestore range on the pods", "prod", map[string]any{"nfs.reservedIpRange": "10.17.0.0/29"},
			"nfs.reservedIpRange: 10.17.0.0/29 overlaps cluster.network.podCidr (10.16.0.0/14); Filestore's range must not overlap the node, pod, service or control-plane ranges"},
		{"Filestore range on the control plane", "prod", map[string]any{"nfs.reservedIpRange": "172.16.0.8/29"},
			"nfs.reservedIpRange: 172.16.0.8/29 overlaps cluster.masterCidr (172.16.0.0/28); Filestore's range must not overlap the node, pod, service or control-plane ranges"},
		{"Filestore range too small for the tier", "prod", map[string]any{"nfs.tier": "ENTERPRISE", "nfs.zone": nil, "nfs.reservedIpRange": "10.30.0.0/29"},
			`nfs.reservedIpRange: "10.30.0.0/29" is not valid for tier ENTERPRISE at 1024 GiB; want a /26 such as 10.30.0.0/26`},
		{"Filestore range public", "prod", map[string]any{"nfs.reservedIpRange": "81.2.69.0/26"},
			`nfs.reservedIpRange: "81.2.69.0/26" is not a private range; want a /26 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, such as 10.30.0.0/26`},
	})
}

// A just-enabled API and a just-made grant are given time to propagate before the cluster
// uses them (the first `up` only: the wait is an after-create hook), and the cluster waits
// for every grant it relies on: the nodes' roles and, in prod, GKE's use of the KMS key.
func TestFirstUpWaitsForGrantsAndAPIsToPropagate(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			cluster := one(t, g, typeCluster)
			for _, s := range g.OfType(typeGCPService) {
				assert.Equal(t, []string{"apim-apis-propagation"}, s.AfterCreate, "%s waits once enabled", s.Name)
				assert.True(t, g.DependsOn(cluster, s))
			}
			grants := append(g.OfType(typeIAMMember), g.OfType("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")...)
			want := map[string]int{"dev": 1, "prod": 2}[stack]
			require.Len(t, grants, want)
			for _, b := range grants {
				assert.Equal(t, []string{"apim-gke-propagation"}, b.AfterCreate, "%s waits once granted", b.Name)
				assert.True(t, g.DependsOn(cluster, b), "the cluster waits for %s", b.Name)
			}
		})
	}
	off := run(t, "prod", map[string]any{"cluster.propagationWaitSeconds": 0})
	for _, r := range off.All() {
		assert.Empty(t, r.AfterCreate, "propagationWaitSeconds 0: %s %s does not wait", r.Type, r.Name)
	}
}
