package kubeclient

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// apiServer is a fake API server: it keeps objects of any resource path as JSON maps, lists
// them (with a ResourceVersion), watches them (every change after the watch starts) and records
// the writes it got.
type apiServer struct {
	mu       sync.Mutex
	rv       int
	objects  map[string]map[string]map[string]any // collection path → name → object
	watchers map[string][]chan string
	writes   []string
}

func newAPIServer(t *testing.T) (*apiServer, *Client) {
	s := &apiServer{objects: map[string]map[string]map[string]any{}, watchers: map[string][]chan string{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := NewForConfig(&rest.Config{Host: srv.URL})
	require.NoError(t, err)
	return s, c
}

// set stores an object in a collection (creating or changing it) and tells the watchers.
func (s *apiServer) set(collection string, obj map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv++
	meta := obj["metadata"].(map[string]any)
	meta["resourceVersion"] = fmt.Sprint(s.rv)
	if meta["uid"] == nil {
		meta["uid"] = fmt.Sprintf("uid-%s", meta["name"])
	}
	name := meta["name"].(string)
	if s.objects[collection] == nil {
		s.objects[collection] = map[string]map[string]any{}
	}
	kind := "ADDED"
	if _, ok := s.objects[collection][name]; ok {
		kind = "MODIFIED"
	}
	b, _ := json.Marshal(obj)
	var stored map[string]any
	_ = json.Unmarshal(b, &stored)
	s.objects[collection][name] = stored
	ev, _ := json.Marshal(map[string]any{"type": kind, "object": json.RawMessage(b)})
	for _, w := range s.watchers[collection] {
		w <- string(ev)
	}
}

func (s *apiServer) watching(collection string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers[collection])
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if r.Method != http.MethodGet {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.writes = append(s.writes, fmt.Sprintf("%s %s?%s %s %s", r.Method, path, r.URL.RawQuery, r.Header.Get("Content-Type"), b))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(path, "/missing"):
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
		case strings.HasSuffix(path, "/conflict"):
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","code":409}`))
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte("{}"))
		default:
			_, _ = w.Write([]byte("{}"))
		}
		return
	}
	s.mu.Lock()
	if items, ok := s.objects[path]; ok {
		if r.URL.Query().Get("watch") == "true" {
			ch := make(chan string, 100)
			s.watchers[path] = append(s.watchers[path], ch)
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			for {
				select {
				case <-r.Context().Done():
					return
				case ev := <-ch:
					_, _ = w.Write([]byte(ev + "\n"))
					w.(http.Flusher).Flush()
				}
			}
		}
		// The typed client decodes a list of its kind: apps/v1 DeploymentList for deployments.
		kind, apiVersion := "List", "v1"
		if strings.HasPrefix(path, "/apis/apps/v1/") {
			plural := path[strings.LastIndex(path, "/")+1:]
			kind, apiVersion = map[string]string{"deployments": "DeploymentList", "replicasets": "ReplicaSetList"}[plural], "apps/v1"
		}
		list := map[string]any{"kind": kind, "apiVersion": apiVersion, "metadata": map[string]any{"resourceVersion": fmt.Sprint(s.rv)}}
		var l []any
		for _, o := range items {
			l = append(l, o)
		}
		list["items"] = l
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
		return
	}
	collection, name := path[:strings.LastIndex(path, "/")], path[strings.LastIndex(path, "/")+1:]
	o, ok := s.objects[collection][name]
	s.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(o)
}

func (s *apiServer) writesSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

func TestGenericAPI(t *testing.T) {
	s, c := newAPIServer(t)
	s.set("/api/v1/namespaces/ns/configmaps", map[string]any{"metadata": map[string]any{"name": "conf"},
		"data": map[string]any{"k": "v"}, "spec": map[string]any{"replicas": 3, "items": []any{map[string]any{"a": "b"}, "x"}}})

	var o Object
	found, err := c.Get("/api/v1/namespaces/ns/configmaps/conf", &o)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "v", o.Str("data", "k"))
	assert.Equal(t, int64(3), o.Num("spec", "replicas"))
	assert.Equal(t, float64(3), o.Path("spec", "replicas"), "numbers as encoding/json decodes them")
	assert.Nil(t, o.Path("data", "k", "deeper"))
	assert.Equal(t, "", o.Str("nothing"))
	assert.Equal(t, []Object{{"a": "b"}}, o.Items("spec", "items"), "maps only")

	found, err = c.Get("/api/v1/namespaces/ns/configmaps/other", &o)
	require.NoError(t, err, "404 is not an error")
	assert.False(t, found)

	var l List
	_, err = c.Get("/api/v1/namespaces/ns/configmaps", &l)
	require.NoError(t, err)
	assert.Len(t, l.Items, 1)
	assert.Equal(t, "1", l.Metadata.ResourceVersion)

	require.NoError(t, c.Create("/api/v1/namespaces/ns/secrets", map[string]any{"metadata": map[string]any{"name": "s"}}))
	err = c.Create("/api/v1/namespaces/ns/secrets/conflict", map[string]any{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "POST /api/v1/namespaces/ns/secrets/conflict")
	require.NoError(t, c.Post("/api/v1/namespaces/ns/secrets/conflict", map[string]any{}, http.StatusConflict), "a status the caller accepts")
	require.NoError(t, c.Post("/apis/x/v1/things?dryRun=All&fieldValidation=Strict", map[string]any{}, http.StatusCreated))
	require.NoError(t, c.JSONPatch("/apis/apps/v1/namespaces/ns/deployments/d", map[string]any{"op": "remove", "path": "/spec/x"}))
	require.NoError(t, c.Delete("/api/v1/namespaces/ns/pods/p"))
	require.NoError(t, c.Delete("/api/v1/namespaces/ns/pods/missing"), "already gone")

	assert.Equal(t, []string{
		`POST /api/v1/namespaces/ns/secrets? application/json {"metadata":{"name":"s"}}`,
		`POST /api/v1/namespaces/ns/secrets/conflict? application/json {}`,
		`POST /api/v1/namespaces/ns/secrets/conflict? application/json {}`,
		`POST /apis/x/v1/things?dryRun=All&fieldValidation=Strict application/json {}`,
		`PATCH /apis/apps/v1/namespaces/ns/deployments/d? application/json-patch+json [{"op":"remove","path":"/spec/x"}]`,
		`DELETE /api/v1/namespaces/ns/pods/p?  `,
		`DELETE /api/v1/namespaces/ns/pods/missing?  `,
	}, s.writesSeen())
}

