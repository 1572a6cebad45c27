package publisher_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/publisher"
)

// fakeAPIM imitates the API Manager 4.x REST endpoints publish.py calls, and records them.
type fakeAPIM struct {
	mu        sync.Mutex
	calls     []string
	exists    bool
	published bool
	deployed  bool
	failOn    string // "METHOD /path" answered with 500
	notReady  int    // health checks to fail before answering
}

func (f *fakeAPIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := r.Method + " " + r.URL.Path
	f.calls = append(f.calls, call)
	if call == f.failOn {
		http.Error(w, `{"code":500,"message":"database unavailable"}`, http.StatusInternalServerError)
		return
	}
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	const pub = "/api/am/publisher/v4"
	switch {
	case call == "GET /api/am/gateway/v2/server-startup-healthcheck":
		if f.notReady > 0 {
			f.notReady--
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		reply(200, map[string]any{})
	case call == "POST /client-registration/v0.17/register":
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "admin-secret" {
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		reply(200, map[string]string{"clientId": "cid", "clientSecret": "csecret"})
	case call == "POST /oauth2/token":
		_ = r.ParseForm()
		if r.Form.Get("grant_type") != "password" || !strings.Contains(r.Form.Get("scope"), "apim:api_publish") {
			http.Error(w, "bad grant", http.StatusBadRequest)
			return
		}
		reply(200, map[string]string{"access_token": "tok"})
	case r.Header.Get("Authorization") != "Bearer tok":
		http.Error(w, "no token", http.StatusUnauthorized)
	case call == "GET "+pub+"/apis":
		list := []map[string]string{}
		if f.exists {
			status := "CREATED"
			if f.published {
				status = "PUBLISHED"
			}
			list = append(list, map[string]string{"id": "api-1", "name": "HelloKubernetes", "version": "1.0.0", "lifeCycleStatus": status})
		}
		reply(200, map[string]any{"count": len(list), "list": list})
	case call == "POST "+pub+"/apis":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body["context"] != "/hello" || body["version"] != "1.0.0" {
			http.Error(w, "bad api", http.StatusBadRequest)
			return
		}
		f.exists = true
		reply(201, map[string]string{"id": "api-1", "lifeCycleStatus": "CREATED"})
	case call == "GET "+pub+"/apis/api-1/deployments":
		list := []any{}
		if f.deployed {
			list = append(list, map[string]string{"name": "Default"})
		}
		reply(200, list)
	case call == "POST "+pub+"/apis/api-1/revisions":
		reply(201, map[string]string{"id": "rev-1"})
	case call == "POST "+pub+"/apis/api-1/deploy-revision":
		if r.URL.Query().Get("revisionId") != "rev-1" {
			http.Error(w, "bad revision", http.StatusBadRequest)
			return
		}
		f.deployed = true
		reply(201, []any{})
	case call == "POST "+pub+"/apis/change-lifecycle":
		if r.URL.Query().Get("action") != "Publish" {
			http.Error(w, "bad action", http.StatusBadRequest)
			return
		}
		f.published = true
		reply(200, map[string]any{})
	default:
		http.Error(w, "unexpected "+call, http.StatusNotFound)
	}
}

// runScript runs publish.py (the same bytes the Job mounts) against the fake.
func runScript(t *testing.T, f *fakeAPIM) (string, error) {
	t.Helper()
	python, err := exec.LookPath("python3")
	require.NoError(t, err, "python3 is needed to test publish.py (.ci/run installs it)")
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	script := filepath.Join(t.TempDir(), "publish.py")
	require.NoError(t, os.WriteFile(script, []byte(publisher.Script), 0o644))
	cmd := exec.Command(python, script)
	cmd.Env = append(os.Environ(),
		"APIM_URL="+srv.URL, "APIM_USERNAME=admin", "APIM_PASSWORD=admin-secret",
		"API_NAME=HelloKubernetes", "API_CONTEXT=/hello", "API_VERSION=1.0.0",
		"API_ENDPOINT=http://hello:9090/kuberneteshello", "GATEWAY_VHOST=gw.example.com",
		"WAIT_SECONDS=30", "INSECURE_TLS=true")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPublishesAFreshAPI(t *testing.T) {
	f := &fakeAPIM{}
	out, err := runScript(t, f)
	require.NoError(t, err, out)
	assert.True(t, f.exists && f.deployed && f.published, out)
	assert.Contains(t, out, "published HelloKubernetes 1.0.0 at /hello")
	assert.Contains(t, f.calls, "POST /api/am/publisher/v4/apis")
}

func TestSecondRunChangesNothing(t *testing.T) {
	f := &fakeAPIM{exists: true, deployed: true, published: true}
	out, err := runScript(t, f)
	require.NoError(t, err, out)
	assert.Contains(t, out, "already published; nothing to do")
	for _, c := range f.calls {
		if strings.HasPrefix(c, "POST /api/am/publisher") {
			t.Errorf("a second run must not change anything, but it called %s", c)
		}
	}
}

func TestWaitsForTheControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 s between health checks")
	}
	f := &fakeAPIM{notReady: 1}
	out, err := runScript(t, f)
	require.NoError(t, err, out)
	assert.True(t, f.published)
}

func TestFailingCallExitsNonZeroWithAMessage(t *testing.T) {
	f := &fakeAPIM{failOn: "POST /api/am/publisher/v4/apis"}
	out, err := runScript(t, f)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, out, "publisher: POST /api/am/publisher/v4/apis: HTTP 500:")
	assert.Contains(t, out, "database unavailable")
	assert.False(t, f.published)
}
