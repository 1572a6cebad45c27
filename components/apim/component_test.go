package apim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeControlPlane = "wso2apim:apim:ControlPlane"
	typeGateway      = "wso2apim:apim:Gateway"
)

func intp(v int) *int { return &v }

// aloneShared is the least a control plane or gateway needs from its caller, with no
// credentials: the control plane makes them from the values it is given.
func aloneShared() apim.Shared {
	return apim.Shared{
		Namespace:          pulumi.String("apps"),
		Database:           apim.Database{Host: "mysql", Username: "apimadmin", Password: kube.SecretRef{Name: "mysql-credentials", Key: "password"}},
		ManagementHostname: "am.example.com",
		GatewayHostname:    "gw.example.com",
		Keystores:          pulumi.String("apim-keystores-g1"),
	}
}

func aloneControlPlane() *apim.ControlPlaneArgs {
	return &apim.ControlPlaneArgs{
		Shared: aloneShared(),
		// Plain strings: the component must mark them secret.
		AdminPassword: pulumi.String("admin-pw-DO-NOT-USE"),
		EncryptionKey: pulumi.String("0123456789abcdef0123456789abcdef"),
	}
}

func aloneGateway() *apim.GatewayArgs {
	s := aloneShared()
	s.Credentials = apim.Credentials{
		AdminPassword: kube.SecretRef{Name: "apim-cp-credentials", Key: "admin-password"},
		EncryptionKey: kube.SecretRef{Name: "apim-cp-credentials", Key: "encryption-key"},
	}
	return &apim.GatewayArgs{Shared: s}
}

func runControlPlane(t *testing.T, args *apim.ControlPlaneArgs) (*harness.Graph, *apim.ControlPlane) {
	t.Helper()
	return harness.Construct(t, harness.Kubernetes, apim.NewControlPlane, "cp", args)
}

func runGateway(t *testing.T, args *apim.GatewayArgs) (*harness.Graph, *apim.Gateway) {
	t.Helper()
	return harness.Construct(t, harness.Kubernetes, apim.NewGateway, "gw", args)
}

func portNumbers(t *testing.T, r *harness.Resource, path string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	list, _ := r.Get(path).([]any)
	for _, p := range list {
		m := p.(map[string]any)
		n, _ := m["port"].(float64)
		if n == 0 {
			n, _ = m["containerPort"].(float64)
		}
		out[m["name"].(string)] = n
	}
	return out
}

