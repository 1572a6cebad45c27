//go:build realpods

package realpods

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/wso2-k8s/apim-gke/tests/e2e/kubeclient"
	"github.com/wso2-k8s/apim-gke/tests/e2e/localstack"
	"github.com/wso2-k8s/apim-gke/tests/e2e/realpods/images"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	ns = "wso2-apim"
	// rps is the load of every rollout measurement, each request on a new connection: the
	// issue asks for at least 20; more requests see more of a short outage (the negative
	// control at 25/s saw 2 failed requests in a rollout of two pods, at 50/s it sees about 4).
	rps = 50
	// The API path of the sample backend, through the gateway's HTTP port.
	helloPath = "/kuberneteshello"
	hello     = "Hello Kubernetes!!!"
	// The tier's storage: a class for the shared claim (nfs.backend storage-class), and
	// hostPath volumes the test creates for it and for MySQL's claim.
	sharedClass = "realpods-rwx"
	// HPA settings the tier shapes through stack config: min 2 (the rollout runs on two
	// replicas), max 3, the product's CPU target, a short scale-down window.
	hpaMin, hpaMax  = 2, 3
	scaleDownWindow = 20
	// The control plane runs highly available, as prod does: two replicas (apim.replicas).
	cpReplicas = 2
	// The stand-in's start-up: ports open after apimStartDelay, ready after apimReadyDelay
	// more, as a (much faster) API Manager would.
	apimStartDelay = "5s"
	apimReadyDelay = "3s"
)

// env is what run.sh and realnode-up.sh tell the test.
type env struct {
	// hubIP is the control plane's address on the nodes' bridge, where this test serves the
	// pods' DNS and the JDBC driver; state is realnode-up.sh's state directory, scripts the
	// directory of realnode-node.sh, bin the tools.
	kubeconfig, hubIP, state, scripts, bin, work, timings string
	cluster                                               cluster
}

func loadEnv(t *testing.T) env {
	e := env{
		kubeconfig: os.Getenv("KUBECONFIG"),
		hubIP:      os.Getenv("REALNODE_HUB_IP"),
		state:      os.Getenv("REALNODE_STATE"),
		scripts:    os.Getenv("REALNODE_SCRIPTS"),
		bin:        os.Getenv("E2E_BIN"),
		work:       os.Getenv("REALPODS_WORK"),
		timings:    os.Getenv("E2E_TIMINGS"),
	}
	if e.kubeconfig == "" || e.hubIP == "" || e.state == "" || e.scripts == "" || e.bin == "" || e.work == "" {
		t.Skip("the real-pods tier runs through tests/e2e/realpods/run.sh (make e2e-realpods), which starts the nodes")
	}
	c, err := loadCluster(e.state)
	require.NoError(t, err)
	e.cluster = c
	return e
}

// step runs one step, prints its time and appends it to the timing file. fatal steps stop the
// test on failure; measurements let the next ones run.
func step(t *testing.T, e env, name string, fatal bool, f func(t *testing.T) map[string]any) {
	t.Helper()
	start := time.Now()
	var extra map[string]any
	ok := t.Run(name, func(t *testing.T) { extra = f(t) })
	secs := time.Since(start).Seconds()
	if v, found := extra["seconds"]; found {
		secs = v.(float64)
		delete(extra, "seconds")
	}
	fmt.Printf("E2E STEP %-40s %8.1fs %s\n", name, time.Since(start).Seconds(), map[bool]string{true: "ok", false: "FAILED"}[ok])
	record(t, e, name, secs, ok, extra)
	if !ok && fatal {
		t.FailNow()
	}
}

