package keystores_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/wso2-k8s/apim-gke/components/keystores"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

const typeKeystores = "wso2apim:keystores:Keystores"

var names = []string{"apim-cp", "apim-cp.wso2-apim.svc", "apim-gw", "localhost"}

// The generated stores are what WSO2's production guidelines ask for: RSA keys of 2048 bits
// or more, SHA-256 certificates, the TLS certificate valid for every name the pods call each
// other by and issued by the CA the truststore gets, and three distinct keys.
func TestGenerateMakesStrongDistinctKeys(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	files, err := keystores.Generate("apim", names, now, 5*365*24*time.Hour)
	require.NoError(t, err)
	password := string(files[keystores.KeyPassword])
	assert.Regexp(t, `^[0-9a-f]{64}$`, password, "a high-entropy password (PBKDF2 with 2048 rounds needs one)")

	block, _ := pem.Decode(files[keystores.KeyTrustedCerts])
	require.NotNil(t, block, "ca.crt is PEM")
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, ca.IsCA)
	assert.Equal(t, 3072, ca.PublicKey.(*rsa.PublicKey).N.BitLen())
	assert.Equal(t, x509.SHA256WithRSA, ca.SignatureAlgorithm)
	assert.Equal(t, now.Add(5*365*24*time.Hour), ca.NotAfter)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	seen := map[string]string{}
	for _, store := range keystores.Stores {
		key, cert, chain, err := pkcs12.DecodeChain(files[store], password)
		require.NoError(t, err, "%s opens with the password", store)
		rsaKey, ok := key.(*rsa.PrivateKey)
		require.True(t, ok, "%s holds an RSA key", store)
		assert.Equal(t, 2048, rsaKey.N.BitLen(), store)
		assert.Equal(t, x509.SHA256WithRSA, cert.SignatureAlgorithm, store)
		assert.True(t, rsaKey.PublicKey.Equal(cert.PublicKey), "%s: the certificate is the key's", store)
		fp := string(cert.Raw)
		assert.NotContains(t, seen, fp, "%s repeats %s's certificate", store, seen[fp])
		seen[fp] = store
		if store == keystores.KeyTLS {
			require.Len(t, chain, 1, "the TLS store carries its CA")
			assert.Equal(t, ca.Raw, chain[0].Raw)
			for _, n := range names {
				_, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: n, CurrentTime: now})
				assert.NoError(t, err, "the TLS certificate is valid for %s under the CA", n)
			}
			_, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "elsewhere.example.com", CurrentTime: now})
			assert.Error(t, err, "and for nothing else")
		} else {
			assert.Empty(t, chain, store)
			assert.Equal(t, cert.Subject.String(), cert.Issuer.String(), "%s is self-signed", store)
		}
	}
	_, _, _, err = pkcs12.DecodeChain(files[keystores.KeyPrimary], "wso2carbon")
	assert.Error(t, err, "WSO2's default password opens nothing")

	again, err := keystores.Generate("apim", names, now, time.Hour)
	require.NoError(t, err)
	assert.NotEqual(t, files[keystores.KeyTrustedCerts], again[keystores.KeyTrustedCerts], "each call is a new CA")
}

type result struct {
	g       *harness.Graph
	expires string
	name    string
}

func run(t *testing.T, args *keystores.Args) (result, error) { return runAs(t, args, true) }

func runAs(t *testing.T, args *keystores.Args, up bool) (result, error) {
	t.Helper()
	return runWith(t, args, harness.Options{Up: up})
}

// runWith is runAs with harness options, e.g. State for Secrets that already exist.
func runWith(t *testing.T, args *keystores.Args, opts harness.Options) (result, error) {
	t.Helper()
	var res result
	var mu sync.Mutex
	done := make(chan struct{})
	mocks := harness.Kubernetes
	mocks.Up, mocks.State = opts.Up, opts.State
	g, err := harness.RunComponent(mocks, func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		ks, err := keystores.NewKeystores(ctx, "ks", args, k8s)
		if err != nil {
			return err
		}
		pulumi.All(ks.SecretName, ks.Expires).ApplyT(func(v []any) error {
			mu.Lock()
			defer mu.Unlock()
			res.name, res.expires = v[0].(string), v[1].(string)
			close(done)
			return nil
		})
		return nil
	})
	if err == nil {
		// Outputs known at once are not awaited by the run; the apply reports them.
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the component's outputs never resolved")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	res.g = g
	return res, err
}

