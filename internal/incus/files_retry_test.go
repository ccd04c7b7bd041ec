package incus

import (
	"context"
	"errors"
	"testing"
)

// Incus 6.0's forkfile race makes every file call fail for up to 10 s:
// the retry rides that out, and gives up at once on any other error.
func TestRetryForkfile(t *testing.T) {
	gone := errors.New("create directory /etc: dial unix /proc/self/fd/326/forkfile.sock: connect: no such file or directory")
	calls := 0
	err := retryForkfile(context.Background(), func() error {
		calls++
		if calls < 3 {
			return gone
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("after two forkfile failures: err %v, %d calls; want success on the third", err, calls)
	}

	other := errors.New("permission denied")
	calls = 0
	err = retryForkfile(context.Background(), func() error { calls++; return other })
	if !errors.Is(err, other) || calls != 1 {
		t.Fatalf("another error: err %v after %d calls; want it at once", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = retryForkfile(ctx, func() error { calls++; return gone })
	if !errors.Is(err, gone) || calls != 1 {
		t.Fatalf("cancelled: err %v after %d calls; want the forkfile error at once", err, calls)
	}
}
