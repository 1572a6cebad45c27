package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The ports and paths WSO2's chart (and our apim component) probe and route to.
const (
	portHTTPS     = 9443 // startup probe (TCP), readiness probe (HTTPS)
	portHTTP      = 9763 // liveness probe
	portGWHTTPS   = 8243 // API traffic
	portGWHTTP    = 8280 // API traffic
	readinessPath = "/api/am/gateway/v2/server-startup-healthcheck"
	livenessPath  = "/services/Version"
	// BurnHeader asks the gateway to spend this much CPU (a Go duration) on the request
	// before forwarding it, so that load can drive the autoscaler.
	burnHeader = "X-Standin-Burn"
	// newConnectionHeader asks the gateway to forward the request on a connection of its own.
	// A gateway keeps one idle keep-alive connection per backend pod it last used, so without
	// it a run of sequential requests reaches the same backend pod every time; with it each
	// request is balanced by the Service again (kube-proxy picks a backend per connection).
	newConnectionHeader = "X-Standin-New-Connection"
	// configPath is where the product mounts deployment.toml (the image's entrypoint copies the
	// config volume over the server home).
	configPath = "/home/wso2carbon/wso2-config-volume/repository/conf/deployment.toml"
)

// runAPIM imitates what Kubernetes and clients see of an API Manager server: nothing listens
// for -start-delay (the JVM and Carbon starting), then every port opens but readiness fails for
// -ready-delay more (APIs being deployed), then it serves. Its role comes from the
// deployment.toml the product mounts (readConfig): the control plane issues JWT access tokens
// and publishes their key; a gateway is not ready until it has fetched that key from the
// control plane named in its config (as WSO2's gateway needs the control plane to start), and
// then serves API traffic only with a valid token, checked on its own. API traffic is really
// forwarded to the backend: when that fails the client gets a 502. On SIGTERM it does what
// Carbon's graceful shutdown does: readiness fails, the listeners close, requests in flight
// finish (up to -drain-timeout), and the process exits; keep-alive connections are told to
// close (Connection: close) on their next response and the idle ones are closed after
// -drain-idle, so that a client is not cut off while it sends on one.
func runAPIM(args []string) error {
	fs := flag.NewFlagSet("apim", flag.ContinueOnError)
	backend := fs.String("backend", "http://hello:9090", "where API traffic on 8243/8280 is forwarded")
	startDelay := fs.Duration("start-delay", 5*time.Second, "time before any port opens")
	readyDelay := fs.Duration("ready-delay", 3*time.Second, "time after the ports open before readiness succeeds")
	drain := fs.Duration("drain-timeout", 30*time.Second, "longest wait for requests in flight after SIGTERM")
	drainIdle := fs.Duration("drain-idle", 3*time.Second, "after SIGTERM, how long keep-alive connections may send one more request (answered with Connection: close) before the idle ones are closed")
	version := fs.String("version", "standin", "reported on /services/Version and in X-Standin-Version")
	config := fs.String("config", configPath, "the deployment.toml the product mounts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := url.Parse(*backend)
	if err != nil {
		return fmt.Errorf("-backend: %w", err)
	}
	cfg, err := readConfig(*config)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	role := "control plane (key manager)"
	if cfg.keyManager != "" {
		role = "gateway of the key manager at " + cfg.keyManager
	}

	log.Printf("apim stand-in %s starting as %s: ports open in %s, ready %s later", *version, role, *startDelay, *readyDelay)
	select {
	case s := <-sigs:
		log.Printf("%s before start: exiting", s)
		return nil
	case <-time.After(*startDelay):
	}
	cert, err := selfSigned(host)
	if err != nil {
		return err
	}
	priv, err := signingKey()
	if err != nil {
		return err
	}
	// The key API tokens are checked with: the control plane's own; a gateway's comes from the
	// key manager, fetched in the background until it succeeds.
	var pub atomic.Pointer[ecdsa.PublicKey]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cfg.keyManager == "" {
		pub.Store(&priv.PublicKey)
	} else {
		go func() {
			for ctx.Err() == nil {
				k, err := fetchKey(ctx, cfg.keyManager)
				if err == nil {
					pub.Store(k)
					log.Printf("token signing key fetched from %s", cfg.keyManager)
					return
				}
				log.Printf("cannot fetch the token signing key yet: %v", err)
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
				}
			}
		}()
	}
	var ready, stopping atomic.Bool
	readyAt := time.Now().Add(*readyDelay)
	stamp := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Standin-Version", *version)
			w.Header().Set("X-Standin-Pod", host)
			if stopping.Load() {
				// Draining: this connection is not reused, so no client sends on it while it closes.
				w.Header().Set("Connection", "close")
			}
			h.ServeHTTP(w, r)
		})
	}

	mgmt := http.NewServeMux()
	mgmt.HandleFunc(livenessPath, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "WSO2 API Manager stand-in %s\n", *version)
	})
	mgmt.HandleFunc(readinessPath, func(w http.ResponseWriter, r *http.Request) {
		if stopping.Load() || time.Now().Before(readyAt) || pub.Load() == nil {
			http.Error(w, `{"status":"not ready"}`, http.StatusServiceUnavailable)
			return
		}
		if !ready.Swap(true) {
			log.Printf("ready")
		}
		fmt.Fprintln(w, `{"status":"ready"}`)
	})
	if cfg.keyManager == "" {
		mgmt.HandleFunc(tokenPath, tokenHandler(priv))
		mgmt.HandleFunc(jwksPath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(jwks(&priv.PublicKey))
		})
	}

	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = newConnectionWhenAsked{&http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
	}}
	// Go's transport silently sends a request again when a reused connection turns out closed;
	// every attempt is counted and reported to the client, so that no retry on the way to the
	// backend goes unseen.
	markAttempts := func(h http.Header, r *http.Request) {
		if a, ok := r.Context().Value(attemptsKey{}).(*atomic.Int32); ok && a.Load() > 1 {
			h.Set(attemptsHeader, fmt.Sprint(a.Load()))
		}
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		markAttempts(resp.Header, resp.Request)
		return nil
	}
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		log.Printf("backend error: %v", err)
		markAttempts(w.Header(), r)
		http.Error(w, "backend unavailable: "+err.Error(), http.StatusBadGateway)
	}
	api := requireToken(pub.Load, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.Header.Get(burnHeader)); err == nil && d > 0 && d <= 5*time.Second {
			burn(d)
		}
		var attempts atomic.Int32
		trace := &httptrace.ClientTrace{GetConn: func(string) { attempts.Add(1) }}
		ctx := context.WithValue(httptrace.WithClientTrace(r.Context(), trace), attemptsKey{}, &attempts)
		proxy.ServeHTTP(w, r.WithContext(ctx))
	}))

	servers := []*http.Server{
		{Addr: fmt.Sprintf(":%d", portHTTPS), Handler: stamp(mgmt), TLSConfig: tlsConfig(cert)},
		{Addr: fmt.Sprintf(":%d", portHTTP), Handler: stamp(mgmt)},
		{Addr: fmt.Sprintf(":%d", portGWHTTPS), Handler: stamp(api), TLSConfig: tlsConfig(cert)},
		{Addr: fmt.Sprintf(":%d", portGWHTTP), Handler: stamp(api)},
	}
	errs := make(chan error, len(servers))
	var listeners []net.Listener
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			return err
		}
		listeners = append(listeners, ln)
		if s.TLSConfig != nil {
			ln = tls.NewListener(ln, s.TLSConfig)
		}
		go func(s *http.Server, ln net.Listener) {
			if err := s.Serve(ln); !stopping.Load() && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("%s: %w", s.Addr, err)
			}
		}(s, ln)
	}
	log.Printf("listening on %d, %d, %d, %d; backend %s", portHTTPS, portHTTP, portGWHTTPS, portGWHTTP, target)

	select {
	case err := <-errs:
		return err
	case s := <-sigs:
		log.Printf("%s: graceful shutdown (readiness fails, listeners close, keep-alive connections told to close, requests in flight finish)", s)
	}
	stopping.Store(true)
	// New connections are refused at once; the open ones carry on for drainIdle, each told to
	// close with its next response.
	for _, ln := range listeners {
		ln.Close()
	}
	time.Sleep(*drainIdle)
	dctx, dcancel := context.WithTimeout(context.Background(), *drain)
	defer dcancel()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func(s *http.Server) {
			defer wg.Done()
			if err := s.Shutdown(dctx); err != nil {
				log.Printf("%s: %v", s.Addr, err)
			}
		}(s)
	}
	wg.Wait()
	log.Printf("stopped")
	return nil
}

// newConnectionWhenAsked sends a request that carries newConnectionHeader on a connection that
// is closed after it (ReverseProxy resets the outgoing request's Close, so it is set here).
type newConnectionWhenAsked struct{ http.RoundTripper }

func (t newConnectionWhenAsked) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get(newConnectionHeader) == "" {
		return t.RoundTripper.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Del(newConnectionHeader)
	r.Close = true
	return t.RoundTripper.RoundTrip(r)
}

// attemptsKey carries a request's count of connection attempts to the backend.
type attemptsKey struct{}

// attemptsHeader tells the client how many times the gateway sent its request to the backend,
// when that was more than once.
const attemptsHeader = "X-Standin-Backend-Attempts"

// burn keeps one CPU busy for d of wall time (less CPU when the pod is throttled).
func burn(d time.Duration) {
	end := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 42 {
		log.Print("") // keeps the loop from being optimised away
	}
}

func tlsConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// selfSigned makes the server's certificate, as WSO2's images ship a self-signed one.
func selfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host, "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
