// Package app is the command line and the `call` dispatcher of incus-fleet:
// every human command builds a protocol request and runs through the same
// decode → validate → serve path as `incus-fleet call`.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X ...app.Version=...".
var Version = "dev"

// exitError carries a protocol exit status through urfave/cli.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the CLI and returns the process exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	app := &cli.App{
		Name:           "incus-fleet",
		Usage:          "deploy Compose stacks with high availability onto Incus clusters",
		Version:        Version,
		Reader:         stdin,
		Writer:         stdout,
		ErrWriter:      stderr,
		ExitErrHandler: func(*cli.Context, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "socket", Usage: "Incus unix socket (default: INCUS_SOCKET, INCUS_DIR/unix.socket, /var/lib/incus/unix.socket)"},
		},
		Commands: []*cli.Command{callCommand(), schemaCommand(), stackCommand(), clusterCommand(), poolCommand(), networkCommand(), bundleCommand(), versionCommand()},
	}
	err := app.RunContext(ctx, args)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		// Usage errors (unknown flag, missing argument) are invalid requests.
		fmt.Fprintf(stderr, "incus-fleet: %v\n", err)
		return 2
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			fmt.Fprintln(c.App.Writer, Version)
			return nil
		},
	}
}
