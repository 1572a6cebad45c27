// Command demo deploys the local stack into the API server that tests/e2e/env/up.sh started,
// through the real Pulumi CLI and Kubernetes provider, and prints the stack outputs; `demo
// down` destroys it. `make demo` and `make demo-down` wrap it with the control plane.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/wso2-k8s/apim-gke/tests/e2e/localstack"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 3 || (os.Args[1] != "up" && os.Args[1] != "down") {
		return fmt.Errorf("usage: demo up|down <work dir>")
	}
	ctx := context.Background()
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	work := os.Args[2]
	secrets, err := demoSecrets(filepath.Join(work, "secrets"))
	if err != nil {
		return err
	}
	stack, err := localstack.Open(ctx, root, work, secrets["passphrase"], without(secrets, "passphrase"))
	if err != nil {
		return err
	}
	if os.Args[1] == "down" {
		_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout))
		return err
	}
	res, err := stack.Up(ctx, optup.ProgressStreams(os.Stdout))
	if err != nil {
		return err
	}
	fmt.Println("\nStack outputs:")
	for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
		v := res.Outputs[k]
		if v.Secret {
			fmt.Printf("  %-22s [secret]\n", k)
			continue
		}
		fmt.Printf("  %-22s %v\n", k, v.Value)
	}
	return nil
}

// demoSecrets makes random secrets once and keeps them beside the demo's state, so `down`
// (and a second `up`) decrypt what `up` wrote.
func demoSecrets(dir string) (map[string]string, error) {
	keys := map[string]int{"passphrase": 16, "apimAdminPassword": 12, "apimEncryptionKey": 16, "mysqlRootPassword": 12, "mysqlPassword": 12, "analyticsAdminPassword": 12}
	out := map[string]string{}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for k, n := range keys {
		path := filepath.Join(dir, k)
		if b, err := os.ReadFile(path); err == nil {
			out[k] = string(b)
			continue
		}
		buf := make([]byte, n)
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		out[k] = hex.EncodeToString(buf)
		if k == "analyticsAdminPassword" {
			// OpenSearch wants upper and lower case, a digit and a symbol.
			out[k] = "Demo-" + out[k]
		}
		if err := os.WriteFile(path, []byte(out[k]), 0o600); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func without(m map[string]string, key string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
