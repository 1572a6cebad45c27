// Package kubeclient is the end-to-end tiers' one Kubernetes client, on client-go: the typed
// clientset for new code, a small generic JSON API over client-go's REST client for the tests'
// reads and writes of arbitrary objects (paths as in the API reference, maps as the JSON), and
// watches that follow objects event by event (follow.go, rollout.go).
package kubeclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Timeout bounds each request of the generic API (watches have none).
const Timeout = 15 * time.Second

// Client is a client of the API server a kubeconfig names.
type Client struct {
	// Clientset is client-go's typed client.
	Clientset kubernetes.Interface
	rest      rest.Interface
}

// New reads a kubeconfig (its current context) as kubectl would.
func New(kubeconfig string) (*Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kubeconfig, err)
	}
	return NewForConfig(cfg)
}

// NewForConfig makes a client from a REST config. The tests poll and watch many objects at
// once: client-side rate limiting is off.
func NewForConfig(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, -1
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{Clientset: cs, rest: cs.CoreV1().RESTClient()}, nil
}

// request starts a request for an API path, which may carry a query (?labelSelector=...).
func (c *Client) request(verb, path string) (*rest.Request, error) {
	p, query, _ := strings.Cut(path, "?")
	req := c.rest.Verb(verb).AbsPath(p)
	values, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", verb, path, err)
	}
	for k, vs := range values {
		for _, v := range vs {
			req = req.Param(k, v)
		}
	}
	return req, nil
}

// send runs a request; status is the answer's HTTP status (0 if there was none).
func (c *Client) send(req *rest.Request) (body []byte, status int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	res := req.Do(ctx)
	res.StatusCode(&status)
	body, err = res.Raw()
	// An error answer client-go could not decode carries its status only in the error.
	var apiStatus apierrors.APIStatus
	if status == 0 && errors.As(err, &apiStatus) {
		status = int(apiStatus.Status().Code)
	}
	return body, status, err
}

// Get fetches an API path into out (JSON); found is false on 404.
func (c *Client) Get(path string, out any) (found bool, err error) {
	req, err := c.request(http.MethodGet, path)
	if err != nil {
		return false, err
	}
	body, _, err := c.send(req)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("GET %s: %w", path, err)
	}
	return true, json.Unmarshal(body, out)
}

// Create posts an object to a collection path, as a user's kubectl apply would; it fails
// unless the object was created (201).
func (c *Client) Create(path string, obj any) error {
	return c.Post(path, obj, http.StatusCreated)
}

// Post posts obj (JSON) to path (which may carry a query) and fails unless the answer's status
// is one of ok.
func (c *Client) Post(path string, obj any, ok ...int) error {
	return c.write(http.MethodPost, path, "application/json", obj, ok...)
}

// Delete deletes the object at path; an object already gone is not an error.
func (c *Client) Delete(path string) error {
	return c.write(http.MethodDelete, path, "", nil, http.StatusOK, http.StatusAccepted, http.StatusNotFound)
}

// JSONPatch applies an RFC 6902 patch to the object at path.
func (c *Client) JSONPatch(path string, ops ...map[string]any) error {
	return c.write(http.MethodPatch, path, string(types.JSONPatchType), ops, http.StatusOK)
}

// MergePatch applies a JSON merge patch (RFC 7386) to the object at path.
func (c *Client) MergePatch(path string, patch any) error {
	return c.write(http.MethodPatch, path, string(types.MergePatchType), patch, http.StatusOK)
}

// write sends a request with an optional JSON body and fails unless the status is one of ok.
func (c *Client) write(verb, path, contentType string, obj any, ok ...int) error {
	req, err := c.request(verb, path)
	if err != nil {
		return err
	}
	if obj != nil {
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		req = req.SetHeader("Content-Type", contentType).Body(b)
	}
	_, status, err := c.send(req)
	if slices.Contains(ok, status) {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("status %d", status)
	}
	return fmt.Errorf("%s %s: %w", verb, path, err)
}

// Object is any Kubernetes object as JSON decodes it.
type Object map[string]any

// Path is the value at a path of keys, nil where there is none.
func (o Object) Path(keys ...string) any {
	var v any = map[string]any(o)
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Str is the string at a path of keys, "" where there is none.
func (o Object) Str(keys ...string) string {
	if s, ok := o.Path(keys...).(string); ok {
		return s
	}
	return ""
}

// Num is the number at a path of keys, 0 where there is none.
func (o Object) Num(keys ...string) int64 {
	switch n := o.Path(keys...).(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	}
	return 0
}

// Items is the list of objects at a path of keys (a pod's containers or conditions).
func (o Object) Items(keys ...string) []Object {
	items, _ := o.Path(keys...).([]any)
	out := make([]Object, 0, len(items))
	for _, i := range items {
		if m, ok := i.(map[string]any); ok {
			out = append(out, Object(m))
		}
	}
	return out
}

// List is a list of objects as the API returns it.
type List struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []Object `json:"items"`
}
