package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"
)

// runBackend stands in for hashicorp/http-echo, the product's default backend image: the same
// flags, the same answer on every path, and the same signals: SIGINT shuts the server down
// gracefully, SIGTERM (what the kubelet sends) is not handled, so the process dies at once
// like http-echo's does.
func runBackend(args []string) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	listen := fs.String("listen", ":5678", "address and port to listen")
	text := fs.String("text", "", "text to put on the webpage")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *text == "" {
		*text = os.Getenv("ECHO_TEXT")
	}
	if *text == "" {
		return errors.New("missing -text option or ECHO_TEXT")
	}
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Standin-Pod", host)
		fmt.Fprintln(w, *text)
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	server := &http.Server{Addr: *listen, Handler: mux}
	errs := make(chan error, 1)
	go func() {
		log.Printf("backend stand-in listening on %s", *listen)
		if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			errs <- err
		}
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	select {
	case err := <-errs:
		return err
	case <-sigs:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return server.Shutdown(ctx)
}
