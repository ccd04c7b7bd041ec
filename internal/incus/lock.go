package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// A stack's lock is a profile named fleet-lock-<stack> in the default
// project. Creating an object whose name must be unique is the one atomic
// test-and-set Incus offers: its ETag checks on updates are read in one
// transaction and written in another, so two writers can both pass them.
// The profile is never attached to anything; its description holds the
// holder and its lease.
const lockPrefix = "fleet-lock-"

// LockName is the name of the profile that locks a stack.
func LockName(stack string) string { return lockPrefix + stack }

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

func (c *Client) lockServer() incusclient.InstanceServer { return c.srv.UseProject("default") }

// AcquireLock takes the stack's lock, waiting up to wait for a live holder.
// A holder whose process is gone (same host) or whose lease ran out is
// removed first: a killed run must not block the next one.
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
			return nil, fmt.Errorf("stack %s is locked by %s (pid %d on %s) since %s, lease until %s: another apply is running; wait for it or retry later (profile %s holds the lock): %w",
				stack, held.Owner, held.PID, held.Host, held.Since.Format(time.RFC3339), held.Expires.Format(time.RFC3339), LockName(stack), ErrConflict)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tryLock creates the lock profile; when it exists it returns the live
// holder, or clears a stale one so the next attempt can create it.
func (c *Client) tryLock(stack string, me *lockRecord) (*lockRecord, error) {
	now := time.Now().UTC()
	me.Since, me.Expires = now, now.Add(lockTTL)
	desc, _ := json.Marshal(me)
	err := c.lockServer().CreateProfile(api.ProfilesPost{Name: LockName(stack),
		ProfilePut: api.ProfilePut{Description: string(desc), Config: map[string]string{}, Devices: map[string]map[string]string{}}})
	if err == nil {
		return nil, nil
	}
	if !alreadyExists(err) {
		return nil, classify(err, "lock stack %s", stack)
	}
	held, err := c.readLock(stack)
	if err != nil || held == nil {
		return &lockRecord{Owner: "a concurrent run", Since: now, Expires: now}, err
	}
	if held.live() {
		return held, nil
	}
	// Stale: remove it if it is still the same holder, then retry.
	if again, err := c.readLock(stack); err == nil && again != nil && again.Owner == held.Owner {
		_ = c.lockServer().DeleteProfile(LockName(stack))
	}
	return &lockRecord{Owner: held.Owner + " (stale, removed)", Since: held.Since, Expires: held.Expires}, nil
}

// readLock returns the current holder, or nil when the lock is free.
func (c *Client) readLock(stack string) (*lockRecord, error) {
	p, _, err := c.lockServer().GetProfile(LockName(stack))
	if err != nil {
		if err = classify(err, "read the lock of stack %s", stack); isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var held lockRecord
	if json.Unmarshal([]byte(p.Description), &held) != nil {
		// Not ours to interpret: count it as held until its lease would end.
		return &lockRecord{Owner: "unreadable lock " + LockName(stack), Expires: time.Now().Add(lockTTL)}, nil
	}
	return &held, nil
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
			l.failed = l.extend()
		}
	}
}

func (l *Lock) extend() error {
	srv := l.c.lockServer()
	p, etag, err := srv.GetProfile(LockName(l.stack))
	if err != nil {
		return classify(err, "refresh the lock of stack %s", l.stack)
	}
	l.rec.Expires = time.Now().UTC().Add(lockTTL)
	desc, _ := json.Marshal(l.rec)
	put := p.Writable()
	put.Description = string(desc)
	return classify(srv.UpdateProfile(LockName(l.stack), put, etag), "refresh the lock of stack %s", l.stack)
}

// Release removes the lock if it is still ours.
func (l *Lock) Release() error {
	close(l.stop)
	<-l.done
	held, err := l.c.readLock(l.stack)
	if err != nil || held == nil || held.Owner != l.rec.Owner {
		return err
	}
	return classify(l.c.lockServer().DeleteProfile(LockName(l.stack)), "unlock stack %s", l.stack)
}
