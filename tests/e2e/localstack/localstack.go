// Package localstack opens the project's local stack through the Automation API with the
// program inline (no Go language plugin needed), in a workspace of its own: Pulumi.yaml and
// Pulumi.local.yaml copied from the repository so the real CLI validates them, a file backend
// and a passphrase secrets provider.
package localstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/wso2-k8s/apim-gke/stacks"
)

// Open creates or selects stack "local" with its workspace in work and its state in
// work/state, and sets every secret as a Pulumi secret.
func Open(ctx context.Context, root, work, passphrase string, secrets map[string]string) (auto.Stack, error) {
	if err := os.MkdirAll(filepath.Join(work, "state"), 0o755); err != nil {
		return auto.Stack{}, err
	}
	for _, f := range []string{"Pulumi.yaml", "Pulumi.local.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return auto.Stack{}, err
		}
		if err := os.WriteFile(filepath.Join(work, f), b, 0o644); err != nil {
			return auto.Stack{}, err
		}
	}
	proj, err := workspace.LoadProject(filepath.Join(work, "Pulumi.yaml"))
	if err != nil {
		return auto.Stack{}, err
	}
	cmd, err := auto.NewPulumiCommand(nil)
	if err != nil {
		return auto.Stack{}, fmt.Errorf("the pulumi CLI must be on PATH (tests/e2e/env/tools.sh builds it): %w", err)
	}
	stack, err := auto.UpsertStackInlineSource(ctx, "local", proj.Name.String(), stacks.Program,
		auto.Pulumi(cmd),
		auto.WorkDir(work),
		auto.Project(*proj),
		auto.SecretsProvider("passphrase"),
		auto.EnvVars(map[string]string{
			"PULUMI_BACKEND_URL":       "file://" + filepath.Join(work, "state"),
			"PULUMI_CONFIG_PASSPHRASE": passphrase,
			"PULUMI_SKIP_UPDATE_CHECK": "true",
		}),
	)
	if err != nil {
		return auto.Stack{}, err
	}
	for key, value := range secrets {
		if err := stack.SetConfig(ctx, key, auto.ConfigValue{Value: value, Secret: true}); err != nil {
			return auto.Stack{}, err
		}
	}
	return stack, nil
}
