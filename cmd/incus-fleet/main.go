// Command incus-fleet deploys Compose stacks with high availability onto
// Incus clusters. See README.md.
package main

import (
	"os"

	"github.com/incus-fleet/incus-fleet/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
