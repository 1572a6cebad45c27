// Command rootfs builds (or finds in its cache) the root filesystem of rootfs.MariaDB and
// prints the tarball's path. The real-pods tier runs it before it enters the node's network
// namespace, which has no route to the apt sources.
//
//	go -C tests/e2e run ./rootfs/cmd/rootfs DIR
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/wso2-k8s/apim-gke/tests/e2e/rootfs"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rootfs CACHE_DIR")
		os.Exit(2)
	}
	path, _, err := rootfs.Cached(context.Background(), rootfs.MariaDB, os.Args[1], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
