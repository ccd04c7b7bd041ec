package app

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

func bundleCommand() *cli.Command {
	return &cli.Command{
		Name:  "bundle",
		Usage: "create and verify compose bundles (pinned images + support files in one tar.gz)",
		Subcommands: []*cli.Command{
			{Name: "create", Usage: "pin every image on the cluster and pack the compose app into a bundle",
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "compose `FILE` (repeatable; later files override earlier)"},
					&cli.StringFlag{Name: "project-dir", Usage: "project directory (default: the first file's directory)"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "bundle `FILE` to write (e.g. app.tar.gz)"},
					&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "compose project name used while interpolating (default: the project directory's name)"},
					&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "interpolation variable `KEY=VALUE` (repeatable)"},
					&cli.StringSliceFlag{Name: "profile", Usage: "compose profile to enable (repeatable); replaces COMPOSE_PROFILES from the environment or .env"},
					&cli.BoolFlag{Name: "dry-run", Usage: "resolve and pack, but write nothing"},
					jsonFlag,
				},
				Action: bundleCreateCLI},
			{Name: "verify", Usage: "check every digest of a bundle", ArgsUsage: "BUNDLE", Flags: []cli.Flag{jsonFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return render(c, failure("bundle.verify", protocol.Invalid("BUNDLE", "give exactly one bundle file")), printBundle)
					}
					path := absAll([]string{c.Args().First()})[0]
					return render(c, runRequest(c, request("bundle.verify", false, map[string]any{"bundle": path})), printBundle)
				}},
		},
	}
}

func bundleCreateCLI(c *cli.Context) error {
	files := c.StringSlice("file")
	if len(files) == 0 {
		files = defaultComposeFiles()
	}
	params := composeParams(c, files)
	params["output"] = absAll([]string{c.String("output")})[0]
	if n := c.String("name"); n != "" {
		params["name"] = n
	}
	return render(c, runRequest(c, request("bundle.create", c.Bool("dry-run"), params)), printBundle)
}

// defaultComposeFiles finds the compose file Compose would, in the cwd.
func defaultComposeFiles() []string {
	for _, candidate := range []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"} {
		if matches, _ := filepath.Glob(candidate); len(matches) == 1 {
			return matches
		}
	}
	return nil
}

// printBundle shows the pinned images and the files of a bundle.
func printBundle(c *cli.Context, resp protocol.Response) {
	m, ok := resp.Fields["manifest"].(manifestSummary)
	if !ok {
		return
	}
	t := newTable(c.App.Writer, "SERVICE", "IMAGE", "PINNED TO")
	for _, svc := range slices.Sorted(maps.Keys(m.Images)) {
		img := m.Images[svc]
		t.row(svc, img.Ref, img.Fingerprint)
	}
	t.flush()
	fmt.Fprintf(c.App.Writer, "%d files, %d bytes uncompressed\n", m.Files, m.Bytes)
}

// bundleDeployParams is `stack up --bundle FILE`: the stack name defaults
// to the bundle's file name without its extension.
func bundleDeployParams(c *cli.Context, path string) map[string]any {
	name := c.String("name")
	if name == "" {
		base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".gz"), ".tar")
		base = strings.TrimSuffix(base, ".tgz")
		name = strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	}
	params := map[string]any{"name": name, "bundle": absAll([]string{path})[0]}
	// Passed on so stack.present refuses them with its own explanation
	// rather than the CLI dropping them silently.
	if f := c.StringSlice("file"); len(f) > 0 {
		params["compose_files"] = absAll(f)
	}
	if d := c.String("project-dir"); d != "" {
		params["project_dir"] = d
	}
	if p := c.StringSlice("profile"); len(p) > 0 {
		params["profiles"] = p
	}
	if env := c.StringSlice("env"); len(env) > 0 {
		params["env"] = keyValues(env)
	}
	if s := c.StringSlice("service"); len(s) > 0 {
		params["services"] = s
	}
	if c.Bool("force-recreate") {
		params["force_recreate"] = true
	}
	volumeParams(c, params) // cli_stack.go
	return params
}

// keyValues parses repeated KEY=VALUE flags.
func keyValues(kvs []string) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
