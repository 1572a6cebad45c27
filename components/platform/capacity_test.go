package platform

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/kube"
)

const gib = int64(1) << 30

func TestMachineTypes(t *testing.T) {
	for name, want := range map[string]machine{
		"e2-standard-4":     {4000, 16 * gib},
		"e2-highcpu-8":      {8000, 8 * gib},
		"n1-standard-2":     {2000, int64(7.5 * float64(gib))},
		"e2-medium":         {1000, 4 * gib},
		"custom-4-6144":     {4000, 6 * gib},
		"n2-custom-2-10240": {2000, 10 * gib},
	} {
		got, ok := machineType(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got, name)
	}
	for _, name := range []string{"x9-standard-4", "e2-standard", "a2-ultragpu-1g"} {
		_, ok := machineType(name)
		assert.False(t, ok, "%s is not in the table", name)
	}
}

// GKE's reservations by hand ("Plan node sizes"): e2-standard-4 keeps back 60+10+10 m CPU and
// 1 + 0.8 + 0.8 GiB (0.8 GiB is 858993459.2 bytes; the sum is rounded down) plus the 100 MiB
// eviction threshold; e2-highcpu-8 keeps 60+10+10+10 m and 1 + 0.8 GiB plus 100 MiB; a
// one-core, 0.5 GiB node keeps 60 m, and 255 MiB plus 100 MiB.
func TestAllocatable(t *testing.T) {
	assert.Equal(t, machine{3920, 16*gib - (gib + 1717986918) - 100<<20}, allocatable(machine{4000, 16 * gib}))
	assert.Equal(t, machine{7910, 8*gib - (gib + 858993459) - 100<<20}, allocatable(machine{8000, 8 * gib}))
	assert.Equal(t, machine{940, 512<<20 - 255<<20 - 100<<20}, allocatable(machine{1000, 512 << 20}))
}

// capacityArgs is a valid GKE platform whose pods are the control plane, the gateways and Cloud
// SQL's schema Job only (no backend, publisher or analytics), with the node pool and zones given.
func capacityArgs(machineType string, perZone int, zone string, nodeZones []string, edit func(*Args)) Args {
	var a Args
	a.Cluster.Zone, a.Cluster.NodeZones = zone, nodeZones
	a.NodePool.MachineType, a.NodePool.MaxNodes = machineType, &perZone
	min := 1
	a.NodePool.MinNodes = &min
	no := false
	a.Backend.Enabled, a.Publisher.Enabled = &no, &no
	a.Analytics.Mode = analytics.ModeNone
	if edit != nil {
		edit(&a)
	}
	return a.WithDefaults(Context{Name: "apim", Stack: "test", GCPProject: "apim-test-project", GCPRegion: "europe-west1"})
}

func workload(cpu, memory string) kube.Resources {
	return kube.Resources{
		Requests: kube.Compute{CPU: cpu, Memory: memory},
		Limits:   kube.Compute{CPU: cpu, Memory: memory},
	}
}

// Memory binds, CPU does not: on e2-highcpu-8 nodes (7.71 CPU and 5.7 GiB each for pods, after
// GKE's reservations and the DaemonSet allowance) every 4 GiB API Manager pod needs a node of
// its own, though all of them together ask for 2 CPU. The control plane, two gateways and the
// surge gateway are four such pods: three nodes are too few, four are enough. A check that
// packs by CPU alone puts them on three nodes and passes.
func TestCapacityMemoryBinds(t *testing.T) {
	big := func(a *Args) {
		a.APIM.Resources = workload("500m", "4Gi")
		a.APIM.HeapMB = 1536
		a.Gateway.Resources = workload("500m", "4Gi")
		a.Gateway.HeapMB = 1536
	}
	a := capacityArgs("e2-highcpu-8", 3, "europe-west1-b", nil, big)
	assert.Equal(t, []string{"nodePool.maxNodes: 3 is too few: the workloads at full scale do not fit on 3 e2-highcpu-8 nodes (3 per zone in 1 zone), " +
		"each with 7.71 CPU and 5.7 GiB allocatable to pods (after GKE's reservations and 200m CPU / 400Mi for its DaemonSets): " +
		"5 pods (every workload at its maximum replicas plus one rolling-update surge pod of apim-gw) request 2.1 CPU and 16.1 GiB in all, " +
		"and apim-gw (rolling-update surge) (0.5 CPU, 4.0 GiB) finds no room; raise nodePool.maxNodes, choose a larger nodePool.machineType, or lower the requests"},
		[]string(a.Validate()), "the only problem is the capacity")

	assert.Empty(t, capacityArgs("e2-highcpu-8", 4, "europe-west1-b", nil, big).Validate(), "a fourth node holds the fourth pod")
	// The same pods with 2 GiB each: two share a node, and three nodes hold them.
	assert.Empty(t, capacityArgs("e2-highcpu-8", 3, "europe-west1-b", nil, func(a *Args) {
		big(a)
		a.APIM.Resources = workload("500m", "2560Mi")
		a.Gateway.Resources = workload("500m", "2560Mi")
	}).Validate())
}

