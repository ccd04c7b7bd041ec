package incus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"
)

// A stack's lock is a profile named fleet-lock-<stack> in the default
// project. Creating an object whose name must be unique is the one atomic
// test-and-set Incus offers (its ETag checks on updates are read in one
// transaction and written in another, so two writers can both pass them),
// and renaming is the atomic take: of two renames of the same profile only
// one finds it. The profile is never attached to anything; its description
// holds the holder's record, rewritten at every refresh.
const lockPrefix = "fleet-lock-"

// LockName is the name of the profile that locks a stack.
func LockName(stack string) string { return lockPrefix + stack }

// lockLease is how long a lock record must stay unchanged, on the waiter's
// own clock, before the waiter takes it over. A live holder rewrites its
// record every lockLease/4, so it would have to miss three refreshes in a
// row; the holder itself stops acting (lockSelfExpiry) before a waiter can
// see a full lease pass. It is below the default lock wait (60 s), so a
// crashed holder on another machine never outlasts a waiting run.
var lockLease = 30 * time.Second

// lockPoll is how often a waiter looks at the lock again.
var lockPoll = 200 * time.Millisecond

// lockRecord is the holder's record. Nothing in it is compared with the
// waiter's clock: Since and Refreshed are for people reading it.
type lockRecord struct {
	Owner     string    `json:"owner"` // host:pid:nonce, unique per acquisition
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Process   string    `json:"process,omitempty"` // boot id, pid namespace and start time: see process.go
	Since     time.Time `json:"since"`
	Refreshed time.Time `json:"refreshed"`
	Beat      int64     `json:"beat"` // changes at every refresh, whatever the clocks say
}

// Lock is a held stack lock; Release it when done. While it is held, the
// Client refuses every change once the lock is lost (guard).
type Lock struct {
	c        *Client
	stack    string
	rec      lockRecord
	stop     chan struct{}
	done     chan struct{}
	Warnings []string // e.g. an unreadable record that was taken over

	releaseOnce sync.Once
	mu          sync.Mutex
	lost        error     // set once another holder is seen, or refreshes failed too long
	lastWrite   time.Time // when the last successful record write was sent (monotonic)
}

// unguarded marks the lock's own calls, which must go through while the
// guard refuses every other change.
type unguardedKey struct{}

func unguarded(ctx context.Context) context.Context {
	return context.WithValue(ctx, unguardedKey{}, true)
}

// AcquireLock takes the stack's lock, waiting up to wait for a live holder.
// A holder is stale when its record stayed exactly the same for a full
// lease as this process measures it, or when it is a process of this very
// kernel and PID namespace that is gone (process.go).
func (c *Client) AcquireLock(ctx context.Context, stack string, wait time.Duration) (*Lock, error) {
	host, _ := os.Hostname()
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	me := lockRecord{Host: host, PID: os.Getpid(), Process: selfIdentity(),
		Owner: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(nonce))}
	w := &lockWaiter{c: c, stack: stack}
	deadline := time.Now().Add(wait)
	for {
		attempt := time.Now()
		held, err := c.tryLock(ctx, stack, &me)
		if err != nil {
			return nil, err
		}
		if held == nil {
			l := &Lock{c: c, stack: stack, rec: me, stop: make(chan struct{}), done: make(chan struct{}),
				lastWrite: attempt, Warnings: w.warnings}
			c.addGuard(l)
			go l.refresh()
			c.settle(ctx, stack)
			return l, nil
		}
		took, err := w.observe(ctx, held)
		if err != nil {
			return nil, err
		}
		if took {
			continue // the stale lock is gone: create ours at once
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("stack %s is locked by %s (pid %d on %s) since %s: another apply is running; wait for it or retry later "+
				"(profile %s holds the lock; a holder that stops refreshing it is taken over after %s): %w",
				stack, held.rec.Owner, held.rec.PID, held.rec.Host, held.rec.Since.Format(time.RFC3339), LockName(stack), lockLease, ErrConflict)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

// seenLock is the lock profile as one read found it.
type seenLock struct {
	raw      string // the description, exactly
	rec      lockRecord
	readable bool
}

// tryLock creates the lock profile (nil: ours now) or returns what holds it.
func (c *Client) tryLock(ctx context.Context, stack string, me *lockRecord) (*seenLock, error) {
	now := time.Now().UTC()
	me.Since, me.Refreshed = now, now
	desc, _ := json.Marshal(me)
	post := Profile{Name: LockName(stack), Description: string(desc), Config: map[string]string{}, Devices: map[string]map[string]string{}}
	_, err := c.call(unguarded(ctx), http.MethodPost, "/profiles", Scope{Project: "default"}, post, nil)
	if err == nil {
		return nil, nil
	}
	if !alreadyExists(err) {
		return nil, classify(err, "lock stack %s", stack)
	}
	held, err := c.readLock(ctx, stack)
	if err != nil {
		return nil, err
	}
	if held == nil {
		// Released between our create and our read: a concurrent run.
		return &seenLock{rec: lockRecord{Owner: "a concurrent run"}, readable: true}, nil
	}
	return held, nil
}

// readLock returns the lock as it is now, or nil when it is free.
func (c *Client) readLock(ctx context.Context, stack string) (*seenLock, error) {
	var p Profile
	if _, err := c.call(unguarded(ctx), http.MethodGet, profilePath(LockName(stack)), Scope{Project: "default"}, nil, &p); err != nil {
		if err = classify(err, "read the lock of stack %s", stack); isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	s := &seenLock{raw: p.Description}
	s.readable = json.Unmarshal([]byte(p.Description), &s.rec) == nil && s.rec.Owner != ""
	if !s.readable {
		s.rec = lockRecord{Owner: "an unreadable record"}
	}
	return s, nil
}
