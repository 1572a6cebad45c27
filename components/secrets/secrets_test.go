package secrets_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/secrets"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeGenerated = "wso2apim:secrets:Generated"

var hexKeyRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

func boolp(v bool) *bool { return &v }

// result is what a run of NewGenerated produced: the graph, the values as the component
// reports them, and whether each reported value is a Pulumi secret.
type result struct {
	g      *harness.Graph
	values map[string]string
	secret map[string]bool
}

func run(t *testing.T, args *secrets.Args) result {
	t.Helper()
	return runWith(t, args, harness.Options{})
}

// runWith is run with harness options, e.g. State for Secrets that already exist.
func runWith(t *testing.T, args *secrets.Args, opts harness.Options) result {
	t.Helper()
	res := result{values: map[string]string{}, secret: map[string]bool{}}
	var mu sync.Mutex
	mocks := harness.Kubernetes
	mocks.Up, mocks.State = opts.Up, opts.State
	res.g = harness.MustRunComponent(t, mocks, func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		gen, err := secrets.NewGenerated(ctx, "gen", args, k8s)
		if err != nil {
			return err
		}
		for name, out := range gen.Values {
			res.secret[name] = pulumi.IsSecret(out)
			out.ApplyT(func(v string) string {
				mu.Lock()
				defer mu.Unlock()
				res.values[name] = v
				return v
			})
		}
		return nil
	})
	return res
}

// stored decodes the value a Secret was registered with.
func stored(t *testing.T, r *harness.Resource) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(r.String("data.value"))
	require.NoError(t, err, "data.value is base64")
	return string(b)
}

