package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/kube"
)

// The gateway stand-in accepts exactly the tokens the control plane stand-in signs, and only
// while they are valid.
func TestTokenIssuedAndVerified(t *testing.T) {
	key, err := signingKey()
	require.NoError(t, err)
	again, err := signingKey()
	require.NoError(t, err)
	assert.True(t, key.Equal(again), "every replica (and every image) must sign with the same key")

	tok, err := issue(key, "client")
	require.NoError(t, err)
	require.NoError(t, verify(&key.PublicKey, tok))

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	assert.ErrorContains(t, verify(&other.PublicKey, tok), "signature does not verify")

	parts := strings.Split(tok, ".")
	forged := parts[0] + "." + b64([]byte(`{"exp":9999999999,"sub":"someone else"}`)) + "." + parts[2]
	assert.ErrorContains(t, verify(&key.PublicKey, forged), "signature does not verify")
	assert.ErrorContains(t, verify(&key.PublicKey, "abc"), "not a JWT")

	expired, err := signJWT(key, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
	require.NoError(t, err)
	assert.ErrorContains(t, verify(&key.PublicKey, expired), "expired")
}

// The control plane's token endpoint and JWKS, and a gateway that fetched the key from it and
// checks every API request on its own.
func TestGatewayTakesKeyFromControlPlane(t *testing.T) {
	key, err := signingKey()
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc(tokenPath, tokenHandler(key))
	mux.HandleFunc(jwksPath, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jwks(&key.PublicKey)) })
	cp := httptest.NewTLSServer(mux)
	defer cp.Close()

	pub, err := fetchKey(t.Context(), cp.URL)
	require.NoError(t, err)
	assert.True(t, pub.Equal(&key.PublicKey))

	resp, err := cp.Client().PostForm(cp.URL+tokenPath, url.Values{"grant_type": {"client_credentials"}})
	require.NoError(t, err)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	resp.Body.Close()
	require.NotEmpty(t, body.AccessToken)
	resp, err = cp.Client().PostForm(cp.URL+tokenPath, url.Values{"grant_type": {"password"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	api := requireToken(func() *ecdsa.PublicKey { return pub }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("through"))
	}))
	for _, c := range []struct {
		auth string
		want int
	}{
		{"Bearer " + body.AccessToken, http.StatusOK},
		{"", http.StatusUnauthorized},
		{"Bearer " + body.AccessToken + "x", http.StatusUnauthorized},
		{"Basic " + body.AccessToken, http.StatusUnauthorized},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/kuberneteshello", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		api.ServeHTTP(rec, req)
		assert.Equal(t, c.want, rec.Code, "Authorization %q", c.auth)
	}
	// Before the key arrives, nothing passes.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/kuberneteshello", nil)
	req.Header.Set("Authorization", "Bearer "+body.AccessToken)
	requireToken(func() *ecdsa.PublicKey { return nil }, http.NotFoundHandler()).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)

	cp.Close()
	_, err = fetchKey(t.Context(), cp.URL)
	assert.Error(t, err, "no key without the control plane")
}

// The role comes from the deployment.toml the product renders: the control plane's publishes to
// gateways; the gateway's names the control plane's Service as its key manager.
func TestRoleFromRenderedConfig(t *testing.T) {
	shared := apim.Shared{
		Database:           apim.Database{Host: "mysql", Username: "apimadmin", Password: kube.SecretRef{Name: "m", Key: "p"}},
		ManagementHostname: "am.example.com", GatewayHostname: "gw.example.com",
		Credentials: apim.Credentials{AdminPassword: kube.SecretRef{Name: "c", Key: "a"}, EncryptionKey: kube.SecretRef{Name: "c", Key: "e"}},
	}
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	cp, err := readConfig(write("cp.toml", apim.RenderControlPlaneTOML(apim.ControlPlaneArgs{Shared: shared}.WithDefaults(), 0)))
	require.NoError(t, err)
	assert.Empty(t, cp.keyManager, "the control plane is its own key manager")
	gw, err := readConfig(write("gw.toml", apim.RenderGatewayTOML(apim.GatewayArgs{Shared: shared}.WithDefaults())))
	require.NoError(t, err)
	assert.Equal(t, "https://apim-cp:9443", gw.keyManager)

	_, err = readConfig(write("bad.toml", "[apim.key_manager]\nservice_url = \"\"\n"))
	assert.ErrorContains(t, err, "a gateway needs [apim.key_manager] service_url")
	_, err = readConfig(filepath.Join(dir, "missing.toml"))
	assert.Error(t, err)
}
