package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rendered deployment.toml of each stack points at the right in-cluster Services.
func TestStackDeploymentTOML(t *testing.T) {
	for stack, domain := range map[string]string{"dev": "dev.apim.example.com", "prod": "apim.example.com"} {
		t.Run(stack, func(t *testing.T) {
			g := run(t, stack, nil)
			decode := func(cm string) map[string]any {
				var m map[string]any
				_, err := toml.Decode(deploymentTOMLs(t, g, cm)[0], &m)
				require.NoError(t, err)
				return m
			}
			get := func(m map[string]any, path ...string) any {
				var v any = m
				for _, p := range path {
					v = v.(map[string]any)[p]
				}
				return v
			}
			cp, gw := decode("apim-cp-conf"), decode("apim-gw-conf")
			assert.Equal(t, "am."+domain, get(cp, "server", "hostname"))
			assert.Equal(t, "gw."+domain, get(gw, "server", "hostname"))
			// Cloud SQL's server certificate is checked against its CA (VERIFY_CA); "&amp;" is
			// how WSO2's examples join parameters (components/apim/toml.go).
			params := "?sslMode=VERIFY_CA&amp;autoReconnect=true"
			assert.Equal(t, "jdbc:mysql://mysql:3306/apim_db"+params, get(cp, "database", "apim_db", "url"))
			assert.Equal(t, "jdbc:mysql://mysql:3306/shared_db"+params, get(cp, "database", "shared_db", "url"))
			assert.Equal(t, "jdbc:mysql://mysql:3306/shared_db"+params, get(gw, "database", "shared_db", "url"))
			assert.Equal(t, "apimadmin", get(gw, "database", "shared_db", "username"))
			assert.Equal(t, "tcp://apim-cp-0.apim-cp-nodes:5672", get(gw, "apim", "event_hub", "event_listening_endpoints").([]any)[0])
			assert.Equal(t, "https://apim-cp:9443/services/", get(gw, "apim", "event_hub", "service_url"))
			assert.Equal(t, "https://apim-cp:9443/services/", get(gw, "apim", "key_manager", "service_url"))
			assert.Equal(t, "https://apim-gw:9443/services/", get(cp, "apim", "gateway", "environment").([]map[string]any)[0]["service_url"])
			assert.Equal(t, "https://gw."+domain, get(cp, "apim", "gateway", "environment").([]map[string]any)[0]["https_endpoint"])
		})
	}
}

// Every URL the control plane advertises for the gateway is one the edge serves: behind TLS
// (GKE's managed certificates, a self-signed or your own certificate) only https and wss, since
// the edge only redirects plain ports and WebSocket clients never follow a redirect; behind a
// plain-HTTP edge (ingress.tls none) only http and ws. The local stack once advertised https
// while serving plain HTTP, and GKE stacks ws:// behind a redirect.
func TestAdvertisedURLsAreServedByTheEdge(t *testing.T) {
	keys := []string{"http_endpoint", "https_endpoint", "ws_endpoint", "wss_endpoint",
		"websub_event_receiver_http_endpoint", "websub_event_receiver_https_endpoint"}
	for _, c := range []struct {
		stack   string
		set     map[string]any
		schemes []string
	}{
		{"prod", nil, []string{"https://", "wss://"}},
		{"dev", nil, []string{"https://", "wss://"}},
		{"local", nil, []string{"https://", "wss://"}},
		{"local", map[string]any{"ingress.tls": "none"}, []string{"http://", "ws://"}},
	} {
		var m map[string]any
		_, err := toml.Decode(deploymentTOMLs(t, run(t, c.stack, c.set), "apim-cp-conf")[0], &m)
		require.NoError(t, err)
		env := m["apim"].(map[string]any)["gateway"].(map[string]any)["environment"].([]map[string]any)[0]
		for _, k := range keys {
			url := fmt.Sprint(env[k])
			ok := false
			for _, s := range c.schemes {
				ok = ok || strings.HasPrefix(url, s)
			}
			assert.True(t, ok, "%s %v: %s = %s is not served by the edge (%v)", c.stack, c.set, k, url, c.schemes)
			assert.NotRegexp(t, `:\d+$`, url, "%s: %s behind the edge, on its usual port", c.stack, k)
		}
		devportal := m["apim"].(map[string]any)["devportal"].(map[string]any)["url"]
		assert.True(t, strings.HasPrefix(fmt.Sprint(devportal), c.schemes[0]), "%s: devportal %v", c.stack, devportal)
	}
}
