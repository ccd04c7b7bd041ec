package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStackServesTraffic: environment, labels-free defaults, published ports
// on each member's own loopback address, a port range giving each replica
// its own port, and a Compose command replacing the image's init.
func TestStackServesTraffic(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	const stack = "it-traffic"
	cleanup(t, stack)
	compose := `
services:
  web:
    image: busybox
    environment:
      GREETING: bonjour
    ports: ["18080:80"]
    deploy:
      replicas: 3
  files:
    image: busybox
    command: ["sh", "-c", "mkdir -p /tmp/w && echo \"I'm $(hostname)\" > /tmp/w/id && exec httpd -f -p 81 -h /tmp/w"]
    ports: ["18181-18183:81"]
    deploy:
      replicas: 3
`
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_yaml": compose}).mustSucceed(t)
	got := placement(t, srv, stack)
	addr := memberAddresses(t, srv)
	// The snapshot feeds offline planning; it must not carry environment
	// values, which may be application secrets.
	if snap := call(t, "cluster.snapshot", false, map[string]any{}).mustSucceed(t); strings.Contains(string(snap.Raw), "bonjour") {
		t.Error("cluster.snapshot exposes environment.* values of instances")
	}

	for _, slot := range []int{1, 2, 3} {
		inst := fmt.Sprintf("web-%d", slot)
		body := httpGet(t, fmt.Sprintf("http://%s:18080/", addr[got[inst]]))
		if want := "bonjour from " + inst; !strings.Contains(body, want) {
			t.Errorf("%s on %s answered %q, want %q", inst, got[inst], body, want)
		}
		inst = fmt.Sprintf("files-%d", slot)
		body = httpGet(t, fmt.Sprintf("http://%s:%d/id", addr[got[inst]], 18180+slot))
		if want := "I'm " + inst; !strings.Contains(body, want) {
			t.Errorf("%s (command: httpd on 81, range port %d) answered %q", inst, 18180+slot, body)
		}
	}
}

// memberAddresses maps member → the publish_address label the test bed set.
func memberAddresses(t *testing.T, srv *bedClient) map[string]string {
	t.Helper()
	members, err := srv.GetClusterMembers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range members {
		out[m.ServerName] = m.Config["user.publish_address"]
	}
	return out
}

// httpGet fetches a loopback URL, retrying briefly while the service starts.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for i := 0; i < 30; i++ {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body)
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("GET %s: %v", url, last)
	return ""
}