func boolp(v bool) *bool { return &v }

// One Secret per generation, named from the generation and the certificate's names, holding
// every store as a secret, protected, with its data ignored after creation: a second `up`
// (which makes new candidates) changes nothing.
func TestNewKeystoresStoresOneGenerationKept(t *testing.T) {
	args := &keystores.Args{Namespace: pulumi.String("wso2-apim"), Name: "apim-keystores", DNSNames: names}
	res, err := run(t, args)
	require.NoError(t, err)
	comp := res.g.Find(typeKeystores, "ks")
	require.NotNil(t, comp)
	secrets := res.g.OfType(harness.TypeSecret)
	require.Len(t, secrets, 1)
	s := secrets[0]
	want := args.WithDefaults().SecretName(1)
	assert.Regexp(t, `^apim-keystores-g1-[0-9a-f]{8}$`, want)
	assert.Equal(t, "ks-"+strings.TrimPrefix(want, "apim-keystores-"), s.Name)
	assert.Equal(t, want, s.String("metadata.name"))
	assert.Equal(t, want, res.name)
	assert.Equal(t, "wso2-apim", s.String("metadata.namespace"))
	assert.Equal(t, comp.URN, s.Parent)
	assert.True(t, s.Protect)
	assert.Equal(t, []string{"data"}, s.IgnoreChanges)
	for _, key := range append(keystores.Stores, keystores.KeyTrustedCerts, keystores.KeyPassword) {
		assert.True(t, s.IsSecret("data["+key+"]"), "%s is stored as a secret", key)
		b, err := base64.StdEncoding.DecodeString(s.String("data[" + key + "]"))
		assert.NoError(t, err, key)
		assert.NotEmpty(t, b, key)
	}
	exp, err := time.Parse(time.RFC3339, res.expires)
	require.NoError(t, err, "expires is read back from the stored CA: %q", res.expires)
	assert.WithinDuration(t, time.Now().Add(43800*time.Hour), exp, time.Hour)

	second, err := run(t, args)
	require.NoError(t, err)
	assert.Equal(t, s.URN, second.g.OfType(harness.TypeSecret)[0].URN, "a second run declares the same Secret (the engine then keeps the stored data)")

	renamed := *args
	renamed.DNSNames = append([]string{"apim-cp-0.apim-cp-pods"}, names...)
	third, err := run(t, &renamed)
	require.NoError(t, err)
	assert.NotEqual(t, want, third.name, "new names make new keys rather than a certificate that does not fit")
}

// On a later up the Secret exists: the run draws new keys, the engine keeps the stored ones,
// and Expires is the stored CA's end, not the candidate's (a CA made two years ago for five
// ends in three years).
func TestExpiresIsTheStoredCAs(t *testing.T) {
	args := &keystores.Args{Namespace: pulumi.String("wso2-apim"), Name: "apim-keystores", DNSNames: names}
	made := time.Now().UTC().Add(-2 * 365 * 24 * time.Hour).Truncate(time.Second)
	files, err := keystores.Generate("apim-keystores", names, made, 43800*time.Hour)
	require.NoError(t, err)
	data := map[string]any{}
	for key, b := range files {
		data[key] = base64.StdEncoding.EncodeToString(b)
	}
	secret := "ks-" + strings.TrimPrefix(args.WithDefaults().SecretName(1), "apim-keystores-")
	res, err := runWith(t, args, harness.Options{Up: true, State: map[string]map[string]any{harness.TypeSecret + "::" + secret: {"data": data}}})
	require.NoError(t, err)
	s := res.g.Find(harness.TypeSecret, secret)
	require.NotNil(t, s)
	require.NotEqual(t, data[keystores.KeyTrustedCerts], s.String("data["+keystores.KeyTrustedCerts+"]"), "the run registered a new candidate CA")
	assert.Equal(t, made.Add(43800*time.Hour).Format(time.RFC3339), res.expires)
}