// assertWorkload checks what the control plane and the gateway share: defaults, probes,
// secrets by reference only, and the config checksum.
func assertWorkload(t *testing.T, g *harness.Graph, rname, name, image string, tomls []string, statefulSet bool) *harness.Resource {
	t.Helper()
	cm := g.Find(harness.TypeConfigMap, rname+"-conf")
	require.NotNil(t, cm)
	assert.Equal(t, name+"-conf", cm.Get("metadata.name"))
	kind, tomlVolume := harness.TypeDeployment, "conf"
	if statefulSet {
		kind, tomlVolume = harness.TypeStatefulSet, "node-conf"
		for i, toml := range tomls {
			assert.Equal(t, toml, cm.Get(fmt.Sprintf("data[deployment-%d.toml]", i)), "node %d's file, as the component reports it", i)
		}
	} else {
		require.Len(t, tomls, 1)
		assert.Equal(t, tomls[0], cm.Get("data[deployment.toml]"), "the rendered file, as the component reports it")
	}
	toml := tomls[0]
	assert.NotContains(t, toml, "DO-NOT-USE", "no secret in the ConfigMap")

	dep := g.Find(kind, rname)
	require.NotNil(t, dep)
	assert.False(t, dep.Protect)
	assert.Equal(t, name, dep.Get("metadata.name"))
	assert.Equal(t, "apps", dep.Get("metadata.namespace"))
	assert.Equal(t, 30.0, dep.Get("spec.minReadySeconds"), "default")
	if statefulSet {
		assert.Equal(t, map[string]any{"type": "RollingUpdate"}, dep.Get("spec.updateStrategy"), "one node at a time, each once the one before is ready")
		assert.Equal(t, "Parallel", dep.Get("spec.podManagementPolicy"))
		assert.Equal(t, name+"-nodes", dep.Get("spec.serviceName"))
	} else {
		assert.Equal(t, map[string]any{"maxSurge": 1.0, "maxUnavailable": 0.0}, dep.Get("spec.strategy.rollingUpdate"))
	}
	assert.Equal(t, kube.Checksum(append(append([]string(nil), tomls...), cm.String("data[log4j2.properties]"))...), dep.Get("spec.template.metadata.annotations[checksum/config]"))
	assert.Equal(t, kube.ImageTag(image), dep.Get("metadata.labels[app.kubernetes.io/version]"))
	assert.True(t, g.DependsOn(dep, cm))
	c := "spec.template.spec.containers.0"
	assert.Equal(t, image, dep.Get(c+".image"))
	assert.Equal(t, map[string]any{"cpu": "2", "memory": "2Gi", "ephemeral-storage": "2Gi"}, dep.Get(c+".resources.requests"), "the article's numbers")
	assert.Equal(t, map[string]any{"cpu": "3", "memory": "3Gi", "ephemeral-storage": "8Gi"}, dep.Get(c+".resources.limits"))
	assert.Equal(t, 9443.0, dep.Get(c+".startupProbe.tcpSocket.port"))
	assert.Equal(t, "/services/Version", dep.Get(c+".livenessProbe.httpGet.path"))
	assert.Equal(t, "/api/am/gateway/v2/server-startup-healthcheck", dep.Get(c+".readinessProbe.httpGet.path"))
	assert.Equal(t, []any{"sleep", "15"}, dep.Get(c+".lifecycle.preStop.exec.command"))
	e := harness.Env(t, dep, c)
	assert.Equal(t, "-Xms2048m -Xmx2048m", e["JVM_MEM_OPTS"], "default heap")
	assert.Equal(t, "secret:apim-cp-credentials/admin-password", e["WSO2_ADMIN_PASSWORD"])
	assert.Equal(t, "secret:apim-cp-credentials/encryption-key", e["WSO2_ENCRYPTION_KEY"])
	assert.Equal(t, "secret:mysql-credentials/password", e["WSO2_DB_PASSWORD"])
	assert.NotContains(t, e, "WSO2_MOESIF_KEY", "analytics off by default")
	for _, v := range e {
		assert.NotContains(t, v, "DO-NOT-USE", "no literal secret in the environment")
	}
	mounts, _ := dep.Get(c + ".volumeMounts").([]any)
	assert.Contains(t, mounts, map[string]any{"name": tomlVolume, "subPath": "deployment.toml",
		"mountPath": "/home/wso2carbon/wso2-config-volume/repository/conf/deployment.toml"}, "the entrypoint copies it over the server home")
	assert.Contains(t, mounts, map[string]any{"name": "jdbc-driver", "mountPath": "/home/wso2carbon/wso2-config-volume/repository/components/lib"})

	inits := map[string]string{}
	for i, c := range dep.Get("spec.template.spec.initContainers").([]any) {
		inits[c.(map[string]any)["name"].(string)] = fmt.Sprintf("spec.template.spec.initContainers.%d", i)
	}
	init := inits["jdbc-driver"]
	require.NotEmpty(t, init)
	assert.Equal(t, image, dep.Get(init+".image"), "the workload's own image (curl and CA certificates) by default")
	ie := harness.Env(t, dep, init)
	assert.Equal(t, apim.MavenCentral+"/com/mysql/mysql-connector-j/9.1.0/mysql-connector-j-9.1.0.jar", ie["JDBC_DRIVER_URL"], "Maven Central by default")
	assert.Equal(t, apim.DefaultJDBCDriverSHA256, ie["JDBC_DRIVER_SHA256"], "the default jar is pinned")

	// The deployment's keys, never the image's: the keystores init container builds the stores
	// from the Secret into an emptyDir that the entrypoint copies over the server home.
	ks := inits["keystores"]
	require.NotEmpty(t, ks)
	assert.Equal(t, image, dep.Get(ks+".image"), "the image's own keytool and JDK CA certificates")
	assert.Equal(t, []any{"sh", "-c", apim.KeystoresScript}, dep.Get(ks+".command"))
	ke := harness.Env(t, dep, ks)
	assert.Equal(t, "secret:apim-keystores-g1/password", ke["KEYSTORE_PASSWORD"])
	assert.Equal(t, strings.Join(apim.WSO2DefaultCertificates, " "), ke["WSO2_DEFAULT_CERTS"])
	assert.Equal(t, true, dep.Get(ks+".securityContext.readOnlyRootFilesystem"))
	assert.Equal(t, "secret:apim-keystores-g1/password", e["WSO2_KEYSTORE_PASSWORD"], "deployment.toml reads the stores' password from the Secret")
	assert.Contains(t, mounts, map[string]any{"name": "security", "mountPath": "/home/wso2carbon/wso2-config-volume/repository/resources/security"})
	vols := map[string]any{}
	for _, v := range dep.Get("spec.template.spec.volumes").([]any) {
		vols[v.(map[string]any)["name"].(string)] = v
	}
	assert.Equal(t, map[string]any{"secretName": "apim-keystores-g1", "defaultMode": 288.0}, vols["keystores"].(map[string]any)["secret"])
	assert.Equal(t, map[string]any{"sizeLimit": "16Mi"}, vols["security"].(map[string]any)["emptyDir"])
	for _, table := range []string{"[keystore.primary]", "[keystore.tls]", "[keystore.internal]", "[truststore]"} {
		assert.Contains(t, toml, table)
	}

	svc := g.Find(harness.TypeService, rname)
	require.NotNil(t, svc)
	assert.Equal(t, name, svc.Get("metadata.name"))
	assert.Equal(t, "ClusterIP", svc.Get("spec.type"))
	assert.Nil(t, svc.Get("metadata.annotations"))

	pdb := g.Find(harness.TypePDB, rname)
	require.NotNil(t, pdb)
	assert.Equal(t, 1.0, pdb.Get("spec.maxUnavailable"))
	return dep
}

