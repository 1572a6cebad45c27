package tests

import (
	"encoding/json"
	"github.com/wso2-k8s/apim-gke/components/platform"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeIngress = "kubernetes:networking.k8s.io/v1:Ingress"

// rules maps each Ingress rule's host to "service:port".
func rules(t *testing.T, ings ...*harness.Resource) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ing := range ings {
		for _, r := range ing.Get("spec.rules").([]any) {
			rule := r.(map[string]any)
			path := rule["http"].(map[string]any)["paths"].([]any)[0].(map[string]any)
			svc := path["backend"].(map[string]any)["service"].(map[string]any)
			out[rule["host"].(string)] = svc["name"].(string) + ":" + jsonNumber(svc["port"].(map[string]any)["number"])
		}
	}
	return out
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestGKEIngress(t *testing.T) {
	for stack, domain := range map[string]string{"dev": "dev.apim.example.com", "prod": "apim.example.com"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			ing := g.Find(typeIngress, "apim-ingress")
			require.NotNil(t, ing)
			assert.Equal(t, map[string]string{"am." + domain: "apim-cp:9443", "gw." + domain: "apim-gw:8243",
				"ws." + domain: "apim-gw:8099", "websub." + domain: "apim-gw:8021",
				"dashboards." + domain: "opensearch-dashboards:5601"}, rules(t, ing))
			assert.Equal(t, "gce", ing.Get("metadata.annotations[kubernetes.io/ingress.class]"))
			addr := g.Find("gcp:compute/globalAddress:GlobalAddress", "apim-ingress")
			require.NotNil(t, addr)
			assert.Equal(t, "apim-ingress", ing.Get("metadata.annotations[kubernetes.io/ingress.global-static-ip-name]"), "the reserved address by name")
			assert.True(t, g.DependsOn(ing, addr))
			assert.Equal(t, "apim-ingress-frontend", ing.Get("metadata.annotations[networking.gke.io/v1beta1.FrontendConfig]"))
			fe := g.Find("kubernetes:networking.gke.io/v1beta1:FrontendConfig", "apim-ingress-frontend")
			require.NotNil(t, fe)
			assert.Equal(t, true, fe.Get("spec.redirectToHttps.enabled"), "HTTP redirects to HTTPS")
			assert.Equal(t, "apim-ingress-cert", ing.Get("metadata.annotations[networking.gke.io/managed-certificates]"))
			cert := g.Find("kubernetes:networking.gke.io/v1:ManagedCertificate", "apim-ingress-cert")
			require.NotNil(t, cert)
			assert.Equal(t, []any{"am." + domain, "gw." + domain, "ws." + domain, "websub." + domain, "dashboards." + domain}, cert.Get("spec.domains"))
			dash := g.Find("kubernetes:cloud.google.com/v1:BackendConfig", "apim-ingress-opensearch-dashboards-http-lb")
			require.NotNil(t, dash)
			assert.Equal(t, "HTTP", dash.Get("spec.healthCheck.type"))

			mgmt := g.Find("kubernetes:cloud.google.com/v1:BackendConfig", "apim-ingress-apim-cp-https-lb")
			require.NotNil(t, mgmt)
			assert.Equal(t, "HTTPS", mgmt.Get("spec.healthCheck.type"))
			assert.Equal(t, "/api/am/gateway/v2/server-startup-healthcheck", mgmt.Get("spec.healthCheck.requestPath"))
			assert.Equal(t, 9443.0, mgmt.Get("spec.healthCheck.port"))
			assert.Equal(t, "GENERATED_COOKIE", mgmt.Get("spec.sessionAffinity.affinityType"), "portal login needs affinity")
			gwbc := g.Find("kubernetes:cloud.google.com/v1:BackendConfig", "apim-ingress-apim-gw-gw-https-lb")
			require.NotNil(t, gwbc)
			assert.Nil(t, gwbc.Get("spec.sessionAffinity"), "API traffic spreads over all gateways")
			assert.Equal(t, 9443.0, gwbc.Get("spec.healthCheck.port"))
			assert.Equal(t, 300.0, gwbc.Get("spec.timeoutSec"))
			ws := g.Find("kubernetes:cloud.google.com/v1:BackendConfig", "apim-ingress-apim-gw-websocket-https-lb")
			require.NotNil(t, ws)
			assert.Equal(t, 3600.0, ws.Get("spec.timeoutSec"), "a WebSocket connection lives as long as the backend timeout")
			assert.Equal(t, "/api/am/gateway/v2/server-startup-healthcheck", ws.Get("spec.healthCheck.requestPath"))

			cp := g.Find(typeService, "apim-cp")
			assert.JSONEq(t, `{"https":"HTTPS"}`, cp.String("metadata.annotations[cloud.google.com/app-protocols]"))
			assert.JSONEq(t, `{"ports":{"https":"apim-cp-https-lb"}}`, cp.String("metadata.annotations[cloud.google.com/backend-config]"))
			gw := g.Find(typeService, "apim-gw")
			assert.JSONEq(t, `{"gw-https":"HTTPS","websocket-https":"HTTPS","websub-https":"HTTPS"}`, gw.String("metadata.annotations[cloud.google.com/app-protocols]"))
			assert.JSONEq(t, `{"ports":{"gw-https":"apim-gw-gw-https-lb","websocket-https":"apim-gw-websocket-https-lb","websub-https":"apim-gw-websub-https-lb"}}`,
				gw.String("metadata.annotations[cloud.google.com/backend-config]"))
			for _, s := range []*harness.Resource{cp, gw} {
				assert.JSONEq(t, `{"ingress":true}`, s.String("metadata.annotations[cloud.google.com/neg]"), s.Name)
			}
		})
	}
}

