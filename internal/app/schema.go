package app

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:      "schema",
		Usage:     "print the embedded JSON Schema of the request envelope, or of ACTION",
		ArgsUsage: "[ACTION]",
		Action: func(c *cli.Context) error {
			if c.Bool("list") {
				fmt.Fprintln(c.App.Writer, strings.Join(protocol.Actions(), "\n"))
				return nil
			}
			data, err := protocol.Schema(c.Args().First())
			if err != nil {
				fmt.Fprintf(c.App.ErrWriter, "incus-fleet: %v\n", err)
				return exitError{2}
			}
			_, err = c.App.Writer.Write(data)
			return err
		},
		Flags: []cli.Flag{&cli.BoolFlag{Name: "list", Usage: "list the actions"}},
	}
}
