package tests

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typeStatefulSet = "kubernetes:apps/v1:StatefulSet"
	typeService     = "kubernetes:core/v1:Service"
	typeConfigMap   = "kubernetes:core/v1:ConfigMap"
	typeSecret      = "kubernetes:core/v1:Secret"
	typeHPA         = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	typePDB         = "kubernetes:policy/v1:PodDisruptionBudget"
	typeNetPol      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typeNamespace   = "kubernetes:core/v1:Namespace"
)

// children lists "type name" of every custom resource under a component, sorted.
func children(g *harness.Graph, componentType string) []string {
	var out []string
	for _, r := range g.All() {
		if p := g.ParentOf(r); p != nil && p.Type == componentType {
			out = append(out, r.Type+" "+r.Name)
		}
	}
	sort.Strings(out)
	return out
}

func TestExactKubernetesObjectsPerComponent(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			if stack == "local" {
				assert.Equal(t, sortedCopy([]string{
					typeConfigMap + " apim-mysql-initdb", typeSecret + " apim-mysql-credentials", typeStatefulSet + " apim-mysql",
					typeService + " apim-mysql", typeNetPol + " apim-mysql",
					typeCronJob + " apim-mysql-backup", typePVC + " apim-mysql-backup", typeNetPol + " apim-mysql-backup",
				}), children(g, "wso2apim:mysql:MySQL"))
				assert.Empty(t, g.OfType(typeExternalDB))
			} else {
				assert.Equal(t, sortedCopy([]string{
					typeSecret + " apim-mysql-credentials", typeService + " apim-mysql", typeEndpointSlice + " apim-mysql",
					typeJob + " apim-mysql-schema", typeNetPol + " apim-mysql-schema",
				}), children(g, typeExternalDB))
				assert.Empty(t, g.OfType("wso2apim:mysql:MySQL"))
			}
			cp := []string{
				typeSecret + " apim-cp-credentials", typeConfigMap + " apim-cp-conf", typeService + " apim-cp",
				typeService + " apim-cp-nodes", typeStatefulSet + " apim-cp", typePDB + " apim-cp", typeNetPol + " apim-cp",
			}
			gw := []string{
				typeConfigMap + " apim-gw-conf", typeService + " apim-gw", typeDeployment + " apim-gw",
				typePDB + " apim-gw", typeHPA + " apim-gw", typeNetPol + " apim-gw",
			}
			if stack != "local" {
				// Cloud SQL's CA, for the truststore.
				cp, gw = append(cp, typeConfigMap+" apim-cp-trusted-certs"), append(gw, typeConfigMap+" apim-gw-trusted-certs")
			}
			assert.Equal(t, sortedCopy(cp), children(g, "wso2apim:apim:ControlPlane"))
			assert.Equal(t, sortedCopy(gw), children(g, "wso2apim:apim:Gateway"))
			assert.Equal(t, sortedCopy([]string{
				typeDeployment + " apim-hello", typeService + " apim-hello", typePDB + " apim-hello", typeNetPol + " apim-hello",
			}), children(g, "wso2apim:backend:Backend"))
			ns := g.Find(typeNamespace, "apim-ns")
			require.NotNil(t, ns)
			assert.Equal(t, "wso2-apim", ns.Get("metadata.name"))
			assert.Equal(t, "restricted", ns.Get("metadata.labels[pod-security.kubernetes.io/enforce]"))
		})
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

// deploymentTOMLs are every deployment.toml an API Manager ConfigMap holds: the gateway's one,
// or each control plane node's (deployment-<n>.toml), node 0 first.
func deploymentTOMLs(t *testing.T, g *harness.Graph, configMap string) []string {
	t.Helper()
	cm := g.Find(typeConfigMap, configMap)
	require.NotNil(t, cm, configMap)
	if one := cm.String("data[deployment.toml]"); one != "" {
		return []string{one}
	}
	var out []string
	for i := 0; ; i++ {
		file := cm.String(fmt.Sprintf("data[deployment-%d.toml]", i))
		if file == "" {
			break
		}
		out = append(out, file)
	}
	require.NotEmpty(t, out, "%s holds no deployment.toml", configMap)
	return out
}