func TestControlPlaneAlone(t *testing.T) {
	g, cp := runControlPlane(t, aloneControlPlane())
	assert.ElementsMatch(t, []string{
		harness.TypeSecret + " cp-credentials", harness.TypeConfigMap + " cp-conf", harness.TypeService + " cp",
		harness.TypeStatefulSet + " cp", harness.TypeService + " cp-nodes", harness.TypePDB + " cp", harness.TypeNetworkPolicy + " cp",
	}, harness.Children(t, g, typeControlPlane))

	assert.Equal(t, "apim-cp", cp.Service, "default name")
	assert.Equal(t, apim.Credentials{
		AdminPassword: kube.SecretRef{Name: "apim-cp-credentials", Key: "admin-password"},
		EncryptionKey: kube.SecretRef{Name: "apim-cp-credentials", Key: "encryption-key"},
	}, cp.Credentials, "the keys gateways must use")

	secret := g.Find(harness.TypeSecret, "cp-credentials")
	assert.Equal(t, "apim-cp-credentials", secret.Get("metadata.name"))
	assert.Equal(t, "admin-pw-DO-NOT-USE", secret.Get("stringData.admin-password"))
	assert.Equal(t, "0123456789abcdef0123456789abcdef", secret.Get("stringData.encryption-key"))
	assert.True(t, secret.IsSecret("stringData.admin-password"), "marked secret by the component")
	assert.True(t, secret.IsSecret("stringData.encryption-key"), "marked secret by the component")
	assert.Nil(t, secret.Get("stringData.moesif-key"))

	dep := assertWorkload(t, g, "cp", "apim-cp", "wso2/wso2am:4.7.0", cp.TOMLs, true)
	assert.Equal(t, 1.0, dep.Get("spec.replicas"), "one all-in-one control plane")
	assert.Equal(t, "control-plane", dep.Get("metadata.labels[app.kubernetes.io/component]"))
	assert.Equal(t, map[string]float64{
		"https": 9443, "http": 9763, "gw-https": 8243, "gw-http": 8280, "tm-binary": 9611, "tm-binary-ssl": 9711, "jms": 5672,
	}, portNumbers(t, g.Find(harness.TypeService, "cp"), "spec.ports"))
	assert.Contains(t, cp.TOMLs[0], `service_url = "https://apim-gw:9443/services/"`, "default gateway Service")
	assert.NotContains(t, cp.TOMLs[0], "event_duplicate_url", "one node forwards to nobody")
	assert.Equal(t, []string{"apim-cp-0.apim-cp-nodes"}, cp.Nodes)

	np := g.Find(harness.TypeNetworkPolicy, "cp")
	assert.Equal(t, []any{"Ingress", "Egress"}, np.Get("spec.policyTypes"))
	assert.Equal(t, []any{
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "apim-cp", "app.kubernetes.io/component": "control-plane"}}},
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "apim-gw", "app.kubernetes.io/component": "gateway"}}},
	}, np.Get("spec.ingress.0.from"), "only itself and the default gateway reach the control ports")
	assert.Equal(t, []any{9443.0, 9611.0, 9711.0, 5672.0}, ports(np.Get("spec.ingress.0.ports")))
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{}}}},
		np.Get("spec.ingress.1.from"), "no clients given: the portals are open to the namespace's pods")
	assert.Equal(t, []any{9443.0}, ports(np.Get("spec.ingress.1.ports")))
	assert.Len(t, np.Get("spec.ingress"), 2)
	assert.Equal(t, []any{9443.0}, ports(np.Get("spec.egress.1.ports")), "APIs are deployed to the gateways")
	assert.Equal(t, []any{map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0"}}}, np.Get("spec.egress.2.to"))
	assert.Equal(t, []any{443.0}, ports(np.Get("spec.egress.2.ports")), "Maven Central over HTTPS, for the JDBC driver")
	assert.Len(t, np.Get("spec.egress"), 3, "nothing else without Egress")
}

func TestControlPlaneWithExistingCredentialsCreatesNoSecret(t *testing.T) {
	a := &apim.ControlPlaneArgs{Shared: aloneGateway().Shared}
	g, cp := runControlPlane(t, a)
	assert.Empty(t, g.OfType(harness.TypeSecret))
	assert.Equal(t, a.Credentials, cp.Credentials)
}

func TestControlPlaneArgsAreApplied(t *testing.T) {
	a := aloneControlPlane()
	a.Name, a.Image, a.HeapMB, a.MinReadySeconds = "apis-cp", "wso2/wso2am:4.6.0-alpine", 1024, intp(0)
	a.GatewayService, a.GatewaySelector = "apis-gw", map[string]string{"role": "gw"}
	a.MoesifKey = pulumi.String("moesif-DO-NOT-USE")
	a.PodLabels = map[string]string{"team": "apis"}
	a.ServiceAnnotations = map[string]string{"cloud.google.com/neg": `{"ingress":true}`}
	a.JDBCDriver = apim.JDBCDriver{URL: "https://mirror.local/cj.jar", SHA256: strings.Repeat("ab", 32), Image: "mirror.local/busybox:1"}
	a.SharedVolumes = []apim.SharedVolume{{Claim: pulumi.String("apim-shared"), SubPath: "tenants", Path: "repository/tenants"}}
	g, cp := runControlPlane(t, a)

	assert.Equal(t, "apis-cp", cp.Service)
	assert.Equal(t, "apis-cp-credentials", cp.Credentials.AdminPassword.Name)
	secret := g.Find(harness.TypeSecret, "cp-credentials")
	assert.Equal(t, "moesif-DO-NOT-USE", secret.Get("stringData.moesif-key"))
	assert.True(t, secret.IsSecret("stringData.moesif-key"))

	dep := g.Find(harness.TypeStatefulSet, "cp")
	c := "spec.template.spec.containers.0"
	assert.Equal(t, "apis-cp", dep.Get("metadata.name"))
	assert.Equal(t, "wso2/wso2am:4.6.0-alpine", dep.Get(c+".image"))
	assert.Equal(t, "4.6.0-alpine", dep.Get("metadata.labels[app.kubernetes.io/version]"))
	assert.Equal(t, 0.0, dep.Get("spec.minReadySeconds"), "an explicit 0 is kept")
	assert.Equal(t, "-Xms1024m -Xmx1024m", harness.Env(t, dep, c)["JVM_MEM_OPTS"])
	assert.Equal(t, "apis", dep.Get("spec.template.metadata.labels.team"))
	assert.Nil(t, dep.Get("spec.selector.matchLabels.team"), "pod labels never reach the selector")
	mounts, _ := dep.Get(c + ".volumeMounts").([]any)
	assert.Contains(t, mounts, map[string]any{"name": "shared-0", "subPath": "tenants", "mountPath": "/home/wso2carbon/wso2am-4.6.0/repository/tenants"},
		"into the server home derived from the image")
	assert.Equal(t, "apim-shared", dep.Get("spec.template.spec.volumes.2.persistentVolumeClaim.claimName"))
	assert.Equal(t, "node-config", dep.Get("spec.template.spec.initContainers.0.name"))
	ie := harness.Env(t, dep, "spec.template.spec.initContainers.1")
	assert.Equal(t, "https://mirror.local/cj.jar", ie["JDBC_DRIVER_URL"])
	assert.Equal(t, strings.Repeat("ab", 32), ie["JDBC_DRIVER_SHA256"])
	assert.Equal(t, "mirror.local/busybox:1", dep.Get("spec.template.spec.initContainers.1.image"))
	assert.Equal(t, `{"ingress":true}`, g.Find(harness.TypeService, "cp").Get("metadata.annotations[cloud.google.com/neg]"))
	assert.Equal(t, map[string]any{"role": "gw"}, g.Find(harness.TypeNetworkPolicy, "cp").Get("spec.ingress.0.from.1.podSelector.matchLabels"))
	assert.Contains(t, cp.TOMLs[0], `service_url = "https://apis-gw:9443/services/"`)
}

// Given both an existing Secret's keys and the values, the values would land in a Secret the
// pods never read: the control plane refuses the combination before registering anything.
func TestControlPlaneRefusesCredentialsTogetherWithValues(t *testing.T) {
	a := aloneControlPlane()
	a.Credentials = apim.Credentials{
		AdminPassword: kube.SecretRef{Name: "admin", Key: "password"},
		EncryptionKey: kube.SecretRef{Name: "crypto", Key: "key"},
	}
	err := harness.RefusedBy(t, func(ctx *pulumi.Context) error {
		_, err := apim.NewControlPlane(ctx, "cp", a)
		return err
	})
	assert.EqualError(t, err, `apim control plane "cp": Credentials names existing Secrets, so AdminPassword and EncryptionKey must be left out (or set them and leave Credentials out)`)

	// Credentials alone (an existing Secret) is fine, and no Secret is made.
	a.AdminPassword, a.EncryptionKey = nil, nil
	g, _ := runControlPlane(t, a)
	assert.Empty(t, g.OfType(harness.TypeSecret))
	env := harness.Env(t, g.Find(harness.TypeStatefulSet, "cp"), "spec.template.spec.containers.0")
	assert.Equal(t, "secret:crypto/key", env["WSO2_ENCRYPTION_KEY"])
}

func TestGatewayAlone(t *testing.T) {
	g, gw := runGateway(t, aloneGateway())
	assert.ElementsMatch(t, []string{
		harness.TypeConfigMap + " gw-conf", harness.TypeService + " gw", harness.TypeDeployment + " gw", harness.TypePDB + " gw", harness.TypeHPA + " gw", harness.TypeNetworkPolicy + " gw",
	}, harness.Children(t, g, typeGateway), "no Secret: the control plane's credentials are used")
	assert.Equal(t, "apim-gw", gw.Service, "default name")

	dep := assertWorkload(t, g, "gw", "apim-gw", "wso2/wso2am-universal-gw:4.7.0", []string{gw.TOML}, false)
	assert.Nil(t, dep.Get("spec.replicas"), "the autoscaler owns the count")
	assert.Equal(t, "gateway", dep.Get("metadata.labels[app.kubernetes.io/component]"))
	assert.Equal(t, map[string]float64{
		"https": 9443, "http": 9763, "gw-https": 8243, "gw-http": 8280,
		"websocket-http": 9099, "websocket-https": 8099, "websub-http": 9021, "websub-https": 8021,
	}, portNumbers(t, g.Find(harness.TypeService, "gw"), "spec.ports"))
	assert.Contains(t, gw.TOML, `event_listening_endpoints = ["tcp://apim-cp-0.apim-cp-nodes:5672"]`, "the default control plane's one node")

	hpa := g.Find(harness.TypeHPA, "gw")
	assert.Equal(t, "apim-gw", hpa.Get("metadata.name"))
	assert.Equal(t, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "apim-gw"}, hpa.Get("spec.scaleTargetRef"))
	assert.True(t, g.DependsOn(hpa, dep))
	assert.Equal(t, 1.0, hpa.Get("spec.minReplicas"), "the article's numbers")
	assert.Equal(t, 2.0, hpa.Get("spec.maxReplicas"))
	assert.Equal(t, 70.0, hpa.Get("spec.metrics.0.resource.target.averageUtilization"))
	assert.Equal(t, "cpu", hpa.Get("spec.metrics.0.resource.name"))
	assert.Equal(t, 300.0, hpa.Get("spec.behavior.scaleDown.stabilizationWindowSeconds"))
	assert.Equal(t, 0.0, hpa.Get("spec.behavior.scaleUp.stabilizationWindowSeconds"))

	np := g.Find(harness.TypeNetworkPolicy, "gw")
	cpPods := []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "apim-cp", "app.kubernetes.io/component": "control-plane"}}}}
	assert.Equal(t, cpPods, np.Get("spec.ingress.0.from"), "the control plane deploys APIs on the admin port")
	assert.Equal(t, []any{9443.0}, ports(np.Get("spec.ingress.0.ports")))
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{}}}}, np.Get("spec.ingress.1.from"))
	assert.Equal(t, []any{9443.0, 8243.0, 8280.0, 9099.0, 8099.0, 9021.0, 8021.0}, ports(np.Get("spec.ingress.1.ports")), "every listener")
	assert.Equal(t, cpPods, np.Get("spec.egress.0.to"))
	assert.Equal(t, []any{9443.0, 9611.0, 9711.0, 5672.0}, ports(np.Get("spec.egress.0.ports")), "key manager, traffic manager, event hub")
	assert.Equal(t, []any{443.0}, ports(np.Get("spec.egress.1.ports")), "the JDBC driver")
	assert.Len(t, np.Get("spec.egress"), 2)
}

