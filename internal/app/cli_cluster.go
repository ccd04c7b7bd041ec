package app

import (
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "inspect the Incus cluster and manage its members",
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "list members with status, roles, groups and labels", Flags: []cli.Flag{jsonFlag},
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
			clusterCertCommand(),
		},
	}
}

func printMembers(c *cli.Context, resp protocol.Response) {
	members, _ := resp.Fields["members"].([]model.Member)
	t := newTable(c.App.Writer, "NAME", "STATUS", "ROLES", "GROUPS", "FAILURE DOMAIN", "LABELS")
	for _, m := range members {
		labels := make([]string, 0, len(m.Labels))
		for k, v := range m.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		t.row(m.Name, m.Status, strings.Join(m.Roles, ","), strings.Join(m.Groups, ","), m.FailureDomain, strings.Join(labels, ","))
	}
	t.flush()
}
