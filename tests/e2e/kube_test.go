//go:build e2e

package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// kube is a minimal client for the API server the suite started: the token and
// server come from its kubeconfig, and TLS is the server's self-signed certificate.
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
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test server
		}},
	}, nil
}

// get fetches an API path into out; found is false on 404.
func (k *kube) get(path string, out any) (found bool, err error) {
	req, err := http.NewRequest(http.MethodGet, k.server+path, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	resp, err := k.http.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return true, json.Unmarshal(body, out)
}

// create posts an object to a collection path, as a user's kubectl apply would.
func (k *kube) create(path string, obj any) error {
	return k.post(path, obj, http.StatusCreated)
}

// post posts obj to path (which may carry a query) and fails unless the answer's status is
// one of ok.
func (k *kube) post(path string, obj any, ok ...int) error {
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, k.server+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if !slices.Contains(ok, resp.StatusCode) {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, out)
	}
	return nil
}

// object is the part of any Kubernetes object the suite reads generically.
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

type list struct {
	Items []object `json:"items"`
}