// record appends one line to the E2E_TIMINGS JSON Lines file.
func record(t *testing.T, e env, name string, secs float64, ok bool, extra map[string]any) {
	if e.timings == "" {
		return
	}
	line := map[string]any{"suite": "realpods", "step": name, "seconds": float64(int(secs*10)) / 10, "ok": ok}
	for k, v := range extra {
		line[k] = v
	}
	b, err := json.Marshal(line)
	require.NoError(t, err)
	f, err := os.OpenFile(e.timings, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	require.NoError(t, err)
}

// TestRealPods deploys the local stack with stand-in images onto the real node and measures
// the gateway's and the backend's rollouts under load, the control plane's rollout, the HPA
// scaling out and in, and a negative control without preStop, then destroys the stack.
func TestRealPods(t *testing.T) {
	e := loadEnv(t)
	ctx := context.Background()
	k, err := kubeclient.New(e.kubeconfig)
	require.NoError(t, err)
	root, err := harness.RepoRoot()
	require.NoError(t, err)

	step(t, e, "0-build-and-import-images", true, func(t *testing.T) map[string]any {
		buildImages(t, e, root)
		return nil
	})

	// The pods' DNS (the kubelet's clusterDNS) and the JDBC driver download: both served by
	// this process on the node address.
	dns, err := startClusterDNS(k, net.JoinHostPort(e.hubIP, "53"))
	require.NoError(t, err)
	defer dns.Close()
	jarURL, jarSum := serveJar(t, e)

	step(t, e, "1-storage", true, func(t *testing.T) map[string]any {
		createStorage(t, k, e)
		return nil
	})

	stack := openStack(t, ctx, root, e, jarURL, jarSum)
	up := func(t *testing.T) {
		_, err := stack.Up(ctx, optup.SuppressProgress())
		require.NoError(t, err)
	}
	setConfig := func(t *testing.T, key, value string) {
		require.NoError(t, stack.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: value}, &auto.ConfigOptions{Path: true}))
	}

	// The API's traffic carries an access token from the control plane, issued once here: every
	// later load, through every rollout and fault, uses this already-issued token.
	var auth http.Header
	step(t, e, "2-up-real-pods", true, func(t *testing.T) map[string]any {
		up(t)
		waitAvailable(t, k, "apim-gw", hpaMin, 3*time.Minute)
		assertRealPods(t, k, e)
		auth = http.Header{"Authorization": {"Bearer " + issueToken(t, "https://"+clusterIP(t, k, "apim-cp")+":9443/oauth2/token")}}
		gw := "http://" + clusterIP(t, k, "apim-gw") + ":8280" + helloPath
		body := getWith(t, gw, auth)
		assert.Contains(t, body, hello, "the API through the gateway stand-in's Service reaches the backend")
		// The gateway checks the token itself: none, or one it did not issue, is refused.
		for _, h := range []string{"", "Bearer eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2lnbmF0dXJl"} {
			req, _ := http.NewRequest(http.MethodGet, gw, nil)
			if h != "" {
				req.Header.Set("Authorization", h)
			}
			assert.Equal(t, http.StatusUnauthorized, status(req), "the gateway must refuse Authorization %q", h)
		}
		// The product spreads every replicated workload over nodes and zones (anti-affinity, or
		// topology spread): on a fresh cluster each of the two zones gets one replica of each.
		gatewayWL.waitFull(t, k, 3*time.Minute)
		backendWL.waitFull(t, k, 3*time.Minute)
		place := placementFields(k, e.cluster)
		for _, w := range []workload{gatewayWL, backendWL} {
			m := w.placement(k)
			for _, n := range e.cluster.nodes {
				assert.Equal(t, 1, m[n.name], "the %s's two replicas must be spread over the zones: %s", w.title, e.cluster.describe(m))
			}
		}
		// Pods on one node reach a Service whose endpoints are on the other: the gateway's
		// requests to the backend's Service cross between the nodes (pod networking and every
		// node's kube-proxy).
		cross, total := crossNodeHops(t, k, gw, auth)
		fmt.Printf("CROSS-NODE: %d of %d requests went from a gateway pod on one node to a backend pod on the other\n", cross, total)
		assert.Positive(t, cross, "no request crossed from a gateway on one node to a backend on the other")
		return map[string]any{"placement": place, "cross_node_requests": cross, "requests": total}
	})

	step(t, e, "2b-restore-drill", false, func(t *testing.T) map[string]any {
		return restoreDrill(t, e, k, root)
	})

	gatewayURL := "http://" + clusterIP(t, k, "apim-gw") + ":8280" + helloPath

	step(t, e, "3-gateway-rollout-under-load", false, func(t *testing.T) map[string]any {
		waitAvailable(t, k, "apim-gw", hpaMin, 2*time.Minute)
		v, extra := underLoad(t, k, "apim-gw", "apim-gw", gatewayURL, auth, func() {
			setConfig(t, "gateway.image", images.Ref("apim", "v2"))
			up(t)
		})
		assertImage(t, k, "apim-gw", images.Ref("apim", "v2"))
		fmt.Printf("GATEWAY ROLLOUT UNDER LOAD: %s\n", v)
		if v.counted == 0 && v.unrelatedTimeouts > 0 {
			fmt.Printf("  allowed: %d timeout(s) outside every window in which a gateway pod was going away (<= 1 in 1,000)\n", v.unrelatedTimeouts)
		}
		assert.True(t, v.acceptable(), "the gateway rollout must not fail requests: %s", v)
		return extra
	})

	step(t, e, "4-backend-rollout-under-load", false, func(t *testing.T) map[string]any {
		v, extra := underLoad(t, k, "hello", "hello", gatewayURL, auth, func() {
			setConfig(t, "backend.image", images.Ref("backend", "v2"))
			up(t)
		})
		assertImage(t, k, "hello", images.Ref("backend", "v2"))
		fmt.Printf("BACKEND ROLLOUT UNDER LOAD: %s\n", v)
		// The default backend (http-echo, and its stand-in) dies at SIGTERM: without a preStop
		// pause in the backend's Deployment the Service still sends it new connections for a
		// moment (a 5 s preStop sleep action made this 0 of 1,423 here).
		assert.True(t, v.acceptable(), "the backend rollout must not fail requests through the gateway: %s", v)
		return extra
	})

	step(t, e, "5-control-plane-rollout", false, func(t *testing.T) map[string]any {
		cpURL := "https://" + clusterIP(t, k, "apim-cp") + ":9443/services/Version"
		var minReady, maxPods int
		v, extra := underLoadTracked(t, k, "apim-cp", "apim-cp", loadSpec{url: cpURL, expect: "WSO2 API Manager"}, func() {
			setConfig(t, "apim.image", images.Ref("apim", "v2"))
			up(t)
		}, func(tr *tracker) { minReady, maxPods = tr.minReadyEndpoints() })
		assertImage(t, k, "apim-cp", images.Ref("apim", "v2"))
		fmt.Printf("CONTROL PLANE ROLLOUT UNDER LOAD: %s; fewest ready endpoints %d, most pods %d\n", v, minReady, maxPods)
		// docs/operate.md's claim: the control plane's replicas roll one at a time (a StatefulSet
		// replaces the next only when the new one is ready), so the Service never goes empty,
		// and never runs more pods than its replicas.
		assert.GreaterOrEqual(t, minReady, 1, "the control plane's Service had no ready endpoint during its rollout")
		assert.LessOrEqual(t, maxPods, cpReplicas, "a StatefulSet does not surge")
		assert.True(t, v.acceptable(), "the control plane's rollout must not fail requests: %s", v)
		extra["min_ready_endpoints"], extra["max_pods"] = minReady, maxPods
		return extra
	})

	step(t, e, "6-hpa-scale-out-and-in", false, func(t *testing.T) map[string]any {
		return measureHPA(t, e, k, gatewayURL, auth)
	})

	// The fault tests (faults_test.go), before the negative control below takes the gateway's
	// preStop hook away.
	f := &faults{e: e, k: k, c: e.cluster, root: root, up: up, set: setConfig,
		gateway: loadSpec{url: gatewayURL, expect: hello, header: auth, keepAlive: keepAliveConns}}
	step(t, e, "fault-gateway-sigkill", false, f.gatewayKill)
	step(t, e, "fault-gateway-sigkill-negative-control", false, f.gatewayKillNegative)
	step(t, e, "fault-control-plane-sigkill", false, f.controlPlaneKill)
	step(t, e, "fault-control-plane-sigkill-negative-control", false, f.controlPlaneKillNegative)
	step(t, e, "fault-setup-slow-gateway-start", true, f.slowGateway)
	step(t, e, "fault-node-drain", false, f.nodeDrain)
	step(t, e, "fault-node-drain-negative-control", false, f.nodeDrainNegative)
	step(t, e, "fault-zone-loss", false, f.zoneLoss)
	step(t, e, "fault-zone-loss-negative-control", false, f.zoneLossNegative)

	step(t, e, "7-negative-control-without-prestop", false, func(t *testing.T) map[string]any {
		waitReplicas(t, k, "apim-gw", hpaMin, 5*time.Minute)
		waitAvailable(t, k, "apim-gw", hpaMin, 3*time.Minute)
		dep := "/apis/apps/v1/namespaces/" + ns + "/deployments/apim-gw"
		// First roll pods without the hook (the old ones still have it and leave cleanly)...
		require.NoError(t, k.JSONPatch(dep, map[string]any{"op": "remove", "path": "/spec/template/spec/containers/0/lifecycle"}))
		waitRolledOut(t, k, "apim-gw", 5*time.Minute)
		waitAvailable(t, k, "apim-gw", hpaMin, 3*time.Minute)
		waitOnlyCurrentPods(t, k, "apim-gw", 3*time.Minute)
		// ...then roll those three times (six pods go away; two rollouts lost as few as 2
		// requests here): SIGTERM now reaches a pod the Service still sends new connections
		// to until kube-proxy has caught up.
		v, extra := underLoad(t, k, "apim-gw", "apim-gw", gatewayURL, auth, func() {
			for _, tag := range []string{"v3", "v1", "v2"} {
				require.NoError(t, k.JSONPatch(dep, map[string]any{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": images.Ref("apim", tag)}))
				waitRolledOut(t, k, "apim-gw", 5*time.Minute)
				waitOnlyCurrentPods(t, k, "apim-gw", 3*time.Minute)
			}
		})
		fmt.Printf("NEGATIVE CONTROL (no preStop, three rollouts): %s\n", v)
		assert.Greater(t, v.failed, 0, "without the preStop hook the rollouts must lose requests, or this tier cannot see failures")
		return extra
	})

	step(t, e, "8-destroy", true, func(t *testing.T) map[string]any {
		_, err := stack.Destroy(ctx, optdestroy.SuppressProgress())
		require.NoError(t, err)
		assertNoPods(t, k, e)
		deleteStorage(t, k)
		return nil
	})
}

// buildImages compiles the stand-in and imports every image into the node's containerd.
func buildImages(t *testing.T, e env, root string) {
	importImages(t, e, root, images.Spec{
		APIMVersions:    []string{"v1", "v2", "v3"},
		APIMArgs:        []string{"-start-delay=" + apimStartDelay, "-ready-delay=" + apimReadyDelay},
		BackendVersions: []string{"v1", "v2"},
	})
}

// importImages builds the images of spec (with the stand-in and busybox filled in) and
// imports them into every node's containerd.
func importImages(t *testing.T, e env, root string, spec images.Spec) {
	dir := filepath.Join(e.work, "images")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	// run.sh compiles the stand-in before entering the namespace; run by hand, build it here.
	standin := os.Getenv("REALPODS_STANDIN")
	if standin == "" {
		standin = filepath.Join(dir, "standin")
		if _, err := os.Stat(standin); err != nil {
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", standin, "./realpods/standin")
			cmd.Dir = filepath.Join(root, "tests", "e2e")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "go build standin: %s", out)
		}
	}

	busybox, err := exec.LookPath("busybox")
	require.NoError(t, err, "Debian's busybox-static is needed for the images' shell")
	f, err := elf.Open(busybox)
	require.NoError(t, err)
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "%s is dynamically linked; install busybox-static", busybox)
	}
	f.Close()

	// Debian's root filesystem under the MySQL and API Manager stand-ins: run.sh builds it
	// (mmdebstrap) before entering the nodes' namespaces, which have no route to apt's sources.
	base := os.Getenv("REALPODS_BASE_LAYER")
	require.NotEmpty(t, base, "REALPODS_BASE_LAYER: the root filesystem tarball of rootfs.MariaDB (go -C tests/e2e run ./rootfs/cmd/rootfs DIR)")
	spec.Standin, spec.Busybox, spec.Base = standin, busybox, base
	tarball := filepath.Join(dir, "images.tar")
	require.NoError(t, images.Write(spec, tarball))
	for _, n := range e.cluster.nodes {
		out, err := exec.Command("ctr", "--address", n.containerd, "--namespace", "k8s.io", "images", "import", tarball).CombinedOutput()
		require.NoError(t, err, "ctr images import on %s: %s", n.name, out)
		fmt.Printf("%s: %s", n.name, out)
	}
}

