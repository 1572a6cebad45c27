package secrets_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/secrets"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const (
	typeGenerated = "wso2apim:secrets:Generated"
	typeSecret    = "kubernetes:core/v1:Secret"
)

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
	res := result{values: map[string]string{}, secret: map[string]bool{}}
	var mu sync.Mutex
	program := func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		gen, err := secrets.NewGenerated(ctx, "gen", args, pulumi.Provider(k8s))
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
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.NoError(t, err)
	res.g = g
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
	comp := g.OfType(typeGenerated)
	require.Len(t, comp, 1)
	prov := g.Find("pulumi:providers:kubernetes", "k8s")
	require.NotNil(t, prov)
	var got []string
	for _, r := range g.All() {
		if r == comp[0] || r == prov {
			continue
		}
		got = append(got, r.Type+" "+r.Name)
		assert.Equal(t, comp[0].URN, r.Parent, "%s is the component's child", r.Name)
		assert.Equal(t, prov.URN, r.Provider, "%s uses the explicit provider", r.Name)
	}
	assert.ElementsMatch(t, []string{typeSecret + " gen-admin-password", typeSecret + " gen-encryption-key"}, got, "one Secret per value")

	for name, kind := range map[string]secrets.Kind{"admin-password": secrets.Password, "encryption-key": secrets.HexKey} {
		s := g.Find(typeSecret, "gen-"+name)
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
	s := res.g.Find(typeSecret, "gen-db-password")
	require.NotNil(t, s)
	assert.False(t, s.Protect, "Protect false is followed")
	assert.Equal(t, "apim-db-password", s.Get("metadata.name"))
	assert.Equal(t, []string{"data"}, s.IgnoreChanges, "whatever Protect says")
	assertPassword(t, stored(t, s))

	explicit := run(t, &secrets.Args{Namespace: pulumi.String("apps"), Protect: boolp(true), Values: []secrets.Spec{{Name: "k", Kind: secrets.HexKey}}})
	assert.True(t, explicit.g.Find(typeSecret, "gen-k").Protect)
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
		s := res.g.Find(typeSecret, "gen-"+spec.Name)
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

// Each run draws new candidates; keeping the first is the engine's job (IgnoreChanges), which
// the end-to-end suite covers.
func TestEachRunDrawsNewValues(t *testing.T) {
	args := func() *secrets.Args {
		return &secrets.Args{Namespace: pulumi.String("apps"), Values: []secrets.Spec{
			{Name: "pw", Kind: secrets.Password}, {Name: "key", Kind: secrets.HexKey},
		}}
	}
	first, second := run(t, args()), run(t, args())
	for _, name := range []string{"pw", "key"} {
		a := stored(t, first.g.Find(typeSecret, "gen-"+name))
		b := stored(t, second.g.Find(typeSecret, "gen-"+name))
		assert.NotEmpty(t, a)
		assert.NotEqual(t, a, b, "%s is random", name)
	}
}

func refused(t *testing.T, args *secrets.Args) error {
	t.Helper()
	var newErr error
	program := func(ctx *pulumi.Context) error {
		_, newErr = secrets.NewGenerated(ctx, "gen", args)
		return newErr
	}
	g, err := harness.RunWithConfig(program, "lib", "test", map[string]any{}, harness.Options{})
	require.Error(t, err)
	assert.Empty(t, g.All(), "nothing registered")
	return newErr
}

func TestRefusesBadArgsBeforeRegistering(t *testing.T) {
	for name, args := range map[string]*secrets.Args{
		"nil args":     nil,
		"no namespace": {Values: []secrets.Spec{{Name: "pw"}}},
	} {
		t.Run(name, func(t *testing.T) {
			err := refused(t, args)
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
			err := refused(t, &secrets.Args{Namespace: pulumi.String("apps"), Values: values})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `secrets "gen": `)
		})
	}
}
