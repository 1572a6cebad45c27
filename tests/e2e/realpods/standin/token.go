package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// What the API Manager stand-in does with access tokens, as WSO2 4.7.0 does with the JWT access
// tokens our deployment.toml asks for (token persistence off, JWT issuer): the control plane
// (key manager) issues them on /oauth2/token and publishes its signing key on /oauth2/jwks; a
// gateway fetches that key when it starts and then validates every token on its own, so a
// token already issued keeps working whatever happens to the control plane.

const (
	tokenPath = "/oauth2/token"
	jwksPath  = "/oauth2/jwks"
	tokenTTL  = time.Hour
	keyID     = "standin-default-keystore"
)

// signingKey stands for the key in the default keystore of WSO2's image (wso2carbon.jks): the
// same in every pod of the image, so every control-plane replica signs with it and tokens stay
// valid across replicas and restarts. Derived from a constant, as that keystore is a constant.
func signingKey() (*ecdsa.PrivateKey, error) {
	d := sha256.Sum256([]byte("wso2-standin default keystore"))
	return ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
}

// serverConfig is what the stand-in reads from the deployment.toml the product mounts.
type serverConfig struct {
	// keyManager is the key manager's base URL ([apim.key_manager] service_url without its
	// path); empty when this server is the key manager itself.
	keyManager string
}

// readConfig decides the role from deployment.toml: a server that publishes APIs to gateways
// ([[apim.gateway.environment]]) is the control plane and key manager; any other is a gateway
// and takes its tokens' key from [apim.key_manager] service_url.
func readConfig(path string) (serverConfig, error) {
	var doc struct {
		APIM struct {
			Gateway struct {
				Environment []map[string]any `toml:"environment"`
			} `toml:"gateway"`
			KeyManager struct {
				ServiceURL string `toml:"service_url"`
			} `toml:"key_manager"`
		} `toml:"apim"`
	}
	if _, err := toml.DecodeFile(path, &doc); err != nil {
		return serverConfig{}, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(doc.APIM.Gateway.Environment) > 0 {
		return serverConfig{}, nil
	}
	u, err := url.Parse(doc.APIM.KeyManager.ServiceURL)
	if err != nil || u.Host == "" {
		return serverConfig{}, fmt.Errorf("%s: a gateway needs [apim.key_manager] service_url, got %q", path, doc.APIM.KeyManager.ServiceURL)
	}
	return serverConfig{keyManager: u.Scheme + "://" + u.Host}, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// issue makes a signed JWT access token.
func issue(key *ecdsa.PrivateKey, subject string) (string, error) {
	now := time.Now()
	return signJWT(key, map[string]any{"iss": "wso2-standin", "sub": subject, "iat": now.Unix(),
		"exp": now.Add(tokenTTL).Unix(), "jti": b64(randomBytes(12))})
}

// signJWT signs claims as a compact JWT (ES256).
func signJWT(key *ecdsa.PrivateKey, claims map[string]any) (string, error) {
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": keyID})
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := b64(header) + "." + b64(body)
	h := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + b64(sig), nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// verify checks an ES256 JWT's signature against pub and its expiry.
func verify(pub *ecdsa.PublicKey, token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("bad signature encoding")
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("signature does not verify")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("bad claims encoding")
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return errors.New("bad claims")
	}
	if time.Now().Unix() >= claims.Exp {
		return errors.New("token expired")
	}
	return nil
}

// jwks renders the public key as a JSON Web Key Set.
func jwks(pub *ecdsa.PublicKey) []byte {
	pt, _ := pub.Bytes() // 0x04 || X || Y
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": keyID,
		"x": b64(pt[1:33]), "y": b64(pt[33:65]),
	}}})
	return b
}

// fetchKey gets the signing key from the key manager's JWKS, as a gateway does when it starts.
func fetchKey(ctx context.Context, base string) (*ecdsa.PublicKey, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the stand-in's self-signed certificates
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+jwksPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s%s: %s", base, jwksPath, resp.Status)
	}
	var set struct {
		Keys []struct {
			Kid, X, Y string
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		if k.Kid != keyID {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad key coordinates")
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	}
	return nil, fmt.Errorf("no key %q in %s%s", keyID, base, jwksPath)
}

// tokenHandler answers the client-credentials grant with a JWT access token.
func tokenHandler(key *ecdsa.PrivateKey) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(w, `{"error":"unsupported_grant_type"}`)
			return
		}
		client, _, _ := r.BasicAuth()
		tok, err := issue(key, client)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(tokenTTL.Seconds())})
	}
}

// requireToken lets a request through only with a valid bearer token.
func requireToken(key func() *ecdsa.PublicKey, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		pub := key()
		var err error
		switch {
		case !ok:
			err = errors.New("no bearer token")
		case pub == nil:
			err = errors.New("no key from the key manager yet")
		default:
			err = verify(pub, tok)
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "invalid credentials: "+err.Error(), http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
