package app

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/clusterhealth"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "inspect the Incus cluster and manage its members",
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "members (status, roles, groups, labels, message), database voters and standbys, storage pools per member, instances per member by stack, health warnings", Flags: []cli.Flag{jsonFlag},
				Action: func(c *cli.Context) error {
					return render(c, runRequest(c, request("cluster.status", false, map[string]any{})), printMembers)
				}},
			{Name: "snapshot", Usage: "print the cluster snapshot used for offline planning (JSON)",
				Action: func(c *cli.Context) error {
					return writeResponse(c.App.Writer, runRequest(c, request("cluster.snapshot", false, map[string]any{})))
				}},
			// Membership (cli_cluster_member.go, cli_cluster_cert.go).
			clusterBootstrapCommand(),
			clusterJoinCommand(),
			clusterLeaveCommand(),
			clusterLabelCommand(),
			clusterEvacuateCommand(),
			clusterRestoreCommand(),
			clusterMaintenanceCheckCommand(),
			clusterCertCommand(),
		},
	}
}

func printMembers(c *cli.Context, resp protocol.Response) {
	members, _ := resp.Fields["members"].([]statusMember)
	t := newTable(c.App.Writer, "NAME", "STATUS", "ROLES", "GROUPS", "FAILURE DOMAIN", "LABELS", "MESSAGE")
	for _, m := range members {
		labels := make([]string, 0, len(m.Labels))
		for k, v := range m.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		t.row(m.Name, m.Status, strings.Join(m.Roles, ","), strings.Join(m.Groups, ","), m.FailureDomain, strings.Join(labels, ","), m.Message)
	}
	t.flush()
	printHealth(c, resp)
}

// printHealth shows the database roles, pools per member and instances
// per member by stack under the member table.
func printHealth(c *cli.Context, resp protocol.Response) {
	w := c.App.Writer
	if db, ok := resp.Fields["database"].(clusterhealth.Database); ok {
		fmt.Fprintf(w, "\ndatabase: leader %s; voters %d of max %d (%s); standbys %d of max %d (%s)\n", db.Leader,
			len(db.Voters), db.MaxVoters, strings.Join(db.Voters, ","), len(db.Standbys), db.MaxStandby, strings.Join(db.Standbys, ","))
	}
	if pools, ok := resp.Fields["storage_pools"].([]clusterhealth.Pool); ok && len(pools) > 0 {
		fmt.Fprintln(w)
		t := newTable(w, "POOL", "DRIVER", "STATUS", "PER MEMBER")
		for _, p := range pools {
			per := make([]string, 0, len(p.ByMember))
			for m, st := range p.ByMember {
				per = append(per, m+"="+st)
			}
			sort.Strings(per)
			t.row(p.Name, p.Driver, p.Status, strings.Join(per, " "))
		}
		t.flush()
	}
	if insts, ok := resp.Fields["instances"].(map[string]map[string]int); ok && len(insts) > 0 {
		fmt.Fprintln(w)
		t := newTable(w, "MEMBER", "INSTANCES BY STACK")
		for _, m := range sortedNames(insts) {
			per := make([]string, 0, len(insts[m]))
			for _, s := range sortedNames(insts[m]) {
				per = append(per, fmt.Sprintf("%s=%d", s, insts[m][s]))
			}
			t.row(m, strings.Join(per, " "))
		}
		t.flush()
	}
	fmt.Fprintln(w)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
