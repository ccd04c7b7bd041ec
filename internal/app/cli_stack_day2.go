package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
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
		Description: "The command runs without a terminal; its stdout and stderr stream back as they come, kept apart.\n" +
			"-i feeds this process's stdin to it (else it reads end of input at once). The exit status is the command's\n" +
			"own; an incus-fleet failure exits with the protocol's status and an error on stderr. With --json the\n" +
			"output is recorded by Incus instead and returned in the response when the command ends (64 KiB per stream).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "stack name"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "feed stdin to the command"},
			&cli.Float64Flag{Name: "timeout", Value: 300, Usage: "with --json: `SECONDS` to wait for the command; one still running then is cancelled (exit -1)"},
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
	params := map[string]any{"name": c.String("name"), "target": args[0], "command": args[1:], "timeout": c.Float64("timeout")}
	if !c.Bool("json") {
		return execStreamCLI(c, params)
	}
	resp := runRequest(c, request("stack.exec", false, params))
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

func stackLogsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "show the console output (stdout and stderr of the main process) of a stack's replicas, prefixed like Compose",
		ArgsUsage: "[SERVICE|SERVICE.SLOT|INSTANCE...]",
		Description: "Incus 6.0 hands a container's console buffer (its newest 128 KiB) to the first reader and clears it,\n" +
			"so each read moves it into a journal in the replica (/.incus-fleet-console) with the time drained, and reads\n" +
			"the journal: readers see the same lines, merged across members by that time. --follow polls every 0.5 s and\n" +
			"picks up replicas created later, dropping removed ones. Limits: README, Day-2 operations.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "stack name"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new lines until interrupted"},
			&cli.IntFlag{Name: "tail", Value: -1, Usage: "show only the last `N` lines of each replica's history (-1: all)"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show when each line was drained from the console buffer"},
			&cli.StringFlag{Name: "since", Usage: "only lines drained since `TIME` (RFC 3339, or a duration such as 10m)"},
			jsonFlag,
		},
		Action: stackLogsCLI,
	}
}

func stackLogsCLI(c *cli.Context) error {
	params := map[string]any{"name": c.String("name")}
	if args := c.Args().Slice(); len(args) > 0 {
		params["targets"] = args
	}
	if n := c.Int("tail"); n >= 0 {
		params["tail"] = n
	}
	if s := c.String("since"); s != "" {
		params["since"] = s
	}
	printer := &logPrinter{w: c.App.Writer, timestamps: c.Bool("timestamps")}
	if c.Bool("follow") {
		req := request("stack.logs", false, params)
		if s := c.String("socket"); s != "" {
			req.Connection = &protocol.Connection{Socket: s}
		}
		if err := followLogs(c.Context, &req, printer, c.App.ErrWriter); err != nil {
			return render(c, failure("stack.logs", toProtocolError(err)), noHuman)
		}
		return nil
	}
	resp := runRequest(c, request("stack.logs", false, params))
	if c.Bool("json") || resp.Error != nil {
		return render(c, resp, noHuman)
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	lines, _ := resp.Fields["lines"].([]logLine)
	printer.print(lines)
	return nil
}

func stackConfigCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "print the resolved model incus-fleet deploys (JSON), or with --hash each service's config hash",
		Description: "Loads the project exactly as `stack up` does (interpolation, profiles, overrides, bundle); reads nothing\n" +
			"from Incus. The hash is what change detection compares: every instance records HASH@IMAGE-FINGERPRINT in\n" +
			"user.fleet.hash, and `stack up` replaces a slot whose HASH differs (or whose image moved). deploy.replicas,\n" +
			"deploy.labels, depends_on, profiles, scale, build and pull_policy are not part of it.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "compose `FILE` (repeatable; later files override earlier)"},
			&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "stack name (default: the project directory's name)"},
			&cli.StringFlag{Name: "project-dir", Usage: "project directory (default: the first file's directory)"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "interpolation variable `KEY=VALUE` (repeatable)"},
			&cli.StringSliceFlag{Name: "profile", Usage: "compose profile to enable (repeatable)"},
			&cli.StringFlag{Name: "bundle", Usage: "read a bundle `FILE` (from `bundle create`) instead of compose files"},
			&cli.StringFlag{Name: "hash", Usage: "print \"SERVICE HASH\" lines for `SERVICES` (comma-separated, or '*' for all)"},
			jsonFlag,
		},
		Action: stackConfigCLI,
	}
}

