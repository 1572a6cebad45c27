package main

import (
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// runMySQL listens on MySQL's port so that the StatefulSet's TCP liveness probe and the
// mysqladmin readiness probe succeed. No SQL is spoken: nothing in this tier queries it.
func runMySQL([]string) error {
	ln, err := net.Listen("tcp", ":3306")
	if err != nil {
		return err
	}
	log.Printf("mysql stand-in listening on :3306")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	return ln.Close()
}

// runMySQLAdmin implements `mysqladmin ping --protocol=tcp -h HOST [-P PORT] ...` as the
// readiness probe calls it: success when the server accepts a TCP connection.
func runMySQLAdmin(args []string) error {
	host, port := "127.0.0.1", "3306"
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-h", "--host":
			if i+1 < len(args) {
				host = args[i+1]
				i++
			}
		case "-P", "--port":
			if i+1 < len(args) {
				port = args[i+1]
				i++
			}
		}
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// runPause is the pod sandbox's process: it holds the pod's namespaces, reaps orphans and
// exits on SIGTERM or SIGINT.
func runPause() error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			return nil
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	return nil
}
