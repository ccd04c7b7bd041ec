package app

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print the protocol response instead of a table"}

func stackCommand() *cli.Command {
	deployFlags := []cli.Flag{
		&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "compose `FILE` (repeatable; later files override earlier)"},
		&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "stack name (default: the project directory's name)"},
		&cli.StringFlag{Name: "project-dir", Usage: "project directory (default: the first file's directory)"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "interpolation variable `KEY=VALUE` (repeatable)"},
		&cli.StringSliceFlag{Name: "profile", Usage: "compose profile to enable (repeatable); replaces COMPOSE_PROFILES from the environment or .env"},
		&cli.StringSliceFlag{Name: "service", Usage: "limit the run to this service (repeatable)"},
		&cli.BoolFlag{Name: "force-recreate", Usage: "replace instances even when their config is unchanged"},
		&cli.BoolFlag{Name: "move-volumes", Usage: "move a slot whose volume lives on a member it cannot run on now, with its volume"},
		&cli.BoolFlag{Name: "prune-volumes", Usage: "delete the stack's volumes no slot uses any more"},
		&cli.BoolFlag{Name: "failover-shared-volumes", Usage: "re-create at once elsewhere a slot on an offline member whose volume is on a shared pool (only when you know the member is down)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue an update that stands paused (or was rolled back) at this same spec"},
		&cli.StringFlag{Name: "bundle", Usage: "deploy a bundle `FILE` (from `bundle create`) instead of compose files"},
		jsonFlag,
	}
	nameFlags := []cli.Flag{&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "stack name"}, jsonFlag}
	return &cli.Command{
		Name:  "stack",
		Usage: "deploy, inspect and remove Compose stacks",
		Subcommands: []*cli.Command{
			{Name: "up", Usage: "deploy or reconcile a stack", Flags: append(deployFlags, &cli.BoolFlag{Name: "dry-run", Usage: "plan only"}, waitTimeoutFlag),
				Action: func(c *cli.Context) error { return stackUp(c, c.Bool("dry-run")) }},
			{Name: "plan", Usage: "show what `stack up` would do, changing nothing",
				Flags:  append(deployFlags, &cli.StringFlag{Name: "cluster", Usage: "plan offline against a `SNAPSHOT` file (from `cluster snapshot`)"}),
				Action: func(c *cli.Context) error { return stackUp(c, true) }},
			{Name: "ps", Usage: "list a stack's instances", Flags: nameFlags, Action: stackPs},
			{Name: "rm", Usage: "remove a stack and its project (its volumes are kept unless --volumes)",
				Flags: append(nameFlags, &cli.BoolFlag{Name: "dry-run"}, &cli.BoolFlag{Name: "volumes", Usage: "delete the stack's volumes too"}), Action: stackRm},
			{Name: "rollback", Usage: "return a stack to the spec that ran before its last update began (also after a paused, failed or crashed update)", Flags: append(nameFlags, &cli.BoolFlag{Name: "dry-run"}),
				Action: func(c *cli.Context) error {
					return render(c, runRequest(c, request("stack.rollback", c.Bool("dry-run"), map[string]any{"name": c.String("name")})), printPlan)
				}},
			stackWatchCommand(deployFlags), // cli_stack_watch.go
			stackLsCommand(),               // cli_stack_day2.go
			stackExecCommand(),
			stackLogsCommand(),
			stackConfigCommand(),
			stackScaleCommand(),
		},
	}
}

func stackUp(c *cli.Context, test bool) error {
	params := deployParams(c)
	if path := c.String("cluster"); path != "" {
		snap, err := readSnapshot(path)
		if err != nil {
			return render(c, failure("stack.present", protocol.Invalid("--cluster", "%v", err)), printPlan)
		}
		params["cluster"] = snap
	}
	waitParam(c, params) // stack_wait.go
	resp := runRequest(c, request("stack.present", test, params))
	return render(c, resp, printPlan)
}