// serveJar serves a stand-in JDBC driver on the node address for the init container, which
// downloads it with the image's curl and checks its sha256 as it would Maven Central's jar.
func serveJar(t *testing.T, e env) (string, string) {
	jar := make([]byte, 64<<10)
	_, err := rand.Read(jar)
	require.NoError(t, err)
	sum := sha256.Sum256(jar)
	ln, err := net.Listen("tcp", net.JoinHostPort(e.hubIP, "0"))
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mysql-connector-j-9.1.0.jar" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(jar)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return fmt.Sprintf("http://%s/mysql-connector-j-9.1.0.jar", ln.Addr()), hex.EncodeToString(sum[:])
}

// createStorage makes what a cluster's storage would provide: a ReadWriteMany class and
// volume for the shared claim (nfs.backend storage-class), and volumes for MySQL's data and
// backup claims. hostPath volumes under the tier's work directory (every node is a namespace
// on this machine's one disk, so that is shared storage), each bound ahead to its claim: MySQL's two claims ask alike (the cluster's default
// class, which this cluster lacks), and the first to bind would take whichever volume.
func createStorage(t *testing.T, k *kubeclient.Client, e env) {
	require.NoError(t, k.Create("/apis/storage.k8s.io/v1/storageclasses", map[string]any{
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		"metadata":          map[string]any{"name": sharedClass},
		"provisioner":       "kubernetes.io/no-provisioner",
		"volumeBindingMode": "Immediate",
	}))
	for _, v := range storage {
		dir := filepath.Join(e.work, "volumes", v.name)
		require.NoError(t, os.MkdirAll(dir, 0o750))
		// A hostPath volume takes no fsGroup: the directory is made for the pod's user, as a
		// provisioner's would be writable by it.
		require.NoError(t, os.Chown(dir, v.uid, v.uid))
		require.NoError(t, k.Create("/api/v1/persistentvolumes", map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": v.name},
			"spec": map[string]any{
				"capacity":                      map[string]any{"storage": v.size},
				"accessModes":                   []string{v.mode},
				"storageClassName":              v.class,
				"persistentVolumeReclaimPolicy": "Retain",
				"claimRef":                      map[string]any{"namespace": ns, "name": v.claim},
				"hostPath":                      map[string]any{"path": dir, "type": "Directory"},
			},
		}))
	}
}

