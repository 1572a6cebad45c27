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
)

// runAPIM imitates what Kubernetes sees of an API Manager server: nothing listens for
// -start-delay (the JVM and Carbon starting), then every port opens but readiness fails for
// -ready-delay more (APIs being deployed), then it serves. On SIGTERM it does what Carbon's
// graceful shutdown does: readiness fails, the listeners close, requests in flight finish
// (up to -drain-timeout), and the process exits.
func runAPIM(args []string) error {
	fs := flag.NewFlagSet("apim", flag.ContinueOnError)
	backend := fs.String("backend", "http://hello:9090", "where API traffic on 8243/8280 is forwarded")
	startDelay := fs.Duration("start-delay", 5*time.Second, "time before any port opens")
	readyDelay := fs.Duration("ready-delay", 3*time.Second, "time after the ports open before readiness succeeds")
	drain := fs.Duration("drain-timeout", 30*time.Second, "longest wait for requests in flight after SIGTERM")
	version := fs.String("version", "standin", "reported on /services/Version and in X-Standin-Version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := url.Parse(*backend)
	if err != nil {
		return fmt.Errorf("-backend: %w", err)
	}
	host, _ := os.Hostname()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	log.Printf("apim stand-in %s starting: ports open in %s, ready %s later", *version, *startDelay, *readyDelay)
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
	var ready, stopping atomic.Bool
	readyAt := time.Now().Add(*readyDelay)
	stamp := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Standin-Version", *version)
			w.Header().Set("X-Standin-Pod", host)
			h.ServeHTTP(w, r)
		})
	}

	mgmt := http.NewServeMux()
	mgmt.HandleFunc(livenessPath, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "WSO2 API Manager stand-in %s\n", *version)
	})
	mgmt.HandleFunc(readinessPath, func(w http.ResponseWriter, r *http.Request) {
		if stopping.Load() || time.Now().Before(readyAt) {
			http.Error(w, `{"status":"not ready"}`, http.StatusServiceUnavailable)
			return
		}
		if !ready.Swap(true) {
			log.Printf("ready")
		}
		fmt.Fprintln(w, `{"status":"ready"}`)
	})

	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
	}
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		log.Printf("backend error: %v", err)
		http.Error(w, "backend unavailable: "+err.Error(), http.StatusBadGateway)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.Header.Get(burnHeader)); err == nil && d > 0 && d <= 5*time.Second {
			burn(d)
		}
		proxy.ServeHTTP(w, r)
	})

	servers := []*http.Server{
		{Addr: fmt.Sprintf(":%d", portHTTPS), Handler: stamp(mgmt), TLSConfig: tlsConfig(cert)},
		{Addr: fmt.Sprintf(":%d", portHTTP), Handler: stamp(mgmt)},
		{Addr: fmt.Sprintf(":%d", portGWHTTPS), Handler: stamp(api), TLSConfig: tlsConfig(cert)},
		{Addr: fmt.Sprintf(":%d", portGWHTTP), Handler: stamp(api)},
	}
	errs := make(chan error, len(servers))
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			return err
		}
		if s.TLSConfig != nil {
			ln = tls.NewListener(ln, s.TLSConfig)
		}
		go func(s *http.Server, ln net.Listener) {
			if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("%s: %w", s.Addr, err)
			}
		}(s, ln)
	}
	log.Printf("listening on %d, %d, %d, %d; backend %s", portHTTPS, portHTTP, portGWHTTPS, portGWHTTP, target)

	select {
	case err := <-errs:
		return err
	case s := <-sigs:
		log.Printf("%s: graceful shutdown (readiness fails, listeners close, requests in flight finish)", s)
	}
	stopping.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func(s *http.Server) {
			defer wg.Done()
			if err := s.Shutdown(ctx); err != nil {
				log.Printf("%s: %v", s.Addr, err)
			}
		}(s)
	}
	wg.Wait()
	log.Printf("stopped")
	return nil
}

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