func TestIngressOnAnExistingCluster(t *testing.T) {
	g := run(t, "local", nil)
	mgmt, gw := g.Find(typeIngress, "apim-ingress-am"), g.Find(typeIngress, "apim-ingress-gw")
	require.NotNil(t, mgmt)
	require.NotNil(t, gw)
	assert.Equal(t, map[string]string{"am.apim.localtest.me": "apim-cp:9443", "gw.apim.localtest.me": "apim-gw:8243"}, rules(t, mgmt, gw))
	ws := g.Find(typeIngress, "apim-ingress-ws")
	require.NotNil(t, ws)
	assert.Equal(t, map[string]string{"ws.apim.localtest.me": "apim-gw:8099"}, rules(t, ws))
	assert.Equal(t, "3600", ws.Get("metadata.annotations[nginx.ingress.kubernetes.io/proxy-read-timeout]"), "WebSocket connections stay open")
	dash := g.Find(typeIngress, "apim-ingress-dashboards")
	require.NotNil(t, dash)
	assert.Equal(t, map[string]string{"dashboards.apim.localtest.me": "opensearch-dashboards:5601"}, rules(t, dash))
	assert.Nil(t, dash.Get("metadata.annotations[nginx.ingress.kubernetes.io/backend-protocol]"), "Dashboards speaks HTTP")
	for _, ing := range []*harness.Resource{mgmt, gw} {
		assert.Equal(t, "nginx", ing.Get("spec.ingressClassName"))
		assert.Equal(t, "HTTPS", ing.Get("metadata.annotations[nginx.ingress.kubernetes.io/backend-protocol]"))
		assert.Equal(t, "true", ing.Get("metadata.annotations[pulumi.com/skipAwait]"), "the local stack documents that nothing will assign an address")
	}
	assert.Equal(t, "cookie", mgmt.Get("metadata.annotations[nginx.ingress.kubernetes.io/affinity]"))
	assert.Nil(t, gw.Get("metadata.annotations[nginx.ingress.kubernetes.io/affinity]"))
	assert.Empty(t, g.WithPrefix("kubernetes:cloud.google.com"))
	assert.Nil(t, g.Find(typeService, "apim-cp").Get("metadata.annotations"), "no GKE annotations off GKE")

	withTLS := run(t, "local", map[string]any{"ingress.tls": "secret", "ingress.tlsSecretName": "apim-tls"})
	assert.Equal(t, "apim-tls", withTLS.Find(typeIngress, "apim-ingress-am").Get("spec.tls.0.secretName"))
}

