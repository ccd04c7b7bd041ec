package app

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// stackWatchCommand is `stack watch`: the deploy flags of `stack up`, plus
// the timing of the reconcile loop.
func stackWatchCommand(deployFlags []cli.Flag) *cli.Command {
	// --resume is a one-shot decision (continue this paused update), not
	// something every resync should repeat: watch does not take it.
	flags := slices.DeleteFunc(append([]cli.Flag{}, deployFlags...), func(f cli.Flag) bool { return slices.Contains(f.Names(), "resume") })
	// Nor does it take the other one-shot flags (refused in stackWatch
	// with the reason): hidden, but still parsed, so the refusal says why.
	for i, f := range flags {
		if name := f.Names()[0]; slices.Contains(watchRefused, name) {
			flags[i] = &cli.BoolFlag{Name: name, Hidden: true}
		}
	}
	flags = append(flags,
		&cli.DurationFlag{Name: "debounce", Value: time.Second, Usage: "wait this long after the last event before reconciling"},
		&cli.DurationFlag{Name: "resync", Value: time.Minute, Usage: "also reconcile this often, whatever happens (0 = never)"},
		&cli.DurationFlag{Name: "poll-members", Value: 5 * time.Second, Usage: "poll member status this often; a member going offline emits no event (0 = never)"},
		&cli.DurationFlag{Name: "grace", Value: 10 * time.Second, Usage: "on SIGINT/SIGTERM, let a running reconcile finish for up to this long"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also print each reconcile's progress lines"},
		&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on http://`ADDR`/metrics, e.g. 127.0.0.1:9464 (keep it on loopback: it is unauthenticated; default off)"},
	)
	return &cli.Command{
		Name:  "watch",
		Usage: "keep a stack placed: reconcile on cluster and instance events, and periodically",
		Description: "Runs until SIGINT or SIGTERM. Reconciles like `stack up` when a member joins, leaves, changes,\n" +
			"is evacuated or restored, goes offline, or when an instance of the stack is stopped or deleted,\n" +
			"so global services follow joining members and lost replicas are re-created. Logs one line per\n" +
			"reconcile to stderr.",
		Flags:  flags,
		Action: stackWatch,
	}
}

// watchRefused are the flags of `stack up` that a watch refuses.
var watchRefused = []string{"failover-shared-volumes", "force-recreate", "move-volumes", "prune-volumes"}

func stackWatch(c *cli.Context) error {
	// One-shot decisions are refused rather than repeated by every
	// reconcile: the watch re-reads the Compose file each time, so an edit
	// would act on data within one resync.
	for _, f := range []struct{ flag, why string }{
		{"failover-shared-volumes", "would re-create every slot of a member that misses heartbeats on its shared volume, also while the member is only cut off and still writing"},
		{"force-recreate", "would replace every instance on every reconcile"},
		{"move-volumes", "would move a slot's data off its member whenever the member is evacuated or stops matching the constraints, turning maintenance into a copy and a deletion of the source"},
		{"prune-volumes", "would delete a volume's data within one reconcile of a Compose edit that stops using it"},
	} {
		if c.Bool(f.flag) {
			fmt.Fprintf(c.App.ErrWriter, "incus-fleet: --%s %s; use it with `stack up`\n", f.flag, f.why)
			return exitError{2}
		}
	}
	params := deployParams(c)
	req := request("stack.present", false, params)
	if s := c.String("socket"); s != "" {
		req.Connection = &protocol.Connection{Socket: s}
	}
	progress := io.Discard
	if c.Bool("verbose") {
		progress = c.App.ErrWriter
	}
	debounce := max(c.Duration("debounce"), 0)
	w := &watcher{
		cfg: watchConfig{
			Debounce: debounce,
			MaxDelay: max(10*debounce, 5*time.Second),
			Resync:   c.Duration("resync"),
			Poll:     c.Duration("poll-members"),
			Grace:    max(c.Duration("grace"), 0),
		},
		stack:    params["name"].(string),
		req:      req,
		log:      c.App.ErrWriter,
		progress: progress,
		kicks:    newKicker(),
		warned:   map[string]bool{},
	}
	if addr := c.String("metrics"); addr != "" {
		w.metrics = newWatchMetrics(w) // watch_metrics.go
		bound, err := w.metrics.serve(c.Context, addr, w.logf)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "incus-fleet: --metrics %s: %v; give a free address such as 127.0.0.1:9464\n", addr, err)
			return exitError{2}
		}
		w.logf("serving metrics on http://%s/metrics", bound)
	}
	return w.run(c.Context)
}
