// Command standin plays, in the real-pods e2e tier, the workloads whose real images cannot run
// there (no registry). One static binary, one role per image:
//
//	standin apim [flags]     API Manager (control plane or universal gateway): the ports and
//	                         probe endpoints WSO2's chart probes, API traffic on 8243/8280
//	                         forwarded to the backend, a start-up delay, graceful drain on
//	                         SIGTERM, CPU burnt on demand
//	standin backend [flags]  the sample backend, with hashicorp/http-echo's flags and shutdown
//	standin pause            the pod sandbox's pause process
//
// Only the behaviour Kubernetes can observe is imitated: ports, probes, timing, signals.
// MySQL is not imitated: its stand-in image runs Debian's MariaDB (images/mysql-entrypoint.sh),
// so that the init containers that wait for the database and load its schema meet a real one.
package main

import (
	"fmt"
	"log"
	"os"
)

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	role, args := "", os.Args[1:]
	if len(args) > 0 {
		role, args = args[0], args[1:]
	}
	var err error
	switch role {
	case "apim":
		err = runAPIM(args)
	case "backend":
		err = runBackend(args)
	case "pause":
		err = runPause()
	default:
		err = fmt.Errorf("usage: standin apim|backend|pause [flags] (got %q)", role)
	}
	if err != nil {
		log.Printf("standin %s: %v", role, err)
		os.Exit(1)
	}
}
