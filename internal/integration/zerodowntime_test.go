package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestZeroDowntimeUpdate sends HTTP requests through haproxy (in front of
// every member's published port, as Kerek's reverse proxy) during updates:
// start-first of a replicas=1 and of a replicas=3 service loses nothing;
// the same stop-first update of replicas=1 shows the gap.
func TestZeroDowntimeUpdate(t *testing.T) {
	srv := testbed(t)
	addrs := memberAddresses(t, srv)
	cases := []struct {
		name, order, ports string
		replicas           int
		wantFailures       bool
	}{
		{"start-first replicas=1", "start-first", `["18400:80"]`, 1, false},
		{"start-first replicas=3", "start-first", `["18400-18402:80"]`, 3, false},
		{"stop-first replicas=1", "stop-first", `["18400:80"]`, 1, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stack := fmt.Sprintf("it-zdt-%d", i)
			cleanup(t, stack)
			compose := func(v string) string {
				return fmt.Sprintf(`
services:
  web:
    image: busybox
    environment: {GREETING: %q}
    ports: %s
    deploy:
      replicas: %d
      update_config: {parallelism: 1, order: %s, monitor: 1s}
`, v, c.ports, c.replicas, c.order)
			}
			call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("v1")}).mustSucceed(t)
			front := startHAProxy(t, addrs, []int{18400, 18401, 18402})
			waitServing(t, front)

			ctx, stop := context.WithCancel(context.Background())
			done := make(chan probeResult)
			go func() { done <- probe(ctx, front) }()
			time.Sleep(300 * time.Millisecond)
			call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose("v2")}).mustSucceed(t)
			time.Sleep(500 * time.Millisecond)
			stop()
			res := <-done
			t.Logf("%s: %d requests, %d failed, saw v2: %v", c.name, res.total, res.failed, res.sawNew)
			if res.total < 50 || !res.sawNew {
				t.Fatalf("the prober did not observe the update (%d requests, saw v2 %v)", res.total, res.sawNew)
			}
			if c.wantFailures && res.failed == 0 {
				t.Errorf("stop-first of a single replica should show a gap, saw none")
			}
			if !c.wantFailures && res.failed > 0 {
				t.Errorf("start-first update lost %d of %d requests", res.failed, res.total)
			}
		})
	}
}

type probeResult struct {
	total, failed int64
	sawNew        bool
}

// probe GETs the front end every 5 ms until ctx ends (bounded by it).
func probe(ctx context.Context, url string) probeResult {
	var res probeResult
	var sawNew atomic.Bool
	client := &http.Client{Timeout: 2 * time.Second}
	for ctx.Err() == nil {
		res.total++
		body, err := get(client, url)
		if err != nil {
			res.failed++
		} else if strings.Contains(body, "v2 from") {
			sawNew.Store(true)
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.sawNew = sawNew.Load()
	return res
}

func get(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	buf := make([]byte, 256)
	n, _ := resp.Body.Read(buf)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(buf[:n]), nil
}

// startHAProxy runs haproxy on a free loopback port with every member
// address × port as a health-checked backend, retrying and redispatching
// failed connections the way a production front end is set up.
func startHAProxy(t *testing.T, addrs map[string]string, ports []int) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatal("haproxy is missing: run testdata/testbed/install.sh")
	}
	var servers strings.Builder
	n := 0
	for _, addr := range addrs {
		for _, port := range ports {
			n++
			fmt.Fprintf(&servers, "  server s%d %s:%d check inter 100ms fall 1 rise 1\n", n, addr, port)
		}
	}
	front := "127.0.0.1:18499"
	cfg := fmt.Sprintf(`global
  maxconn 256
defaults
  mode http
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
  retries 3
  option redispatch 1
  option http-server-close
frontend fe
  bind %s
  default_backend be
backend be
  balance roundrobin
  retry-on conn-failure empty-response response-timeout
%s`, front, servers.String())
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return "http://" + front + "/"
}

func waitServing(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	for i := 0; i < 50; i++ {
		if _, err := get(client, url); err == nil {
			time.Sleep(300 * time.Millisecond) // let every health check settle
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("haproxy at %s never served", url)
}