// apimWorkload finds an API Manager workload by name: the gateway's Deployment or the control
// plane's StatefulSet.
func apimWorkload(t *testing.T, g *harness.Graph, name string) *harness.Resource {
	t.Helper()
	w := g.Find(typeDeployment, name)
	if w == nil {
		w = g.Find(typeStatefulSet, name)
	}
	require.NotNil(t, w, name)
	return w
}

func apimDeployments(t *testing.T, g *harness.Graph) []*harness.Resource {
	t.Helper()
	return []*harness.Resource{apimWorkload(t, g, "apim-cp"), apimWorkload(t, g, "apim-gw")}
}

func TestAPIMWorkloadsRollWithoutDowntime(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		g := run(t, stack, nil)
		for _, d := range apimDeployments(t, g) {
			name := stack + "/" + d.Name
			if d.Type == typeStatefulSet {
				// The control plane's nodes: one replaced at a time, each once the one
				// before is ready; never a surge node that knows none of the others.
				assert.Equal(t, "RollingUpdate", d.Get("spec.updateStrategy.type"), name)
				assert.Equal(t, map[string]float64{"dev": 1, "prod": 2}[stack], d.Get("spec.replicas"), name)
			} else {
				assert.Equal(t, "RollingUpdate", d.Get("spec.strategy.type"), name)
				assert.Equal(t, 1.0, d.Get("spec.strategy.rollingUpdate.maxSurge"), name)
				assert.Equal(t, 0.0, d.Get("spec.strategy.rollingUpdate.maxUnavailable"), name)
			}
			assert.Equal(t, 30.0, d.Get("spec.minReadySeconds"), name+": the article's 30 s")
			c := "spec.template.spec.containers.0."
			assert.Equal(t, 9443.0, d.Get(c+"startupProbe.tcpSocket.port"), name)
			assert.Nil(t, d.Get(c+"startupProbe.initialDelaySeconds"), name+": a startup probe, not a blind delay")
			assert.Equal(t, "/services/Version", d.Get(c+"livenessProbe.httpGet.path"), name)
			assert.Equal(t, 9763.0, d.Get(c+"livenessProbe.httpGet.port"), name)
			assert.Equal(t, "/api/am/gateway/v2/server-startup-healthcheck", d.Get(c+"readinessProbe.httpGet.path"), name)
			assert.Equal(t, "HTTPS", d.Get(c+"readinessProbe.httpGet.scheme"), name)
			for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
				assert.Nil(t, d.Get(c+probe+".exec"), "%s %s must not exec (4.x images have no nc)", name, probe)
			}
			// GKE's load balancer drains a backend for ingress.drainingTimeoutSeconds (30 s):
			// the pods keep serving that long plus 5 s for the endpoints to propagate, and
			// Carbon gets a minute to shut down after.
			assert.Equal(t, []any{"sleep", "35"}, d.Get(c+"lifecycle.preStop.exec.command"), name+": keep serving while endpoints and load balancers let go")
			assert.Equal(t, 95.0, d.Get("spec.template.spec.terminationGracePeriodSeconds"), name)
			assert.Equal(t, map[string]string{"dev": "1", "prod": "2"}[stack], d.Get(c+"resources.requests.cpu"), name+": dev halves the request so that its pool fits")
			assert.Equal(t, "2Gi", d.Get(c+"resources.requests.memory"), name)
			assert.Equal(t, "3", d.Get(c+"resources.limits.cpu"), name)
			assert.Equal(t, "3Gi", d.Get(c+"resources.limits.memory"), name)
			assert.Equal(t, "-Xms2048m -Xmx2048m", envValue(d, "JVM_MEM_OPTS"), name+": heap within 75% of the 3Gi limit")
			sc := c + "securityContext."
			assert.Equal(t, 10001.0, d.Get(sc+"runAsUser"), name)
			assert.Equal(t, true, d.Get(sc+"runAsNonRoot"), name)
			assert.Equal(t, false, d.Get(sc+"allowPrivilegeEscalation"), name)
			assert.Equal(t, []any{"ALL"}, d.Get(sc+"capabilities.drop"), name)
			assert.Equal(t, "RuntimeDefault", d.Get(sc+"seccompProfile.type"), name)
			assert.NotEmpty(t, d.Get("spec.template.metadata.annotations[checksum/config]"), name)
			spread, _ := d.Get("spec.template.spec.topologySpreadConstraints").([]any)
			require.Len(t, spread, 2, name+": spread over zones and nodes")
			assert.Equal(t, "topology.kubernetes.io/zone", spread[0].(map[string]any)["topologyKey"], name)
			assert.Equal(t, "ScheduleAnyway", spread[0].(map[string]any)["whenUnsatisfiable"], name+": a lost zone never blocks rescheduling in the others")
			assert.Equal(t, "kubernetes.io/hostname", spread[1].(map[string]any)["topologyKey"], name)
			assert.Equal(t, "DoNotSchedule", spread[1].(map[string]any)["whenUnsatisfiable"], name+": on GKE the autoscaler adds a node rather than stack two replicas")
			for _, l := range []string{"name", "component", "part-of", "managed-by", "version"} {
				assert.NotEmpty(t, d.Get("spec.template.metadata.labels[app.kubernetes.io/"+l+"]"), "%s label %s", name, l)
			}
		}
	}
}

