package incus

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// forwardedNotReady is Incus 6.0's answer, measured on the test bed, to a
// request forwarded to a member that has just come back (CI saw the same
// message): a plain error, HTTP 500.
const forwardedNotReady = `{"type":"error","error":"Server isn't ready yet","error_code":500}`

// startingMember answers like an Incus cluster whose member has just come
// back: the forwarding member refuses the first notReady requests, then
// serves them. It records each request body.
func startingMember(t *testing.T, notReady int) (*transport, func() []string) {
	return answeringFirst(t, notReady, http.StatusInternalServerError, forwardedNotReady)
}

// answeringFirst answers the first notReady requests with code and answer,
// then success.
func answeringFirst(t *testing.T, notReady, code int, answer string) (*transport, func() []string) {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "incus.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	var n atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) <= int64(notReady) {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, answer)
			return
		}
		_, _ = io.WriteString(w, `{"type":"sync","status":"Success","status_code":200,"metadata":{}}`)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return newUnixTransport(socket, new(atomic.Int64)), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// Seen in CI: right after a member came back online, a read of an
// instance on it failed with "Server isn't ready yet" and paused an
// update. Such answers are waited out; the body is sent again in full.
func TestRequestsWaitForAStartingMember(t *testing.T) {
	defer func(p time.Duration) { notReadyPause = p }(notReadyPause)
	notReadyPause = time.Millisecond

	tr, seen := startingMember(t, 3)
	if _, _, err := tr.do(context.Background(), request{method: "PATCH", path: "/1.0/instances/db-1", body: map[string]string{"a": "b"}}); err != nil {
		t.Fatalf("after 3 not-ready answers: %v; want success", err)
	}
	if got := seen(); len(got) != 4 || got[3] != got[0] || got[0] == "" {
		t.Fatalf("bodies sent: %q; want the same JSON body 4 times", got)
	}

	tr, seen = startingMember(t, 1)
	content := bytes.NewReader([]byte("file content"))
	if _, _, err := tr.do(context.Background(), request{method: "POST", path: "/1.0/instances/db-1/files", body: content}); err != nil {
		t.Fatalf("file write after a not-ready answer: %v", err)
	}
	if got := seen(); len(got) != 2 || got[1] != "file content" {
		t.Fatalf("file bodies sent: %q; want the content twice", got)
	}
}

// A member that never gets ready (a dead one answers the same) is an error
// after the wait; then the client stops waiting for a while, so a dead
// member costs one wait and not one per request (seen hanging a rolling
// update for 93 s); after the cool-off it waits again. A stream that
// cannot be rewound is not sent twice.
func TestRequestsGiveUpOnAMemberThatStaysUnready(t *testing.T) {
	defer func(w, p, c time.Duration) { notReadyWait, notReadyPause, notReadyCooloff = w, p, c }(notReadyWait, notReadyPause, notReadyCooloff)
	// A wait long enough for several sends even on a loaded machine.
	notReadyWait, notReadyPause, notReadyCooloff = 200*time.Millisecond, time.Millisecond, 300*time.Millisecond

	tr, seen := startingMember(t, 1_000_000)
	get := request{method: "GET", path: "/1.0/instances/db-1"}
	_, _, err := tr.do(context.Background(), get)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusInternalServerError || !isNotReady(err) {
		t.Fatalf("err %v; want the not-ready answer after the wait", err)
	}
	waited := len(seen())
	if waited < 2 {
		t.Fatalf("sent %d times; want the request sent again during the wait", waited)
	}
	if _, _, err := tr.do(context.Background(), get); !isNotReady(err) || len(seen()) != waited+1 {
		t.Fatalf("right after a wait ran out: err %v after %d more sends; want the answer after 1", err, len(seen())-waited)
	}
	time.Sleep(notReadyCooloff + 100*time.Millisecond) // past it, whatever the scheduler does
	_, _, _ = tr.do(context.Background(), get)
	if again := len(seen()) - waited - 1; again < 2 {
		t.Fatalf("after the cool-off: sent %d times; want a wait again", again)
	}

	tr, seen = startingMember(t, 1)
	_, _, err = tr.do(context.Background(), request{method: "POST", path: "/1.0/instances/db-1/files", body: io.MultiReader(bytes.NewReader([]byte("x")))})
	if !isNotReady(err) || len(seen()) != 1 {
		t.Fatalf("unrewindable body: err %v after %d sends; want the not-ready error after 1", err, len(seen()))
	}
}

