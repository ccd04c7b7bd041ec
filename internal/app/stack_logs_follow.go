package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// followPoll is how often --follow drains the console buffers: Incus 6.0
// has no stream of a container's console output short of attaching to
// the terminal itself, so it is polled. Each round costs one listing plus
// three requests per replica (drain, append, read).
const followPoll = 500 * time.Millisecond

// logPrinter prints lines the way Compose does: "web.2 | line", the
// prefixes padded to one width.
type logPrinter struct {
	w          io.Writer
	timestamps bool
	width      int
}

func (p *logPrinter) print(lines []logLine) {
	for _, l := range lines {
		p.width = max(p.width, len(l.Replica))
		if p.timestamps {
			fmt.Fprintf(p.w, "%-*s | %s %s\n", p.width, l.Replica, l.Time, l.Line)
		} else {
			fmt.Fprintf(p.w, "%-*s | %s\n", p.width, l.Replica, l.Line)
		}
	}
}

// followLogs prints the history, then every new line of every selected
// replica until ctx ends, in the order they are seen. Replicas created later (a scale-up, a replaced
// slot) are picked up with their whole log; gone ones are dropped.
func followLogs(ctx context.Context, req *protocol.Request, p *logPrinter, stderr io.Writer) error {
	lr, err := openLogs(ctx, req)
	if err != nil {
		return err
	}
	warned := map[string]bool{}
	lr.warn = func(msg string) {
		if !warned[msg] {
			warned[msg] = true
			fmt.Fprintf(stderr, "warning: %s\n", msg)
		}
	}
	lines, err := lr.history(ctx)
	if err != nil {
		return err
	}
	p.print(lines)
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		insts, err := lr.replicas(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var perr *protocol.Error
			if errors.As(err, &perr) && perr.Code == protocol.CodeNotFound {
				continue // every selected replica is gone for now: wait for new ones
			}
			lr.warn(err.Error())
			continue
		}
		alive := map[string]bool{}
		for _, in := range insts {
			alive[in.Name] = true
			if r := lr.seen[in.Name]; r != nil && !in.CreatedAt.Equal(r.inst.CreatedAt) {
				delete(lr.seen, in.Name) // the slot was replaced: a new log
			}
			lines, err := lr.readNew(ctx, in)
			if err != nil {
				if ctx.Err() == nil {
					lr.warn(err.Error())
				}
				continue
			}
			p.print(lines)
		}
		for name := range lr.seen {
			if !alive[name] {
				delete(lr.seen, name)
			}
		}
	}
}
