//go:build realpods

package realpods

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
)

// node is one of the tier's nodes as realnode-node.sh set it up.
type node struct {
	name, zone, ip, containerd string
}

// cluster is what realnode-up.sh wrote about the nodes and the control plane's timings.
type cluster struct {
	nodes []node
	// The node-lifecycle controller's grace period and check period, and the seconds pods
	// tolerate a not-ready or unreachable node, as the tier set them.
	grace, monitor, toleration time.Duration
}

// readEnvFile reads KEY=VALUE lines (values may be double-quoted).
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(s.Text()), "=")
		if ok && !strings.HasPrefix(k, "#") {
			m[k] = strings.Trim(v, `"`)
		}
	}
	return m, s.Err()
}

func loadCluster(state string) (cluster, error) {
	env, err := readEnvFile(filepath.Join(state, "env"))
	if err != nil {
		return cluster{}, err
	}
	secs := func(k string) (time.Duration, error) {
		n, err := strconv.Atoi(env[k])
		if err != nil {
			return 0, fmt.Errorf("%s/env: %s=%q: %w", state, k, env[k], err)
		}
		return time.Duration(n) * time.Second, nil
	}
	var c cluster
	if c.grace, err = secs("REALNODE_NODE_MONITOR_GRACE_SECONDS"); err != nil {
		return c, err
	}
	if c.monitor, err = secs("REALNODE_NODE_MONITOR_PERIOD_SECONDS"); err != nil {
		return c, err
	}
	if c.toleration, err = secs("REALNODE_TOLERATION_SECONDS"); err != nil {
		return c, err
	}
	for _, name := range strings.Fields(env["REALNODE_NODE_NAMES"]) {
		n, err := readEnvFile(filepath.Join(state, "nodes", name, "node.env"))
		if err != nil {
			return c, err
		}
		c.nodes = append(c.nodes, node{name: name, zone: n["NODE_ZONE"], ip: n["NODE_IP"], containerd: n["NODE_CONTAINERD"]})
	}
	if len(c.nodes) < 2 {
		return c, fmt.Errorf("%s: the fault tests need two nodes in two zones, found %d", state, len(c.nodes))
	}
	return c, nil
}

func (c cluster) node(name string) node {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return node{}
}

// other is a node other than name (the tier has two).
func (c cluster) other(name string) node {
	for _, n := range c.nodes {
		if n.name != name {
			return n
		}
	}
	return node{}
}

// nodeScript runs tests/e2e/env/realnode-node.sh CMD NAME (stop: the machine is lost; start:
// it comes back).
func nodeScript(t *testing.T, e env, cmd, name string) {
	t.Helper()
	c := exec.Command(filepath.Join(e.scripts, "realnode-node.sh"), cmd, name)
	c.Env = append(os.Environ(), "E2E_STATE="+e.state, "E2E_BIN="+e.bin)
	out, err := c.CombinedOutput()
	require.NoError(t, err, "realnode-node.sh %s %s: %s", cmd, name, out)
}

// podInfo is what the fault tests need of a pod.
type podInfo struct {
	name, node, phase, containerID string
	ready, terminating             bool
	restarts                       int64
	uid                            string
}

// pods are the pods a label selector selects, by name.
func pods(k *kubeclient.Client, selector string) ([]podInfo, error) {
	s, err := listState(k, "pods")
	if err != nil {
		return nil, err
	}
	return s.podsOf(selector), nil
}

// serving are the ready pods that are not going away.
func serving(ps []podInfo) []podInfo {
	var out []podInfo
	for _, p := range ps {
		if p.ready && !p.terminating {
			out = append(out, p)
		}
	}
	return out
}

// workload is a replicated workload of the stack found by its component label, whatever its
// kind (the control plane may be a Deployment or a StatefulSet).
type workload struct {
	title, selector string
}

var (
	gatewayWL      = workload{"gateway", "app.kubernetes.io/component=gateway"}
	controlPlaneWL = workload{"control plane", "app.kubernetes.io/component=control-plane"}
	backendWL      = workload{"backend", "app.kubernetes.io/component=backend"}
)

// desired is the replica count the workload's controllers want: the sum over the Deployments
// and StatefulSets that carry the label.
func (w workload) desired(k *kubeclient.Client) (int64, error) {
	s, err := listState(k, "deployments", "statefulsets")
	if err != nil {
		return 0, err
	}
	return s.desired(w), nil
}

// statefulSet says whether a StatefulSet runs (some of) the workload.
func (w workload) statefulSet(k *kubeclient.Client) bool {
	var l kubeclient.List
	_, err := k.Get("/apis/apps/v1/namespaces/"+ns+"/statefulsets?labelSelector="+url.QueryEscape(w.selector), &l)
	return err == nil && len(l.Items) > 0
}

// controllers are the API paths of the Deployments and StatefulSets that carry the label.
func (w workload) controllers(t *testing.T, k *kubeclient.Client) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"deployments", "statefulsets"} {
		var l kubeclient.List
		_, err := k.Get("/apis/apps/v1/namespaces/"+ns+"/"+kind+"?labelSelector="+url.QueryEscape(w.selector), &l)
		require.NoError(t, err)
		for _, d := range l.Items {
			out = append(out, "/apis/apps/v1/namespaces/"+ns+"/"+kind+"/"+d.Str("metadata", "name"))
		}
	}
	require.NotEmpty(t, out, "no Deployment or StatefulSet labelled %s", w.selector)
	return out
}

// full is state.full as of now.
func (w workload) full(k *kubeclient.Client, avoid ...string) bool {
	s, err := listState(k, "pods", "deployments", "statefulsets")
	return err == nil && s.full(w, avoid...)
}

