package tests

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/keystores"
)

// selfSigned makes a throwaway CA certificate, standing for a public CA or a user's CA.
func selfSigned(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

func pemOf(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

func sha256Hex(der []byte) string { h := sha256.Sum256(der); return hex.EncodeToString(h[:]) }

// keytoolEntries lists a store's entries as alias -> (entry type, SHA-256 of each
// certificate), read by keytool itself.
func keytoolEntries(t *testing.T, keytool, store, password string) map[string][]string {
	t.Helper()
	out, err := exec.Command(keytool, "-J-Duser.language=en", "-list", "-v", "-keystore", store, "-storetype", "PKCS12", "-storepass", password).CombinedOutput()
	require.NoError(t, err, "%s: %s", store, out)
	entries := map[string][]string{}
	alias := ""
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Alias name: "):
			alias = strings.TrimPrefix(line, "Alias name: ")
		case strings.HasPrefix(line, "Entry type: "):
			entries[alias] = append(entries[alias], strings.TrimPrefix(line, "Entry type: "))
		case strings.HasPrefix(line, "SHA256: "):
			fp := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(line, "SHA256: "), ":", ""))
			entries[alias] = append(entries[alias], fp)
		}
	}
	return entries
}

// The keystores init container's script, run as the pod runs it (a POSIX shell, keytool) on
// generated stores: each store's one key lands under WSO2's alias, the truststore holds the
// JDK's public CAs, the deployment's CA, the caller's CAs and the primary certificate as
// gateway_certificate_alias, the image's default store names hold these stores, and a store
// with a certificate on the deny list (WSO2's default) stops the pod.
func TestKeystoresScriptBuildsTheStores(t *testing.T) {
	busybox := need(t, "busybox", "busybox-static")
	keytool := need(t, "keytool", "openjdk-17-jre-headless")
	files, err := keystores.Generate("apim", []string{"localhost", "apim-cp"}, time.Now(), 24*time.Hour)
	require.NoError(t, err)
	password := string(files[keystores.KeyPassword])
	publicCA, usersCA, usersOtherCA := selfSigned(t, "A public root"), selfSigned(t, "My backends' CA"), selfSigned(t, "My database's CA")
	cacerts, err := pkcs12.Modern2023.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: publicCA, FriendlyName: "publicroot [jdk]"}}, "changeit")
	require.NoError(t, err)

	bin := t.TempDir()
	for _, applet := range []string{"awk", "sed", "tr", "wc", "grep", "cp", "rm", "mkdir", "basename", "printf", "echo", "cat"} {
		require.NoError(t, os.Symlink(busybox, filepath.Join(bin, applet)))
	}
	require.NoError(t, os.Symlink(keytool, filepath.Join(bin, "keytool")))

	type run struct {
		out, dir string
		err      error
	}
	exec1 := func(mutate func(in, trusted string), deny ...string) run {
		in, out, trusted, cacertsFile := t.TempDir(), t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "cacerts")
		for k, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join(in, k), b, 0o400))
		}
		require.NoError(t, os.WriteFile(cacertsFile, cacerts, 0o444))
		require.NoError(t, os.WriteFile(filepath.Join(trusted, "extra.pem"), pemOf(usersCA, usersOtherCA), 0o444))
		if mutate != nil {
			mutate(in, trusted)
		}
		cmd := exec.Command(busybox, "sh", "-c", apim.KeystoresScript)
		cmd.Env = []string{"PATH=" + bin, "IN_DIR=" + in, "OUT_DIR=" + out, "TRUSTED_DIR=" + trusted, "JAVA_CACERTS=" + cacertsFile,
			"KEYSTORE_PASSWORD=" + password, "WSO2_DEFAULT_CERTS=" + strings.Join(append(slicesClone(apim.WSO2DefaultCertificates), deny...), " ")}
		b, err := cmd.CombinedOutput()
		return run{string(b), out, err}
	}

	r := exec1(nil)
	require.NoError(t, r.err, r.out)
	assert.Contains(t, r.out, "keystores: primary, tls and internal keys imported; truststore holds the JDK's CAs and 3 of ours; no WSO2 default certificate")
	for _, store := range []string{"primary", "tls", "internal"} {
		e := keytoolEntries(t, keytool, filepath.Join(r.dir, apim.StoreFiles[store]), password)
		require.Len(t, e, 1, "%s: one entry", store)
		require.Contains(t, e, store, "%s: the key sits under the alias deployment.toml names", store)
		assert.Equal(t, "PrivateKeyEntry", e[store][0])
		_, cert, err := pkcs12.Decode(files[store+".p12"], password)
		if store == "tls" {
			var chain []*x509.Certificate
			_, cert, chain, err = pkcs12.DecodeChain(files[keystores.KeyTLS], password)
			require.Len(t, chain, 1)
		}
		require.NoError(t, err)
		assert.Equal(t, sha256Hex(cert.Raw), e[store][1], "%s: the Secret's key, not another", store)
	}
	trust := keytoolEntries(t, keytool, filepath.Join(r.dir, "truststore.p12"), password)
	_, primaryCert, err := pkcs12.Decode(files[keystores.KeyPrimary], password)
	require.NoError(t, err)
	block, _ := pem.Decode(files[keystores.KeyTrustedCerts])
	var got []string
	for alias, e := range trust {
		assert.Equal(t, "trustedCertEntry", e[0], alias)
		got = append(got, e[1])
	}
	want := []string{sha256Hex(publicCA.Raw), sha256Hex(block.Bytes), sha256Hex(usersCA.Raw), sha256Hex(usersOtherCA.Raw), sha256Hex(primaryCert.Raw)}
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(t, want, got, "the JDK's CA, the deployment's CA, both of the caller's, and the primary certificate")
	assert.Equal(t, sha256Hex(primaryCert.Raw), trust["gateway_certificate_alias"][1], "API keys are checked against the primary certificate")
	for copyName, of := range map[string]string{"wso2carbon.jks": "tls.p12", "client-truststore.jks": "truststore.p12"} {
		a, err1 := os.ReadFile(filepath.Join(r.dir, copyName))
		b, err2 := os.ReadFile(filepath.Join(r.dir, of))
		require.NoError(t, err1)
		require.NoError(t, err2)
		assert.Equal(t, b, a, "the image's %s is overwritten with %s", copyName, of)
	}
	entries, _ := os.ReadDir(r.dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"primary.p12", "tls.p12", "internal.p12", "truststore.p12", "wso2carbon.jks", "client-truststore.jks"}, names, "nothing else is left for the entrypoint to copy")

	// The deny list works: the deployment's CA put on it stops the pod (WSO2's default
	// certificate cannot be made here; tests of the product hold the list equal to WSO2's).
	r = exec1(nil, sha256Hex(block.Bytes))
	require.Error(t, r.err)
	assert.Regexp(t, regexp.MustCompile(`keystores: (tls|truststore)\.p12 holds a certificate that WSO2 ships in every image \(SHA-256 `+sha256Hex(block.Bytes)+`\); its private key is public: use keys of your own`), r.out)

	r = exec1(func(in, _ string) {
		require.NoError(t, os.WriteFile(filepath.Join(in, keystores.KeyPassword), []byte("x"), 0o400))
		other, err := keystores.Generate("apim", []string{"x"}, time.Now(), time.Hour)
		require.NoError(t, err)
		require.NoError(t, os.Chmod(filepath.Join(in, keystores.KeyPrimary), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(in, keystores.KeyPrimary), other[keystores.KeyPrimary], 0o400))
	})
	require.Error(t, r.err)
	assert.Contains(t, r.out, "keystores: primary.p12 does not open with the Secret's password")

	r = exec1(func(in, _ string) { require.NoError(t, os.Remove(filepath.Join(in, keystores.KeyInternal))) })
	require.Error(t, r.err)
	assert.Contains(t, r.out, "keystores: internal.p12 is missing from the keystore Secret (it needs primary.p12, tls.p12, internal.p12, ca.crt and password)")

	r = exec1(func(in, _ string) {
		require.NoError(t, os.WriteFile(filepath.Join(in, keystores.KeyTrustedCerts), nil, 0o400))
	})
	require.Error(t, r.err)
	assert.Contains(t, r.out, "holds no PEM certificate")
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
