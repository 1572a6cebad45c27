package fidelity

import "testing"

func TestDefaultCertificatesOf470(t *testing.T) {
	certs, err := LoadDefaultCertificates("4.7.0")
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]int{}
	var own []DefaultCert
	for _, c := range certs {
		stores[c.Store]++
		if c.WSO2 {
			own = append(own, c)
		}
		if len(c.SHA256) != 95 {
			t.Errorf("%s: not a SHA-256 fingerprint: %s", c.Alias, c.SHA256)
		}
	}
	if stores["repository/resources/security/wso2carbon.jks"] != 145 || stores["repository/resources/security/client-truststore.jks"] != 146 {
		t.Errorf("stores: %v", stores)
	}
	// one certificate, three entries: wso2carbon's key pair, and wso2carbon plus
	// gateway_certificate_alias in the truststore
	if len(own) != 3 {
		t.Fatalf("WSO2's own entries: %v", own)
	}
	for _, c := range own {
		if c.SHA256 != "CA:5C:9B:54:F9:B6:D3:9F:39:6A:1A:AA:7A:78:04:81:39:3C:1D:FB:B5:67:CF:AC:FB:96:2E:6A:88:AD:65:88" {
			t.Errorf("%s in %s: %s", c.Alias, c.Store, c.SHA256)
		}
	}
	if Fingerprint([]byte("x")) != "2D:71:16:42:B7:26:B0:44:01:62:7C:A9:FB:AC:32:F5:C8:53:0F:B1:90:3C:C4:DB:02:25:87:17:92:1A:48:81" {
		t.Error("Fingerprint formats sha256 as keytool does")
	}
}