// storage are the tier's volumes and the claims they are bound to.
var storage = []struct {
	name, claim, class, mode, size string
	uid                            int
}{
	{"realpods-shared", "apim-shared", sharedClass, "ReadWriteMany", "1Gi", 10001},
	// The official MySQL image's user, which the product's StatefulSet and backup Job run as.
	{"realpods-mysql", "data-mysql-0", "", "ReadWriteOnce", "5Gi", 999},
	{"realpods-mysql-backup", "mysql-backup", "", "ReadWriteOnce", "1Gi", 999},
}

func deleteStorage(t *testing.T, k *kubeclient.Client) {
	for _, v := range storage {
		assert.NoError(t, k.Delete("/api/v1/persistentvolumes/"+v.name))
	}
	assert.NoError(t, k.Delete("/apis/storage.k8s.io/v1/storageclasses/"+sharedClass))
}

// openStack opens the local stack (Pulumi.local.yaml) and shapes it for this tier through the
// same stack config keys a user has: stand-in images, small requests, the HPA's bounds, the
// storage class, and the parts this tier leaves out (analytics, the publisher Job).
func openStack(t *testing.T, ctx context.Context, root string, e env, jarURL, jarSum string) auto.Stack {
	stack, err := localstack.Open(ctx, root, t.TempDir(), "e2e-only-passphrase", harness.TestSecrets)
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := stack.Destroy(context.Background(), optdestroy.SuppressProgress()); err != nil {
			t.Logf("cleanup destroy: %v", err)
		}
	})
	cfg := auto.ConfigMap{
		"apim.image":                            {Value: images.Ref("apim", "v1")},
		"apim.replicas":                         {Value: fmt.Sprint(cpReplicas)},
		"apim.serverHome":                       {Value: images.ServerHome},
		"apim.resources.requests.cpu":           {Value: "50m"},
		"apim.resources.requests.memory":        {Value: "64Mi"},
		"apim.jdbcDriver.url":                   {Value: jarURL},
		"apim.jdbcDriver.sha256":                {Value: jarSum},
		"gateway.image":                         {Value: images.Ref("apim", "v1")},
		"gateway.serverHome":                    {Value: images.ServerHome},
		"gateway.resources.requests.cpu":        {Value: "100m"},
		"gateway.resources.requests.memory":     {Value: "64Mi"},
		"gateway.resources.limits.cpu":          {Value: "500m"},
		"gateway.minReplicas":                   {Value: fmt.Sprint(hpaMin)},
		"gateway.maxReplicas":                   {Value: fmt.Sprint(hpaMax)},
		"gateway.cpuTargetPercent":              {Value: "70"},
		"gateway.scaleDownStabilizationSeconds": {Value: fmt.Sprint(scaleDownWindow)},
		"mysql.image":                           {Value: images.Ref("mysql", "1")},
		"backend.image":                         {Value: images.Ref("backend", "v1")},
		"backend.replicas":                      {Value: "2"},
		"nfs.backend":                           {Value: "storage-class"},
		"nfs.storageClass":                      {Value: sharedClass},
		"analytics.mode":                        {Value: "none"},
		"publisher.enabled":                     {Value: "false"},
	}
	require.NoError(t, stack.SetAllConfigWithOptions(ctx, cfg, &auto.ConfigOptions{Path: true}))
	return stack
}

