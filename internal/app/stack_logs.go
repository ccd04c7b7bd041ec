package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type stackLogsParams struct {
	Name    string   `json:"name"`
	Targets []string `json:"targets"` // SERVICE, SERVICE.SLOT or instance names; none = all
	Tail    *int     `json:"tail"`    // last N lines per replica
	Since   string   `json:"since"`   // RFC 3339 time or a Go duration before now
}

// replicaReadTimeout bounds reading one replica's console and journal.
const replicaReadTimeout = 10 * time.Second

// logLine is one line of a replica's console output, with the time
// incus-fleet moved it from the console buffer into the journal.
type logLine struct {
	Replica  string `json:"replica"` // SERVICE.SLOT, as Compose prefixes
	Instance string `json:"instance"`
	Member   string `json:"member"`
	Time     string `json:"time"`
	Line     string `json:"line"`
}

// stackLogs returns the console output of a stack's replicas (what each
// main process wrote to stdout and stderr), merged in time order.
func stackLogs(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	lr, err := openLogs(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	var warnings []string
	lr.warn = func(msg string) { warnings = append(warnings, msg) }
	lines, err := lr.history(ctx)
	if err != nil {
		return protocol.Response{}, err
	}
	sort.Strings(warnings)
	resp := protocol.Response{Result: protocol.True(), Warnings: warnings, Comment: fmt.Sprintf("%d lines from %d replicas", len(lines), len(lr.seen))}
	resp.Set("stack", lr.p.Name)
	resp.Set("lines", lines)
	return resp, nil
}

// logReader reads a stack's console logs once, then again and again for
// --follow, remembering what each replica's log held.
type logReader struct {
	c     *incus.Client
	p     stackLogsParams
	since time.Time
	seen  map[string]*replicaLog // instance name → what was read of it
	warn  func(string)
}

type replicaLog struct {
	inst  incus.OwnedInstance
	label string
	shown int // journal lines returned so far
}

func openLogs(ctx context.Context, req *protocol.Request) (*logReader, error) {
	lr := &logReader{seen: map[string]*replicaLog{}, warn: func(string) {}}
	c, err := decodeAndConnect(ctx, req, &lr.p)
	if err != nil {
		return nil, err
	}
	lr.c = c
	if lr.since, err = parseSince(lr.p.Since, time.Now()); err != nil {
		return nil, err
	}
	return lr, nil
}

// parseSince reads --since: an RFC 3339 time, or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, protocol.Invalid("params.since", "%q is neither an RFC 3339 time (2026-12-06T03:00:00Z) nor a duration (10m, 1h30m)", s)
}

// replicas lists the instances the targets select, in service/slot order.
func (lr *logReader) replicas(ctx context.Context) ([]incus.OwnedInstance, error) {
	insts, err := stackInstances(ctx, lr.c, lr.p.Name) // stack_exec.go
	if err != nil {
		return nil, err
	}
	if len(lr.p.Targets) == 0 {
		return insts, nil
	}
	out := insts[:0]
	for _, in := range insts {
		_, svc, slot, _ := in.Owned()
		for _, t := range lr.p.Targets {
			if t == svc || t == in.Name || t == fmt.Sprintf("%s.%d", svc, slot) {
				out = append(out, in)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, protocol.Errorf(protocol.CodeNotFound, "no replica of stack %s matches %s (give service names, SERVICE.SLOT or instance names)",
			lr.p.Name, strings.Join(lr.p.Targets, ", "))
	}
	return out, nil
}

// history reads every selected replica's journal (journalLines), merged
// across replicas in time order (replica order for equal times), each
// replica cut to its last tail lines and to lines since since.
func (lr *logReader) history(ctx context.Context) ([]logLine, error) {
	insts, err := lr.replicas(ctx)
	if err != nil {
		return nil, err
	}
	out := []logLine{}
	for _, in := range insts {
		lines, err := lr.readNew(ctx, in)
		if err != nil {
			lr.warn(err.Error())
			continue
		}
		if !lr.since.IsZero() {
			kept := lines[:0]
			for _, l := range lines {
				if at, err := time.Parse(time.RFC3339Nano, l.Time); err != nil || !at.Before(lr.since) {
					kept = append(kept, l)
				}
			}
			lines = kept
		}
		if lr.p.Tail != nil && len(lines) > *lr.p.Tail {
			lines = lines[len(lines)-*lr.p.Tail:]
		}
		out = append(out, lines...)
	}
	// RFC 3339 UTC times with a fixed layout sort as strings.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out, nil
}

// readNew moves what the replica's console buffer holds into its journal
// (drainConsole), reads the journal and returns the lines not returned
// before (all of them the first time; all again if it was cut).
func (lr *logReader) readNew(ctx context.Context, in incus.OwnedInstance) ([]logLine, error) {
	// One replica that does not answer (a container stuck in a failed
	// stop made Incus's file API hang on the bed) must not stall the rest.
	ctx, cancel := context.WithTimeout(ctx, replicaReadTimeout)
	defer cancel()
	_, svc, slot, _ := in.Owned()
	r := lr.seen[in.Name]
	if r == nil {
		r = &replicaLog{inst: in, label: fmt.Sprintf("%s.%d", svc, slot)}
		lr.seen[in.Name] = r
	}
	// Only a running container's console is a buffer that a read clears:
	// a stopped one answers with its whole console.log each time, which
	// would be appended again and again.
	if in.Status == "Running" {
		if err := drainConsole(ctx, lr.c, lr.p.Name, in.Name, time.Now()); err != nil {
			lr.warn(err.Error()) // its journal still reads
		}
	}
	data, _, err := lr.c.ReadFile(ctx, lr.p.Name, in.Name, journalPath)
	if errors.Is(err, incus.ErrNotFound) {
		data, err = nil, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s (%s on %s) did not answer within %s; its lines are left out: %v", r.label, in.Name, in.Member, replicaReadTimeout, err)
		}
		return nil, err
	}
	all := parseJournal(data)
	if len(all) < r.shown {
		r.shown = 0
	}
	out := make([]logLine, 0, len(all)-r.shown)
	for _, j := range all[r.shown:] {
		out = append(out, logLine{Replica: r.label, Instance: in.Name, Member: in.Member, Time: j.time, Line: j.text})
	}
	r.shown = len(all)
	return out, nil
}
