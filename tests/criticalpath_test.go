package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// A first `pulumi up` of prod takes at least as long as its slowest cloud resource and what
// Google needs before it (a Cloud SQL instance needs its peering, the peering its range, the
// range the VPC). Anything the program makes a slow resource wait for beyond that, such as a
// database that waits for the cluster because its password is generated in the cluster, adds
// its whole time to the deploy. This holds prod's critical path within 5 % of that floor.
//
// creationFloor is, per cloud resource type, an order-of-magnitude least creation time in
// seconds (not a measurement: Cloud SQL and GKE take minutes, IAM and API calls seconds); only
// their ratios matter here. Kubernetes objects and components count 0: they wait at run time.
var creationFloor = map[string]float64{
	"gcp:projects/service:Service":                30,
	"gcp:compute/network:Network":                 25,
	"gcp:compute/subnetwork:Subnetwork":           15,
	"gcp:compute/router:Router":                   10,
	"gcp:compute/routerNat:RouterNat":             15,
	"gcp:compute/globalAddress:GlobalAddress":     10,
	"gcp:compute/address:Address":                 5,
	"gcp:compute/firewall:Firewall":               10,
	"gcp:compute/disk:Disk":                       10,
	"gcp:compute/instance:Instance":               40,
	"gcp:servicenetworking/connection:Connection": 60,
	"gcp:sql/databaseInstance:DatabaseInstance":   480,
	"gcp:sql/database:Database":                   10,
	"gcp:sql/user:User":                           10,
	"gcp:container/cluster:Cluster":               360,
	"gcp:container/nodePool:NodePool":             120,
	"gcp:filestore/instance:Instance":             300,
	"gcp:storage/bucket:Bucket":                   2,
}