// underLoad runs change while rps requests per second (each on a new connection, with
// header) go to target, tracking the pods of workload name behind Service svc, and judges the
// failures.
func underLoad(t *testing.T, k *kubeclient.Client, name, svc, target string, header http.Header, change func()) (verdict, map[string]any) {
	return underLoadTracked(t, k, name, svc, loadSpec{url: target, expect: hello, header: header}, change, nil)
}

func underLoadTracked(t *testing.T, k *kubeclient.Client, name, svc string, spec loadSpec, change func(), inspect func(*tracker)) (verdict, map[string]any) {
	t.Helper()
	tr := track(t, k, ns, name, svc)
	l := startLoadSpec(spec, rps)
	time.Sleep(3 * time.Second)
	start := time.Now()
	change()
	rollout := time.Since(start)
	// Until every old pod is gone: the ones still in their preStop hook take requests too.
	waitOnlyCurrentPods(t, k, name, 3*time.Minute)
	time.Sleep(3 * time.Second)
	r := l.Stop()
	tr.Stop(t)
	tr.print(name)
	if s, err := listState(k, "horizontalpodautoscalers"); err == nil && s.hpa("apim-gw") != nil {
		h := s.hpa("apim-gw")
		fmt.Printf("  the gateway's HPA after this load: %s, %d replicas\n", utilization(h), h.Status.CurrentReplicas)
	}
	v := r.judge(tr.windows())
	if v.failed > 0 {
		fmt.Printf("  failures (t since load start):\n%s", r.failures(25))
	}
	if inspect != nil {
		inspect(tr)
	}
	assert.Greater(t, tr.terminated(), 0, "no %s pod went away: nothing was rolled", name)
	assert.GreaterOrEqual(t, v.rps, float64(rps)*0.8, "the load fell short of %d requests/s", rps)
	out := v.fields()
	out["seconds"], out["pods_replaced"] = rollout.Seconds(), tr.terminated()
	return v, out
}

