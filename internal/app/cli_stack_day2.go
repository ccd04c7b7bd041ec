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

func stackExecCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in one replica (slot 1 unless SERVICE.SLOT); its stdout, stderr and exit code pass through",
		ArgsUsage: "SERVICE[.SLOT]|INSTANCE -- CMD [ARG...]",
		Description: "The command runs without a terminal or stdin. Incus records its output, which is printed when it ends\n" +
			"(up to 64 KiB per stream). The exit status is the command's own; an incus-fleet failure exits with\n" +
			"the protocol's status and an error on stderr.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "stack name"},
			&cli.Float64Flag{Name: "timeout", Value: 300, Usage: "`SECONDS` to wait for the command; one still running then is cancelled (exit -1)"},
			jsonFlag,
		},
		Action: stackExecCLI,
	}
}

func stackExecCLI(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) > 1 && args[1] == "--" {
		args = append(args[:1], args[2:]...)
	}
	if len(args) < 2 {
		return render(c, failure("stack.exec", protocol.Invalid("args", "give the replica and a command: stack exec -n STACK SERVICE[.SLOT] -- CMD [ARG...]")), noHuman)
	}
	resp := runRequest(c, request("stack.exec", false, map[string]any{
		"name": c.String("name"), "target": args[0], "command": args[1:], "timeout": c.Float64("timeout")}))
	if c.Bool("json") || resp.Error != nil {
		return render(c, resp, noHuman)
	}
	stdout, _ := resp.Fields["stdout"].(string)
	stderr, _ := resp.Fields["stderr"].(string)
	fmt.Fprint(c.App.Writer, stdout)
	fmt.Fprint(c.App.ErrWriter, stderr)
	if code, _ := resp.Fields["exit_code"].(int); code != 0 {
		return exitError{code}
	}
	return nil
}

func noHuman(*cli.Context, protocol.Response) {}