func envValue(d *harness.Resource, name string) string {
	envs, _ := d.Get("spec.template.spec.containers.0.env").([]any)
	for _, e := range envs {
		m := e.(map[string]any)
		if m["name"] == name {
			return fmt.Sprint(m["value"])
		}
	}
	return ""
}

func TestConfigChangeRollsPods(t *testing.T) {
	checksum := func(g *harness.Graph, name string) string {
		return apimWorkload(t, g, name).String("spec.template.metadata.annotations[checksum/config]")
	}
	before := run(t, "dev", nil)
	after := run(t, "dev", map[string]any{"apim.domain": "other.example.com"})
	for _, name := range []string{"apim-cp", "apim-gw"} {
		assert.NotEqual(t, checksum(before, name), checksum(after, name), "%s must roll when deployment.toml changes", name)
		conf := deploymentTOMLs(t, after, name+"-conf")[0]
		assert.Contains(t, conf, "other.example.com")
	}
	again := run(t, "dev", nil)
	assert.Equal(t, checksum(before, "apim-gw"), checksum(again, "apim-gw"), "the checksum is stable when nothing changes")
	for _, name := range []string{"apim-cp", "apim-gw"} {
		cm := before.Find(typeConfigMap, name+"-conf")
		assert.Equal(t, kube.Checksum(append(deploymentTOMLs(t, before, name+"-conf"), cm.String("data[log4j2.properties]"))...), checksum(before, name),
			"%s: the checksum is of the very files the pods mount (deployment.toml, log4j2.properties)", name)
	}
}

