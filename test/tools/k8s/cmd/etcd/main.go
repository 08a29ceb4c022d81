// Command etcd is the etcd server, pinned by this module's go.mod, for the
// end-to-end suite's control plane.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
