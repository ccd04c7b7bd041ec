package incus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shortLease makes the lock's lease short for one test.
func shortLease(t *testing.T, d time.Duration) {
	t.Helper()
	old, oldPoll := lockLease, lockPoll
	lockLease, lockPoll = d, 50*time.Millisecond
	t.Cleanup(func() { lockLease, lockPoll = old, oldPoll })
}

// lockStack gives each test a stack name of its own and removes its lock
// profile (and any takeover leftovers) at the end.
func lockStack(t *testing.T, c *Client, name string) string {
	t.Helper()
	stack := "it-lock-" + name
	clear := func() {
		ctx := unguarded(context.Background())
		var names []string
		_, _ = c.call(ctx, http.MethodGet, "/profiles", Scope{Project: "default"}, nil, &names)
		for _, n := range namesFromURLs(names) {
			if strings.HasPrefix(n, LockName(stack)) {
				_, _ = c.call(ctx, http.MethodDelete, profilePath(n), Scope{Project: "default"}, nil, nil)
			}
		}
	}
	clear()
	t.Cleanup(clear)
	return stack
}

// writeLockRecord puts a lock profile with exactly this description in
// place (creating or overwriting it), as another holder would.
func writeLockRecord(t *testing.T, c *Client, stack, desc string) {
	t.Helper()
	ctx := unguarded(context.Background())
	p := Profile{Description: desc, Config: map[string]string{}, Devices: map[string]map[string]string{}}
	if _, err := c.call(ctx, http.MethodPut, profilePath(LockName(stack)), Scope{Project: "default"}, p, nil); err == nil {
		return
	}
	p.Name = LockName(stack)
	if _, err := c.call(ctx, http.MethodPost, "/profiles", Scope{Project: "default"}, p, nil); err != nil {
		t.Fatalf("write lock record: %v", err)
	}
}

func lockDescription(t *testing.T, c *Client, stack string) string {
	t.Helper()
	s, err := c.readLock(context.Background(), stack)
	if err != nil || s == nil {
		t.Fatalf("read lock: %v (held: %v)", err, s != nil)
	}
	return s.raw
}

// Issue 12 item 6: a holder whose lock was taken over must learn it, keep
// its hands off the new holder's record, and fail with conflict before its
// next change.
func TestLockHolderThatLostTheLockStopsBeforeItsNextChange(t *testing.T) {
	c := bed(t)
	shortLease(t, 2*time.Second)
	stack := lockStack(t, c, "lost")
	l, err := c.AcquireLock(context.Background(), stack, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release() //nolint:errcheck
	// Another run took the lock over (as a waiter does after a lease).
	thief := `{"owner":"other-host:42:feed","host":"other-host","pid":42}`
	writeLockRecord(t, c, stack, thief)
	time.Sleep(lockLease / 2) // at least one refresh

	if got := lockDescription(t, c, stack); got != thief {
		t.Errorf("the refresh overwrote the new holder's record: %s", got)
	}
	project := "it-lock-lost-change"
	_, err = c.EnsureProject(context.Background(), project)
	if err == nil {
		_ = c.DeleteProject(project)
		t.Fatal("a holder that lost its lock went on changing things")
	}
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "lost the lock") {
		t.Fatalf("want a conflict saying the lock was lost, got %v", err)
	}
	if exists, _ := c.ProjectState(project); exists {
		t.Error("the change went through")
	}
	if err := l.Release(); !errors.Is(err, ErrConflict) {
		t.Errorf("Release of a lost lock: %v, want conflict", err)
	}
	if got := lockDescription(t, c, stack); got != thief {
		t.Errorf("Release removed the new holder's lock: %s", got)
	}
}

// Issue 12 item 8: a live holder whose record keeps changing is never
// judged stale, whatever its host name, PID or clock say: here it claims
// this machine's host name with a PID that does not run here, and a lease
// that expired an hour ago by its own clock.
func TestLockLiveHolderWithSameHostNameAndSkewedClockIsNotTakenOver(t *testing.T) {
	c := bed(t)
	shortLease(t, 3*time.Second)
	stack := lockStack(t, c, "skew")
	host, _ := os.Hostname()
	past := time.Now().Add(-time.Hour).UTC()
	record := func(beat int) string {
		return fmt.Sprintf(`{"owner":"%s:999999:remote","host":%q,"pid":999999,"since":%q,"expires":%q,"beat":%d}`,
			host, host, past.Format(time.RFC3339), past.Add(time.Minute).Format(time.RFC3339), beat)
	}
	writeLockRecord(t, c, stack, record(0))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the live holder on the other machine keeps refreshing
		defer wg.Done()
		for beat := 1; ; beat++ {
			select {
			case <-stop:
				return
			case <-time.After(lockLease / 4):
				writeLockRecord(t, c, stack, record(beat))
			}
		}
	}()
	_, err := c.AcquireLock(context.Background(), stack, 3*lockLease)
	close(stop)
	wg.Wait()
	if err == nil {
		t.Fatal("a live holder's lock was taken over")
	}
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("want conflict, got %v", err)
	}
}

