package tests

import (
	"encoding/json"
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
			ing := g.Find(typeIngress, "ingress")
			require.NotNil(t, ing)
			assert.Equal(t, map[string]string{"am." + domain: "apim-cp:9443", "gw." + domain: "apim-gw:8243",
				"dashboards." + domain: "opensearch-dashboards:5601"}, rules(t, ing))
			assert.Equal(t, "gce", ing.Get("metadata.annotations[kubernetes.io/ingress.class]"))
			addr := one(t, g, "gcp:compute/globalAddress:GlobalAddress")
			assert.Equal(t, "ingress", ing.Get("metadata.annotations[kubernetes.io/ingress.global-static-ip-name]"), "the reserved address by name")
			assert.True(t, g.DependsOn(ing, addr))
			assert.Equal(t, "ingress-frontend", ing.Get("metadata.annotations[networking.gke.io/v1beta1.FrontendConfig]"))
			fe := g.Find("kubernetes:networking.gke.io/v1beta1:FrontendConfig", "ingress-frontend")
			require.NotNil(t, fe)
			assert.Equal(t, true, fe.Get("spec.redirectToHttps.enabled"), "HTTP redirects to HTTPS")
			assert.Equal(t, "ingress-cert", ing.Get("metadata.annotations[networking.gke.io/managed-certificates]"))
			cert := g.Find("kubernetes:networking.gke.io/v1:ManagedCertificate", "ingress-cert")
			require.NotNil(t, cert)
			assert.Equal(t, []any{"am." + domain, "gw." + domain, "dashboards." + domain}, cert.Get("spec.domains"))
			dash := g.Find("kubernetes:cloud.google.com/v1:BackendConfig", "opensearch-dashboards-lb")
			require.NotNil(t, dash)
			assert.Equal(t, "HTTP", dash.Get("spec.healthCheck.type"))

			mgmt := g.Find("kubernetes:cloud.google.com/v1:BackendConfig", "apim-cp-lb")
			require.NotNil(t, mgmt)
			assert.Equal(t, "HTTPS", mgmt.Get("spec.healthCheck.type"))
			assert.Equal(t, "/api/am/gateway/v2/server-startup-healthcheck", mgmt.Get("spec.healthCheck.requestPath"))
			assert.Equal(t, 9443.0, mgmt.Get("spec.healthCheck.port"))
			assert.Equal(t, "GENERATED_COOKIE", mgmt.Get("spec.sessionAffinity.affinityType"), "portal login needs affinity")
			gwbc := g.Find("kubernetes:cloud.google.com/v1:BackendConfig", "apim-gw-lb")
			require.NotNil(t, gwbc)
			assert.Nil(t, gwbc.Get("spec.sessionAffinity"), "API traffic spreads over all gateways")
			assert.Equal(t, 9443.0, gwbc.Get("spec.healthCheck.port"))

			for svc, port := range map[string]string{"apim-cp": "https", "apim-gw": "gw-https"} {
				s := g.Find(typeService, svc)
				assert.JSONEq(t, `{"`+port+`":"HTTPS"}`, s.String("metadata.annotations[cloud.google.com/app-protocols]"), svc)
				assert.JSONEq(t, `{"ports":{"`+port+`":"`+svc+`-lb"}}`, s.String("metadata.annotations[cloud.google.com/backend-config]"), svc)
				assert.JSONEq(t, `{"ingress":true}`, s.String("metadata.annotations[cloud.google.com/neg]"), svc)
			}
		})
	}
}

func TestIngressOnAnExistingCluster(t *testing.T) {
	g := run(t, "local", nil)
	mgmt, gw := g.Find(typeIngress, "ingress-management"), g.Find(typeIngress, "ingress-gateway")
	require.NotNil(t, mgmt)
	require.NotNil(t, gw)
	assert.Equal(t, map[string]string{"am.apim.localtest.me": "apim-cp:9443", "gw.apim.localtest.me": "apim-gw:8243"}, rules(t, mgmt, gw))
	dash := g.Find(typeIngress, "ingress-opensearch-dashboards")
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
	assert.Equal(t, "apim-tls", withTLS.Find(typeIngress, "ingress-management").Get("spec.tls.0.secretName"))
}

func TestIngressValidation(t *testing.T) {
	_, err := harness.Run(stacksProgram, "local", harness.Options{Set: map[string]any{"ingress.tls": "managed"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ingress.tls: "managed" needs cluster.mode gke (Google-managed certificates); use secret or none`)
	_, err = harness.Run(stacksProgram, "dev", harness.Options{Set: map[string]any{"ingress.tls": "secret"},
		Secrets: without(without(harness.TestSecrets, "ingressTlsCertificate"), "ingressTlsKey")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ingressTlsCertificate: missing; set it with `pulumi config set --secret ingressTlsCertificate <value>`")
	_, err = harness.Run(stacksProgram, "dev", harness.Options{Set: map[string]any{"ingress.tls": "secret"},
		Secrets: with(harness.TestSecrets, "ingressTlsKey", "not a key")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ingressTlsKey: the value is not PEM; want the -----BEGIN ...----- text of the file")
}

func TestIngressTLSFromConfigSecrets(t *testing.T) {
	g := run(t, "local", map[string]any{"ingress.tls": "secret"})
	secret := g.Find(typeSecret, "ingress-tls")
	require.NotNil(t, secret)
	assert.Equal(t, "kubernetes.io/tls", secret.Get("type"))
	assert.True(t, secret.IsSecret("stringData.tls.crt"))
	assert.True(t, secret.IsSecret("stringData.tls.key"))
	assert.Equal(t, "ingress-tls", g.Find(typeIngress, "ingress-gateway").Get("spec.tls.0.secretName"))
}

func TestSamplePublisherJob(t *testing.T) {
	g := run(t, "dev", nil)
	job := one(t, g, "kubernetes:batch/v1:Job")
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
		one(t, changed, "kubernetes:batch/v1:Job").Get("spec.template.metadata.annotations[checksum/inputs]"),
		"a changed input changes the template, which replaces the Job and runs it again")

	off := run(t, "dev", map[string]any{"publisher.enabled": false})
	assert.Empty(t, off.OfType("kubernetes:batch/v1:Job"))
}