func deploymentJSON(replicas, available, updated int) map[string]any {
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "gw", "namespace": "ns"},
		"spec":   map[string]any{"replicas": replicas},
		"status": map[string]any{"availableReplicas": available, "updatedReplicas": updated}}
}

func replicaSetJSON(hash string, replicas, available int) map[string]any {
	return map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": map[string]any{"name": "gw-" + hash, "namespace": "ns"},
		"spec":   map[string]any{"replicas": replicas},
		"status": map[string]any{"availableReplicas": available}}
}

// Every event is a step, a dip lasting no longer than one event included: a sampler every
// 200 ms could miss it, the watches cannot.
func TestTraceRolloutSeesEveryEvent(t *testing.T) {
	s, c := newAPIServer(t)
	const deployments, replicaSets = "/apis/apps/v1/namespaces/ns/deployments", "/apis/apps/v1/namespaces/ns/replicasets"
	s.set(deployments, deploymentJSON(2, 2, 2))
	s.set(replicaSets, replicaSetJSON("a", 2, 2))

	r, err := TraceRollout(t.Context(), c.Clientset, "ns", "gw", "app=gw")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.watching(deployments) == 1 && s.watching(replicaSets) == 1 }, 10*time.Second, 10*time.Millisecond)

	// One change at a time: the two watches are two streams, and the steps are in the order
	// their events arrive.
	set := func(collection string, obj map[string]any) {
		n := len(r.Steps())
		s.set(collection, obj)
		require.Eventually(t, func() bool { return len(r.Steps()) == n+1 }, 10*time.Second, 5*time.Millisecond)
	}
	set(replicaSets, replicaSetJSON("b", 1, 0))
	set(deployments, deploymentJSON(2, 2, 1))
	set(replicaSets, replicaSetJSON("b", 1, 1))
	set(replicaSets, replicaSetJSON("a", 1, 1))
	set(deployments, deploymentJSON(2, 1, 1)) // the dip, one event long
	set(deployments, deploymentJSON(2, 2, 1))
	require.NoError(t, r.Stop(10*time.Second), "caught up with the server")

	steps := r.Steps()
	var lines []string
	for _, st := range steps {
		lines = append(lines, st.String())
	}
	assert.Equal(t, []string{
		"LISTED Deployment@1: desired=2 available=2 updated=2 rs[]",
		"LISTED ReplicaSet@2: desired=2 available=2 updated=2 rs[a=2/2]",
		"ADDED ReplicaSet@3: desired=2 available=2 updated=2 rs[a=2/2 b=0/1]",
		"MODIFIED Deployment@4: desired=2 available=2 updated=1 rs[a=2/2 b=0/1]",
		"MODIFIED ReplicaSet@5: desired=2 available=2 updated=1 rs[a=2/2 b=1/1]",
		"MODIFIED ReplicaSet@6: desired=2 available=2 updated=1 rs[a=1/1 b=1/1]",
		"MODIFIED Deployment@7: desired=2 available=1 updated=1 rs[a=1/1 b=1/1]",
		"MODIFIED Deployment@8: desired=2 available=2 updated=1 rs[a=1/1 b=1/1]",
	}, lines)
	assert.Equal(t, 2, r.ReplicaSets())
	var dips int
	for _, st := range steps {
		if st.Available < st.Desired {
			dips++
		}
	}
	assert.Equal(t, 1, dips, "the negative control: the one-event dip is seen")
	var out strings.Builder
	r.Print(&out)
	assert.Contains(t, out.String(), "MODIFIED Deployment@7: desired=2 available=1")
}

// Sync reports a watch that has not caught up with what a fresh list shows.
func TestCaughtUp(t *testing.T) {
	assert.Equal(t, "", caughtUp(map[types.UID]string{"a": "5"}, map[types.UID]string{"a": "5"}))
	assert.Equal(t, "", caughtUp(map[types.UID]string{"a": "6"}, map[types.UID]string{"a": "5"}), "seen later than listed")
	assert.NotEqual(t, "", caughtUp(map[types.UID]string{"a": "4"}, map[types.UID]string{"a": "5"}))
	assert.NotEqual(t, "", caughtUp(map[types.UID]string{}, map[types.UID]string{"a": "5"}))
	assert.NotEqual(t, "", caughtUp(map[types.UID]string{"a": "5", "b": "1"}, map[types.UID]string{"a": "5"}), "a deletion not seen")
}
