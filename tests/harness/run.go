package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// Options adjust a stack's config for one run.
type Options struct {
	// Set overrides settings by dotted path: "nodePool.minNodes" sets minNodes inside the
	// nodePool key; "nodePool" alone replaces the whole key. A nil value removes it.
	Set map[string]any
	// Secrets are config values passed as Pulumi secrets, by key (e.g. "mysqlRootPassword").
	// When nil, TestSecrets is used.
	Secrets map[string]string
	// Up runs the program as `pulumi up` does (DryRun false) rather than as a preview, the
	// default: what differs is what a preview skips, such as drawing keys that only a
	// created resource would store.
	Up bool
	// State models resources that already exist, as the engine's state holds them: by
	// "<type>::<name>" (e.g. "kubernetes:core/v1:Secret::gen-pw"), the properties stored by
	// an earlier `up`. A registration of such a resource reports, for every property its
	// IgnoreChanges names, the stored value instead of the one just registered, as the engine
	// does on an update; other properties report the registered inputs. Without it the mocks
	// echo inputs, so a program cannot be told from one that reads its own candidate back.
	State map[string]map[string]any
}

// TestSecrets are the secret config values every stack needs; tests use them unless they
// pass their own. They are obviously fake so that a leak is easy to spot in any output.
var TestSecrets = map[string]string{
	"apimAdminPassword": "test-admin-password-DO-NOT-USE",
	"apimEncryptionKey": "0123456789abcdef0123456789abcdef",
	"mysqlRootPassword": "test-root-password-DO-NOT-USE",
	"mysqlPassword":     "test-db-password-DO-NOT-USE",
	// OpenSearch wants upper and lower case, a digit and a symbol.
	"analyticsAdminPassword": "Test-Analytics-Pw-1-DO-NOT-USE",
	"moesifKey":              "test-moesif-key-DO-NOT-USE",
	"ingressTlsCertificate":  "-----BEGIN CERTIFICATE-----\ntest-cert-DO-NOT-USE\n-----END CERTIFICATE-----\n",
	"ingressTlsKey":          "-----BEGIN PRIVATE KEY-----\ntest-key-DO-NOT-USE\n-----END PRIVATE KEY-----\n",
}

// TestGCPProject is the gcp:project every run gets unless it sets its own (Options.Set
// "gcp:project", nil to leave it unset): the stack files leave the project to the user, as
// `pulumi config set gcp:project <id>`.
const TestGCPProject = "apim-test-project"

// Run runs program as stack `stack` of the project in the repository root, with that stack's
// Pulumi.<stack>.yaml and Pulumi.yaml's project defaults, and returns the recorded graph and
// the program's error.
func Run(program pulumi.RunFunc, stack string, opts Options) (*Graph, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	project, cfg, err := LoadStackConfig(root, stack)
	if err != nil {
		return nil, err
	}
	return RunWithConfig(program, project, stack, cfg, opts)
}

// RunWithConfig is Run with an explicit project name and config (keys without namespace,
// values as YAML-decoded Go values).
func RunWithConfig(program pulumi.RunFunc, project, stack string, cfg map[string]any, opts Options) (*Graph, error) {
	cfg = deepCopy(cfg).(map[string]any)
	if _, ok := cfg["gcp:project"]; !ok {
		cfg["gcp:project"] = TestGCPProject
	}
	for _, path := range sortedKeys(opts.Set) {
		setPath(cfg, path, opts.Set[path])
	}
	secrets := opts.Secrets
	if secrets == nil {
		secrets = TestSecrets
	}
	flat := map[string]string{}
	for k, v := range cfg {
		s, err := configString(v)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", k, err)
		}
		if strings.Contains(k, ":") {
			flat[k] = s // provider config such as gcp:region
			continue
		}
		flat[project+":"+k] = s
	}
	var secretKeys []string
	for k, v := range secrets {
		flat[project+":"+k] = v
		secretKeys = append(secretKeys, project+":"+k)
	}
	sort.Strings(secretKeys)

	g := &Graph{}
	m := &mocks{project: project, stack: stack, graph: g, state: opts.State}
	err := pulumi.RunErr(program, pulumi.WithMocks(project, stack, m), func(ri *pulumi.RunInfo) {
		ri.Config = flat
		ri.ConfigSecretKeys = secretKeys
		ri.DryRun = !opts.Up
	})
	return g, err
}

// RepoRoot finds the directory holding go.mod above this package.
func RepoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("harness: cannot locate source")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("harness: no go.mod above %s", file)
		}
		dir = parent
	}
}

// LoadStackConfig reads Pulumi.yaml and Pulumi.<stack>.yaml as the CLI would: the project's
// config defaults first, then the stack's values. It returns the project name and the config:
// the project's keys without namespace, provider keys (gcp:region) with theirs.
func LoadStackConfig(root, stack string) (string, map[string]any, error) {
	var project struct {
		Name   string `yaml:"name"`
		Config map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"config"`
	}
	if err := readYAML(filepath.Join(root, "Pulumi.yaml"), &project); err != nil {
		return "", nil, err
	}
	var stackFile struct {
		Config map[string]any `yaml:"config"`
	}
	if err := readYAML(filepath.Join(root, "Pulumi."+stack+".yaml"), &stackFile); err != nil {
		return "", nil, err
	}
	cfg := map[string]any{}
	for k, v := range project.Config {
		if v.Default != nil {
			cfg[k] = v.Default
		}
	}
	for k, v := range stackFile.Config {
		ns, key, ok := strings.Cut(k, ":")
		if !ok {
			continue
		}
		if ns != project.Name {
			key = k // provider config such as gcp:region, passed on as it is
		}
		if obj, isObj := v.(map[string]any); isObj && obj["secure"] != nil {
			continue // encrypted values need the CLI; tests pass secrets through Options
		}
		cfg[key] = v
	}
	return project.Name, cfg, nil
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// configString encodes a value as the CLI passes it to programs: strings as they are,
// everything else as JSON.
func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func setPath(cfg map[string]any, path string, value any) {
	steps := strings.Split(path, ".")
	m := cfg
	for _, s := range steps[:len(steps)-1] {
		next, ok := m[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[s] = next
		}
		m = next
	}
	last := steps[len(steps)-1]
	if value == nil {
		delete(m, last)
		return
	}
	m[last] = value
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