// measureHPA loads the gateway stand-in with CPU work above the target and times the HPA's
// scale-out from min to min+1, then its scale-in after the load stops.
func measureHPA(t *testing.T, e env, k *kubeclient.Client, gatewayURL string, auth http.Header) map[string]any {
	waitReplicas(t, k, "apim-gw", hpaMin, 3*time.Minute)
	waitAvailable(t, k, "apim-gw", hpaMin, 3*time.Minute)
	// The HPA needs metrics before it can act on them: metrics-server scrapes the kubelet.
	metricsAt := time.Now()
	waitState(t, k, 4*time.Minute, func(s *state) bool { return cpuUtilization(s.hpa("apim-gw")) != nil },
		"the HPA never got CPU metrics (metrics-server, kubelet stats)")
	fmt.Printf("HPA has CPU metrics (waited %.0fs)\n", time.Since(metricsAt).Seconds())

	v := watchView(t, k)
	defer v.close()
	// progress prints the HPA's view every 10 s until m is reached or timeout passes.
	progress := func(m *kubeclient.Milestones[*state], what string, start time.Time, timeout time.Duration) {
		for deadline := start.Add(timeout); time.Now().Before(deadline) && !m.Wait(10*time.Second); {
			v.read(func(s *state) {
				h := s.hpa("apim-gw")
				if h == nil {
					h = &autoscalingv2.HorizontalPodAutoscaler{}
				}
				fmt.Printf("  HPA %s, %5.1fs: %s, %d replicas, %d desired\n", what, time.Since(start).Seconds(),
					utilization(h), h.Status.CurrentReplicas, h.Status.DesiredReplicas)
			})
		}
	}

	// 20 requests/s, each burning 15 ms of CPU in the gateway: about 300m over two pods that
	// request 100m each, i.e. 150% against a 70% target.
	hdr := http.Header{"X-Standin-Burn": []string{"15ms"}, "Authorization": auth["Authorization"]}
	decidedOut := v.expect(func(s *state) bool {
		h := s.hpa("apim-gw")
		return h != nil && int64(h.Status.DesiredReplicas) >= hpaMax
	})
	scaledOut := v.expect(func(s *state) bool {
		d := s.deployment("apim-gw")
		return d != nil && int64(d.Status.AvailableReplicas) >= hpaMax
	})
	l := startLoad(gatewayURL, 20, hello, hdr)
	start := time.Now()
	progress(scaledOut, "under load", start, 5*time.Minute)
	decided, out := decidedOut.Since(0, start), scaledOut.Since(0, start)
	r := l.Stop()
	lv := r.judge(nil)
	fmt.Printf("HPA SCALE-OUT %d -> %d: decided after %.1fs, third pod available after %.1fs; load %s\n",
		hpaMin, hpaMax, decided.Seconds(), out.Seconds(), lv)
	require.NotZero(t, out, "the HPA did not scale the gateway out from %d to %d within 5 minutes", hpaMin, hpaMax)
	record(t, e, "hpa-scale-out", out.Seconds(), true, map[string]any{"decided_after": decided.Round(100 * time.Millisecond).Seconds(),
		"from": hpaMin, "to": hpaMax, "cpu_target_percent": 70})

	start = time.Now()
	scaledIn := v.expect(func(s *state) bool {
		d := s.deployment("apim-gw")
		return d != nil && replicasOf(d.Spec.Replicas) == hpaMin
	})
	progress(scaledIn, "after the load", start, 6*time.Minute)
	in := scaledIn.Since(0, start)
	fmt.Printf("HPA SCALE-IN %d -> %d: %.1fs after the load stopped (scale-down stabilization window %ds)\n",
		hpaMax, hpaMin, in.Seconds(), scaleDownWindow)
	require.NotZero(t, in, "the HPA did not scale the gateway back in within 6 minutes")
	record(t, e, "hpa-scale-in", in.Seconds(), true, map[string]any{"from": hpaMax, "to": hpaMin,
		"scale_down_stabilization_seconds": scaleDownWindow})
	return map[string]any{"scale_out_seconds": out.Round(100 * time.Millisecond).Seconds(), "scale_in_seconds": in.Round(100 * time.Millisecond).Seconds(),
		"scale_out_decided_seconds": decided.Round(100 * time.Millisecond).Seconds()}
}

// cpuUtilization is the HPA's current CPU utilization (percent of requests), nil before it has
// a metric.
func cpuUtilization(h *autoscalingv2.HorizontalPodAutoscaler) *int32 {
	if h == nil {
		return nil
	}
	for _, m := range h.Status.CurrentMetrics {
		if m.Resource != nil && m.Resource.Current.AverageUtilization != nil {
			return m.Resource.Current.AverageUtilization
		}
	}
	return nil
}

