package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// syncBuffer is a log the watcher's goroutines may write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testWatcher(params map[string]any, log *syncBuffer) *watcher {
	req := request("stack.present", false, params)
	req.Connection = &protocol.Connection{Socket: "/nonexistent/unix.socket"}
	return &watcher{
		cfg:   watchConfig{Debounce: 10 * time.Millisecond, MaxDelay: time.Second, Resync: time.Hour, Poll: time.Second, Grace: time.Second},
		stack: params["name"].(string), req: req, log: log, progress: log,
		kicks: newKicker(), warned: map[string]bool{},
	}
}

// TestWatchKeepsGoingWhenIncusIsAway: an unreachable cluster is logged,
// retried later, and a stop signal still ends the watch cleanly.
func TestWatchKeepsGoingWhenIncusIsAway(t *testing.T) {
	var log syncBuffer
	w := testWatcher(map[string]any{"name": "shop", "compose_yaml": "services:\n  web:\n    image: busybox\n"}, &log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "reconcile #1 (start) failed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not stop")
	}
	out := log.String()
	for _, want := range []string{"watch shop: watching stack shop", "reconcile #1 (start) failed", "cluster_unreachable", "/nonexistent/unix.socket", "watch shop: stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if w.retry != 5*time.Second {
		t.Errorf("retry pause %s after one unreachable failure, want 5s", w.retry)
	}
}

// TestWatchStopsOnInvalidRequest: a request nothing can fix exits 2 at once.
func TestWatchStopsOnInvalidRequest(t *testing.T) {
	var log syncBuffer
	w := testWatcher(map[string]any{"name": "Not_A_Stack", "compose_yaml": "services: {}\n"}, &log)
	err := w.run(context.Background())
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("run = %v, want exit 2\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "invalid_request") {
		t.Errorf("log:\n%s", log.String())
	}
}
