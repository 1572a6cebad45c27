package keystores

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Key sizes: WSO2's production guidelines ask for RSA keys of 2048 bits or more with SHA-256
// certificates. The CA signs for the stores' whole validity, so it gets the larger key.
const (
	leafKeyBits = 2048
	caKeyBits   = 3072
)

// Generate makes one generation's files, by Secret key: a CA, a TLS key and certificate it
// issues for dnsNames (with the chain), self-signed primary and internal keys, each store a
// PKCS12 file encrypted with one random password. The CA's private key is not kept: nothing
// but this call ever issues under it, so a new generation is a new CA.
func Generate(owner string, dnsNames []string, now time.Time, validFor time.Duration) (map[string][]byte, error) {
	if len(dnsNames) == 0 {
		return nil, fmt.Errorf("keystores: no DNS names for the TLS certificate")
	}
	notAfter := now.Add(validFor)
	subject := func(role string) pkix.Name {
		return pkix.Name{Organization: []string{"WSO2 API Manager (" + owner + ")"}, CommonName: owner + " " + role}
	}

	// Four keys, drawn at once: key generation is most of a program run's time, and every
	// run (preview included) draws candidates.
	keys, err := generateKeys(caKeyBits, leafKeyBits, leafKeyBits, leafKeyBits)
	if err != nil {
		return nil, err
	}
	caKey, tlsKey, primaryKey, internalKey := keys[0], keys[1], keys[2], keys[3]
	caTemplate := &x509.Certificate{
		Subject:               subject("internal CA"),
		NotBefore:             now.Add(-time.Hour), // clocks of nodes differ
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	ca, err := certificate(caTemplate, caTemplate, caKey, caKey)
	if err != nil {
		return nil, err
	}

	leaf := func(key *rsa.PrivateKey, role string, usage x509.KeyUsage, ext []x509.ExtKeyUsage, names []string, issuer *x509.Certificate, issuerKey *rsa.PrivateKey) (*x509.Certificate, error) {
		tmpl := &x509.Certificate{
			Subject: subject(role), NotBefore: now.Add(-time.Hour), NotAfter: notAfter,
			KeyUsage: usage, ExtKeyUsage: ext, DNSNames: names, BasicConstraintsValid: true,
			SignatureAlgorithm: x509.SHA256WithRSA,
		}
		if issuer == nil { // self-signed
			issuer, issuerKey = tmpl, key
		}
		return certificate(tmpl, issuer, key, issuerKey)
	}
	tlsCert, err := leaf(tlsKey, "TLS", x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, dnsNames, ca, caKey)
	if err != nil {
		return nil, err
	}
	primaryCert, err := leaf(primaryKey, "token signing", x509.KeyUsageDigitalSignature, nil, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	internalCert, err := leaf(internalKey, "internal", x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment, nil, nil, nil, nil)
	if err != nil {
		return nil, err
	}

	pw := make([]byte, 32)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(pw)
	out := map[string][]byte{
		KeyTrustedCerts: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		KeyPassword:     []byte(password),
	}
	for _, s := range []struct {
		key   string
		priv  *rsa.PrivateKey
		cert  *x509.Certificate
		chain []*x509.Certificate
	}{
		{KeyPrimary, primaryKey, primaryCert, nil},
		{KeyTLS, tlsKey, tlsCert, []*x509.Certificate{ca}},
		{KeyInternal, internalKey, internalCert, nil},
	} {
		// PBES2 with AES-256 and an HMAC-SHA-256 MAC: what Java 12 and later read, and
		// nothing weaker (the legacy encoders use RC2 and 3DES).
		p12, err := pkcs12.Modern2023.Encode(s.priv, s.cert, s.chain, password)
		if err != nil {
			return nil, fmt.Errorf("keystores: encoding %s: %w", s.key, err)
		}
		out[s.key] = p12
	}
	return out, nil
}

// certificate signs tmpl with issuerKey under issuer, with a random 128-bit serial number.
func certificate(tmpl, issuer *x509.Certificate, key, issuerKey *rsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if issuer == tmpl {
		issuer.SerialNumber = serial
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// generateKeys draws one RSA key of each size in bits, concurrently.
func generateKeys(bits ...int) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, len(bits))
	errs := make([]error, len(bits))
	var wg sync.WaitGroup
	for i, b := range bits {
		wg.Go(func() { keys[i], errs[i] = rsa.GenerateKey(rand.Reader, b) })
	}
	wg.Wait()
	return keys, errors.Join(errs...)
}
