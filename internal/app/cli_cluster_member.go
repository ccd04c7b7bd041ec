package app

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// Human commands over the cluster.member.* actions. Each builds a protocol
// request, so it is validated and served exactly like `incus-fleet call`.

var (
	memberNameFlag = &cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "member `NAME`"}
	dryRunFlag     = &cli.BoolFlag{Name: "dry-run", Usage: "show what would change, change nothing"}
	convergeFlags  = []cli.Flag{
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "label `KEY=VALUE` (repeatable; the complete set incus-fleet manages)"},
		&cli.StringSliceFlag{Name: "group", Aliases: []string{"g"}, Usage: "cluster `GROUP` (repeatable; created if missing)"},
		&cli.StringFlag{Name: "failure-domain", Usage: "failure `DOMAIN`"},
	}
)

func clusterBootstrapCommand() *cli.Command {
	return &cli.Command{
		Name:  "bootstrap",
		Usage: "make this daemon the first member of a new cluster (cluster.member.present without --cluster)",
		Flags: append([]cli.Flag{memberNameFlag,
			&cli.StringFlag{Name: "address", Required: true, Usage: "`HOST:PORT` for the API and cluster traffic"},
			&cli.StringFlag{Name: "trust-cert", Usage: "fleet client certificate `FILE` to trust (from `cluster cert`)"},
			&cli.StringSliceFlag{Name: "config", Aliases: []string{"c"}, Usage: "cluster setting `KEY=VALUE` (cluster.*; repeatable)"},
			dryRunFlag, jsonFlag}, convergeFlags...),
		Action: func(c *cli.Context) error {
			params := memberParams(c)
			params["address"] = c.String("address")
			if f := c.String("trust-cert"); f != "" {
				params["trust"] = map[string]any{"client_cert": absPath(f)}
			}
			if kv := c.StringSlice("config"); len(kv) > 0 {
				params["config"] = pairs(kv)
			}
			return render(c, runRequest(c, request("cluster.member.present", c.Bool("dry-run"), params)), printChanges)
		},
	}
}

func clusterJoinCommand() *cli.Command {
	return &cli.Command{
		Name: "join",
		Usage: "join this daemon to a cluster: through --cluster with the fleet client certificate and a pinned fingerprint, " +
			"or with a join token (--token-file)",
		Flags: append([]cli.Flag{memberNameFlag,
			&cli.StringFlag{Name: "address", Required: true, Usage: "`HOST:PORT` of this member for the API and cluster traffic"},
			&cli.StringFlag{Name: "cluster", Usage: "`URL` of an existing member (https://HOST:PORT)"},
			&cli.StringFlag{Name: "cert", Usage: "fleet client certificate `FILE`"},
			&cli.StringFlag{Name: "key", Usage: "its private key `FILE`"},
			&cli.StringFlag{Name: "fingerprint", Usage: "sha256 `FINGERPRINT` of the cluster certificate to pin"},
			&cli.StringFlag{Name: "token-file", Usage: "read a join token from `FILE` (- for stdin) instead of using a certificate"},
			&cli.StringSliceFlag{Name: "member-config", Usage: "per-member setting `ENTITY/NAME/KEY=VALUE`, e.g. storage-pool/local/source=/dev/sdb"},
			dryRunFlag, jsonFlag}, convergeFlags...),
		Action: func(c *cli.Context) error {
			params := memberParams(c)
			params["address"] = c.String("address")
			if u := c.String("cluster"); u != "" {
				params["cluster"] = u
			}
			trust := map[string]any{}
			for flag, key := range map[string]string{"cert": "client_cert", "key": "client_key"} {
				if f := c.String(flag); f != "" {
					trust[key] = absPath(f)
				}
			}
			if fp := c.String("fingerprint"); fp != "" {
				trust["server_fingerprint"] = fp
			}
			if len(trust) > 0 {
				params["trust"] = trust
			}
			if f := c.String("token-file"); f != "" {
				token, err := readToken(c.App.Reader, f)
				if err != nil {
					return render(c, failure("cluster.member.present", protocol.Invalid("--token-file", "%v", err)), printChanges)
				}
				params["cluster_token"] = token
			}
			mc, err := memberConfigFlags(c.StringSlice("member-config"))
			if err != nil {
				return render(c, failure("cluster.member.present", protocol.Invalid("--member-config", "%v", err)), printChanges)
			}
			if len(mc) > 0 {
				params["member_config"] = mc
			}
			return render(c, runRequest(c, request("cluster.member.present", c.Bool("dry-run"), params)), printChanges)
		},
	}
}