func TestGatewayArgsAreApplied(t *testing.T) {
	a := aloneGateway()
	a.Name, a.ControlPlaneService = "apis-gw", "apis-cp"
	a.MinReplicas, a.MaxReplicas, a.CPUTargetPercent, a.ScaleDownStabilizationSeconds = 2, 10, 60, intp(0)
	a.Analytics = apim.Analytics{Type: apim.AnalyticsMoesif, MoesifKey: kube.SecretRef{Name: "apim-cp-credentials", Key: apim.MoesifSecretKey}}
	a.LogsVolume = "logs"
	a.Clients = []kube.Peer{{CIDR: "35.191.0.0/16"}}
	a.Egress = []kube.Rule{{Peers: []kube.Peer{{Pods: map[string]string{"app": "echo"}}}, Ports: kube.TCP(5678)}}
	a.JDBCDriver.URL = "http://mirror.internal:8080/cj.jar"
	a.JDBCDriver.SHA256 = strings.Repeat("cd", 32) // plain http needs a pin
	g, gw := runGateway(t, a)
	assert.Equal(t, "apis-gw", gw.Service)
	hpa := g.Find(harness.TypeHPA, "gw")
	assert.Equal(t, 2.0, hpa.Get("spec.minReplicas"))
	assert.Equal(t, 10.0, hpa.Get("spec.maxReplicas"))
	assert.Equal(t, 60.0, hpa.Get("spec.metrics.0.resource.target.averageUtilization"))
	assert.Equal(t, 0.0, hpa.Get("spec.behavior.scaleDown.stabilizationWindowSeconds"), "an explicit 0 is kept")
	assert.Equal(t, "apis-gw", hpa.Get("spec.scaleTargetRef.name"))
	dep := g.Find(harness.TypeDeployment, "gw")
	assert.Equal(t, "secret:apim-cp-credentials/moesif-key", harness.Env(t, dep, "spec.template.spec.containers.0")["WSO2_MOESIF_KEY"])
	mounts, _ := dep.Get("spec.template.spec.containers.0.volumeMounts").([]any)
	assert.Contains(t, mounts, map[string]any{"name": "logs", "mountPath": "/home/wso2carbon/wso2am-universal-gw-4.7.0/repository/logs"})
	assert.Contains(t, gw.TOML, `event_listening_endpoints = ["tcp://apis-cp-0.apis-cp-nodes:5672"]`)

	np := g.Find(harness.TypeNetworkPolicy, "gw")
	assert.Equal(t, []any{map[string]any{"ipBlock": map[string]any{"cidr": "35.191.0.0/16"}}}, np.Get("spec.ingress.1.from"), "the clients given")
	assert.Equal(t, "apis-cp", np.Get("spec.egress.0.to.0.podSelector.matchLabels[app.kubernetes.io/name]"))
	assert.Equal(t, []any{8080.0}, ports(np.Get("spec.egress.1.ports")), "the mirror's port")
	assert.Equal(t, []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "echo"}}}}, np.Get("spec.egress.2.to"), "Egress is added")
}

