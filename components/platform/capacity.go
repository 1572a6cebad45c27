package platform

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/publisher"
)

// The cluster autoscaler adds nodes for pods by their requests, up to the pool's maximum; past
// it, pods stay Pending and a rollout stalls. The Platform knows both the pool and every
// workload, so it checks before anything is created that the workloads at full scale fit.

// DaemonSetAllowance is what this check sets aside on every node for GKE's own DaemonSets
// (networking, logging, metrics, the disk CSI driver); they take roughly this on a Standard
// node with Dataplane V2.
var DaemonSetAllowance = kube.Compute{CPU: "200m", Memory: "400Mi"}

// machine is a Compute Engine machine type's capacity.
type machine struct {
	milliCPU, memory int64
}

// memoryPerCPU is GiB per vCPU by family and class, from Compute Engine's machine type tables.
var memoryPerCPU = map[string]float64{
	"e2-standard": 4, "e2-highmem": 8, "e2-highcpu": 1,
	"n1-standard": 3.75, "n1-highmem": 6.5, "n1-highcpu": 0.9,
	"n2-standard": 4, "n2-highmem": 8, "n2-highcpu": 1,
	"n2d-standard": 4, "n2d-highmem": 8, "n2d-highcpu": 1,
	"n4-standard": 4, "n4-highmem": 8, "n4-highcpu": 2,
	"c2-standard": 4, "c2d-standard": 4, "c2d-highmem": 8, "c2d-highcpu": 2,
	"c3-standard": 4, "c3-highmem": 8, "c3-highcpu": 2,
	"c3d-standard": 4, "c3d-highmem": 8, "c3d-highcpu": 2,
	"c4-standard": 3.75, "c4-highmem": 7.75, "c4-highcpu": 2,
	"t2d-standard": 4,
}

// sharedCore are the shared-core E2 types: GKE counts their guaranteed share of a core.
var sharedCore = map[string]machine{
	"e2-micro":  {250, 1 << 30},
	"e2-small":  {500, 2 << 30},
	"e2-medium": {1000, 4 << 30},
}

var (
	predefinedRe = regexp.MustCompile(`^([a-z0-9]+-[a-z]+)-([0-9]+)$`)
	customRe     = regexp.MustCompile(`^(?:[a-z0-9]+-)?custom-([0-9]+)-([0-9]+)(?:-ext)?$`)
)

// machineType returns the capacity of a machine type, if this check knows it.
func machineType(name string) (machine, bool) {
	if m, ok := sharedCore[name]; ok {
		return m, true
	}
	if m := customRe.FindStringSubmatch(name); m != nil {
		cpus, _ := strconv.ParseInt(m[1], 10, 64)
		mb, _ := strconv.ParseInt(m[2], 10, 64)
		return machine{cpus * 1000, mb << 20}, true
	}
	if m := predefinedRe.FindStringSubmatch(name); m != nil {
		perCPU, ok := memoryPerCPU[m[1]]
		if !ok {
			return machine{}, false
		}
		cpus, _ := strconv.ParseInt(m[2], 10, 64)
		return machine{cpus * 1000, int64(float64(cpus) * perCPU * (1 << 30))}, true
	}
	return machine{}, false
}

// allocatable is what GKE leaves to pods on a node of capacity m: its kube-reserved CPU (6% of
// the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest) and memory (255
// MiB below 1 GiB; else 25% of the first 4 GiB, 20% of the next 4, 10% of the next 8, 6% of
// the next 112 and 2% of the rest), and the 100 MiB eviction threshold. See GKE's "Plan node
// sizes" page.
func allocatable(m machine) machine {
	cpu := tiers(m.milliCPU, []tier{{1000, 0.06}, {1000, 0.01}, {2000, 0.005}, {-1, 0.0025}})
	var mem int64
	const gib = 1 << 30
	if m.memory < gib {
		mem = 255 << 20
	} else {
		mem = tiers(m.memory, []tier{{4 * gib, 0.25}, {4 * gib, 0.20}, {8 * gib, 0.10}, {112 * gib, 0.06}, {-1, 0.02}})
	}
	return machine{m.milliCPU - cpu, m.memory - mem - 100<<20}
}

type tier struct {
	size  int64 // -1: the rest
	share float64
}

func tiers(total int64, ts []tier) int64 {
	var reserved float64
	left := total
	for _, t := range ts {
		n := left
		if t.size >= 0 && n > t.size {
			n = t.size
		}
		reserved += float64(n) * t.share
		left -= n
		if left <= 0 {
			break
		}
	}
	return int64(reserved)
}

// pod is one pod's requests: the larger of its containers' sum and its largest init container,
// as the scheduler counts them.
type pod struct {
	name             string
	milliCPU, memory int64
}

func podOf(name string, containers []kube.Resources, inits ...kube.Resources) pod {
	p := pod{name: name}
	for _, c := range containers {
		cpu, mem := requests(c)
		p.milliCPU += cpu
		p.memory += mem
	}
	for _, c := range inits {
		cpu, mem := requests(c)
		p.milliCPU = max(p.milliCPU, cpu)
		p.memory = max(p.memory, mem)
	}
	return p
}

func requests(r kube.Resources) (int64, int64) {
	cpu, _ := kube.MilliCPU(r.Requests.CPU)
	mem, _ := kube.MemoryBytes(r.Requests.Memory)
	return cpu, mem
}

