package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/app"
	"github.com/incus-fleet/incus-fleet/internal/incus"
)

type lsStack struct {
	Name       string `json:"name"`
	Update     string `json:"update"`
	LastChange string `json:"last_change"`
	Services   []struct {
		Name             string
		Mode             string
		Desired, Running int
	} `json:"services"`
}

func stackList(t *testing.T) (map[string]lsStack, int64) {
	t.Helper()
	before := incus.TotalRequests()
	r := call(t, "stack.list", false, map[string]any{}).mustSucceed(t)
	n := incus.TotalRequests() - before
	var body struct {
		Stacks []lsStack `json:"stacks"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatal(err)
	}
	out := map[string]lsStack{}
	for _, s := range body.Stacks {
		out[s.Name] = s
	}
	return out, n
}

// TestStackList: stack.list shows every stack with its services, running
// and desired replicas, update state and last change, and costs the same
// number of Incus requests for one stack as for two.
func TestStackList(t *testing.T) {
	srv := testbed(t)
	const a, b = "it-ls-a", "it-ls-b"
	cleanup(t, a)
	cleanup(t, b)
	start := time.Now().UTC().Add(-2 * time.Second).Truncate(time.Second)
	call(t, "stack.present", false, map[string]any{"name": a, "compose_yaml": composeWeb(3)}).mustSucceed(t)
	_, one := stackList(t)
	call(t, "stack.present", false, map[string]any{"name": b, "compose_yaml": "services:\n  api:\n    image: busybox\n    deploy:\n      replicas: 2\n  agent:\n    image: busybox\n    deploy:\n      mode: global\n"}).mustSucceed(t)
	// One replica of b stopped: running must say so.
	if err := srv.UseProject(b).SetInstanceState("api-2", "stop"); err != nil {
		t.Fatal(err)
	}
	// b's update stands paused (what a failed update leaves behind).
	p, etag, err := srv.GetProject(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Config[incus.KeyUpdate] = `{"target":"0000","state":"paused","service":"api","slots":[2]}`
	if err := srv.send(http.MethodPut, "/projects/"+esc(b), etag, bedProject{Description: p.Description, Config: p.Config}); err != nil {
		t.Fatal(err)
	}
	got, two := stackList(t)
	t.Logf("stack.list: %d Incus requests with 1 stack, %d with 2", one, two)
	if one != two {
		t.Errorf("stack.list requests grow with the stacks: %d for 1, %d for 2", one, two)
	}
	sa, sb := got[a], got[b]
	if sa.Update != "ok" || len(sa.Services) != 1 || sa.Services[0].Name != "web" || sa.Services[0].Desired != 3 || sa.Services[0].Running != 3 {
		t.Errorf("stack %s: %+v", a, sa)
	}
	if sb.Update != "paused" || len(sb.Services) != 2 {
		t.Fatalf("stack %s: %+v", b, sb)
	}
	agent, api := sb.Services[0], sb.Services[1]
	if agent.Name != "agent" || agent.Mode != "global" || agent.Desired != 3 || agent.Running != 3 {
		t.Errorf("global service: %+v", agent)
	}
	if api.Name != "api" || api.Desired != 2 || api.Running != 1 {
		t.Errorf("api with one replica stopped: %+v", api)
	}
	for _, s := range []lsStack{sa, sb} {
		at, err := time.Parse(time.RFC3339, s.LastChange)
		if err != nil || at.Before(start) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("stack %s: last_change %q, want a time since %s (%v)", s.Name, s.LastChange, start, err)
		}
	}
	// The human table shows the same.
	code, out := cliOut(t, "stack", "ls")
	if code != 0 || !strings.Contains(out, "api 1/2") || !strings.Contains(out, "paused") || !strings.Contains(out, "web 3/3") {
		t.Errorf("stack ls (exit %d):\n%s", code, out)
	}
}

// cliOut runs an incus-fleet command line; stdout and stderr together.
func cliOut(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := app.Main(append([]string{"incus-fleet"}, args...), strings.NewReader(""), &out, &out)
	return code, out.String()
}
