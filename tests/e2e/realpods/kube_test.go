//go:build realpods

package realpods

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// kube is a minimal client for the tier's API server: server and token from its kubeconfig.
type kube struct {
	server, token string
	http          *http.Client
}

func newKube(path string) (*kube, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `yaml:"server"`
			} `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			User struct {
				Token string `yaml:"token"`
			} `yaml:"user"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return nil, err
	}
	if len(kc.Clusters) == 0 || len(kc.Users) == 0 {
		return nil, fmt.Errorf("%s: no cluster or user", path)
	}
	return &kube{
		server: kc.Clusters[0].Cluster.Server,
		token:  kc.Users[0].User.Token,
		http: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the tier's own API server
		}},
	}, nil
}

// do sends a request with an optional JSON body; found is false on 404.
func (k *kube) do(method, path, contentType string, body any, out any) (found bool, err error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return false, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, k.server+path, rd)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if resp.StatusCode/100 != 2 {
		return false, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return true, json.Unmarshal(b, out)
	}
	return true, nil
}

func (k *kube) get(path string, out any) (bool, error) {
	return k.do(http.MethodGet, path, "", nil, out)
}

func (k *kube) create(path string, obj any) error {
	_, err := k.do(http.MethodPost, path, "application/json", obj, nil)
	return err
}

func (k *kube) delete(path string) error {
	_, err := k.do(http.MethodDelete, path, "", nil, nil)
	return err
}

// jsonPatch applies an RFC 6902 patch.
func (k *kube) jsonPatch(path string, ops ...map[string]any) error {
	_, err := k.do(http.MethodPatch, path, "application/json-patch+json", ops, nil)
	return err
}

// object is the part of any Kubernetes object the tier reads generically.
type object map[string]any

func (o object) path(keys ...string) any {
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

func (o object) str(keys ...string) string {
	if s, ok := o.path(keys...).(string); ok {
		return s
	}
	return ""
}

func (o object) num(keys ...string) int64 {
	if f, ok := o.path(keys...).(float64); ok {
		return int64(f)
	}
	return 0
}

type list struct {
	Items []object `json:"items"`
}