func utilization(h *autoscalingv2.HorizontalPodAutoscaler) string {
	if u := cpuUtilization(h); u != nil {
		return fmt.Sprintf("CPU %d%% of requests", *u)
	}
	return "no metric"
}

// assertRealPods checks that the pods really run: containers started by containerd, with pod
// IPs on the bridge, and the stand-ins answering the probes the product configures.
func assertRealPods(t *testing.T, k *kubeclient.Client, e env) {
	var pods kubeclient.List
	_, err := k.Get("/api/v1/namespaces/"+ns+"/pods", &pods)
	require.NoError(t, err)
	fmt.Println("PODS")
	for _, p := range pods.Items {
		var states []string
		for _, cs := range p.Items("status", "containerStatuses") {
			st := "waiting"
			if cs.Path("state", "running") != nil {
				st = "running"
			}
			states = append(states, fmt.Sprintf("%s=%s ready=%v id=%.24s", cs.Str("name"), st, cs.Path("ready"), cs.Str("containerID")))
		}
		fmt.Printf("  %-28s %-10s %-12s %s\n", p.Str("metadata", "name"), p.Str("status", "phase"), p.Str("status", "podIP"), strings.Join(states, " "))
		if p.Str("status", "phase") == "Running" {
			assert.True(t, strings.HasPrefix(p.Str("status", "podIP"), "10.244."), "pod IP from the bridge CNI")
			for _, cs := range p.Items("status", "containerStatuses") {
				assert.True(t, strings.HasPrefix(cs.Str("containerID"), "containerd://"), "a real container")
			}
		}
	}
	for _, name := range []string{"apim-cp", "apim-gw", "hello"} {
		waitAvailable(t, k, name, 1, 3*time.Minute)
	}
	var sts kubeclient.Object
	_, err = k.Get("/apis/apps/v1/namespaces/"+ns+"/statefulsets/mysql", &sts)
	require.NoError(t, err)
	assert.EqualValues(t, 1, sts.Num("status", "readyReplicas"), "MySQL (MariaDB) passes the mysqladmin exec probe")
}

// workloadPath is the API path of a workload: the control plane is a StatefulSet, the others
// Deployments. Both report replicas, updatedReplicas and availableReplicas.
func workloadPath(name string) string {
	kind := "deployments"
	if name == "apim-cp" {
		kind = "statefulsets"
	}
	return "/apis/apps/v1/namespaces/" + ns + "/" + kind + "/" + name
}

func assertImage(t *testing.T, k *kubeclient.Client, name, image string) {
	var d kubeclient.Object
	_, err := k.Get(workloadPath(name), &d)
	require.NoError(t, err)
	cs := d.Items("spec", "template", "spec", "containers")
	require.NotEmpty(t, cs)
	assert.Equal(t, image, cs[0].Str("image"))
}

// assertNoPods: after destroy the namespace is gone and no node's containerd runs a container.
func assertNoPods(t *testing.T, k *kubeclient.Client, e env) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, kubeclient.WaitFor(ctx, kubeclient.ListWatch(k.Clientset.CoreV1().RESTClient(), "namespaces", "", "", "metadata.name="+ns),
		func(objs []kubeclient.Object) bool { return len(objs) == 0 }), "namespace %s still exists after destroy", ns)
	for _, n := range e.cluster.nodes {
		require.Eventually(t, func() bool {
			out, err := exec.Command("ctr", "--address", n.containerd, "--namespace", "k8s.io", "tasks", "ls", "-q").Output()
			return err == nil && strings.TrimSpace(string(out)) == ""
		}, 2*time.Minute, time.Second, "containers still running on %s after destroy", n.name)
	}
}

func clusterIP(t *testing.T, k *kubeclient.Client, svc string) string {
	var s kubeclient.Object
	_, err := k.Get("/api/v1/namespaces/"+ns+"/services/"+svc, &s)
	require.NoError(t, err)
	ip := s.Str("spec", "clusterIP")
	require.NotEmpty(t, ip)
	return ip
}

// getWith GETs u with header until it answers 200 (up to a minute) and returns the body.
func getWith(t *testing.T, u string, header http.Header) string {
	c := &http.Client{Timeout: 5 * time.Second}
	var body string
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err == nil && resp.StatusCode == http.StatusOK
	}, time.Minute, time.Second, "GET %s", u)
	return body
}