// A rotation is one config change: generation 2 creates a new protected Secret and keeps
// generation 1's declared, unprotected and without new keys, so nothing protected is deleted.
func TestRotationKeepsThePreviousGenerationUnprotected(t *testing.T) {
	args := &keystores.Args{Namespace: pulumi.String("ns"), Name: "apim-keystores", DNSNames: names, Generation: 2}
	res, err := run(t, args)
	require.NoError(t, err)
	byName := map[string]*harness.Resource{}
	for _, s := range res.g.OfType(harness.TypeSecret) {
		byName[s.String("metadata.name")] = s
	}
	require.Len(t, byName, 2)
	cur, prev := byName[args.WithDefaults().SecretName(2)], byName[args.WithDefaults().SecretName(1)]
	require.NotNil(t, cur)
	require.NotNil(t, prev)
	assert.True(t, cur.Protect)
	assert.False(t, prev.Protect, "the retired generation can be deleted by the next rotation")
	assert.Equal(t, "retired", prev.String("metadata.labels[wso2apim/keystores-role]"))
	assert.Equal(t, "current", cur.String("metadata.labels[wso2apim/keystores-role]"))
	assert.Empty(t, prev.Get("data"), "no keys are made for a retired generation")
	assert.Equal(t, []string{"data"}, prev.IgnoreChanges, "its stored keys stay as they are")
	assert.Equal(t, args.WithDefaults().SecretName(2), res.name, "pods mount the new generation")

	unprotected, err := run(t, &keystores.Args{Namespace: pulumi.String("ns"), Name: "apim-keystores", DNSNames: names, Protect: boolp(false)})
	require.NoError(t, err)
	assert.False(t, unprotected.g.OfType(harness.TypeSecret)[0].Protect)
}

// A user's Secret is adopted as it is: nothing is generated.
func TestExistingSecretIsUsedAsItIs(t *testing.T) {
	res, err := run(t, &keystores.Args{Namespace: pulumi.String("ns"), ExistingSecret: "my-pki-stores"})
	require.NoError(t, err)
	assert.Empty(t, res.g.OfType(harness.TypeSecret))
	assert.Equal(t, "my-pki-stores", res.name)
	assert.Equal(t, "", res.expires)
}

func TestNewKeystoresRefusesBadArgs(t *testing.T) {
	for _, tc := range []struct {
		args keystores.Args
		want []string
	}{
		{keystores.Args{Name: "Bad_Name", Generation: -1, ValidFor: "1h"}, []string{
			`generation: -1 is not valid; want 1 or more (bump it by one to rotate every key)`,
			`name: "Bad_Name" is not valid; want a DNS label of at most 40 characters`,
			`dnsNames: missing; want the Service names the certificate must be valid for`,
			`validFor: "1h" is not valid; want a duration of a day or more, e.g. 43800h (5 years)`,
		}},
		{keystores.Args{Name: "ok", DNSNames: []string{"apim-cp", "Not A Name"}}, []string{
			`dnsNames[1]: "Not A Name" is not valid; want a DNS name, optionally starting with "*."`,
		}},
		{keystores.Args{ExistingSecret: "Not_a_secret"}, []string{
			`secretName: "Not_a_secret" is not valid; want the name of a Secret in the workloads' namespace (a DNS subdomain)`,
		}},
	} {
		a := tc.args
		a.Namespace = pulumi.String("ns")
		res, err := run(t, &a)
		require.Error(t, err)
		for _, w := range tc.want {
			assert.Contains(t, err.Error(), w)
		}
		assert.Empty(t, res.g.OfType(typeKeystores), "nothing is registered")
	}
}

// A preview draws no keys: the stored Secret keeps its data (ignored changes), a new one is
// shown to be created with every key, none of them a key.
func TestPreviewDrawsNoKeys(t *testing.T) {
	res, err := runAs(t, &keystores.Args{Namespace: pulumi.String("ns"), Name: "apim-keystores", DNSNames: names}, false)
	require.NoError(t, err)
	s := res.g.OfType(harness.TypeSecret)[0]
	for _, key := range append(keystores.Stores, keystores.KeyTrustedCerts, keystores.KeyPassword) {
		b, err := base64.StdEncoding.DecodeString(s.String("data[" + key + "]"))
		require.NoError(t, err)
		assert.Equal(t, "drawn at the first up", string(b), key)
	}
	assert.Equal(t, []string{"data"}, s.IgnoreChanges)
	assert.Equal(t, "", res.expires)
}
