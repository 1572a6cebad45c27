// Command standin plays, in the real-pods e2e tier, the workloads whose real images cannot run
// there (no registry). One static binary, one role per image:
//
//	standin apim [flags]     API Manager (control plane or universal gateway): the ports and
//	                         probe endpoints WSO2's chart probes, API traffic on 8243/8280
//	                         forwarded to the backend, a start-up delay, graceful drain on
//	                         SIGTERM, CPU burnt on demand
//	standin backend [flags]  the sample backend, with hashicorp/http-echo's flags and shutdown
//	standin mysql            a TCP listener on 3306 for MySQL's probes
//	mysqladmin ping ...      (argv[0]) succeeds when 127.0.0.1:3306 accepts a connection
//	standin pause            the pod sandbox's pause process
//
// Only the behaviour Kubernetes can observe is imitated: ports, probes, timing, signals.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
)

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	role, args := "", os.Args[1:]
	if base := filepath.Base(os.Args[0]); base == "mysqladmin" {
		role = base
	} else if len(args) > 0 {
		role, args = args[0], args[1:]
	}
	var err error
	switch role {
	case "apim":
		err = runAPIM(args)
	case "backend":
		err = runBackend(args)
	case "mysql":
		err = runMySQL(args)
	case "mysqladmin":
		err = runMySQLAdmin(args)
	case "pause":
		err = runPause()
	default:
		err = fmt.Errorf("usage: standin apim|backend|mysql|pause [flags] (got %q)", role)
	}
	if err != nil {
		log.Printf("standin %s: %v", role, err)
		os.Exit(1)
	}
}