func TestControlPlaneRefusesBadArgsBeforeRegistering(t *testing.T) {
	const all = "args: Namespace, Credentials, Database, Keystores, ManagementHostname, GatewayHostname required"
	cases := []harness.Refusal[*apim.ControlPlaneArgs]{
		{"nil args", nil, `apim control plane "cp": args are required`},
		{"nothing set", &apim.ControlPlaneArgs{}, `apim control plane "cp": ` + all},
		{"an admin password without an encryption key", func() *apim.ControlPlaneArgs {
			a := aloneControlPlane()
			a.EncryptionKey = nil
			return a
		}(), `apim control plane "cp": args: Credentials required`},
		{"a database without its password's Secret", func() *apim.ControlPlaneArgs {
			a := aloneControlPlane()
			a.Database.Password = kube.SecretRef{}
			return a
		}(), `apim control plane "cp": args: Database required`},
		{"bad values and missing ones at once", &apim.ControlPlaneArgs{
			Workload: apim.Workload{HeapMB: 100},
			Shared:   apim.Shared{AdminUsername: "ad", JDBCDriver: apim.JDBCDriver{Version: "9"}},
		}, `apim control plane "cp": heapMb: 100 is not valid; want 512 or more (MiB); ` +
			`AdminUsername: "ad" is not valid; want 3-30 letters, digits, '.', '_', '@' or '-', starting with a letter; ` +
			`JDBCDriver.version: "9" is not valid; want a Connector/J version such as 9.1.0; ` + all},
	}
	harness.ExpectRefusals(t, apim.NewControlPlane, "cp", cases)
}

func TestGatewayRefusesBadArgsBeforeRegistering(t *testing.T) {
	cases := []harness.Refusal[*apim.GatewayArgs]{
		{"nil args", nil, `apim gateway "gw": args are required`},
		{"nothing set", &apim.GatewayArgs{},
			`apim gateway "gw": args: Namespace, Credentials, Database, Keystores, ManagementHostname, GatewayHostname required`},
		{"no credentials", &apim.GatewayArgs{Shared: aloneShared()}, `apim gateway "gw": args: Credentials required`},
		{"autoscaler bounds and a placeholder driver", func() *apim.GatewayArgs {
			a := aloneGateway()
			a.MinReplicas, a.MaxReplicas = 3, 3
			a.JDBCDriver.URL = "https://repo.example.com/cj.jar"
			return a
		}(), `apim gateway "gw": maxReplicas: 3 is not greater than minReplicas (3); the autoscaler needs room to scale; ` +
			`JDBCDriver.url: "https://repo.example.com/cj.jar" is a placeholder (repo.example.com is a documentation domain); ` +
			`set your mirror's URL, or remove the setting to download from Maven Central`},
	}
	harness.ExpectRefusals(t, apim.NewGateway, "gw", cases)
}

