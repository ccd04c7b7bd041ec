package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// lockSelfExpiry is how long a holder goes on acting without a successful
// refresh: less than the lease a waiter must watch pass, measured from
// before the last write was sent, so no waiter can have taken over yet.
func lockSelfExpiry() time.Duration { return lockLease * 3 / 4 }

// refresh rewrites the record while the holder works (rolling updates with
// delays can outlast one lease), checking each time that it is still ours.
func (l *Lock) refresh() {
	defer close(l.done)
	t := time.NewTicker(lockLease / 4)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.extend()
		}
	}
}

// extend rewrites the record if the lock is still ours; seeing anyone
// else's record (or none) means the lock was lost.
func (l *Lock) extend() {
	if l.check() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(unguarded(context.Background()), lockLease/4)
	defer cancel()
	start := time.Now()
	var p Profile
	etag, err := l.c.call(ctx, http.MethodGet, profilePath(LockName(l.stack)), Scope{Project: "default"}, nil, &p)
	if isNotFound(err) {
		// A waiter that renamed a fresh lock by mistake puts it back at
		// once (lock_wait.go): look once more before giving up.
		time.Sleep(100 * time.Millisecond)
		etag, err = l.c.call(ctx, http.MethodGet, profilePath(LockName(l.stack)), Scope{Project: "default"}, nil, &p)
	}
	if err != nil {
		if isNotFound(err) {
			l.markLost("its lock profile %s was removed (a waiter judged it stale)", LockName(l.stack))
		}
		return // unreachable for now: lockSelfExpiry decides
	}
	var cur lockRecord
	if json.Unmarshal([]byte(p.Description), &cur) != nil || cur.Owner != l.rec.Owner {
		l.markLost("the lock is now held by %s", ownerOf(p.Description, cur))
		return
	}
	l.rec.Beat++
	l.rec.Refreshed = time.Now().UTC()
	desc, _ := json.Marshal(l.rec)
	p.Description, p.Name = string(desc), ""
	if _, err := l.c.callIfMatch(ctx, http.MethodPut, profilePath(LockName(l.stack)), Scope{Project: "default"}, etag, p, nil); err != nil {
		return // a concurrent change (412) or a failure: the next refresh looks again
	}
	l.mu.Lock()
	l.lastWrite = start
	l.mu.Unlock()
}

func ownerOf(raw string, rec lockRecord) string {
	if rec.Owner != "" {
		return fmt.Sprintf("%s (pid %d on %s)", rec.Owner, rec.PID, rec.Host)
	}
	return fmt.Sprintf("an unreadable record (%d bytes)", len(raw))
}

func (l *Lock) markLost(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil {
		l.lost = fmt.Errorf("this run lost the lock of stack %s: %s; it stopped before its next change: apply again: %w",
			l.stack, fmt.Sprintf(format, args...), ErrConflict)
	}
}

// check is the guard: nil while the lock is ours.
func (l *Lock) check() error {
	l.mu.Lock()
	stale := time.Since(l.lastWrite) > lockSelfExpiry()
	l.mu.Unlock()
	if stale {
		l.markLost("its record could not be refreshed for %s, so a waiter may take it over", lockSelfExpiry())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Check reports whether the lock is still held; a lost lock is ErrConflict.
func (l *Lock) Check() error { return l.check() }

// Release stops refreshing and removes the lock if it is still ours. A
// lock lost along the way is reported as ErrConflict.
func (l *Lock) Release() error {
	first := false
	l.releaseOnce.Do(func() { close(l.stop); first = true })
	if !first {
		return nil
	}
	<-l.done
	l.c.removeGuard(l)
	l.mu.Lock()
	lost := l.lost
	l.mu.Unlock()
	ctx := unguarded(context.Background())
	// Only the record that is still ours goes: a run that lost its lock
	// must not delete the lock of the waiter that took it over, even if
	// that happens between a look and a delete (removeLockIf).
	_, err := l.c.removeLockIf(ctx, l.stack, "released", "unlock", func(desc string) bool {
		var rec lockRecord
		return json.Unmarshal([]byte(desc), &rec) == nil && rec.Owner == l.rec.Owner
	})
	if lost != nil {
		return lost
	}
	return err
}

// addGuard makes every change through this client check the lock first.
func (c *Client) addGuard(l *Lock) {
	c.guardMu.Lock()
	defer c.guardMu.Unlock()
	c.guards = append(c.guards, l)
}

func (c *Client) removeGuard(l *Lock) {
	c.guardMu.Lock()
	defer c.guardMu.Unlock()
	for i, g := range c.guards {
		if g == l {
			c.guards = append(c.guards[:i], c.guards[i+1:]...)
			return
		}
	}
}

// guard refuses a change once a lock this client holds is lost: a holder
// that lost its lock must not act beside the new one.
func (c *Client) guard(ctx context.Context) error {
	if ctx.Value(unguardedKey{}) != nil {
		return nil
	}
	c.guardMu.Lock()
	guards := append([]*Lock(nil), c.guards...)
	c.guardMu.Unlock()
	for _, l := range guards {
		if err := l.check(); err != nil {
			return err
		}
	}
	return nil
}
