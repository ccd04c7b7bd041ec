package app

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// The day-2 verbs of a deployed stack: ls, exec, logs, config.

func stackLsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ls",
		Usage: "list every stack on the cluster: services, running/desired replicas, update state, last change",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			resp := runRequest(c, request("stack.list", false, map[string]any{}))
			return render(c, resp, printStacks)
		},
	}
}

func printStacks(c *cli.Context, resp protocol.Response) {
	stacks, _ := resp.Fields["stacks"].([]stackSummary)
	t := newTable(c.App.Writer, "STACK", "SERVICES", "UPDATE", "LAST CHANGE")
	for _, s := range stacks {
		svcs := make([]string, 0, len(s.Services))
		for _, svc := range s.Services {
			svcs = append(svcs, fmt.Sprintf("%s %d/%d", svc.Name, svc.Running, svc.Desired))
		}
		last := s.LastChange
		if last == "" {
			last = "-"
		}
		update := s.Update
		if s.Error != "" {
			update += " (record unreadable)"
		}
		t.row(s.Name, strings.Join(svcs, ", "), update, last)
	}
	t.flush()
}
