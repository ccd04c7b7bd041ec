package incus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// lockWaiter judges a held lock on the waiter's own clock: a record that
// stays exactly the same for a full lease belongs to a holder that stopped
// refreshing it. The holder's clock and host name are never trusted: two
// machines may share a host name, and clocks may be skewed by more than a
// lease.
type lockWaiter struct {
	c        *Client
	stack    string
	seen     bool
	raw      string    // the record as last seen
	since    time.Time // when it was first seen like that (monotonic)
	warnings []string
}

// takeoverHook, when set (tests), runs after a waiter decided a lock is
// stale and saw it unchanged once more, right before the rename: the
// window in which another waiter can take it over first.
var takeoverHook func(stack string)

// observe looks at the holder once; took reports that this waiter removed
// a stale lock (or tried to: the next create decides).
func (w *lockWaiter) observe(ctx context.Context, held *seenLock) (took bool, err error) {
	now := time.Now()
	if !w.seen || held.raw != w.raw {
		w.seen, w.raw, w.since = true, held.raw, now
	}
	switch {
	case held.raw == "" && held.rec.Owner == "a concurrent run":
		return false, nil // nothing seen yet
	case held.readable && holderGone(held.rec):
		// A process of this very kernel and PID namespace, and it is gone.
	case now.Sub(w.since) >= lockLease:
		// Unchanged for a full lease on our clock: its holder stopped.
	default:
		return false, nil
	}
	ok, err := w.c.takeOver(ctx, w.stack, held.raw)
	if err != nil {
		return false, err
	}
	w.seen = false
	if ok && !held.readable {
		w.warnings = append(w.warnings, fmt.Sprintf("the lock of stack %s (profile %s in project default) held a record incus-fleet cannot read; "+
			"it was taken over after it stayed unchanged for %s: check nothing else uses that profile name", w.stack, LockName(w.stack), lockLease))
	}
	// Only a takeover that removed the stale lock skips the wait: when
	// another waiter got in first, this one waits (and times out) like any
	// other, instead of retrying at once for ever.
	return ok, nil
}

// takeOver removes the stale lock holding exactly raw, atomically: it is
// renamed to a name only this waiter uses (of two renames of the same
// profile only one finds it), checked, and deleted. If what it renamed is
// not the stale record (a new holder got in between), it is put back.
func (c *Client) takeOver(ctx context.Context, stack, raw string) (bool, error) {
	ctx = unguarded(ctx)
	cur, err := c.readLock(ctx, stack)
	if err != nil || cur == nil || cur.raw != raw {
		return false, err
	}
	if takeoverHook != nil {
		takeoverHook(stack)
	}
	return c.removeLockIf(ctx, stack, "stale", "take over the stale lock", func(desc string) bool { return desc == raw })
}

// removeLockIf deletes the stack's lock only while it is the record mine
// accepts, atomically: Incus has no conditional delete (a DELETE ignores
// If-Match), so the profile is first renamed to a name only this caller
// uses (of two renames of one profile only one finds it), then checked,
// and deleted. What it renamed and mine refuses (a new holder got in
// between) is put back, never deleted. removed is false when there was
// nothing to remove or it was not the expected record.
func (c *Client) removeLockIf(ctx context.Context, stack, tag, what string, mine func(desc string) bool) (removed bool, err error) {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	tomb := LockName(stack) + "-" + tag + "-" + hex.EncodeToString(suffix)
	s := Scope{Project: "default"}
	if _, err := c.call(ctx, http.MethodPost, profilePath(LockName(stack)), s, map[string]string{"name": tomb}, nil); err != nil {
		if isNotFound(err) {
			return false, nil // someone else removed it first
		}
		return false, classify(err, "%s of stack %s", what, stack)
	}
	var p Profile
	if _, err := c.call(ctx, http.MethodGet, profilePath(tomb), s, nil, &p); err != nil {
		return false, classify(err, "read the lock of stack %s after renaming it to %s", stack, tomb)
	}
	if !mine(p.Description) {
		// Renamed another holder's lock: give it back, and never delete
		// it (its holder is alive).
		if _, err := c.call(ctx, http.MethodPost, profilePath(tomb), s, map[string]string{"name": LockName(stack)}, nil); err != nil {
			return false, classify(err, "give the lock of stack %s back to its holder (profile %s, renamed to %s): rename it to %s", stack, tomb, what, LockName(stack))
		}
		return false, nil
	}
	if _, err := c.call(ctx, http.MethodDelete, profilePath(tomb), s, nil, nil); err != nil && !isNotFound(err) {
		return false, classify(err, "remove the lock of stack %s (now profile %s)", stack, tomb)
	}
	return true, nil
}
