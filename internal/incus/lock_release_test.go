package incus

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// afterFirstLockRequest runs then once, right after the first request
// that touches the stack's lock profile (the record or its name) has been
// answered: the moment a waiter can take the lock over under a releasing
// run that looked at it.
type afterFirstLockRequest struct {
	base  http.RoundTripper
	path  string
	armed func() bool
	once  sync.Once
	then  func()
}

func (a *afterFirstLockRequest) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.base.RoundTrip(r)
	if a.armed() && strings.HasSuffix(r.URL.Path, a.path) {
		a.once.Do(a.then)
	}
	return resp, err
}

// Issue 23: a run that lost its lock releases it while a waiter takes it
// over between the run's look and its delete. The waiter's new lock must
// survive (Release deleted it by name before).
func TestLockReleaseKeepsAWaitersLockTakenMeanwhile(t *testing.T) {
	c := bed(t)
	stack := lockStack(t, c, "release-race")
	l, err := c.AcquireLock(context.Background(), stack, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	other := bed(t)
	thief := `{"owner":"other-host:42:feed","host":"other-host","pid":42}`
	c.t.hc.Transport = &afterFirstLockRequest{base: c.t.hc.Transport, path: "/profiles/" + LockName(stack),
		// Armed once the holder's refresher has stopped: only Release's
		// own requests count.
		armed: func() bool {
			select {
			case <-l.done:
				return true
			default:
				return false
			}
		},
		then: func() {
			// The waiter: the old record gone, its own one created.
			ctx := unguarded(context.Background())
			_, _ = other.call(ctx, http.MethodDelete, profilePath(LockName(stack)), Scope{Project: "default"}, nil, nil)
			writeLockRecord(t, other, stack, thief)
		}}
	_ = l.Release()
	if s, err := other.readLock(context.Background(), stack); err != nil || s == nil || s.raw != thief {
		t.Fatalf("the waiter's lock taken over during the release is gone or changed (err %v, held %v)", err, s != nil)
	}
}