// requiredBefore lists, per type, the types Google itself needs before it can create one: the
// dependencies no program can avoid. Every other dependency is the program's choice.
var requiredBefore = map[string][]string{
	"gcp:compute/network:Network":                 {typeGCPService},
	"gcp:compute/subnetwork:Subnetwork":           {typeGCPService, "gcp:compute/network:Network"},
	"gcp:compute/router:Router":                   {typeGCPService, "gcp:compute/network:Network"},
	"gcp:compute/routerNat:RouterNat":             {"gcp:compute/router:Router"},
	"gcp:compute/globalAddress:GlobalAddress":     {typeGCPService, "gcp:compute/network:Network"},
	"gcp:compute/address:Address":                 {typeGCPService, "gcp:compute/subnetwork:Subnetwork"},
	"gcp:compute/firewall:Firewall":               {typeGCPService, "gcp:compute/network:Network"},
	"gcp:compute/disk:Disk":                       {typeGCPService},
	"gcp:compute/instance:Instance":               {typeGCPService, "gcp:compute/subnetwork:Subnetwork", "gcp:compute/address:Address", "gcp:compute/disk:Disk", "gcp:compute/routerNat:RouterNat"},
	"gcp:servicenetworking/connection:Connection": {typeGCPService, "gcp:compute/network:Network", "gcp:compute/globalAddress:GlobalAddress"},
	"gcp:sql/databaseInstance:DatabaseInstance":   {typeGCPService, "gcp:servicenetworking/connection:Connection"},
	"gcp:sql/database:Database":                   {typeGCPService, "gcp:sql/databaseInstance:DatabaseInstance"},
	"gcp:sql/user:User":                           {typeGCPService, "gcp:sql/databaseInstance:DatabaseInstance"},
	"gcp:filestore/instance:Instance":             {typeGCPService, "gcp:compute/network:Network"},
	"gcp:container/cluster:Cluster": {typeGCPService, "gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork",
		"gcp:serviceaccount/account:Account", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:kms/cryptoKey:CryptoKey"},
	"gcp:container/nodePool:NodePool":               {"gcp:container/cluster:Cluster", "gcp:serviceaccount/account:Account", "gcp:projects/iAMMember:IAMMember"},
	"gcp:serviceaccount/account:Account":            {typeGCPService},
	"gcp:projects/iAMMember:IAMMember":              {"gcp:serviceaccount/account:Account"},
	"gcp:projects/serviceIdentity:ServiceIdentity":  {typeGCPService},
	"gcp:kms/keyRing:KeyRing":                       {typeGCPService},
	"gcp:kms/cryptoKey:CryptoKey":                   {"gcp:kms/keyRing:KeyRing"},
	"gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": {"gcp:kms/cryptoKey:CryptoKey", "gcp:projects/serviceIdentity:ServiceIdentity"},
}

// schedule times a graph: each resource starts when everything it waits for is done.
type schedule struct {
	g     *harness.Graph
	extra map[string][]string // added edges, by URN: to prove the check can fail
	done  map[string]float64
	floor map[string]float64 // along required dependencies only
	after map[string]string  // the dependency that finished last, for the report
}

func newSchedule(g *harness.Graph, extra map[string][]string) *schedule {
	return &schedule{g: g, extra: extra, done: map[string]float64{}, floor: map[string]float64{}, after: map[string]string{}}
}

// waitsFor lists the resources r waits for directly: its dependencies (a component stands for
// everything in it), its provider and its ancestors' dependencies.
func (s *schedule) waitsFor(r *harness.Resource) []*harness.Resource {
	var out []*harness.Resource
	var add func(urn string)
	add = func(urn string) {
		x := s.g.ByURN(urn)
		if x == nil {
			return
		}
		if x.Custom {
			out = append(out, x)
			return
		}
		for _, c := range s.g.All() {
			if c.Parent == urn {
				add(c.URN)
			}
		}
	}
	deps := append(append([]string{}, r.Dependencies...), s.extra[r.URN]...)
	if r.Provider != "" {
		deps = append(deps, r.Provider)
	}
	for p := s.g.ByURN(r.Parent); p != nil; p = s.g.ByURN(p.Parent) {
		deps = append(deps, p.Dependencies...)
	}
	for _, d := range deps {
		add(d)
	}
	return out
}

func required(r, dep *harness.Resource) bool {
	for _, t := range requiredBefore[r.Type] {
		if t == dep.Type {
			return true
		}
	}
	return false
}

// finish is when r is done if everything takes its floor; floorOf the same along required
// dependencies only.
func (s *schedule) finish(r *harness.Resource) (float64, float64) {
	if d, ok := s.done[r.URN]; ok {
		return d, s.floor[r.URN]
	}
	s.done[r.URN], s.floor[r.URN] = 0, 0 // cycles cannot happen in a Pulumi graph; this guards the recursion anyway
	var start, reqStart float64
	for _, d := range s.waitsFor(r) {
		df, dfl := s.finish(d)
		if df > start {
			start, s.after[r.URN] = df, d.URN
		}
		if required(r, d) && dfl > reqStart {
			reqStart = dfl
		}
	}
	own := creationFloor[r.Type]
	if own == 0 && strings.HasPrefix(r.Type, "gcp:") {
		own = 2
	}
	s.done[r.URN], s.floor[r.URN] = start+own, reqStart+own
	return s.done[r.URN], s.floor[r.URN]
}

// critical returns the critical path's length and its chain, and the floor of the slowest
// resource with what it requires.
func (s *schedule) critical() (float64, []string, float64) {
	var longest, floor float64
	var end string
	for _, r := range s.g.All() {
		d, f := s.finish(r)
		if d > longest {
			longest, end = d, r.URN
		}
		floor = max(floor, f)
	}
	var chain []string
	for u := end; u != ""; u = s.after[u] {
		r := s.g.ByURN(u)
		chain = append(chain, fmt.Sprintf("%s %s (%.0f s)", r.Type, r.Name, s.done[u]))
	}
	slices.Reverse(chain)
	return longest, chain, floor
}

func TestProdCriticalPathIsItsSlowestResource(t *testing.T) {
	// No secret set: the first `up` of a new stack, whose passwords are generated in the
	// cluster.
	g, err := harness.Run(stacks.Program, "prod", harness.Options{Secrets: map[string]string{}})
	require.NoError(t, err)
	longest, chain, floor := newSchedule(g, nil).critical()
	t.Logf("prod: critical path %.0f s, floor %.0f s:\n  %s", longest, floor, strings.Join(chain, "\n  "))
	assert.LessOrEqual(t, longest, 1.05*floor, "prod's critical path must stay within 5%% of its slowest resource's floor:\n  %s", strings.Join(chain, "\n  "))
	sqlInstance := one(t, g, typeSQLInstance)
	d, f := newSchedule(g, nil).finish(sqlInstance)
	assert.Equal(t, f, d, "the Cloud SQL instance waits for nothing Google does not require")

	// The check sees a database that waits for the cluster.
	cluster := one(t, g, typeCluster)
	worse, _, _ := newSchedule(g, map[string][]string{sqlInstance.URN: {cluster.URN}}).critical()
	assert.Greater(t, worse, 1.05*floor, "made to wait for the cluster, the instance would lengthen the deploy by its whole time")
}