// waitFull waits, by watches, until the workload is full (state.full) and returns when it
// first was.
func (w workload) waitFull(t *testing.T, k *kubeclient.Client, timeout time.Duration, avoid ...string) time.Time {
	t.Helper()
	return waitState(t, k, timeout, func(s *state) bool { return s.full(w, avoid...) },
		"the %s never had all its replicas serving (and nothing else) within %s", w.title, timeout)
}

// placement counts the serving pods per node.
func (w workload) placement(k *kubeclient.Client) map[string]int {
	m := map[string]int{}
	ps, _ := pods(k, w.selector)
	for _, p := range serving(ps) {
		m[p.node]++
	}
	return m
}

func (c cluster) describe(m map[string]int) string {
	var parts []string
	for _, n := range c.nodes {
		parts = append(parts, fmt.Sprintf("%s(%s)=%d", n.name, n.zone, m[n.name]))
	}
	return strings.Join(parts, " ")
}

func cordon(t *testing.T, k *kubeclient.Client, name string, on bool) {
	t.Helper()
	err := k.MergePatch("/api/v1/nodes/"+name,
		map[string]any{"spec": map[string]any{"unschedulable": on}})
	require.NoError(t, err)
}

// moveOff deletes the workload's pods on node from, one at a time, with from cordoned so that
// each replacement lands elsewhere, waiting for the workload to be whole again after each;
// at most max pods (all when max < 0). Setup for a fault, never measured.
func (w workload) moveOff(t *testing.T, k *kubeclient.Client, c cluster, from string, max int) {
	t.Helper()
	cordon(t, k, from, true)
	defer cordon(t, k, from, false)
	moved := 0
	for max < 0 || moved < max {
		ps, err := pods(k, w.selector)
		require.NoError(t, err)
		var victim, uid string
		for _, p := range serving(ps) {
			if p.node == from {
				victim, uid = p.name, p.uid
				break
			}
		}
		if victim == "" {
			return
		}
		require.NoError(t, k.Delete("/api/v1/namespaces/"+ns+"/pods/"+victim))
		waitState(t, k, 6*time.Minute, func(s *state) bool { return s.gone(uid) && s.full(w) },
			"the %s did not come back whole after its pod %s was moved off %s (placement %s)",
			w.title, victim, from, c.describe(w.placement(k)))
		moved++
	}
}

// spread makes every node hold at most one more of the workload's serving pods than any
// other, moving pods off the fullest node; it says whether it had to.
func (w workload) spread(t *testing.T, k *kubeclient.Client, c cluster) bool {
	t.Helper()
	w.waitFull(t, k, 6*time.Minute)
	moved := false
	for i := 0; i < 4; i++ {
		m := w.placement(k)
		most, least := c.nodes[0].name, c.nodes[0].name
		for _, n := range c.nodes {
			if m[n.name] > m[most] {
				most = n.name
			}
			if m[n.name] < m[least] {
				least = n.name
			}
		}
		if m[most]-m[least] <= 1 {
			return moved
		}
		w.moveOff(t, k, c, most, 1)
		moved = true
	}
	t.Fatalf("could not spread the %s over the nodes: %s", w.title, c.describe(w.placement(k)))
	return moved
}

// concentrate puts every serving pod of the workload on node to.
func (w workload) concentrate(t *testing.T, k *kubeclient.Client, c cluster, to string) {
	t.Helper()
	w.waitFull(t, k, 6*time.Minute)
	for _, n := range c.nodes {
		if n.name != to {
			cordon(t, k, n.name, true)
		}
	}
	defer func() {
		for _, n := range c.nodes {
			cordon(t, k, n.name, false)
		}
	}()
	for _, n := range c.nodes {
		if n.name == to {
			continue
		}
		ps, err := pods(k, w.selector)
		require.NoError(t, err)
		for _, p := range serving(ps) {
			if p.node != n.name {
				continue
			}
			require.NoError(t, k.Delete("/api/v1/namespaces/"+ns+"/pods/"+p.name))
			victim, uid := p.name, p.uid
			waitState(t, k, 6*time.Minute, func(s *state) bool { return s.gone(uid) && s.full(w) },
				"could not move the %s's pod %s onto %s (placement %s): does a spread constraint forbid it?",
				w.title, victim, to, c.describe(w.placement(k)))
		}
	}
	m := w.placement(k)
	want, err := w.desired(k)
	require.NoError(t, err)
	require.EqualValues(t, want, m[to], "every %s pod on %s: %s", w.title, to, c.describe(m))
}

// killContainer kills a pod's first container with SIGKILL through its node's containerd: no
// preStop hook, no SIGTERM, as when the process crashes or the kernel's OOM killer strikes.
func killContainer(t *testing.T, c cluster, p podInfo) {
	t.Helper()
	n := c.node(p.node)
	require.NotEmpty(t, n.containerd, "pod %s is on node %q, which the tier does not know", p.name, p.node)
	require.NotEmpty(t, p.containerID, "pod %s has no container yet", p.name)
	out, err := exec.Command("ctr", "--address", n.containerd, "--namespace", "k8s.io", "tasks", "kill", "--signal", "SIGKILL", p.containerID).CombinedOutput()
	require.NoError(t, err, "ctr tasks kill %s: %s", p.containerID, out)
}

// nodeCondition is state.nodeCondition as of now.
func nodeCondition(k *kubeclient.Client, name string) (ready string, unreachable bool) {
	s, err := listState(k, "nodes")
	if err != nil {
		return "", false
	}
	return s.nodeCondition(name)
}
