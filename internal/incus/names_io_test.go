package incus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The hosts write's error paths a real daemon does not produce on demand
// (an exec that never ends, an image whose shell fails, a daemon that
// refuses the exec), against a fake Incus on a unix socket that records
// every request. None of them may touch the file API: deleting and
// re-creating /etc/hosts is what left instances without one.

type execFake struct {
	mu      sync.Mutex
	log     []string            // "METHOD /path"
	execs   []execPost          // exec bodies, in order
	ops     map[string]execPost // operation id -> its exec
	killed  map[string]bool     // tokens whose processes were killed
	code    int                 // exit code of a write
	hang    bool                // a write never ends unless killed
	refuse  bool                // POST exec answers 500
	waitGap time.Duration
}

func (f *execFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != "/1.0" {
		f.log = append(f.log, r.Method+" "+r.URL.Path)
	}
	reply := func(status int, env map[string]any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(env)
	}
	opBody := func(id string, code int, ret *int) map[string]any {
		m := map[string]any{"id": id, "status_code": code, "status": "Running"}
		if ret != nil {
			m["status"] = "Success"
			m["metadata"] = map[string]any{"return": *ret}
		}
		return m
	}
	switch {
	case r.URL.Path == "/1.0":
		reply(200, map[string]any{"type": "sync", "status_code": 200, "metadata": map[string]any{
			"api_extensions": []string{}, "auth": "trusted", "environment": map[string]any{"server_clustered": false}}})
	case strings.HasSuffix(r.URL.Path, "/exec") && r.Method == http.MethodPost:
		if f.refuse {
			reply(500, map[string]any{"type": "error", "error": "Failed to start exec", "error_code": 500})
			return
		}
		var e execPost
		_ = json.Unmarshal(body, &e)
		f.execs = append(f.execs, e)
		id := fmt.Sprintf("op-%d", len(f.execs))
		f.ops[id] = e
		if t := e.Environment["INCUS_FLEET_TOKEN"]; t != "" {
			f.killed[t] = true // the stop script kills that write
		}
		reply(202, map[string]any{"type": "async", "status_code": 100, "operation": "/1.0/operations/" + id, "metadata": opBody(id, opRunning, nil)})
	case strings.HasPrefix(r.URL.Path, "/1.0/operations/") && strings.HasSuffix(r.URL.Path, "/wait"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/1.0/operations/"), "/wait")
		e := f.ops[id]
		ret := f.code
		if e.Environment["INCUS_FLEET_TOKEN"] != "" {
			ret = 0
		} else if f.hang && !f.killed[e.Command[len(e.Command)-1]] {
			f.mu.Unlock()
			time.Sleep(f.waitGap)
			f.mu.Lock()
			// What Incus 6.0.4 answers when ?timeout= passes first.
			reply(500, map[string]any{"type": "error", "error": "context deadline exceeded", "error_code": 500})
			return
		} else if f.hang {
			ret = 137 // killed
		}
		reply(200, map[string]any{"type": "sync", "status_code": 200, "metadata": opBody(id, opSuccess, &ret)})
	default:
		reply(404, map[string]any{"type": "error", "error": "not found", "error_code": 404})
	}
}

func startExecFake(t *testing.T, f *execFake) *Client {
	t.Helper()
	f.ops, f.killed, f.waitGap = map[string]execPost{}, map[string]bool{}, 20*time.Millisecond
	return startFake(t, f)
}

// startFake serves h as Incus on a unix socket and connects to it.
func startFake(t *testing.T, h http.Handler) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "incus.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, err := Connect(context.Background(), Options{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noFileAPI fails if any request went to the file API.
func (f *execFake) noFileAPI(t *testing.T) {
	t.Helper()
	for _, l := range f.log {
		if strings.Contains(l, "/files") {
			t.Errorf("the hosts write used the file API (%s); full log %v", l, f.log)
		}
	}
}

// A write whose shell fails (no /bin/sh, read-only /etc: Incus reports the
// exit code) is an error, and the file API is never used instead.
func TestWriteHostsFailedExecKeepsFile(t *testing.T) {
	f := &execFake{code: 127}
	c := startExecFake(t, f)
	err := c.WriteHosts(context.Background(), "s", "web-1", []byte("127.0.0.1 localhost\n"))
	if err == nil || !strings.Contains(err.Error(), "code 127") || !strings.Contains(err.Error(), "left the file as it was") {
		t.Fatalf("err %v, want the exit code and that the file was left", err)
	}
	f.noFileAPI(t)
}

// An exec Incus refuses is an error too, without the file API.
func TestWriteHostsRefusedExecKeepsFile(t *testing.T) {
	f := &execFake{refuse: true}
	c := startExecFake(t, f)
	if err := c.WriteHosts(context.Background(), "s", "web-1", []byte("x\n")); err == nil {
		t.Fatal("a refused exec succeeded")
	}
	f.noFileAPI(t)
}

// A write still running at its timeout is stopped: a second exec kills the
// processes carrying that write's token and removes its staging file.
func TestWriteHostsTimeoutStopsTheWrite(t *testing.T) {
	defer func(d time.Duration) { hostsWriteTimeout = d }(hostsWriteTimeout)
	hostsWriteTimeout = 300 * time.Millisecond
	f := &execFake{hang: true}
	c := startExecFake(t, f)
	err := c.WriteHosts(context.Background(), "s", "web-1", []byte("x\n"))
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("err %v, want a timeout that says the write was stopped", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.execs) != 2 {
		t.Fatalf("%d execs, want the write and its stop: %+v", len(f.execs), f.execs)
	}
	token := f.execs[0].Command[len(f.execs[0].Command)-1]
	stop := f.execs[1]
	if stop.Environment["INCUS_FLEET_TOKEN"] != token || !strings.Contains(stop.Command[2], "kill -9") ||
		!strings.Contains(stop.Command[2], `rm -f "/etc/.hosts.incus-fleet.$INCUS_FLEET_TOKEN"`) {
		t.Errorf("stop exec %+v does not kill and clean up the write with token %q", stop, token)
	}
	f.noFileAPI(t)
}

// Each write stages in its own file: two writes never share a name, and
// the name is the one the script renames from.
func TestWriteHostsUniqueStaging(t *testing.T) {
	f := &execFake{}
	c := startExecFake(t, f)
	for i := 0; i < 2; i++ {
		if err := c.WriteHosts(context.Background(), "s", "web-1", []byte("x\n")); err != nil {
			t.Fatal(err)
		}
	}
	a, b := f.execs[0].Command, f.execs[1].Command
	if len(a) != 5 || a[4] == "" || a[4] == b[4] {
		t.Fatalf("staging tokens %q and %q, want two different ones", a, b)
	}
	if !strings.Contains(a[2], `s=/etc/.hosts.incus-fleet.$1;`) || !strings.Contains(a[2], `mv -f "$s" /etc/hosts`) {
		t.Errorf("script %q does not stage under the token and rename", a[2])
	}
}
