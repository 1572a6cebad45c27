package main

import (
	"os"
	"os/signal"
	"syscall"
)

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