func stackConfigCLI(c *cli.Context) error {
	params := composeDeployParams(c) // cli_stack.go: the same input as stack up
	resp := runRequest(c, request("stack.config", false, params))
	if c.Bool("json") || resp.Error != nil {
		return render(c, resp, noHuman)
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	hashes, _ := resp.Fields["hashes"].(map[string]string)
	sel := c.String("hash")
	if sel == "" {
		data, err := json.MarshalIndent(resp.Fields["model"], "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s\n", data)
		return nil
	}
	names := []string{}
	if sel == "*" {
		for name := range hashes {
			names = append(names, name)
		}
		sort.Strings(names)
	} else {
		names = strings.Split(sel, ",")
	}
	for _, name := range names {
		h, ok := hashes[name]
		if !ok {
			return render(c, failure("stack.config", protocol.Errorf(protocol.CodeNotFound, "no service %q in the project (--hash takes service names, comma-separated, or '*')", name)), noHuman)
		}
		fmt.Fprintf(c.App.Writer, "%s %s\n", name, h)
	}
	return nil
}

func stackScaleCommand() *cli.Command {
	return &cli.Command{
		Name:      "scale",
		Usage:     "set the replicas of services of a deployed stack (the Compose file wins again on the next `stack up`)",
		ArgsUsage: "SERVICE=N [SERVICE=N...]",
		Description: "As `docker service scale`: the deployed spec is changed and reconciled, so `stack ps`, `stack ls` and\n" +
			"`stack watch` keep the new count; no running slot is replaced (replicas are not part of the config hash).\n" +
			"As in Swarm, the next `stack up` deploys the Compose file's replicas again: edit the file to keep a scale.\n" +
			"--dry-run shows the plan.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "stack name"},
			&cli.BoolFlag{Name: "dry-run", Usage: "plan only"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			replicas := map[string]any{}
			for _, arg := range c.Args().Slice() {
				name, n, ok := strings.Cut(arg, "=")
				v, err := strconv.Atoi(n)
				if !ok || name == "" || err != nil {
					return render(c, failure("stack.scale", protocol.Invalid("args", "%q is not SERVICE=N (e.g. web=5)", arg)), noHuman)
				}
				replicas[name] = v
			}
			if len(replicas) == 0 {
				return render(c, failure("stack.scale", protocol.Invalid("args", "give at least one SERVICE=N (e.g. web=5)")), noHuman)
			}
			resp := runRequest(c, request("stack.scale", c.Bool("dry-run"), map[string]any{"name": c.String("name"), "replicas": replicas}))
			return render(c, resp, printPlan)
		},
	}
}

// execStreamCLI streams the command's output (stack_exec.go: execStream);
// the request is validated against the stack.exec schema first.
func execStreamCLI(c *cli.Context, params map[string]any) error {
	req := request("stack.exec", false, params)
	if s := c.String("socket"); s != "" {
		req.Connection = &protocol.Connection{Socket: s}
	}
	data, _ := json.Marshal(req)
	decoded, perr := protocol.Decode(bytes.NewReader(data))
	if perr != nil {
		return render(c, failure("stack.exec", perr), noHuman)
	}
	var stdin io.Reader
	if c.Bool("interactive") {
		stdin = c.App.Reader
	}
	code, err := execStream(c.Context, decoded, stdin, c.App.Writer, c.App.ErrWriter)
	if err != nil {
		return render(c, failure("stack.exec", toProtocolError(err)), noHuman)
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}