func TestWorkloadValidate(t *testing.T) {
	cases := []harness.Validation[apim.Workload]{
		{"defaults", apim.Workload{}, ""},
		{"image valid", apim.Workload{Image: "mirror.local/wso2/wso2am:4.7.0-rocky"}, ""},
		{"image", apim.Workload{Image: "wso2/wso2am 4.7.0", ServerHome: "/opt/wso2am"},
			`apim.image: "wso2/wso2am 4.7.0" is not valid; want an image reference such as wso2/wso2am:4.7.0`},
		{"server home missing", apim.Workload{Image: "wso2/wso2am:latest"},
			`apim.serverHome: missing; the product directory cannot be read from image "wso2/wso2am:latest" (pinned by digest, or a tag without a version): set apim.serverHome to the directory inside the image, e.g. /home/wso2carbon/wso2am-4.7.0`},
		{"server home set for an unversioned image", apim.Workload{Image: "wso2/wso2am:latest", ServerHome: "/opt/wso2am"}, ""},
		{"server home relative", apim.Workload{ServerHome: "opt/wso2am"},
			`apim.serverHome: "opt/wso2am" is not valid; want an absolute path without spaces or quotes`},
		{"server home with a space", apim.Workload{ServerHome: "/opt/wso2 am"},
			`apim.serverHome: "/opt/wso2 am" is not valid; want an absolute path without spaces or quotes`},
		{"server home with a dollar", apim.Workload{ServerHome: "/opt/$HOME"},
			`apim.serverHome: "/opt/$HOME" is not valid; want an absolute path without spaces or quotes`},
		{"resources", apim.Workload{Resources: kube.Resources{Requests: kube.Compute{Memory: "4Gi"}}},
			"apim.resources.requests.memory: 4Gi is above apim.resources.limits.memory (3Gi); want requests <= limits"},
		{"heap at the minimum", apim.Workload{HeapMB: 512}, ""},
		{"heap below the minimum", apim.Workload{HeapMB: 511}, "apim.heapMb: 511 is not valid; want 512 or more (MiB)"},
		{"heap at 75% of the limit", apim.Workload{HeapMB: 2304}, ""},
		{"heap above 75% of the limit", apim.Workload{HeapMB: 2305},
			"apim.heapMb: 2305 MiB does not fit apim.resources.limits.memory (3Gi); want at most 2304 MiB (75%), leaving room for metaspace, threads and buffers"},
		{"min ready 0", apim.Workload{MinReadySeconds: intp(0)}, ""},
		{"min ready", apim.Workload{MinReadySeconds: intp(-1)}, "apim.minReadySeconds: -1 is not valid; want 0 or more"},
	}
	harness.ExpectProblems(t, validateWorkload, cases)
}

// validateWorkload validates a workload as the control plane does, after its defaults.
func validateWorkload(w apim.Workload) []string {
	return apim.ControlPlaneArgs{Workload: w}.WithDefaults().Workload.Validate("apim")
}

func TestGatewayValidate(t *testing.T) {
	cases := []harness.Validation[apim.GatewayArgs]{
		{"defaults", apim.GatewayArgs{}, ""},
		{"a workload rule applies", apim.GatewayArgs{Workload: apim.Workload{HeapMB: 100}}, "gateway.heapMb: 100 is not valid; want 512 or more (MiB)"},
		{"min replicas", apim.GatewayArgs{MinReplicas: -1}, "gateway.minReplicas: -1 is not valid; want 1 or more"},
		{"max replicas equal to min", apim.GatewayArgs{MinReplicas: 2, MaxReplicas: 2},
			"gateway.maxReplicas: 2 is not greater than gateway.minReplicas (2); the autoscaler needs room to scale"},
		{"max replicas below min", apim.GatewayArgs{MinReplicas: 3},
			"gateway.maxReplicas: 2 is not greater than gateway.minReplicas (3); the autoscaler needs room to scale"},
		{"CPU target bounds", apim.GatewayArgs{CPUTargetPercent: 100}, ""},
		{"CPU target", apim.GatewayArgs{CPUTargetPercent: 101}, "gateway.cpuTargetPercent: 101 is not valid; want 1 to 100"},
		{"negative CPU target", apim.GatewayArgs{CPUTargetPercent: -5}, "gateway.cpuTargetPercent: -5 is not valid; want 1 to 100"},
		{"scale-down window bounds", apim.GatewayArgs{ScaleDownStabilizationSeconds: intp(3600)}, ""},
		{"scale-down window", apim.GatewayArgs{ScaleDownStabilizationSeconds: intp(3601)},
			"gateway.scaleDownStabilizationSeconds: 3601 is not valid; want 0 to 3600"},
		{"negative scale-down window", apim.GatewayArgs{ScaleDownStabilizationSeconds: intp(-1)},
			"gateway.scaleDownStabilizationSeconds: -1 is not valid; want 0 to 3600"},
	}
	harness.ExpectProblems(t, func(a apim.GatewayArgs) []string { return a.WithDefaults().Validate("gateway") }, cases)
}