// The bounds are the stack's as set: besides the shipped ones, bounds no rule of thumb derives
// from each other (7 is neither min+1 nor a multiple of 2 or 3).
func TestGatewayAutoscaler(t *testing.T) {
	for _, c := range []struct {
		name, stack string
		set         map[string]any
		want        [2]float64
	}{
		{"dev", "dev", nil, [2]float64{1, 2}},
		{"prod", "prod", nil, [2]float64{2, 6}},
		{"prod 2..7", "prod", map[string]any{"gateway.minReplicas": 2, "gateway.maxReplicas": 7}, [2]float64{2, 7}},
		{"local 3..7", "local", map[string]any{"gateway.minReplicas": 3, "gateway.maxReplicas": 7}, [2]float64{3, 7}},
	} {
		stack, want := c.name, c.want
		g := run(t, c.stack, c.set)
		hpa := one(t, g, typeHPA)
		assert.Equal(t, "apps/v1", hpa.Get("spec.scaleTargetRef.apiVersion"))
		assert.Equal(t, "Deployment", hpa.Get("spec.scaleTargetRef.kind"))
		assert.Equal(t, "apim-gw", hpa.Get("spec.scaleTargetRef.name"), "the gateway is what scales")
		assert.Equal(t, want[0], hpa.Get("spec.minReplicas"), stack)
		assert.Equal(t, want[1], hpa.Get("spec.maxReplicas"), stack)
		assert.Equal(t, "cpu", hpa.Get("spec.metrics.0.resource.name"))
		assert.Equal(t, "Utilization", hpa.Get("spec.metrics.0.resource.target.type"))
		assert.Equal(t, 70.0, hpa.Get("spec.metrics.0.resource.target.averageUtilization"))
		assert.Equal(t, map[string]float64{"dev": 300, "prod": 600, "local": 300}[c.stack], hpa.Get("spec.behavior.scaleDown.stabilizationWindowSeconds"), stack)
		assert.Equal(t, 0.0, hpa.Get("spec.behavior.scaleUp.stabilizationWindowSeconds"), "scale up at once: a new gateway needs minutes to start")
		assert.Equal(t, 50.0, hpa.Get("spec.behavior.scaleDown.policies.0.value"), "remove at most half the gateways a minute")
		assert.Nil(t, g.Find(typeDeployment, "apim-gw").Get("spec.replicas"), "the HPA owns the gateway's replica count")
	}
}

func TestPodDisruptionBudgetsNeverBlockDrains(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		g := run(t, stack, nil)
		pdbs := g.OfType(typePDB)
		require.NotEmpty(t, pdbs)
		for _, pdb := range pdbs {
			assert.Nil(t, pdb.Get("spec.minAvailable"), "%s: minAvailable can equal replicas and block every drain", pdb.Name)
			assert.Equal(t, 1.0, pdb.Get("spec.maxUnavailable"), pdb.Name)
		}
	}
}

// No secret value may appear anywhere but in a Secret's data, and there only as a Pulumi
// secret; containers read passwords through secretKeyRef.
func TestSecretsOnlyInSecrets(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		g := run(t, stack, nil)
		for _, r := range g.All() {
			text := fmt.Sprint(r.Inputs)
			for key, value := range harness.TestSecrets {
				if r.Type == typeSecret {
					continue
				}
				if r.Type == typeK8sProv || r.Type == "pulumi:providers:gcp" {
					continue
				}
				if r.Type == "gcp:sql/user:User" && key == "mysqlPassword" {
					// How Cloud SQL learns the user's password: as a Pulumi secret only.
					assert.True(t, r.IsSecret("password"), "%s: the password is a Pulumi secret", r.Name)
					continue
				}
				assert.NotContains(t, text, value, "%s %s holds secret %s", r.Type, r.Name, key)
			}
		}
		for _, s := range g.OfType(typeSecret) {
			fields := 0
			for _, field := range []string{"stringData", "data"} {
				values, _ := s.Get(field).(map[string]any)
				for k := range values {
					fields++
					assert.True(t, s.IsSecret(field+"["+k+"]"), "%s %s[%s] must be a Pulumi secret", s.Name, field, k)
				}
			}
			assert.NotZero(t, fields, "%s holds nothing", s.Name)
		}
		for _, d := range append(g.OfType(typeDeployment), g.OfType(typeStatefulSet)...) {
			containers, _ := d.Get("spec.template.spec.containers").([]any)
			for _, c := range containers {
				envs, _ := c.(map[string]any)["env"].([]any)
				for _, e := range envs {
					env := e.(map[string]any)
					name := fmt.Sprint(env["name"])
					if strings.Contains(name, "PASSWORD") || strings.Contains(name, "KEY") {
						assert.Nil(t, env["value"], "%s env %s must not be a literal", d.Name, name)
						assert.NotNil(t, env["valueFrom"], "%s env %s must come from a Secret", d.Name, name)
					}
				}
			}
		}
		for _, cm := range g.OfType(typeConfigMap) {
			assert.NotRegexp(t, `(?i)password\s*=\s*"[^$]`, cm.String("data"), "%s: a password literal in a ConfigMap", cm.Name)
		}
	}
}