// crossNodeHops sends requests through the gateway and counts those whose gateway pod and
// backend pod (the two X-Standin-Pod headers of the answer) ran on different nodes.
func crossNodeHops(t *testing.T, k *kubeclient.Client, u string, header http.Header) (cross, total int) {
	t.Helper()
	nodeOf := map[string]string{}
	var all kubeclient.List
	_, err := k.Get("/api/v1/namespaces/"+ns+"/pods", &all)
	require.NoError(t, err)
	for _, p := range all.Items {
		nodeOf[p.Str("metadata", "name")] = p.Str("spec", "nodeName")
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	other := map[string]int{}
	defer func() {
		if len(other) > 0 {
			fmt.Printf("  requests that could not be placed: %v\n", other)
		}
	}()
	for i := 0; i < 60; i++ {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		// Each request on a new connection from the gateway to the backend's Service: the
		// gateway's keep-alive connections would otherwise pin every request to the backend pod
		// each gateway pod happened to dial first, and with one pod per node that is the same
		// node for both gateways one time in four (CI saw 0 of 60 when this header was sent only
		// by getWith, which needs no balancing).
		req.Header.Set("X-Standin-New-Connection", "1")
		resp, err := c.Do(req)
		if err != nil {
			other[err.Error()]++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		pods := resp.Header.Values("X-Standin-Pod")
		if resp.StatusCode != http.StatusOK || len(pods) != 2 {
			other[fmt.Sprintf("%s, X-Standin-Pod %v", resp.Status, pods)]++
			continue
		}
		total++
		if a, b := nodeOf[pods[0]], nodeOf[pods[1]]; a != "" && b != "" && a != b {
			cross++
		}
	}
	return cross, total
}

// placementFields is where every replicated workload's pods serve, by node.
func placementFields(k *kubeclient.Client, c cluster) map[string]any {
	out := map[string]any{}
	fmt.Print("PLACEMENT after the first up:")
	for _, w := range []workload{gatewayWL, backendWL, controlPlaneWL} {
		m := w.placement(k)
		fmt.Printf(" %s [%s];", w.title, c.describe(m))
		out[strings.ReplaceAll(w.title, " ", "_")] = m
	}
	fmt.Println()
	return out
}

// waitWorkload waits, following workload name's Deployment (apim-cp's StatefulSet) by a watch,
// until cond holds of it.
func waitWorkload(t *testing.T, k *kubeclient.Client, name string, timeout time.Duration, cond func(d kubeclient.Object) bool, msgAndArgs ...any) {
	t.Helper()
	kind := "deployments"
	if name == "apim-cp" {
		kind = "statefulsets"
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := kubeclient.WaitFor(ctx, kubeclient.ListWatch(k.Clientset.AppsV1().RESTClient(), kind, ns, "", "metadata.name="+name),
		func(objs []kubeclient.Object) bool { return len(objs) == 1 && cond(objs[0]) })
	require.NoError(t, err, msgAndArgs...)
}

func waitAvailable(t *testing.T, k *kubeclient.Client, name string, n int64, timeout time.Duration) {
	t.Helper()
	waitWorkload(t, k, name, timeout, func(d kubeclient.Object) bool { return d.Num("status", "availableReplicas") >= n },
		"deployment %s never had %d available replicas", name, n)
}

func waitReplicas(t *testing.T, k *kubeclient.Client, name string, n int64, timeout time.Duration) {
	t.Helper()
	waitWorkload(t, k, name, timeout, func(d kubeclient.Object) bool { return d.Num("spec", "replicas") == n },
		"deployment %s never came back to %d replicas", name, n)
}

// waitRolledOut waits for the Deployment controller to finish: every replica updated and
// available, as `kubectl rollout status` does.
func waitRolledOut(t *testing.T, k *kubeclient.Client, name string, timeout time.Duration) {
	t.Helper()
	waitWorkload(t, k, name, timeout, func(d kubeclient.Object) bool {
		want := d.Num("spec", "replicas")
		return d.Num("status", "observedGeneration") >= d.Num("metadata", "generation") &&
			d.Num("status", "updatedReplicas") == want && d.Num("status", "availableReplicas") == want &&
			d.Num("status", "replicas") == want
	}, "deployment %s did not finish rolling out", name)
}

// waitOnlyCurrentPods waits, following the workload's pods by a watch, until every one runs
// the Deployment's current template and none is terminating.
func waitOnlyCurrentPods(t *testing.T, k *kubeclient.Client, name string, timeout time.Duration) {
	t.Helper()
	var d kubeclient.Object
	_, err := k.Get(workloadPath(name), &d)
	require.NoError(t, err)
	cs := d.Items("spec", "template", "spec", "containers")
	require.NotEmpty(t, cs, "%s has no containers", name)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err = kubeclient.WaitFor(ctx, kubeclient.ListWatch(k.Clientset.CoreV1().RESTClient(), "pods", ns, "app.kubernetes.io/name="+name, ""),
		func(pods []kubeclient.Object) bool {
			for _, p := range pods {
				pcs := p.Items("spec", "containers")
				if p.Path("metadata", "deletionTimestamp") != nil || len(pcs) == 0 || pcs[0].Str("image") != cs[0].Str("image") {
					return false
				}
			}
			return true
		})
	require.NoError(t, err, "old %s pods did not go away", name)
}
