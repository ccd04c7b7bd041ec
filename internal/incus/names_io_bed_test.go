package incus

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// bedInstance creates and starts a busybox container on node2 of the bed
// (project default) and deletes it when the test ends.
func bedInstance(t *testing.T, c *Client, post InstancesPost) {
	t.Helper()
	ctx := context.Background()
	_ = c.StopAndDelete(ctx, "default", post.Name)
	post.Type, post.Profiles = InstanceTypeContainer, []string{"default"}
	post.Source = InstanceSource{Type: "image", Alias: "busybox"}
	if err := c.CreateAndStart(ctx, "default", "node2", post); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.StopAndDelete(context.Background(), "default", post.Name) })
}

// TestWriteHostsConcurrentWritersBed: sixteen writers at once, eight rounds,
// each writing a hosts file of its own size (30-57 KB) into one running
// instance, while a reader inside it hashes /etc/hosts in a loop. The
// reader only ever sees a whole file some writer wrote (never a torn or a
// missing one), the file ends as one writer's, and no staging file is
// left behind.
func TestWriteHostsConcurrentWritersBed(t *testing.T) {
	c := bed(t)
	ctx := context.Background()
	const name = "it-hosts-writers"
	bedInstance(t, c, InstancesPost{Name: name, Config: map[string]string{}})
	valid := map[string]bool{}
	first := []byte("127.0.0.1\tlocalhost\n")
	if err := c.WriteHosts(ctx, "default", name, first); err != nil {
		t.Fatal(err)
	}
	valid[fmt.Sprintf("%x", md5.Sum(first))] = true

	type seen struct {
		r   ExecResult
		err error
	}
	reader := make(chan seen, 1)
	go func() {
		r, err := c.ExecOutput(ctx, "default", name, []string{"sh", "-c",
			`rm -f /tmp/stop; while [ ! -e /tmp/stop ]; do md5sum /etc/hosts 2>&1 | cut -c1-32; done | sort -u`}, 120*time.Second)
		reader <- seen{r, err}
	}()
	time.Sleep(500 * time.Millisecond) // the reader is looping

	const writers, rounds = 16, 8
	for round := 0; round < rounds; round++ {
		contents := map[string]int{}
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := 0; w < writers; w++ {
			var b strings.Builder
			for l := 0; l < 1000+100*w; l++ { // sizes differ: a tear shows
				fmt.Fprintf(&b, "10.%d.%d.%d\thost-%d-%d-%d\n", w, l/250, l%250, round, w, l)
			}
			content := b.String()
			contents[content] = w
			valid[fmt.Sprintf("%x", md5.Sum([]byte(content)))] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = c.WriteHosts(ctx, "default", name, []byte(content))
			}()
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Errorf("round %d writer %d: %v", round, w, err)
			}
		}
		got, _, err := c.ReadFile(ctx, "default", name, HostsPath)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := contents[string(got)]; !ok {
			t.Errorf("round %d: /etc/hosts (%d bytes) is no writer's whole file; it starts %q and ends %q",
				round, len(got), firstLine(string(got)), lastLine(string(got)))
		}
	}
	if r, err := c.ExecOutput(ctx, "default", name, []string{"touch", "/tmp/stop"}, 10*time.Second); err != nil || r.Code != 0 {
		t.Fatalf("stop the reader: %v %+v", err, r)
	}
	s := <-reader
	if s.err != nil || s.r.Code != 0 {
		t.Fatalf("reader: %v %+v", s.err, s.r)
	}
	var bad []string
	for _, h := range strings.Split(strings.TrimSpace(s.r.Stdout), "\n") {
		if !valid[h] { // a hash, or md5sum's "can't open" when the file was missing
			bad = append(bad, h)
		}
	}
	if len(bad) > 0 || s.r.Stdout == "" {
		t.Errorf("the reader saw %d states of /etc/hosts no writer wrote (torn or missing): %q", len(bad), bad)
	}
	r, err := c.ExecOutput(ctx, "default", name, []string{"ls", "-a", "/etc"}, 10*time.Second)
	if err != nil || r.Code != 0 {
		t.Fatalf("ls /etc: %v %+v", err, r)
	}
	if strings.Contains(r.Stdout, ".hosts.incus-fleet") {
		t.Errorf("staging files left in /etc:\n%s", r.Stdout)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// TestStopHostsWriteBed: the stop of a timed-out write, on a real
// instance: a write's shell (the token in its arguments) that hangs is
// killed, its exec operation ends, and its staging file is removed.
func TestStopHostsWriteBed(t *testing.T) {
	c := bed(t)
	ctx := context.Background()
	const name = "it-hosts-stop"
	bedInstance(t, c, InstancesPost{Name: name, Config: map[string]string{}})
	token, err := writeToken()
	if err != nil {
		t.Fatal(err)
	}
	stage := "/etc/.hosts.incus-fleet." + token
	op, err := c.startOp(ctx, "POST", "/instances/"+name+"/exec", Scope{Project: "default"}, execPost{
		Command: []string{"/bin/sh", "-c", `touch "/etc/.hosts.incus-fleet.$1"; while :; do sleep 1; done`, "incus-fleet-hosts", token}})
	if err != nil {
		t.Fatal(err)
	}
	// The hanging write has staged its file (bounded wait).
	for i := 0; ; i++ {
		if _, _, err := c.ReadFile(ctx, "default", name, stage); err == nil {
			break
		} else if i == 50 {
			t.Fatalf("the hanging write never staged %s: %v", stage, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.waitOp(ctx, op.ID, time.Second, "hanging write"); !errors.Is(err, errOpTimeout) {
		t.Fatalf("the hanging write ended by itself: %v", err)
	}
	if err := c.stopHostsWrite(ctx, "default", name, token); err != nil {
		t.Fatal(err)
	}
	if _, err := c.waitOp(ctx, op.ID, 10*time.Second, "stopped write"); errors.Is(err, errOpTimeout) {
		t.Fatalf("the write's exec operation still runs after the stop: %v", err)
	}
	if _, _, err := c.ReadFile(ctx, "default", name, stage); !errors.Is(err, ErrNotFound) {
		t.Errorf("staging file after the stop: %v, want not found", err)
	}
}
