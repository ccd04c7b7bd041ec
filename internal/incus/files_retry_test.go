package incus

import (
	"context"
	"errors"
	"testing"
	"time"
)

// orphanedHelper models Incus 6.0's forkfile race: while an orphaned
// helper lives, a request fails and starts the next orphan, which lives
// until its inactivity check passes (15 s in Incus). A request after a
// quiet spell longer than that succeeds.
type orphanedHelper struct {
	idle      time.Duration
	orphanEnd time.Time
	calls     int
}

var errForkfileGone = errors.New("create directory /etc: dial unix /proc/self/fd/326/forkfile.sock: connect: no such file or directory")

func (h *orphanedHelper) call() error {
	h.calls++
	now := time.Now()
	if now.Before(h.orphanEnd) {
		h.orphanEnd = now.Add(h.idle)
		return errForkfileGone
	}
	return nil
}

// The retry keeps quiet for longer than an orphan lives, so it exits and
// the next request succeeds; shorter pauses (500 ms, and then 11 s, less
// than the 15 s an orphan lives) kept the cycle going.
func TestRetryForkfileOutlastsTheOrphan(t *testing.T) {
	// Incus 6.0's helper checks for inactivity after 10 s, then exits when
	// 5 s more passed without a request (cmd/incusd/main_forkfile.go).
	const incusOrphanLife = 15 * time.Second
	if forkfileQuiet <= incusOrphanLife {
		t.Fatalf("the retry keeps quiet for %s, not longer than an orphaned helper lives (%s)", forkfileQuiet, incusOrphanLife)
	}
	defer func(q time.Duration) { forkfileQuiet = q }(forkfileQuiet)
	const idle = 40 * time.Millisecond
	forkfileQuiet = idle + 20*time.Millisecond

	h := &orphanedHelper{idle: idle, orphanEnd: time.Now().Add(idle)}
	if err := retryForkfile(context.Background(), h.call); err != nil || h.calls != 2 {
		t.Fatalf("err %v after %d calls; want success on the call after one quiet spell", err, h.calls)
	}

	// Pauses shorter than an orphan's life never get through.
	forkfileQuiet = idle / 4
	h = &orphanedHelper{idle: idle, orphanEnd: time.Now().Add(idle)}
	if err := retryForkfile(context.Background(), h.call); !errors.Is(err, errForkfileGone) || h.calls != forkfileAttempts {
		t.Fatalf("short pauses: err %v after %d calls; want the forkfile error after %d calls (the model must show the cycle)", err, h.calls, forkfileAttempts)
	}
}

// Any other error, and a cancelled context, end the retry at once.
func TestRetryForkfileStopsOnOtherErrors(t *testing.T) {
	other := errors.New("permission denied")
	calls := 0
	err := retryForkfile(context.Background(), func() error { calls++; return other })
	if !errors.Is(err, other) || calls != 1 {
		t.Fatalf("another error: err %v after %d calls; want it at once", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = retryForkfile(ctx, func() error { calls++; return errForkfileGone })
	if !errors.Is(err, errForkfileGone) || calls != 1 {
		t.Fatalf("cancelled: err %v after %d calls; want the forkfile error at once", err, calls)
	}
}

// Only the helper's failed dial is retried: an instance or a file named
// after forkfile, in any other error, ends the retry at once (an instance
// forkfile-1 used to wait out every attempt).
func TestRetryForkfileMatchesTheDialOnly(t *testing.T) {
	defer func(q time.Duration) { forkfileQuiet = q }(forkfileQuiet)
	forkfileQuiet = time.Millisecond
	for _, msg := range []string{
		`Instance "forkfile-1" not running`,
		"write /srv/forkfile.sock into forkfile-2: permission denied",
		"create directory /etc: Failed getting instance forkfile-3: not found",
	} {
		other := errors.New(msg)
		calls := 0
		err := retryForkfile(context.Background(), func() error { calls++; return other })
		if !errors.Is(err, other) || calls != 1 {
			t.Errorf("%q: %d calls, want 1 (no retry)", msg, calls)
		}
	}
	calls := 0
	_ = retryForkfile(context.Background(), func() error { calls++; return errForkfileGone })
	if calls != forkfileAttempts {
		t.Errorf("the helper's failed dial: %d calls, want %d", calls, forkfileAttempts)
	}
}