func TestJDBCDriverValidate(t *testing.T) {
	const key = "apim.jdbcDriver"
	cases := []harness.Validation[apim.JDBCDriver]{
		{"defaults", apim.JDBCDriver{}, ""},
		{"a mirror with a pin", apim.JDBCDriver{URL: "https://mirror.corp.io/cj-9.1.0.jar", SHA256: strings.Repeat("0a", 32)}, ""},
		{"version", apim.JDBCDriver{Version: "9.1"}, `apim.jdbcDriver.version: "9.1" is not valid; want a Connector/J version such as 9.1.0`},
		{"url scheme", apim.JDBCDriver{URL: "ftp://mirror.local/cj.jar"},
			`apim.jdbcDriver.url: "ftp://mirror.local/cj.jar" is not valid; want the http(s) URL of mysql-connector-j-<version>.jar, or nothing for Maven Central's`},
		{"url without a host", apim.JDBCDriver{URL: "https:///cj.jar"},
			`apim.jdbcDriver.url: "https:///cj.jar" is not valid; want the http(s) URL of mysql-connector-j-<version>.jar, or nothing for Maven Central's`},
		{"url placeholder", apim.JDBCDriver{URL: "https://repo.example.org/cj.jar"},
			`apim.jdbcDriver.url: "https://repo.example.org/cj.jar" is a placeholder (repo.example.org is a documentation domain); set your mirror's URL, or remove the setting to download from Maven Central`},
		{"url placeholder .invalid", apim.JDBCDriver{URL: "https://mirror.invalid/cj.jar"},
			`apim.jdbcDriver.url: "https://mirror.invalid/cj.jar" is a placeholder (mirror.invalid is a documentation domain); set your mirror's URL, or remove the setting to download from Maven Central`},
		{"url merely containing example", apim.JDBCDriver{URL: "https://myexample.com/cj.jar"}, ""},
		{"url with a space", apim.JDBCDriver{URL: "https://mirror.local/c j.jar"},
			`apim.jdbcDriver.url: "https://mirror.local/c j.jar" is not valid; want a URL without quotes, spaces, '$' or backslashes`},
		{"url with a quote", apim.JDBCDriver{URL: "https://mirror.local/c'j.jar"},
			`apim.jdbcDriver.url: "https://mirror.local/c'j.jar" is not valid; want a URL without quotes, spaces, '$' or backslashes`},
		{"url with a dollar", apim.JDBCDriver{URL: "https://mirror.local/$x.jar"},
			`apim.jdbcDriver.url: "https://mirror.local/$x.jar" is not valid; want a URL without quotes, spaces, '$' or backslashes`},
		{"sha256 placeholder", apim.JDBCDriver{SHA256: strings.Repeat("0", 64)},
			`apim.jdbcDriver.sha256: "` + strings.Repeat("0", 64) + `" is a placeholder; set the jar's real sha256 (see docs/configuration.md: tools/pin-jdbc-driver.sh), or remove the setting to verify against the repository's checksum file`},
		{"sha256 upper case", apim.JDBCDriver{SHA256: strings.Repeat("AB", 32)},
			`apim.jdbcDriver.sha256: "` + strings.Repeat("AB", 32) + `" is not valid; want 64 lower-case hex characters`},
		{"sha256 short", apim.JDBCDriver{SHA256: "abc"}, `apim.jdbcDriver.sha256: "abc" is not valid; want 64 lower-case hex characters`},
		{"image", apim.JDBCDriver{Image: "busy box"}, `apim.jdbcDriver.image: "busy box" is not valid; want an image reference such as wso2/wso2am:4.7.0`},
		{"plain http without a pin", apim.JDBCDriver{URL: "http://mirror.local/cj.jar"},
			`apim.jdbcDriver.sha256: missing; http://mirror.local/cj.jar is plain http, so only a pinned sha256 can vouch for the jar: run tools/pin-jdbc-driver.sh <stack>, or use an https URL`},
		{"plain http pinned", apim.JDBCDriver{URL: "http://mirror.local/cj.jar", SHA256: strings.Repeat("ab", 32)}, ""},
	}
	harness.ExpectProblems(t, func(d apim.JDBCDriver) []string { return d.WithDefaults().Validate(key) }, cases)
}

// The sha256 placeholder message sends users to a script; it must exist.
func TestPinScriptNamedByTheMessageExists(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "tools", "pin-jdbc-driver.sh"))
	assert.NoError(t, err)
}

func TestValidateAdminUsername(t *testing.T) {
	const want = "is not valid; want 3-30 letters, digits, '.', '_', '@' or '-', starting with a letter"
	for _, ok := range []string{"admin", "ops.admin@corp", "a_b-c", "abc", "a" + strings.Repeat("b", 29)} {
		assert.Empty(t, apim.ValidateAdminUsername("apim.adminUsername", ok), ok)
	}
	for _, bad := range []string{"ad", "1admin", "ad min", `ad"min`, "a" + strings.Repeat("b", 30)} {
		assert.Equal(t, []string{"apim.adminUsername: " + strconv.Quote(bad) + " " + want}, []string(apim.ValidateAdminUsername("apim.adminUsername", bad)), bad)
	}
	assert.Empty(t, apim.ValidateAdminUsername("apim.adminUsername", ""), "empty means the default")
}

func TestControlPlaneWithDefaults(t *testing.T) {
	a := apim.ControlPlaneArgs{AdminPassword: pulumi.String("x"), EncryptionKey: pulumi.String("y")}.WithDefaults()
	assert.Equal(t, "apim-cp", a.Name)
	assert.Equal(t, "wso2/wso2am:4.7.0", a.Image)
	assert.Equal(t, "/home/wso2carbon/wso2am-4.7.0", a.ServerHome)
	assert.Equal(t, kube.Resources{Requests: kube.Compute{CPU: "2", Memory: "2Gi", EphemeralStorage: "2Gi"},
		Limits: kube.Compute{CPU: "3", Memory: "3Gi", EphemeralStorage: "8Gi"}}, a.Resources)
	assert.Equal(t, 2048, a.HeapMB)
	assert.Equal(t, 30, *a.MinReadySeconds)
	assert.Equal(t, "admin", a.AdminUsername)
	assert.Equal(t, 3306, a.Database.Port)
	assert.Equal(t, "", a.JDBCDriver.Image, "the workload's own image")
	assert.Equal(t, "9.1.0", a.JDBCDriver.Version)
	assert.Equal(t, apim.DefaultJDBCDriverSHA256, a.JDBCDriver.SHA256, "the default jar is pinned")
	other := apim.JDBCDriver{Version: "9.2.0"}.WithDefaults()
	assert.Equal(t, "", other.SHA256, "another version must be pinned by its owner")
	mirror := apim.JDBCDriver{URL: "https://mirror.local/com/mysql/mysql-connector-j/9.1.0/mysql-connector-j-9.1.0.jar"}.WithDefaults()
	assert.Equal(t, "", mirror.SHA256, "so must a mirror's copy")
	assert.Equal(t, "REQUIRED", a.Database.SSLMode, "JDBC over TLS")
	assert.Equal(t, "apim-gw", a.GatewayService)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "apim-gw", "app.kubernetes.io/component": "gateway"}, a.GatewaySelector)
	// The Secret for the values is named when NewControlPlane creates it, not as a default: a
	// caller resolves its args before it has the values (the Platform generates them later).
	assert.Equal(t, apim.Credentials{}, a.Credentials)
	assert.Equal(t, apim.Credentials{
		AdminPassword: kube.SecretRef{Name: "apim-cp-credentials", Key: "admin-password"},
		EncryptionKey: kube.SecretRef{Name: "apim-cp-credentials", Key: "encryption-key"},
	}, apim.CredentialsSecret(a.Name))
	sel := apim.ControlPlaneArgs{GatewayService: "edge"}.WithDefaults()
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "edge", "app.kubernetes.io/component": "gateway"}, sel.GatewaySelector,
		"the selector follows the gateway Service")
}

