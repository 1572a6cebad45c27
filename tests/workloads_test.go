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
			assert.Equal(t, sortedCopy([]string{
				typeConfigMap + " apim-mysql-initdb", typeSecret + " apim-mysql-credentials", typeStatefulSet + " apim-mysql",
				typeService + " apim-mysql", typeNetPol + " apim-mysql",
			}), children(g, "wso2apim:mysql:MySQL"))
			assert.Equal(t, sortedCopy([]string{
				typeSecret + " apim-cp-credentials", typeConfigMap + " apim-cp-conf", typeService + " apim-cp",
				typeDeployment + " apim-cp", typePDB + " apim-cp", typeNetPol + " apim-cp",
			}), children(g, "wso2apim:apim:ControlPlane"))
			assert.Equal(t, sortedCopy([]string{
				typeConfigMap + " apim-gw-conf", typeService + " apim-gw", typeDeployment + " apim-gw",
				typePDB + " apim-gw", typeHPA + " apim-gw", typeNetPol + " apim-gw",
			}), children(g, "wso2apim:apim:Gateway"))
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

func apimDeployments(t *testing.T, g *harness.Graph) []*harness.Resource {
	t.Helper()
	cp, gw := g.Find(typeDeployment, "apim-cp"), g.Find(typeDeployment, "apim-gw")
	require.NotNil(t, cp)
	require.NotNil(t, gw)
	return []*harness.Resource{cp, gw}
}

func TestAPIMWorkloadsRollWithoutDowntime(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		g := run(t, stack, nil)
		for _, d := range apimDeployments(t, g) {
			name := stack + "/" + d.Name
			assert.Equal(t, "RollingUpdate", d.Get("spec.strategy.type"), name)
			assert.Equal(t, 1.0, d.Get("spec.strategy.rollingUpdate.maxSurge"), name)
			assert.Equal(t, 0.0, d.Get("spec.strategy.rollingUpdate.maxUnavailable"), name)
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
			assert.Equal(t, []any{"sleep", "15"}, d.Get(c+"lifecycle.preStop.exec.command"), name+": keep serving while endpoints and load balancers let go")
			assert.Equal(t, 60.0, d.Get("spec.template.spec.terminationGracePeriodSeconds"), name)
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
			assert.Len(t, d.Get("spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"), 2, name+": spread over nodes and zones")
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
		return g.Find(typeDeployment, name).String("spec.template.metadata.annotations[checksum/config]")
	}
	before := run(t, "dev", nil)
	after := run(t, "dev", map[string]any{"apim.domain": "other.example.com"})
	for _, name := range []string{"apim-cp", "apim-gw"} {
		assert.NotEqual(t, checksum(before, name), checksum(after, name), "%s must roll when deployment.toml changes", name)
		conf := after.Find(typeConfigMap, name+"-conf").String("data[deployment.toml]")
		assert.Contains(t, conf, "other.example.com")
	}
	again := run(t, "dev", nil)
	assert.Equal(t, checksum(before, "apim-gw"), checksum(again, "apim-gw"), "the checksum is stable when nothing changes")
	for _, name := range []string{"apim-cp", "apim-gw"} {
		conf := before.Find(typeConfigMap, name+"-conf").String("data[deployment.toml]")
		assert.Equal(t, kube.Checksum(conf), checksum(before, name), "%s: the checksum is of the very file the pods mount", name)
	}
}

func TestGatewayAutoscaler(t *testing.T) {
	for stack, want := range map[string][2]float64{"dev": {1, 2}, "prod": {2, 6}} {
		g := run(t, stack, nil)
		hpa := one(t, g, typeHPA)
		assert.Equal(t, "apps/v1", hpa.Get("spec.scaleTargetRef.apiVersion"))
		assert.Equal(t, "Deployment", hpa.Get("spec.scaleTargetRef.kind"))
		assert.Equal(t, "apim-gw", hpa.Get("spec.scaleTargetRef.name"), "the gateway is what scales")
		assert.Equal(t, want[0], hpa.Get("spec.minReplicas"), stack)
		assert.Equal(t, want[1], hpa.Get("spec.maxReplicas"), stack)
		assert.Equal(t, "cpu", hpa.Get("spec.metrics.0.resource.name"))
		assert.Equal(t, "Utilization", hpa.Get("spec.metrics.0.resource.target.type"))
		assert.Equal(t, 70.0, hpa.Get("spec.metrics.0.resource.target.averageUtilization"))
		assert.Equal(t, map[string]float64{"dev": 300, "prod": 600}[stack], hpa.Get("spec.behavior.scaleDown.stabilizationWindowSeconds"), stack)
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
				assert.NotContains(t, text, value, "%s %s holds secret %s", r.Type, r.Name, key)
			}
		}
		for _, s := range g.OfType(typeSecret) {
			for k := range s.Get("stringData").(map[string]any) {
				assert.True(t, s.IsSecret("stringData."+k), "%s stringData.%s must be a Pulumi secret", s.Name, k)
			}
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

func TestMySQL(t *testing.T) {
	g := run(t, "prod", nil)
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

	dev := run(t, "dev", nil)
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
// (and, for the StatefulSet, its own Secret and init script).
func TestWorkloadsDoNotWaitForEachOther(t *testing.T) {
	g := run(t, "dev", nil)
	workloads := append(g.OfType(typeDeployment), g.OfType(typeStatefulSet)...)
	for _, a := range workloads {
		for _, b := range workloads {
			if a != b {
				assert.False(t, g.DependsOn(a, b), "%s waits for %s", a.Name, b.Name)
			}
		}
		assert.False(t, g.DependsOn(a, one(t, g, typeNodePool)), "%s must not wait for the node pool", a.Name)
	}
}
