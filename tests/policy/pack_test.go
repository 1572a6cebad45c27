package policy_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/wso2-k8s/apim-gke/policy/pack"
	"github.com/wso2-k8s/apim-gke/policy/rules"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The second runner: the policy pack, built from policy/ and spoken to over the analyzer
// protocol as the engine speaks to it (handshake, stack config, analyzer info, AnalyzeStack),
// with the mock graph's resources as the engine would send them.

var packDir string

func TestMain(m *testing.M) {
	var err error
	if packDir, err = os.MkdirTemp("", "wso2-apim-policy"); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(packDir)
	os.Exit(code)
}

// packBinary builds the pack from policy/, once per test binary.
var packBinary = sync.OnceValues(func() (string, error) {
	root, err := harness.RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(packDir, "wso2-apim-policy")
	build := exec.Command("go", "build", "-o", bin, "./policy")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./policy: %w: %s", err, out)
	}
	return bin, nil
})

// startPack starts the pack for a stack and handshakes as the engine does.
func startPack(t *testing.T, stack string) pulumirpc.AnalyzerClient {
	t.Helper()
	bin, err := packBinary()
	require.NoError(t, err)
	root, err := harness.RepoRoot()
	require.NoError(t, err)

	cmd := exec.Command(bin)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The analyzer protocol: the first line on stdout is the port it listens on.
	port, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	client := pulumirpc.NewAnalyzerClient(conn)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := filepath.Join(root, "policy")
	_, err = client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{RootDirectory: &dir, ProgramDirectory: &dir})
	require.NoError(t, err)
	_, err = client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{Stack: stack, Project: "wso2-apim", DryRun: true})
	require.NoError(t, err)
	return client
}

// analyzerResources is the graph as the engine hands it to AnalyzeStack: properties marshalled
// with secrets and unknowns kept, the protect option, and each custom resource's provider (the
// engine's default provider when the program names none).
func analyzerResources(t *testing.T, g *harness.Graph) []*pulumirpc.AnalyzerResource {
	t.Helper()
	var out []*pulumirpc.AnalyzerResource
	for _, r := range g.All() {
		props, err := plugin.MarshalProperties(r.Properties(), plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true})
		require.NoError(t, err)
		ar := &pulumirpc.AnalyzerResource{Type: r.Type, Urn: r.URN, Name: r.Name, Properties: props,
			Options: &pulumirpc.AnalyzerResourceOptions{Protect: r.Protect, Parent: r.Parent}, Parent: r.Parent, Dependencies: r.Dependencies}
		if r.Custom {
			if p := g.ProviderOf(r); p != nil {
				ar.Provider = &pulumirpc.AnalyzerProviderResource{Type: p.Type, Urn: p.URN, Name: p.Name}
			} else {
				pkg, _, _ := strings.Cut(r.Type, ":")
				ar.Provider = &pulumirpc.AnalyzerProviderResource{Type: "pulumi:providers:" + pkg, Name: "default_1_0_0",
					Urn: "urn:pulumi:test::test::pulumi:providers:" + pkg + "::default_1_0_0"}
			}
		}
		out = append(out, ar)
	}
	return out
}

// diagnostic is one finding as the engine receives it: "<level> <policy>: <message>".
func diagnostics(t *testing.T, client pulumirpc.AnalyzerClient, g *harness.Graph) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{Resources: analyzerResources(t, g)})
	require.NoError(t, err)
	var out []string
	for _, d := range resp.GetDiagnostics() {
		// policyx prefixes the message with the policy's description.
		msg := strings.TrimPrefix(d.GetMessage(), d.GetDescription()+"\n")
		out = append(out, strings.ToLower(d.GetEnforcementLevel().String())+" "+d.GetPolicyName()+": "+msg)
	}
	sort.Strings(out)
	return out
}

func TestPackPassesTheShippedStacks(t *testing.T) {
	for _, stack := range []string{"dev", "prod", "local"} {
		t.Run(stack, func(t *testing.T) {
			client := startPack(t, stack)
			g, err := harness.Run(stacks.Program, stack, harness.Options{})
			require.NoError(t, err)
			assert.Empty(t, diagnostics(t, client, g))
		})
	}
}

// Every case the mock runner fails, the pack fails too, with the same message, under the
// rule's name and at its enforcement level.
func TestPackReportsWhatTheMockRunnerReports(t *testing.T) {
	client := startPack(t, "prod")
	level := map[string]string{}
	for _, r := range rules.Rules {
		level[r.Name] = r.Enforcement.String()
	}
	for _, tc := range violationCases {
		t.Run(tc.rule, func(t *testing.T) {
			f := good()
			tc.break_(&f)
			g, err := harness.RunWithConfig(f.program, "fixture", "test", map[string]any{}, harness.Options{})
			require.NoError(t, err)
			got := diagnostics(t, client, g)
			want := strings.TrimPrefix(tc.want, tc.rule+": ")
			assert.Contains(t, got, level[tc.rule]+" "+tc.rule+": "+want)
			for _, d := range got {
				assert.Contains(t, d, " "+tc.rule+": ", "breaking %s should trip only that rule", tc.rule)
			}
		})
	}
	g, err := harness.RunWithConfig(good().program, "fixture", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	assert.Empty(t, diagnostics(t, client, g), "the compliant fixture passes the pack too")
}

// The production-only rules hold on stacks named prod (or prod-*), not on others.
func TestPackAppliesProductionRulesToProdStacks(t *testing.T) {
	f := good()
	f.unprotectedPVC = true
	g, err := harness.RunWithConfig(f.program, "fixture", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	want := "mandatory protected-state: kubernetes:core/v1:PersistentVolumeClaim data: holds data but is not protected"
	assert.Contains(t, diagnostics(t, startPack(t, "prod-eu"), g), want)
	assert.Empty(t, diagnostics(t, startPack(t, "dev"), g))
}

// The pack describes itself as PulumiPolicy.yaml and the rules say: every rule at its level,
// plus the advisory cannot-judge, at the version the project file gives.
func TestPackInfo(t *testing.T) {
	client := startPack(t, "dev")
	info, err := client.GetAnalyzerInfo(context.Background(), &emptypb.Empty{})
	require.NoError(t, err)
	assert.Equal(t, pack.Name, info.GetName())
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	proj, err := workspace.LoadPolicyPack(filepath.Join(root, "policy", "PulumiPolicy.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "go", proj.Runtime.Name())
	assert.Equal(t, proj.Version, info.GetVersion(), "PulumiPolicy.yaml's version is the pack's")
	got := map[string]string{}
	for _, p := range info.GetPolicies() {
		got[p.GetName()] = strings.ToLower(p.GetEnforcementLevel().String())
	}
	want := map[string]string{pack.CannotJudge: "advisory"}
	for _, r := range rules.Rules {
		want[r.Name] = r.Enforcement.String()
	}
	assert.Equal(t, want, got)
	for _, safety := range []string{"protected-state", "no-plaintext-secrets", "restricted-pods"} {
		assert.Equal(t, "mandatory", got[safety], safety)
	}
}
