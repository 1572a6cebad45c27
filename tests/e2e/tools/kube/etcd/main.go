// Command etcd is etcd's server (go.etcd.io/etcd/server/v3/etcdmain) at the version
// k8s.io/kubernetes pins, built from the Go module proxy when etcd's release cannot be
// downloaded (tests/e2e/env/tools.sh). It lives in this module so that it shares its
// dependencies, and their compiled packages, with kube-apiserver.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