func TestIngressValidation(t *testing.T) {
	_, err := harness.Run(stacksProgram, "local", harness.Options{Set: map[string]any{"ingress.tls": "managed"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ingress.tls: "managed" needs GKE's load balancer (Google-managed certificates); use secret or self-signed`)
	_, err = harness.Run(stacksProgram, "dev", harness.Options{Set: map[string]any{"ingress.tls": "secret"},
		Secrets: without(without(harness.TestSecrets, "ingressTlsCertificate"), "ingressTlsKey")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ingress.tlsSecretName: missing; ingress.tls secret needs an existing kubernetes.io/tls Secret's name, or the ingressTlsCertificate and ingressTlsKey secrets")
	_, err = harness.Run(stacksProgram, "dev", harness.Options{Set: map[string]any{"ingress.tls": "secret"},
		Secrets: with(harness.TestSecrets, "ingressTlsKey", "not a key")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ingressTlsKey: the value is not PEM; want the -----BEGIN ...----- text of the file")
}

func TestIngressTLSFromConfigSecrets(t *testing.T) {
	g := run(t, "local", map[string]any{"ingress.tls": "secret"})
	secret := g.Find(typeSecret, "apim-ingress-tls")
	require.NotNil(t, secret)
	assert.Equal(t, "kubernetes.io/tls", secret.Get("type"))
	assert.True(t, secret.IsSecret("stringData.tls.crt"))
	assert.True(t, secret.IsSecret("stringData.tls.key"))
	assert.Equal(t, "apim-ingress-tls", g.Find(typeIngress, "apim-ingress-gw").Get("spec.tls.0.secretName"))
}

func TestSamplePublisherJob(t *testing.T) {
	g := run(t, "dev", nil)
	job := g.Find("kubernetes:batch/v1:Job", "apim-publish-hello")
	require.NotNil(t, job)
	assert.Nil(t, job.Get("metadata.name"), "auto-named, so an input change creates a new Job that runs again")
	c := "spec.template.spec.containers.0."
	assert.Equal(t, "python:3.13-alpine", job.Get(c+"image"))
	env := map[string]any{}
	for _, e := range job.Get(c + "env").([]any) {
		m := e.(map[string]any)
		env[m["name"].(string)] = m
	}
	assert.Equal(t, "https://apim-cp:9443", env["APIM_URL"].(map[string]any)["value"])
	assert.Equal(t, "http://hello:9090/kuberneteshello", env["API_ENDPOINT"].(map[string]any)["value"])
	assert.Equal(t, "gw.dev.apim.example.com", env["GATEWAY_VHOST"].(map[string]any)["value"])
	pw := env["APIM_PASSWORD"].(map[string]any)
	assert.Nil(t, pw["value"])
	assert.Equal(t, "apim-cp-credentials", pw["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)["name"])

	changed := run(t, "dev", map[string]any{"apim.domain": "other.example.com"})
	assert.NotEqual(t, job.Get("spec.template.metadata.annotations[checksum/inputs]"),
		changed.Find("kubernetes:batch/v1:Job", "apim-publish-hello").Get("spec.template.metadata.annotations[checksum/inputs]"),
		"a changed input changes the template, which replaces the Job and runs it again")

	off := run(t, "dev", map[string]any{"publisher.enabled": false})
	assert.Nil(t, off.Find("kubernetes:batch/v1:Job", "apim-publish-hello"))
}

// Without ranges the preview warns that the admin paths are public, naming them and the key
// that fences them; with ranges (or no ingress) it does not.
func TestAdminPathsUnfencedWarning(t *testing.T) {
	a := platform.Args{}.WithDefaults(platform.Context{Name: "apim", Stack: "prod", GCPProject: "p-123456", GCPRegion: "europe-west1"})
	a.APIM.Domain = "apim.example.com"
	assert.Equal(t, "ingress.adminAllowedCidrs is empty: am.apim.example.com/carbon, am.apim.example.com/admin, am.apim.example.com/api/am/admin are as public as the portals; "+
		"set your operators' ranges (office, VPN): `pulumi config set --path 'ingress.adminAllowedCidrs[0]' <cidr>`", a.AdminPathsUnfenced())
	a.Ingress.AdminAllowedCIDRs = []string{"10.8.0.0/16"}
	assert.Empty(t, a.AdminPathsUnfenced())
	a.Ingress.AdminAllowedCIDRs = nil
	off := false
	a.Ingress.Enabled = &off
	assert.Empty(t, a.AdminPathsUnfenced(), "nothing published, nothing to fence")

	g := run(t, "prod", map[string]any{"ingress.adminAllowedCidrs": []any{"10.8.0.0/16"}})
	require.Len(t, g.OfType("gcp:compute/securityPolicy:SecurityPolicy"), 1, "prod with ranges: a Cloud Armor policy")
	assert.Empty(t, run(t, "prod", nil).OfType("gcp:compute/securityPolicy:SecurityPolicy"), "without: none")
}
