// Command etcd is etcd's own server main, built from go.etcd.io/etcd/server/v3 for the
// tests' control plane (the etcd module's command lives in a module of its own, which the
// server module's etcdmain package is the body of).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
