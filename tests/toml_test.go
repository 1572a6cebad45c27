package tests

import (
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
				_, err := toml.Decode(g.Find(typeConfigMap, cm).String("data[deployment.toml]"), &m)
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
			assert.True(t, strings.HasPrefix(get(cp, "database", "apim_db", "url").(string), "jdbc:mysql://mysql:3306/apim_db?"))
			assert.True(t, strings.HasPrefix(get(cp, "database", "shared_db", "url").(string), "jdbc:mysql://mysql:3306/shared_db?"))
			assert.True(t, strings.HasPrefix(get(gw, "database", "shared_db", "url").(string), "jdbc:mysql://mysql:3306/shared_db?"))
			assert.Equal(t, "apimadmin", get(gw, "database", "shared_db", "username"))
			assert.Equal(t, []any{"tcp://apim-cp:5672"}, get(gw, "apim", "event_hub", "event_listening_endpoints"))
			assert.Equal(t, "https://apim-cp:9443/services/", get(gw, "apim", "event_hub", "service_url"))
			assert.Equal(t, "https://apim-cp:9443/services/", get(gw, "apim", "key_manager", "service_url"))
			assert.Equal(t, "https://apim-gw:9443/services/", get(cp, "apim", "gateway", "environment").([]map[string]any)[0]["service_url"])
			assert.Equal(t, "https://gw."+domain, get(cp, "apim", "gateway", "environment").([]map[string]any)[0]["https_endpoint"])
		})
	}
}
