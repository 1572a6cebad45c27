package tests

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/keystores"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/fidelity"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// wso2DefaultFingerprints are the certificates WSO2 4.7.0 ships whose private keys are public,
// from the facts derived from WSO2's sources (lower-case hex, no colons).
func wso2DefaultFingerprints(t *testing.T) []string {
	t.Helper()
	certs, err := fidelity.LoadDefaultCertificates("4.7.0")
	require.NoError(t, err)
	seen := map[string]bool{}
	var out []string
	for _, c := range certs {
		fp := strings.ToLower(strings.ReplaceAll(c.SHA256, ":", ""))
		if c.WSO2 && !seen[fp] {
			seen[fp] = true
			out = append(out, fp)
		}
	}
	require.NotEmpty(t, out, "the facts name WSO2's own certificate")
	return out
}

// The deny list the pods enforce is exactly WSO2's own certificates of the version deployed.
func TestDenyListIsWSO2sDefaultCertificates(t *testing.T) {
	assert.ElementsMatch(t, wso2DefaultFingerprints(t), apim.WSO2DefaultCertificates)
}

// keystoreSecret is the generated keystore Secret of a run, and its stores decoded.
func keystoreSecret(t *testing.T, g *harness.Graph) (*harness.Resource, map[string][]byte) {
	t.Helper()
	var found []*harness.Resource
	for _, s := range g.OfType(typeSecret) {
		if s.String("metadata.labels[app.kubernetes.io/component]") == "keystores" {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "one keystore Secret")
	files := map[string][]byte{}
	for k, v := range found[0].Get("data").(map[string]any) {
		b, err := base64.StdEncoding.DecodeString(v.(string))
		require.NoError(t, err, k)
		files[k] = b
	}
	return found[0], files
}

// Every stack, as `pulumi up` runs it: API Manager reads the deployment's own stores
// (keystore and truststore tables in deployment.toml, password from the environment), every
// API Manager pod mounts the keystore Secret and builds its stores from it, no store holds a
// certificate WSO2 ships, and the stores' password is in the Secret and nowhere else.
func TestEveryStackRunsOnItsOwnKeys(t *testing.T) {
	deny := wso2DefaultFingerprints(t)
	for _, stack := range stackNames {
		t.Run(stack, func(t *testing.T) {
			g, err := harness.Run(stacks.Program, stack, harness.Options{Up: true})
			require.NoError(t, err)
			secret, files := keystoreSecret(t, g)
			password := string(files[keystores.KeyPassword])
			require.Len(t, password, 64)

			for _, store := range keystores.Stores {
				key, cert, chain, err := pkcs12.DecodeChain(files[store], password)
				require.NoError(t, err, store)
				require.NotNil(t, key, store)
				for _, c := range append(chain, cert) {
					assert.NotContains(t, deny, sha256Hex(c.Raw), "%s holds a WSO2 default certificate", store)
				}
			}
			assert.NotContains(t, deny, sha256Hex(pemBlock(t, files[keystores.KeyTrustedCerts])), "the trusted CA is not WSO2's")

			deps := 0
			for _, d := range append(g.OfType(typeDeployment), g.OfType(typeStatefulSet)...) {
				image := d.String("spec.template.spec.containers.0.image")
				if !strings.HasPrefix(image, "wso2/wso2am") {
					continue
				}
				deps++
				vols := map[string]map[string]any{}
				for _, v := range d.Get("spec.template.spec.volumes").([]any) {
					vols[v.(map[string]any)["name"].(string)] = v.(map[string]any)
				}
				assert.Equal(t, secret.String("metadata.name"), fmt.Sprint(vols["keystores"]["secret"].(map[string]any)["secretName"]), "%s mounts the keystore Secret", d.Name)
				assert.True(t, g.DependsOn(d, secret), "%s waits for its keys", d.Name)
				inits := d.Get("spec.template.spec.initContainers").([]any)
				var names []string
				for _, c := range inits {
					names = append(names, c.(map[string]any)["name"].(string))
				}
				assert.Contains(t, names, "keystores", d.Name)
				assert.Contains(t, fmt.Sprint(d.Get("spec.template.spec.containers.0.env")), "map[name:WSO2_KEYSTORE_PASSWORD valueFrom:map[secretKeyRef:map[key:password name:"+secret.String("metadata.name")+"]]]")
			}
			assert.Equal(t, 2, deps, "the control plane and the gateway")

			for _, cm := range []string{"apim-cp-conf", "apim-gw-conf"} {
				var conf map[string]any
				_, err := toml.Decode(deploymentTOMLs(t, g, cm)[0], &conf)
				require.NoError(t, err)
				ks := conf["keystore"].(map[string]any)
				for _, name := range []string{"primary", "tls", "internal"} {
					assert.Equal(t, map[string]any{"file_name": apim.StoreFiles[name], "type": "PKCS12", "alias": name,
						"password": "$env{WSO2_KEYSTORE_PASSWORD}", "key_password": "$env{WSO2_KEYSTORE_PASSWORD}"}, ks[name], "%s [keystore.%s]", cm, name)
				}
				assert.Equal(t, map[string]any{"file_name": "truststore.p12", "type": "PKCS12", "password": "$env{WSO2_KEYSTORE_PASSWORD}"}, conf["truststore"], cm)
				assert.Equal(t, map[string]any{"enable": false}, conf["apim"].(map[string]any)["ai"], "%s: AI features off unless configured", cm)
			}

			for _, r := range g.All() {
				if r.Type == typeSecret {
					continue
				}
				assert.NotContains(t, fmt.Sprint(r.Inputs), password, "%s %s holds the stores' password", r.Type, r.Name)
			}
		})
	}
}

// A user's Secret replaces the generated one: nothing is generated, and every API Manager pod
// mounts the user's.
func TestUsersKeystoreSecretIsUsed(t *testing.T) {
	g, err := harness.Run(stacks.Program, "prod", harness.Options{Set: map[string]any{"apim.keystores.secretName": "corp-pki-apim"}})
	require.NoError(t, err)
	for _, s := range g.OfType(typeSecret) {
		assert.NotEqual(t, "keystores", s.String("metadata.labels[app.kubernetes.io/component]"), "nothing generated")
	}
	for _, name := range []string{"apim-cp", "apim-gw"} {
		d := apimWorkload(t, g, name)
		assert.Contains(t, d.Get("spec.template.spec.volumes"), map[string]any{"name": "keystores",
			"secret": map[string]any{"secretName": "corp-pki-apim", "defaultMode": 288.0}}, name)
	}
}

func pemBlock(t *testing.T, b []byte) []byte {
	t.Helper()
	blk, _ := pem.Decode(b)
	require.NotNil(t, blk, "a PEM certificate")
	return blk.Bytes
}