// The forward that waited 10 s for the event connection is waited out
// too; an ordinary server error is not sent again.
func TestOnlyNotReadyAnswersAreSentAgain(t *testing.T) {
	defer func(p time.Duration) { notReadyPause = p }(notReadyPause)
	notReadyPause = time.Millisecond
	for _, tc := range []struct {
		code   int
		answer string
		sends  int
	}{
		{http.StatusInternalServerError, `{"type":"error","error":"Missing event connection with target cluster member","error_code":500}`, 2},
		{http.StatusInternalServerError, `{"type":"error","error":"Failed creating instance record: disk full","error_code":500}`, 1},
		{http.StatusBadRequest, `{"type":"error","error":"Server isn't ready yet","error_code":400}`, 1},
	} {
		tr, seen := answeringFirst(t, 1, tc.code, tc.answer)
		_, _, _ = tr.do(context.Background(), request{method: "POST", path: "/1.0/instances", body: map[string]string{"name": "db-1"}})
		if got := len(seen()); got != tc.sends {
			t.Errorf("%d %s: sent %d times; want %d", tc.code, tc.answer, got, tc.sends)
		}
	}
}

// Issue 23: a run whose stack lock is lost while it waits out a not-ready
// member must not send its change again: each re-send checks the guard,
// and its refusal ends the wait. A read is sent again regardless.
func TestNotReadyResendChecksTheLock(t *testing.T) {
	defer func(p time.Duration) { notReadyPause = p }(notReadyPause)
	notReadyPause = time.Millisecond
	lost := errors.New("this run lost the lock of stack s")

	tr, seen := startingMember(t, 3)
	tr.guard = func(context.Context) error { return lost }
	_, _, err := tr.do(context.Background(), request{method: "PATCH", path: "/1.0/instances/db-1", body: map[string]string{"a": "b"}})
	if !errors.Is(err, lost) || len(seen()) != 1 {
		t.Fatalf("err %v after %d sends; want the lost lock after the first send only", err, len(seen()))
	}

	tr, seen = startingMember(t, 3)
	tr.guard = func(context.Context) error { return lost }
	if _, _, err := tr.do(context.Background(), request{method: "GET", path: "/1.0/instances/db-1"}); err != nil || len(seen()) != 4 {
		t.Fatalf("a read: err %v after %d sends; want success after 4", err, len(seen()))
	}
}

// Issue 23: after the wait for one member ran out, a request that needs
// another member (another ?target=, another instance) is still waited
// for: the cool-off is the member's, not the client's.
func TestNotReadyCooloffIsPerMember(t *testing.T) {
	defer func(w, p, c time.Duration) { notReadyWait, notReadyPause, notReadyCooloff = w, p, c }(notReadyWait, notReadyPause, notReadyCooloff)
	notReadyWait, notReadyPause, notReadyCooloff = 20*time.Millisecond, time.Millisecond, time.Hour

	tr, seen := startingMember(t, 1_000_000)
	if _, _, err := tr.do(context.Background(), request{method: "GET", path: "/1.0/storage-pools/local/volumes/custom/d?target=node3"}); !isNotReady(err) {
		t.Fatalf("err %v; want the not-ready answer after the wait", err)
	}
	for _, path := range []string{"/1.0/storage-pools/local/volumes/custom/d?target=node2", "/1.0/instances/db-2/state"} {
		before := len(seen())
		_, _, _ = tr.do(context.Background(), request{method: "GET", path: path})
		if sent := len(seen()) - before; sent < 2 {
			t.Errorf("%s right after node3's wait ran out: sent %d times; want a wait of its own", path, sent)
		}
	}
	before := len(seen())
	_, _, _ = tr.do(context.Background(), request{method: "GET", path: "/1.0/instances/x?target=node3"})
	if sent := len(seen()) - before; sent != 1 {
		t.Errorf("node3 again within its cool-off: sent %d times, want 1", sent)
	}
}

func TestNotReadyKey(t *testing.T) {
	for path, want := range map[string]string{
		"/1.0/instances/db-1/state?project=s":             "/1.0/instances/db-1",
		"/1.0/instances/db-1/files?path=%2Fetc&project=s": "/1.0/instances/db-1",
		"/1.0/storage-pools/local?target=node2":           "target=node2",
		"/1.0/instances":                                  "/1.0/instances",
	} {
		if got := notReadyKey(path); got != want {
			t.Errorf("notReadyKey(%q) = %q, want %q", path, got, want)
		}
	}
}
