package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/lxc/incus/v6/shared/api"
)

// KeyLock is the project config key holding a stack's lock. Writing it with
// the project's ETag makes acquisition a compare-and-swap in Incus itself,
// so two runs on different machines never both act on one stack.
const KeyLock = "user.fleet.lock"

// lockTTL bounds how long a crashed holder on another machine blocks the
// stack; a live holder refreshes well before it runs out.
const lockTTL = 2 * time.Minute

type lockRecord struct {
	Owner   string    `json:"owner"` // host:pid:nonce
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

// Lock is a held stack lock; Release it when done.
type Lock struct {
	c      *Client
	stack  string
	rec    lockRecord
	stop   chan struct{}
	done   chan struct{}
	failed error
}

// AcquireLock takes the stack's lock, waiting up to wait for a live holder.
// A holder whose process is gone (same host) or whose lease expired is
// taken over: a killed run must not block the next one.
func (c *Client) AcquireLock(ctx context.Context, stack string, wait time.Duration) (*Lock, error) {
	host, _ := os.Hostname()
	me := lockRecord{Host: host, PID: os.Getpid(), Owner: fmt.Sprintf("%s:%d:%d", host, os.Getpid(), time.Now().UnixNano())}
	deadline := time.Now().Add(wait)
	for {
		held, err := c.tryLock(stack, &me)
		if err != nil {
			return nil, err
		}
		if held == nil {
			l := &Lock{c: c, stack: stack, rec: me, stop: make(chan struct{}), done: make(chan struct{})}
			go l.refresh()
			return l, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("stack %s is locked by %s (pid %d on %s) since %s, lease until %s: another apply is running; wait for it or retry later: %w",
				stack, held.Owner, held.PID, held.Host, held.Since.Format(time.RFC3339), held.Expires.Format(time.RFC3339), ErrConflict)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tryLock writes our lock if the key is free or stale; it returns the live
// holder otherwise. A lost compare-and-swap race reports the winner.
func (c *Client) tryLock(stack string, me *lockRecord) (*lockRecord, error) {
	p, etag, err := c.srv.GetProject(stack)
	if err != nil {
		return nil, classify(err, "read project %s", stack)
	}
	if raw := p.Config[KeyLock]; raw != "" {
		var held lockRecord
		if json.Unmarshal([]byte(raw), &held) == nil && held.Owner != me.Owner && held.live() {
			return &held, nil
		}
	}
	now := time.Now().UTC()
	me.Since, me.Expires = now, now.Add(lockTTL)
	data, _ := json.Marshal(me)
	put := p.Writable()
	put.Config[KeyLock] = string(data)
	err = c.srv.UpdateProject(stack, put, etag)
	if api.StatusErrorCheck(err, http.StatusPreconditionFailed) {
		return &lockRecord{Owner: "a concurrent run", Since: now, Expires: now}, nil
	}
	return nil, classify(err, "lock stack %s", stack)
}

// live reports whether a holder still counts: its lease has not run out
// and, when it runs on this host, its process still exists.
func (r lockRecord) live() bool {
	if time.Now().After(r.Expires) {
		return false
	}
	if host, _ := os.Hostname(); host == r.Host && r.PID > 0 {
		_, err := os.Stat("/proc/" + strconv.Itoa(r.PID))
		return err == nil
	}
	return true
}

// refresh extends the lease while the holder works (rolling updates with
// delays can outlast one lease).
func (l *Lock) refresh() {
	defer close(l.done)
	t := time.NewTicker(lockTTL / 4)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if _, err := l.c.tryLock(l.stack, &l.rec); err != nil {
				l.failed = err
			}
		}
	}
}

// Release removes the lock if it is still ours.
func (l *Lock) Release() error {
	close(l.stop)
	<-l.done
	p, etag, err := l.c.srv.GetProject(l.stack)
	if err != nil {
		return classify(err, "read project %s", l.stack)
	}
	var held lockRecord
	if json.Unmarshal([]byte(p.Config[KeyLock]), &held) != nil || held.Owner != l.rec.Owner {
		return l.failed
	}
	put := p.Writable()
	delete(put.Config, KeyLock)
	return classify(l.c.srv.UpdateProject(l.stack, put, etag), "unlock stack %s", l.stack)
}
