package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// watchConfig tunes `stack watch`.
type watchConfig struct {
	Debounce time.Duration // quiet time after the last trigger
	MaxDelay time.Duration // a steady stream of triggers waits no longer
	Resync   time.Duration // periodic reconcile; 0 = off
	Poll     time.Duration // member status poll; 0 = off
	Grace    time.Duration // a stop signal lets a running reconcile finish this long
}

// watcher re-runs stack.present whenever the cluster changes in a way that
// may leave the stack misplaced. Each reconcile goes through the same
// decode → validate → serve path as `incus-fleet call`, so the watch
// deploys exactly what `stack up` would.
type watcher struct {
	cfg      watchConfig
	stack    string
	req      protocol.Request // stack.present, for real
	log      io.Writer        // one line per reconcile
	progress io.Writer        // rollout progress lines (--verbose)
	kicks    *kicker
	warned   map[string]bool // warnings already logged once
	runs     int
	ready    chan struct{} // closed once listen first subscribed (or failed to)
	retry    time.Duration // pause before retrying a failed reconcile; 0 = first
	metrics  *watchMetrics // --metrics; nil = off (watch_metrics.go)
}

// retryable are the failures that may pass by themselves (another run
// holding the stack's lock, a member still joining, a network blip), so
// the watch tries again soon instead of waiting for the next event.
var retryable = []string{protocol.CodeConflict, protocol.CodeClusterUnreachable, protocol.CodeTimeout, protocol.CodeInternal}

// run reconciles once at start, then on every trigger, until ctx ends.
// It returns a non-nil error only when the very first request is invalid
// (exit 2): nothing the cluster does can fix that.
func (w *watcher) run(ctx context.Context) error {
	w.logf("watching stack %s (debounce %s, resync %s, member poll %s)", w.stack, w.cfg.Debounce, off(w.cfg.Resync), off(w.cfg.Poll))
	w.ready = make(chan struct{})
	ctx, cancel := context.WithCancel(ctx) // ends listen whenever run returns
	defer cancel()
	go w.listen(ctx)
	// Subscribe before the first reconcile reads the cluster, so a change
	// in between is either in that read or in an event.
	select {
	case <-w.ready:
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
		return nil
	}
	if resp := w.reconcile(ctx, []string{"start"}); resp.Error != nil && resp.Error.Code == protocol.CodeInvalidRequest {
		return exitError{resp.ExitCode()}
	}
	go w.watchHealth(ctx) // watch_health.go
	var resync <-chan time.Time
	if w.cfg.Resync > 0 {
		t := time.NewTicker(w.cfg.Resync)
		defer t.Stop()
		resync = t.C
	}
	for {
		select {
		case <-ctx.Done():
			w.logf("stopped")
			return nil
		case <-resync:
			w.kicks.kick("periodic resync")
		case <-w.kicks.ch:
			if !w.kicks.settle(ctx, w.cfg.Debounce, w.cfg.MaxDelay) {
				w.logf("stopped")
				return nil
			}
			w.reconcile(ctx, w.kicks.take())
		}
	}
}

// reconcile runs stack.present once and logs one line about it, plus each
// warning the first time it appears.
func (w *watcher) reconcile(ctx context.Context, reasons []string) protocol.Response {
	w.runs++
	start := time.Now()
	rctx, cancel := graceContext(ctx, w.cfg.Grace)
	defer cancel()
	data, err := json.Marshal(w.req)
	if err != nil {
		resp := failure(w.req.Action, protocol.Errorf(protocol.CodeInternal, "%v", err))
		w.logf("reconcile #%d failed: %s", w.runs, resp.Error.Message)
		return resp
	}
	resp := run(rctx, bytes.NewReader(data), w.progress)
	took := time.Since(start).Seconds()
	w.metrics.observe(reasons, resp, time.Since(start))
	if resp.Error != nil {
		w.logf("reconcile #%d (%s) failed after %.2fs: %s: %s", w.runs, describe(reasons), took, resp.Error.Code, resp.Error.Message)
		w.scheduleRetry(resp.Error.Code)
	} else {
		w.logf("reconcile #%d (%s) in %.2fs: %s", w.runs, describe(reasons), took, resp.Comment)
		w.retry = 0
	}
	for _, msg := range resp.Warnings {
		if !w.warned[msg] {
			w.warned[msg] = true
			w.logf("warning: %s", msg)
		}
	}
	return resp
}

// scheduleRetry kicks again after a pause that doubles with each failure
// in a row (5s, 10s, … up to the resync period or a minute).
func (w *watcher) scheduleRetry(code string) {
	if !slices.Contains(retryable, code) {
		return
	}
	limit := w.cfg.Resync
	if limit <= 0 {
		limit = time.Minute
	}
	w.retry = min(max(2*w.retry, 5*time.Second), limit)
	time.AfterFunc(w.retry, func() { w.kicks.kick("retry after " + code) })
}

// listen turns Incus events and member status changes into kicks, and
// reconnects with a growing pause when the connection drops; a reconnect
// kicks too, since events may have been missed meanwhile.
func (w *watcher) listen(ctx context.Context) {
	const maxPause = 30 * time.Second
	pause := time.Second
	var once sync.Once
	subscribed := func() { once.Do(func() { close(w.ready) }) }
	defer subscribed()
	for {
		connected, err := w.follow(ctx, subscribed)
		subscribed() // the first attempt failed: reconcile anyway
		if ctx.Err() != nil {
			return
		}
		if connected {
			pause = time.Second
		}
		w.logf("lost the Incus connection (%v); retrying in %s", err, pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
		w.kicks.kick("reconnect")
	}
}

// follow connects, subscribes to events (then calls subscribed), and
// polls member status until the connection fails or ctx ends.
func (w *watcher) follow(ctx context.Context, subscribed func()) (connected bool, err error) {
	c, err := connect(ctx, &w.req)
	if err != nil {
		return false, err
	}
	stream, err := c.SubscribeEvents(func(ev incus.Event) {
		if reason, ok := eventReason(ev, w.stack); ok {
			w.kicks.kick(reason)
		}
	})
	if err != nil {
		return false, err
	}
	subscribed()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan error, 1)
	go func() { events <- stream.Wait(ctx) }()
	var poll <-chan time.Time
	if w.cfg.Poll > 0 {
		t := time.NewTicker(w.cfg.Poll)
		defer t.Stop()
		poll = t.C
	}
	var last map[string]string
	for {
		if w.cfg.Poll > 0 {
			members, err := c.Members()
			if err != nil {
				return true, err
			}
			now := statuses(members)
			if last != nil {
				for _, r := range memberChanges(last, now) {
					w.kicks.kick(r)
				}
			}
			last = now
		}
		select {
		case <-ctx.Done():
			return true, nil
		case err := <-events:
			if err == nil {
				err = ctx.Err()
			}
			return true, err
		case <-poll:
		}
	}
}

func (w *watcher) logf(format string, args ...any) {
	fmt.Fprintf(w.log, "%s watch %s: %s\n", time.Now().Format(time.RFC3339), w.stack, fmt.Sprintf(format, args...))
}

func off(d time.Duration) string {
	if d <= 0 {
		return "off"
	}
	return d.String()
}