// composeParams turns the flags that describe a Compose project (files,
// project dir, interpolation variables, profiles) into protocol params;
// deploying and bundling read a project alike.
func composeParams(c *cli.Context, files []string) map[string]any {
	params := map[string]any{}
	if len(files) > 0 {
		params["compose_files"] = absAll(files)
	}
	if d := c.String("project-dir"); d != "" {
		params["project_dir"] = absAll([]string{d})[0]
	}
	if env := c.StringSlice("env"); len(env) > 0 {
		params["env"] = keyValues(env)
	}
	if p := c.StringSlice("profile"); len(p) > 0 {
		params["profiles"] = p
	}
	return params
}

// deployParams turns the deploy flags into stack.present params; `stack
// up`, `stack plan` and `stack watch` share it so they deploy alike.
func deployParams(c *cli.Context) map[string]any {
	params := composeDeployParams(c)
	if c.Bool("resume") {
		params["resume"] = true
	}
	return params
}

func composeDeployParams(c *cli.Context) map[string]any {
	if b := c.String("bundle"); b != "" {
		return bundleDeployParams(c, b) // cli_bundle.go
	}
	files := c.StringSlice("file")
	if len(files) == 0 {
		files = defaultComposeFiles()
	}
	params := composeParams(c, files)
	params["name"] = stackName(c, files)
	if s := c.StringSlice("service"); len(s) > 0 {
		params["services"] = s
	}
	if c.Bool("force-recreate") {
		params["force_recreate"] = true
	}
	volumeParams(c, params)
	return params
}

// volumeParams adds the volume flags of stack up/plan/watch.
func volumeParams(c *cli.Context, params map[string]any) {
	for flag, param := range map[string]string{"move-volumes": "move_volumes", "prune-volumes": "prune_volumes", "failover-shared-volumes": "failover_shared_volumes"} {
		if c.Bool(flag) {
			params[param] = true
		}
	}
}

func stackPs(c *cli.Context) error {
	resp := runRequest(c, request("stack.status", false, map[string]any{"name": c.String("name")}))
	return render(c, resp, func(c *cli.Context, resp protocol.Response) {
		t := newTable(c.App.Writer, "SERVICE", "SLOT", "INSTANCE", "MEMBER", "STATE", "HEALTH", "WHY")
		if insts, ok := resp.Fields["instances"].([]stackInstance); ok {
			for _, in := range insts {
				t.row(in.Service, fmt.Sprint(in.Slot), cmp.Or(in.Instance, "-"), cmp.Or(in.Member, "-"), in.State, cmp.Or(in.Health, "-"), cmp.Or(in.Reason, "-"))
			}
		}
		t.flush()
	})
}

func stackRm(c *cli.Context) error {
	params := map[string]any{"name": c.String("name")}
	if c.Bool("volumes") {
		params["volumes"] = true
	}
	resp := runRequest(c, request("stack.absent", c.Bool("dry-run"), params))
	return render(c, resp, printPlan)
}

func request(action string, test bool, params map[string]any) protocol.Request {
	raw, _ := json.Marshal(params) // maps of strings and slices always marshal
	return protocol.Request{Version: protocol.Version, Action: action, Test: test, Params: raw}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// stackName defaults like Compose's project name: the project directory.
func stackName(c *cli.Context, files []string) string {
	if n := c.String("name"); n != "" {
		return n
	}
	dir := c.String("project-dir")
	if dir == "" && len(files) > 0 {
		dir = filepath.Dir(files[0])
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(filepath.Base(dir)), "-"), "-")
}

func absAll(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		out[i] = p
	}
	return out
}

// readSnapshot accepts a bare snapshot or the whole `cluster snapshot`
// response, so its output can be saved and used as is.
func readSnapshot(path string) (json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var wrapped struct {
		Snapshot json.RawMessage `json:"snapshot"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("%s is not a JSON snapshot: %v", path, err)
	}
	if len(wrapped.Snapshot) > 0 {
		return wrapped.Snapshot, nil
	}
	return data, nil
}