// Zones bind: maxNodes is per zone, so one node per zone is one node on a zonal cluster and
// three on a three-zone one; the gateways (two and a surge) must each have a node of their own
// (required node spread), however large the node.
func TestCapacityZonesBind(t *testing.T) {
	threeGateways := func(a *Args) { a.Gateway.MinReplicas, a.Gateway.MaxReplicas = 2, 3 }
	zonal := capacityArgs("e2-standard-16", 1, "europe-west1-b", nil, threeGateways)
	problems := zonal.Validate()
	require.Len(t, problems, 1)
	assert.Contains(t, problems[0], "nodePool.maxNodes: 1 is too few: the workloads at full scale do not fit on 1 e2-standard-16 nodes (1 per zone in 1 zone)")
	assert.Contains(t, problems[0], "and apim-gw (2 CPU, 2.0 GiB) finds no room")

	twoZones := capacityArgs("e2-standard-16", 1, "", []string{"europe-west1-b", "europe-west1-c"}, threeGateways)
	problems = twoZones.Validate()
	require.Len(t, problems, 1, "two nodes hold two of the three gateways")
	assert.Contains(t, problems[0], "do not fit on 2 e2-standard-16 nodes (1 per zone in 2 zones)")
	assert.Contains(t, problems[0], "and apim-gw (2 CPU, 2.0 GiB) finds no room")

	assert.Empty(t, capacityArgs("e2-standard-16", 1, "", []string{"europe-west1-b", "europe-west1-c", "europe-west1-d"}, threeGateways).Validate(),
		"three zones, three nodes")
	assert.Empty(t, capacityArgs("e2-standard-16", 1, "", nil, threeGateways).Validate(), "a regional cluster's pool spans three zones")

	// totalMaxNodes counts nodes, not zones.
	total := capacityArgs("e2-standard-16", 1, "", nil, func(a *Args) {
		threeGateways(a)
		two, one := 2, 1
		a.NodePool.MinNodes, a.NodePool.MaxNodes, a.NodePool.TotalMinNodes, a.NodePool.TotalMaxNodes = nil, nil, &one, &two
	})
	problems = total.Validate()
	require.Len(t, problems, 1)
	assert.Contains(t, problems[0], "nodePool.totalMaxNodes: 2 is too few: the workloads at full scale do not fit on 2 e2-standard-16 nodes, each with")
}

// CPU binds: the gateways fit a node's memory twice over but not its CPU.
func TestCapacityCPUBinds(t *testing.T) {
	cpu := func(a *Args) {
		a.APIM.Resources = workload("3", "3Gi")
		a.Gateway.Resources = workload("3", "3Gi")
	}
	problems := capacityArgs("e2-standard-4", 3, "europe-west1-b", nil, cpu).Validate()
	require.Len(t, problems, 1)
	assert.Contains(t, problems[0], "do not fit on 3 e2-standard-4 nodes (3 per zone in 1 zone), each with 3.72 CPU and 12.9 GiB")
	assert.Empty(t, capacityArgs("e2-standard-4", 4, "europe-west1-b", nil, cpu).Validate())
}

func TestCapacityUncheckedMachine(t *testing.T) {
	a := capacityArgs("a2-ultragpu-1g", 1, "europe-west1-b", nil, nil)
	assert.Nil(t, a.CheckCapacity())
	assert.Equal(t, `nodePool.machineType "a2-ultragpu-1g" is not in the capacity check's table: whether the workloads fit the node pool at full scale was not checked`, a.CapacityUnchecked())
	assert.Empty(t, capacityArgs("e2-standard-4", 3, "", nil, nil).CapacityUnchecked())
}