func clusterLabelCommand() *cli.Command {
	return &cli.Command{
		Name:      "label",
		Usage:     "set the labels incus-fleet manages on a member to exactly KEY=VALUE...; labels it set before and not named are removed",
		ArgsUsage: "KEY=VALUE...",
		Flags:     []cli.Flag{memberNameFlag, dryRunFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			params := map[string]any{"name": c.String("name"), "labels": pairs(c.Args().Slice())}
			return render(c, runRequest(c, request("cluster.member.present", c.Bool("dry-run"), params)), printChanges)
		},
	}
}

func clusterLeaveCommand() *cli.Command {
	return &cli.Command{
		Name:  "leave",
		Usage: "evacuate a member and remove it from the cluster (cluster.member.absent)",
		Flags: []cli.Flag{memberNameFlag,
			&cli.BoolFlag{Name: "force", Usage: "remove even if offline or not evacuable (run it on another member)"},
			&cli.BoolFlag{Name: "no-evacuate", Usage: "do not evacuate first"},
			dryRunFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			params := map[string]any{"name": c.String("name"), "force": c.Bool("force"), "evacuate": !c.Bool("no-evacuate")}
			return render(c, runRequest(c, request("cluster.member.absent", c.Bool("dry-run"), params)), printChanges)
		},
	}
}

func clusterEvacuateCommand() *cli.Command {
	return &cli.Command{
		Name:  "evacuate",
		Usage: "move or stop a member's instances for maintenance",
		Flags: []cli.Flag{memberNameFlag,
			&cli.StringFlag{Name: "mode", Usage: "auto, live-migrate, migrate or stop (default: each instance's cluster.evacuate)"},
			&cli.BoolFlag{Name: "check", Usage: "run `cluster maintenance-check` first; evacuate only if it passes"},
			dryRunFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			params := map[string]any{"name": c.String("name")}
			if c.Bool("check") {
				params["check"] = true
			}
			if m := c.String("mode"); m != "" {
				params["mode"] = m
			}
			return render(c, runRequest(c, request("cluster.member.evacuate", c.Bool("dry-run"), params)), printChanges)
		},
	}
}

func clusterRestoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "bring an evacuated member and its instances back",
		Flags: []cli.Flag{memberNameFlag, dryRunFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			params := map[string]any{"name": c.String("name")}
			return render(c, runRequest(c, request("cluster.member.restore", c.Bool("dry-run"), params)), printChanges)
		},
	}
}

// memberParams collects the flags every form of cluster.member.present has.
func memberParams(c *cli.Context) map[string]any {
	params := map[string]any{"name": c.String("name")}
	if l := c.StringSlice("label"); len(l) > 0 {
		params["labels"] = pairs(l)
	}
	if g := c.StringSlice("group"); len(g) > 0 {
		params["groups"] = g
	}
	if fd := c.String("failure-domain"); fd != "" {
		params["failure_domain"] = fd
	}
	return params
}

// pairs turns KEY=VALUE arguments into a map (a bare KEY means "").
func pairs(kvs []string) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func memberConfigFlags(values []string) ([]map[string]string, error) {
	var out []map[string]string
	for _, v := range values {
		path, value, ok := strings.Cut(v, "=")
		parts := strings.SplitN(path, "/", 3)
		if !ok || len(parts) != 3 {
			return nil, fmt.Errorf("%q is not ENTITY/NAME/KEY=VALUE", v)
		}
		out = append(out, map[string]string{"entity": parts[0], "name": parts[1], "key": parts[2], "value": value})
	}
	return out, nil
}

// readToken reads a join token from a file or stdin; the token is never
// echoed, not even in an error.
func readToken(stdin io.Reader, path string) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("cannot read the join token: %v", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("the join token file is empty")
	}
	return token, nil
}

func absPath(p string) string { return absAll([]string{p})[0] }

// printChanges lists what a member command changed, one line each.
func printChanges(c *cli.Context, resp protocol.Response) {
	keys := make([]string, 0, len(resp.Changes))
	for k := range resp.Changes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ch := resp.Changes[k]
		fmt.Fprintf(c.App.Writer, "%s: %s -> %s\n", k, showValue(ch.Old), showValue(ch.New))
	}
}

func showValue(v any) string {
	if v == nil {
		return "(none)"
	}
	return fmt.Sprint(v)
}