// pods lists every pod of the defaulted args at full scale, and the largest Deployment pod (the
// one a rolling update surges).
func (a Args) pods() (all []pod, surge pod) {
	add := func(p pod, n int, deployment bool) {
		for range n {
			all = append(all, p)
		}
		if deployment && (p.milliCPU > surge.milliCPU || (p.milliCPU == surge.milliCPU && p.memory > surge.memory)) {
			surge = p
		}
	}
	// The control plane's StatefulSet replaces a node in place: no surge pod.
	add(podOf(a.APIM.Workload.Name, []kube.Resources{a.APIM.Resources}, apim.InitResources, apim.KeystoreResources, apim.NodeConfigResources, apim.DBWaitResources), a.APIM.Replicas, false)
	gw := []kube.Resources{a.Gateway.Resources}
	if a.Analytics.Mode == analytics.ModeOpenSearch {
		gw = append(gw, analytics.ShipperResources)
	}
	add(podOf(a.Gateway.Name, gw, apim.InitResources, apim.KeystoreResources, apim.DBWaitResources), a.Gateway.MaxReplicas, true)
	for _, p := range a.databasePods() {
		add(p, 1, false)
	}
	if *a.Backend.Enabled {
		add(podOf(a.Backend.Name, []kube.Resources{a.Backend.Resources}), a.Backend.Replicas, true)
		if *a.Publisher.Enabled {
			add(podOf(publisherName, []kube.Resources{publisher.Resources}), 1, false)
		}
	}
	if a.Analytics.Mode == analytics.ModeOpenSearch {
		add(podOf(a.Analytics.Name, []kube.Resources{a.Analytics.Resources}), a.Analytics.Replicas, false)
		add(podOf(a.Analytics.DashboardsName(), []kube.Resources{analytics.DashboardsResources}), 1, true)
	}
	return all, surge
}

// CheckCapacity packs every pod at full scale, plus one rolling-update surge pod of the largest
// Deployment, onto the node pool at its maximum size (first fit, largest first) and reports
// when they do not fit. Unknown machine types are not checked (see CapacityUnchecked).
func (a Args) CheckCapacity() []string {
	m, ok := machineType(a.NodePool.MachineType)
	maxNodes := a.Cluster.MaxNodes()
	if !ok || maxNodes < 1 {
		return nil
	}
	alloc := allocatable(m)
	dsCPU, _ := kube.MilliCPU(DaemonSetAllowance.CPU)
	dsMem, _ := kube.MemoryBytes(DaemonSetAllowance.Memory)
	node := machine{alloc.milliCPU - dsCPU, alloc.memory - dsMem}

	all, surge := a.pods()
	all = append(all, pod{name: surge.name + " (rolling-update surge)", milliCPU: surge.milliCPU, memory: surge.memory})
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].milliCPU != all[j].milliCPU {
			return all[i].milliCPU > all[j].milliCPU
		}
		return all[i].memory > all[j].memory
	})
	free := make([]machine, maxNodes)
	// On GKE every replicated workload keeps its replicas on different nodes (required node
	// spread), so no node takes two pods of one workload.
	holds := make([]map[string]bool, maxNodes)
	for i := range free {
		free[i] = node
		holds[i] = map[string]bool{}
	}
	var totalCPU, totalMem int64
	var unplaced []pod
	for _, p := range all {
		totalCPU += p.milliCPU
		totalMem += p.memory
		placed := false
		for i := range free {
			if free[i].milliCPU >= p.milliCPU && free[i].memory >= p.memory && !holds[i][p.name] {
				free[i].milliCPU -= p.milliCPU
				free[i].memory -= p.memory
				holds[i][p.name] = true
				placed = true
				break
			}
		}
		if !placed {
			unplaced = append(unplaced, p)
		}
	}
	if len(unplaced) == 0 {
		return nil
	}
	limit, value, nodes := "nodePool.totalMaxNodes", maxNodes, fmt.Sprintf("%d %s nodes", maxNodes, a.NodePool.MachineType)
	if a.NodePool.TotalMaxNodes == nil {
		zones := a.Cluster.Zones()
		limit, value = "nodePool.maxNodes", *a.NodePool.MaxNodes
		nodes = fmt.Sprintf("%d %s nodes (%d per zone in %d %s)", maxNodes, a.NodePool.MachineType, value, zones, plural(zones, "zone"))
	}
	return []string{fmt.Sprintf(
		"%s: %d is too few: the workloads at full scale do not fit on %s, each with %s CPU and %s allocatable to pods (after GKE's reservations and %s CPU / %s for its DaemonSets): "+
			"%d pods (every workload at its maximum replicas plus one rolling-update surge pod of %s) request %s CPU and %s in all, and %s (%s CPU, %s) finds no room; "+
			"raise %s, choose a larger nodePool.machineType, or lower the requests",
		limit, value, nodes, cores(node.milliCPU), gibs(node.memory), DaemonSetAllowance.CPU, DaemonSetAllowance.Memory,
		len(all), surge.name, cores(totalCPU), gibs(totalMem), unplaced[0].name, cores(unplaced[0].milliCPU), gibs(unplaced[0].memory), limit)}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// CapacityUnchecked says why CheckCapacity could not check, or "".
func (a Args) CapacityUnchecked() string {
	if _, ok := machineType(a.NodePool.MachineType); !ok {
		return fmt.Sprintf("nodePool.machineType %q is not in the capacity check's table: whether the workloads fit the node pool at full scale was not checked", a.NodePool.MachineType)
	}
	return ""
}

func cores(milli int64) string { return strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64) }

func gibs(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<30), 'f', 1, 64) + " GiB"
}
