// Command idr is deterministic identity resolution from one binary; see the README.
package main

import (
	"os"

	"github.com/idr-dev/idr/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