func TestSharedEndpoints(t *testing.T) {
	s := apim.Shared{GatewayHostname: "gw.example.com"}.WithDefaults()
	// No host of their own: the listeners themselves, each on its scheme.
	assert.Equal(t, "ws://gw.example.com:9099", s.WSEndpoint())
	assert.Equal(t, "wss://gw.example.com:8099", s.WSSEndpoint())
	assert.Equal(t, "http://gw.example.com:9021", s.WebSubHTTPEndpoint())
	assert.Equal(t, "https://gw.example.com:8021", s.WebSubHTTPSEndpoint())
	// Behind a TLS edge: only the secure URLs, which the edge serves (it redirects the plain
	// ones, and WebSocket clients do not follow a redirect).
	s.WebSocketHostname, s.WebSubHostname = "ws.example.com", "hooks.example.com"
	assert.Equal(t, "https://gw.example.com", s.HTTPEndpoint())
	assert.Equal(t, "https://gw.example.com", s.HTTPSEndpoint())
	assert.Equal(t, "wss://ws.example.com", s.WSEndpoint())
	assert.Equal(t, "wss://ws.example.com", s.WSSEndpoint())
	assert.Equal(t, "https://hooks.example.com", s.WebSubHTTPEndpoint())
	assert.Equal(t, "https://hooks.example.com", s.WebSubHTTPSEndpoint())
	// Behind a plain-HTTP edge: only the plain URLs, never an https one nobody serves.
	s.EdgeScheme = "http"
	assert.Equal(t, "http://gw.example.com", s.HTTPSEndpoint())
	assert.Equal(t, "ws://ws.example.com", s.WSSEndpoint())
	assert.Equal(t, "http://hooks.example.com", s.WebSubHTTPSEndpoint())
}

// ports lists the port numbers of a NetworkPolicy rule's ports.
func ports(v any) []any {
	var out []any
	for _, p := range v.([]any) {
		out = append(out, p.(map[string]any)["port"])
	}
	return out
}

// Two nodes, active-active: a StatefulSet of two whose nodes resolve by name from the start
// (a headless Service that publishes them before they are ready), each starting with its own
// deployment.toml, a disruption budget that keeps one serving, and replicas spread over nodes.
func TestControlPlaneActiveActive(t *testing.T) {
	a := aloneControlPlane()
	a.Replicas = 2
	a.NodeSpread = kube.SpreadNodesRequired
	g, cp := runControlPlane(t, a)
	assert.Equal(t, []string{"apim-cp-0.apim-cp-nodes", "apim-cp-1.apim-cp-nodes"}, cp.Nodes)
	require.Len(t, cp.TOMLs, 2)
	assert.Contains(t, cp.TOMLs[0], `event_duplicate_url = ["tcp://apim-cp-1.apim-cp-nodes:5672"]`)
	assert.Contains(t, cp.TOMLs[1], `event_duplicate_url = ["tcp://apim-cp-0.apim-cp-nodes:5672"]`)
	sts := assertWorkload(t, g, "cp", "apim-cp", "wso2/wso2am:4.7.0", cp.TOMLs, true)
	assert.Equal(t, 2.0, sts.Get("spec.replicas"))

	nodes := g.Find(harness.TypeService, "cp-nodes")
	require.NotNil(t, nodes)
	assert.Equal(t, "apim-cp-nodes", nodes.Get("metadata.name"))
	assert.Equal(t, "None", nodes.Get("spec.clusterIP"))
	assert.Equal(t, true, nodes.Get("spec.publishNotReadyAddresses"), "nodes reach each other's brokers while starting")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "apim-cp", "app.kubernetes.io/component": "control-plane"}, nodes.Get("spec.selector"))

	init := "spec.template.spec.initContainers.0"
	assert.Equal(t, "node-config", sts.Get(init+".name"))
	assert.Equal(t, []any{"sh", "-c", apim.NodeConfigScript}, sts.Get(init+".command"))
	assert.Equal(t, map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}},
		sts.Get(init+".env.0"))
	spread := sts.Get("spec.template.spec.topologySpreadConstraints").([]any)
	require.Len(t, spread, 2)
	assert.Equal(t, "ScheduleAnyway", spread[0].(map[string]any)["whenUnsatisfiable"], "zones: a lost zone must not block rescheduling")
	assert.Equal(t, "DoNotSchedule", spread[1].(map[string]any)["whenUnsatisfiable"], "nodes: never two on one")
	assert.Equal(t, 1.0, g.Find(harness.TypePDB, "cp").Get("spec.maxUnavailable"), "a drain takes one node at a time")

	for _, bad := range []int{-1, apim.MaxControlPlaneReplicas + 1} {
		a := aloneControlPlane()
		a.Replicas = bad
		err := harness.RefusedBy(t, func(ctx *pulumi.Context) error { _, err := apim.NewControlPlane(ctx, "cp", a); return err })
		assert.ErrorContains(t, err, fmt.Sprintf("replicas: %d is not valid; want 1 to 5", bad))
	}
}