// Issue 12 item 8, other half: once the record stops changing for a full
// lease on the waiter's clock, the lock is taken over, even though the
// holder's own expiry lies in the future (its clock runs ahead).
func TestLockStaleAfterUnchangedLeaseWhateverTheHolderClockSays(t *testing.T) {
	c := bed(t)
	shortLease(t, time.Second)
	stack := lockStack(t, c, "stale")
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	writeLockRecord(t, c, stack, fmt.Sprintf(`{"owner":"far:1:x","host":"far","pid":1,"since":%q,"expires":%q}`, future, future))
	start := time.Now()
	l, err := c.AcquireLock(context.Background(), stack, 5*lockLease)
	if err != nil {
		t.Fatalf("a record unchanged for a lease was not taken over: %v", err)
	}
	defer l.Release() //nolint:errcheck
	if waited := time.Since(start); waited < lockLease {
		t.Errorf("taken over after %s, before a full lease (%s) passed", waited, lockLease)
	}
}

// Issue 12 item 9: an unreadable record expires after one lease, with a
// warning, instead of blocking the stack for good.
func TestLockUnreadableRecordIsStaleAfterOneLease(t *testing.T) {
	c := bed(t)
	shortLease(t, time.Second)
	stack := lockStack(t, c, "garbage")
	writeLockRecord(t, c, stack, "not a lock record")
	l, err := c.AcquireLock(context.Background(), stack, 4*lockLease)
	if err != nil {
		t.Fatalf("an unreadable record blocked the stack: %v", err)
	}
	defer l.Release() //nolint:errcheck
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "cannot read") {
		t.Errorf("want one warning about the unreadable record, got %q", l.Warnings)
	}
	var rec lockRecord
	if json.Unmarshal([]byte(lockDescription(t, c, stack)), &rec) != nil || rec.Owner != l.rec.Owner {
		t.Error("the lock is not ours after the takeover")
	}
}

// Issue 12 item 7: two waiters that both judged the same lock stale cannot
// both take it. The first takes it over and holds it; the second, resuming
// its takeover of the record it judged stale, must leave the new holder's
// lock alone.
func TestLockTakeoverOfStaleLockIsAtomic(t *testing.T) {
	c := bed(t)
	shortLease(t, 3*time.Second)
	stack := lockStack(t, c, "race")
	writeLockRecord(t, c, stack, `{"owner":"dead:1:x","host":"dead","pid":1}`)

	// Waiter B stops right after judging the record stale, until waiter A
	// has taken the lock over.
	aHolds := make(chan struct{})
	var first atomic.Bool
	bPaused := make(chan struct{})
	takeoverHook = func(string) {
		if first.CompareAndSwap(false, true) { // B, the first to get here
			close(bPaused)
			<-aHolds
		}
	}
	t.Cleanup(func() { takeoverHook = nil })
	type result struct {
		l   *Lock
		err error
	}
	bDone := make(chan result, 1)
	go func() {
		l, err := c.AcquireLock(context.Background(), stack, 4*lockLease)
		bDone <- result{l, err}
	}()
	select {
	case <-bPaused:
	case r := <-bDone:
		t.Fatalf("waiter B ended before it judged the lock stale: %v", r.err)
	case <-time.After(8 * lockLease):
		t.Fatal("waiter B never judged the stale lock stale")
	}
	a, err := c.AcquireLock(context.Background(), stack, 4*lockLease)
	if err != nil {
		close(aHolds)
		t.Fatalf("waiter A: %v", err)
	}
	close(aHolds)
	// B resumes its takeover; A must still hold the lock while it works.
	time.Sleep(lockLease / 2)
	var rec lockRecord
	if json.Unmarshal([]byte(lockDescription(t, c, stack)), &rec) != nil || rec.Owner != a.rec.Owner {
		t.Errorf("the second takeover removed the new holder's lock; now %+v", rec)
	}
	if err := a.Check(); err != nil {
		t.Errorf("A lost its lock to the second takeover: %v", err)
	}
	select {
	case r := <-bDone:
		if r.err == nil {
			r.l.Release() //nolint:errcheck
			t.Fatal("B got the lock while A held it")
		}
	default:
	}
	if err := a.Release(); err != nil {
		t.Fatalf("A release: %v", err)
	}
	var r result
	select {
	case r = <-bDone: // B gets it once A releases
	case <-time.After(8 * lockLease):
		t.Fatal("waiter B still waits long after A released the lock")
	}
	if r.err != nil {
		t.Fatalf("B after A released: %v", r.err)
	}
	r.l.Release() //nolint:errcheck
}
