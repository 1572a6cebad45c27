package fidelity

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultCert is one certificate of the keystores and truststores a WSO2 release ships.
type DefaultCert struct {
	SHA256 string // upper-case hex, colon separated, as keytool prints it
	Alias  string
	Store  string // path under the server home
	WSO2   bool   // WSO2's own certificate, whose private key is public
	Source string // repo@commit:path
}

// LoadDefaultCertificates reads default-certificates.txt of a version.
func LoadDefaultCertificates(version string) ([]DefaultCert, error) {
	path := filepath.Join(DataDir(version), "default-certificates.txt")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []DefaultCert
	for n, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 6 || (p[3] != "wso2" && p[3] != "public-ca") {
			return nil, fmt.Errorf("%s:%d: want sha256<TAB>alias<TAB>store<TAB>wso2|public-ca<TAB>entry type<TAB>source", path, n+1)
		}
		out = append(out, DefaultCert{SHA256: p[0], Alias: p[1], Store: p[2], WSO2: p[3] == "wso2", Source: p[5]})
	}
	return out, nil
}

// Fingerprint formats the SHA-256 of a DER certificate as keytool prints it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, c := range sum {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}