// assertPassword checks the promised shape of a generated password.
func assertPassword(t *testing.T, pw string) {
	t.Helper()
	assert.Len(t, pw, 24, pw)
	assert.Regexp(t, `[a-z]`, pw, "a lower-case letter")
	assert.Regexp(t, `[A-Z]`, pw, "an upper-case letter")
	assert.Regexp(t, `[0-9]`, pw, "a digit")
	assert.Equal(t, 1, strings.Count(pw, "-")+strings.Count(pw, "_")+strings.Count(pw, "."), "exactly one of -_. in %q", pw)
	assert.Regexp(t, `^[a-zA-Z0-9._-]{24}$`, pw, "letters, digits and -_. only")
	assert.NotContains(t, pw, `"`)
	assert.NotContains(t, pw, "'")
	assert.NotContains(t, pw, "`")
	assert.NotContains(t, pw, `\`)
	assert.NotContains(t, pw, "$")
}

func TestGeneratedAlone(t *testing.T) {
	res := run(t, &secrets.Args{
		Namespace: pulumi.String("apps"),
		Values: []secrets.Spec{
			{Name: "admin-password", Kind: secrets.Password},
			{Name: "encryption-key", Kind: secrets.HexKey},
		},
	})
	g := res.g
	got := harness.Children(t, g, typeGenerated)
	assert.ElementsMatch(t, []string{harness.TypeSecret + " gen-admin-password", harness.TypeSecret + " gen-encryption-key"}, got, "one Secret per value")

	for name, kind := range map[string]secrets.Kind{"admin-password": secrets.Password, "encryption-key": secrets.HexKey} {
		s := g.Find(harness.TypeSecret, "gen-"+name)
		require.NotNil(t, s, name)
		assert.Equal(t, "generated-"+name, s.Get("metadata.name"), "default prefix")
		assert.Equal(t, "apps", s.Get("metadata.namespace"))
		assert.Equal(t, "Opaque", s.Get("type"))
		assert.Equal(t, "generated", s.Get("metadata.labels[app.kubernetes.io/name]"))
		assert.True(t, s.Protect, "protected by default: a new encryption key makes old data unreadable")
		assert.Equal(t, []string{"data"}, s.IgnoreChanges, "only the first value is ever stored")
		assert.True(t, s.IsSecret("data.value"), "the value is a secret in state")
		assert.Equal(t, []string{"value"}, keys(s.Get("data")))

		v := stored(t, s)
		if kind == secrets.HexKey {
			assert.Regexp(t, hexKeyRe, v)
		} else {
			assertPassword(t, v)
		}
		assert.Equal(t, v, res.values[name], "the reported value is the stored one")
		assert.True(t, res.secret[name], "the reported value is a Pulumi secret")
	}
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestProtectAndPrefixFollowArgs(t *testing.T) {
	res := run(t, &secrets.Args{
		Namespace: pulumi.String("apps"), Prefix: "apim", Protect: boolp(false),
		Values: []secrets.Spec{{Name: "db-password"}},
	})
	s := res.g.Find(harness.TypeSecret, "gen-db-password")
	require.NotNil(t, s)
	assert.False(t, s.Protect, "Protect false is followed")
	assert.Equal(t, "apim-db-password", s.Get("metadata.name"))
	assert.Equal(t, []string{"data"}, s.IgnoreChanges, "whatever Protect says")
	assertPassword(t, stored(t, s))

	explicit := run(t, &secrets.Args{Namespace: pulumi.String("apps"), Protect: boolp(true), Values: []secrets.Spec{{Name: "k", Kind: secrets.HexKey}}})
	assert.True(t, explicit.g.Find(harness.TypeSecret, "gen-k").Protect)
}

func TestNoValuesNoSecrets(t *testing.T) {
	res := run(t, &secrets.Args{Namespace: pulumi.String("apps")})
	assert.Len(t, res.g.All(), 2, "the provider and the empty component")
	assert.Len(t, res.g.OfType(typeGenerated), 1)
}

// Many draws in one run: every one has the promised shape and none repeats.
func TestGeneratedShapes(t *testing.T) {
	var specs []secrets.Spec
	for i := range 50 {
		specs = append(specs, secrets.Spec{Name: fmt.Sprintf("pw-%d", i), Kind: secrets.Password},
			secrets.Spec{Name: fmt.Sprintf("key-%d", i), Kind: secrets.HexKey})
	}
	res := run(t, &secrets.Args{Namespace: pulumi.String("apps"), Values: specs, Protect: boolp(false)})
	seen := map[string]bool{}
	symbols := map[byte]bool{}
	for _, spec := range specs {
		s := res.g.Find(harness.TypeSecret, "gen-"+spec.Name)
		require.NotNil(t, s, spec.Name)
		v := stored(t, s)
		if spec.Kind == secrets.HexKey {
			assert.Regexp(t, hexKeyRe, v, spec.Name)
		} else {
			assertPassword(t, v)
			for i := range len(v) {
				if strings.IndexByte("-_.", v[i]) >= 0 {
					symbols[v[i]] = true
				}
			}
		}
		assert.False(t, seen[v], "%s repeats a value", spec.Name)
		seen[v] = true
	}
	assert.Len(t, symbols, 3, "each of -_. is drawn (50 draws, chance of missing one about 3e-9)")
}

// Each run draws new candidates; keeping the first is the engine's job (IgnoreChanges), and
// reporting the kept one is the component's (TestReportedValuesAreTheStoredOnes).
func TestEachRunDrawsNewValues(t *testing.T) {
	args := func() *secrets.Args {
		return &secrets.Args{Namespace: pulumi.String("apps"), Values: []secrets.Spec{
			{Name: "pw", Kind: secrets.Password}, {Name: "key", Kind: secrets.HexKey},
		}}
	}
	first, second := run(t, args()), run(t, args())
	for _, name := range []string{"pw", "key"} {
		a := stored(t, first.g.Find(harness.TypeSecret, "gen-"+name))
		b := stored(t, second.g.Find(harness.TypeSecret, "gen-"+name))
		assert.NotEmpty(t, a)
		assert.NotEqual(t, a, b, "%s is random", name)
	}
}

// On an update the Secrets exist: each run still draws and registers a new candidate, the
// engine keeps the stored data (IgnoreChanges), and what the component reports, to the
// workloads and the stack's outputs, must be the stored value. The harness's State answers as
// the engine does; a component that reported its candidate would hand the pods a password the
// database never had.
func TestReportedValuesAreTheStoredOnes(t *testing.T) {
	kept := map[string]string{"pw": "Stored-Password-From-1st-Up", "key": strings.Repeat("ab", 32)}
	state := map[string]map[string]any{}
	for name, v := range kept {
		state[harness.TypeSecret+"::gen-"+name] = map[string]any{"data": map[string]any{"value": base64.StdEncoding.EncodeToString([]byte(v))}}
	}
	res := runWith(t, &secrets.Args{Namespace: pulumi.String("apps"), Values: []secrets.Spec{
		{Name: "pw", Kind: secrets.Password}, {Name: "key", Kind: secrets.HexKey},
	}}, harness.Options{Up: true, State: state})
	for name, want := range kept {
		s := res.g.Find(harness.TypeSecret, "gen-"+name)
		require.NotNil(t, s, name)
		candidate := stored(t, s)
		require.NotEqual(t, want, candidate, "%s: the run registered a new candidate", name)
		assert.Equal(t, want, res.values[name], "%s: the reported value is the stored one, not this run's candidate", name)
		assert.True(t, res.secret[name], "%s: still a Pulumi secret", name)
	}
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	for name, args := range map[string]*secrets.Args{
		"nil args":     nil,
		"no namespace": {Values: []secrets.Spec{{Name: "pw"}}},
	} {
		t.Run(name, func(t *testing.T) {
			err := harness.Refused(t, secrets.NewGenerated, "gen", args)
			require.Error(t, err)
			assert.EqualError(t, err, `secrets "gen": Namespace is required`)
		})
	}
}

func TestRefusesBadValueNames(t *testing.T) {
	for name, values := range map[string][]secrets.Spec{
		"empty name":     {{Name: ""}},
		"invalid name":   {{Name: "Admin_Pw"}},
		"duplicate name": {{Name: "pw"}, {Name: "pw", Kind: secrets.HexKey}},
	} {
		t.Run(name, func(t *testing.T) {
			err := harness.Refused(t, secrets.NewGenerated, "gen", &secrets.Args{Namespace: pulumi.String("apps"), Values: values})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `secrets "gen": `)
		})
	}
}
