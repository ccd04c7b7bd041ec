package app

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/maintenance"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// Human commands over storage_pool.*, network.* and
// cluster.member.maintenance_check.

func poolCommand() *cli.Command {
	return resourceCommand("pool", "storage pools shared by the cluster's members", "storage_pool", "driver",
		"`DRIVER`: dir, zfs, btrfs, lvm, ceph, ...")
}

func networkCommand() *cli.Command {
	return resourceCommand("network", "managed networks shared by the cluster's members", "network", "type",
		"`TYPE`: bridge, macvlan, physical, sriov, ovn, ...")
}

// defaultRootFlag exists for pools only.
var defaultRootFlag = &cli.BoolFlag{Name: "default-root", Usage: "stack instances take their root disk from this pool: add it to the default profile when that has none"}

func resourceCommand(name, usage, action, typeParam, typeUsage string) *cli.Command {
	nameFlag := &cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "its `NAME`"}
	presentFlags := []cli.Flag{nameFlag,
		&cli.StringFlag{Name: typeParam, Required: true, Usage: typeUsage},
		&cli.StringSliceFlag{Name: "config", Aliases: []string{"c"}, Usage: "`KEY=VALUE` (repeatable; a member-specific key here applies to every member)"},
		&cli.StringSliceFlag{Name: "member-config", Aliases: []string{"m"}, Usage: "`MEMBER:KEY=VALUE` member-specific key of one member (repeatable)"},
		&cli.StringFlag{Name: "description", Usage: "`TEXT`"},
		dryRunFlag, jsonFlag}
	if action == "storage_pool" {
		presentFlags = append(presentFlags, defaultRootFlag)
	}
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Subcommands: []*cli.Command{
			{Name: "present", Usage: "create it on every member (two-phase on a cluster), finish a half-done create, or update it in place",
				Flags: presentFlags,
				Action: func(c *cli.Context) error {
					params := map[string]any{"name": c.String("name"), typeParam: c.String(typeParam)}
					if kv := c.StringSlice("config"); len(kv) > 0 {
						params["config"] = pairs(kv)
					}
					if mc := c.StringSlice("member-config"); len(mc) > 0 {
						perMember, err := memberKeyFlags(mc)
						if err != nil {
							return render(c, failure(action+".present", protocol.Invalid("--member-config", "%v", err)), printChanges)
						}
						params["member_config"] = perMember
					}
					if c.IsSet("description") {
						params["description"] = c.String("description")
					}
					if c.Bool("default-root") {
						params["default_root"] = true
					}
					return render(c, runRequest(c, request(action+".present", c.Bool("dry-run"), params)), printChanges)
				}},
			{Name: "absent", Usage: "delete it from every member (refused while anything uses it)",
				Flags: []cli.Flag{nameFlag, dryRunFlag, jsonFlag},
				Action: func(c *cli.Context) error {
					return render(c, runRequest(c, request(action+".absent", c.Bool("dry-run"), map[string]any{"name": c.String("name")})), printChanges)
				}},
		},
	}
}

// memberKeyFlags parses MEMBER:KEY=VALUE flags.
func memberKeyFlags(values []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, v := range values {
		member, kv, ok := strings.Cut(v, ":")
		key, value, ok2 := strings.Cut(kv, "=")
		if !ok || !ok2 || member == "" || key == "" {
			return nil, fmt.Errorf("%q is not MEMBER:KEY=VALUE (e.g. node2:source=/dev/sdb)", v)
		}
		if out[member] == nil {
			out[member] = map[string]string{}
		}
		out[member][key] = value
	}
	return out, nil
}

func clusterMaintenanceCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "maintenance-check",
		Usage: "may this member be evacuated now? (every service keeps desired - update_config.parallelism running replicas)",
		Flags: []cli.Flag{memberNameFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			resp := runRequest(c, request("cluster.member.maintenance_check", false, map[string]any{"name": c.String("name")}))
			if !c.Bool("json") {
				printVerdicts(c, resp)
			}
			return render(c, resp, func(*cli.Context, protocol.Response) {})
		},
	}
}

// printVerdicts shows the per-service figures, also when the check refused.
func printVerdicts(c *cli.Context, resp protocol.Response) {
	verdicts, _ := resp.Fields["services"].([]maintenance.Verdict)
	if len(verdicts) == 0 {
		return
	}
	sort.SliceStable(verdicts, func(i, j int) bool { return verdicts[i].Stack < verdicts[j].Stack })
	t := newTable(c.App.Writer, "STACK", "SERVICE", "DESIRED", "RUNNING", "ON MEMBER", "AFTER", "FLOOR", "OK")
	for _, v := range verdicts {
		t.row(v.Stack, v.Service, fmt.Sprint(v.Desired), fmt.Sprint(v.Running), fmt.Sprint(v.OnMember), fmt.Sprint(v.After), fmt.Sprint(v.Floor), fmt.Sprint(v.OK))
	}
	t.flush()
}