// The in-cluster server, as prod would run it with mysql.mode incluster.
func TestMySQL(t *testing.T) {
	g := run(t, "prod", map[string]any{"mysql.mode": "incluster", "mysql.storageSize": "100Gi", "mysql.storageClass": "premium-rwo"})
	sts := g.Find(typeStatefulSet, "apim-mysql")
	require.NotNil(t, sts)
	assert.True(t, sts.Protect, "prod database is protected")
	assert.Equal(t, "mysql:8.4", sts.Get("spec.template.spec.containers.0.image"))
	assert.Equal(t, "wso2/wso2am:4.7.0", sts.Get("spec.template.spec.initContainers.0.image"), "schemas come from the same APIM image")
	assert.Equal(t, "Retain", sts.Get("spec.persistentVolumeClaimRetentionPolicy.whenDeleted"))
	assert.Equal(t, "100Gi", sts.Get("spec.volumeClaimTemplates.0.spec.resources.requests.storage"))
	assert.Equal(t, "premium-rwo", sts.Get("spec.volumeClaimTemplates.0.spec.storageClassName"))
	ping := []any{"mysqladmin", "ping", "--protocol=tcp", "-h", "127.0.0.1", "--silent"}
	c := "spec.template.spec.containers.0."
	assert.Equal(t, ping, sts.Get(c+"startupProbe.exec.command"), "over TCP: false while first-start initialisation listens on the socket only")
	assert.Equal(t, 60.0, sts.Get(c+"startupProbe.failureThreshold"), "ten minutes to load the schemas")
	assert.Equal(t, ping, sts.Get(c+"readinessProbe.exec.command"))
	assert.Equal(t, 3306.0, sts.Get(c+"livenessProbe.tcpSocket.port"), "liveness only asks whether the server listens")
	assert.Contains(t, sts.String("spec.template.spec.initContainers.0.command"), `home="/home/wso2carbon/wso2am-4.7.0"`, "schemas from the image's own server home")
	initdb := g.Find(typeConfigMap, "apim-mysql-initdb").String("data[01-apim-databases.sh]")
	assert.Contains(t, initdb, "CREATE DATABASE IF NOT EXISTS apim_db")
	assert.Contains(t, initdb, "CREATE DATABASE IF NOT EXISTS shared_db")
	assert.Contains(t, initdb, "apimgt-mysql.sql")

	dev := run(t, "dev", map[string]any{"mysql.mode": "incluster"})
	assert.False(t, dev.Find(typeStatefulSet, "apim-mysql").Protect, "dev database is not protected")
}

func TestWorkloadsUseTheClusterProvider(t *testing.T) {
	for _, stack := range []string{"dev", "local"} {
		g := run(t, stack, nil)
		prov := one(t, g, typeK8sProv)
		for _, r := range g.WithPrefix("kubernetes:") {
			assert.Equal(t, prov.URN, r.Provider, "%s %s", r.Type, r.Name)
		}
	}
}

// Workloads are created in parallel: none waits for another workload, only for the namespace
// (and, for the StatefulSet, its own Secret and init script) and, through the Kubernetes
// provider, for the node pool that runs them (TestApplyOrderOnAFreshProject).
func TestWorkloadsDoNotWaitForEachOther(t *testing.T) {
	g := run(t, "dev", nil)
	workloads := append(g.OfType(typeDeployment), g.OfType(typeStatefulSet)...)
	for _, a := range workloads {
		for _, b := range workloads {
			if a != b {
				assert.False(t, g.DependsOn(a, b), "%s waits for %s", a.Name, b.Name)
			}
		}
	}
}
