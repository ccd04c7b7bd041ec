package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/app"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// testbed returns an independent Incus client on the loopback cluster, used
// to check what incus-fleet did without trusting incus-fleet's own reports.
func testbed(t testing.TB) *bedClient {
	t.Helper()
	socket := os.Getenv("INCUS_SOCKET")
	if socket == "" || os.Getenv("INCUS_FLEET_TESTBED") == "" {
		if os.Getenv("INCUS_FLEET_REQUIRE_TESTBED") != "" {
			t.Fatal("the loopback Incus cluster is required but its env is missing: run `make testbed-up` and source $TESTBED_DIR/env")
		}
		t.Skip("loopback Incus cluster not up: run `make testbed-up` and source /tmp/incus-fleet-testbed/env (make test does both)")
	}
	return connectBed(t, socket)
}

// response is a decoded protocol response plus the process exit code.
type response struct {
	Exit     int
	Raw      []byte
	Stderr   string
	Result   *bool                      `json:"result"`
	Changes  map[string]json.RawMessage `json:"changes"`
	Comment  string                     `json:"comment"`
	Warnings []string                   `json:"warnings"`
	Error    *protocol.Error            `json:"error"`
	Plan     struct {
		Steps []struct {
			Op, Service, Instance, Member, Reason string
			Slot                                  int
		} `json:"steps"`
	} `json:"plan"`
}

// call runs one protocol request through the real entry point (app.Main,
// exactly what the binary runs) and checks the response against its schema.
func call(t testing.TB, action string, test bool, params any) response {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"version": 1, "action": action, "test": test, "params": params})
	var out, errOut bytes.Buffer
	code := app.Main([]string{"incus-fleet", "call"}, bytes.NewReader(req), &out, &errOut)
	r := response{Exit: code, Raw: out.Bytes(), Stderr: errOut.String()}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%s: response is not JSON (%v): %s\nstderr: %s", action, err, out.String(), errOut.String())
	}
	var doc any
	_ = json.Unmarshal(out.Bytes(), &doc)
	if err := protocol.ValidateResponse(action, doc); err != nil {
		t.Fatalf("%s: response does not match its schema: %v\n%s", action, err, out.String())
	}
	return r
}

// mustSucceed fails the test unless the response is a success.
func (r response) mustSucceed(t testing.TB) response {
	t.Helper()
	if r.Exit != 0 || r.Error != nil {
		t.Fatalf("call failed (exit %d): %s\nstderr:\n%s", r.Exit, r.Raw, r.Stderr)
	}
	return r
}

// placement lists instance → member for a project, read straight from Incus.
func placement(t testing.TB, srv *bedClient, project string) map[string]string {
	t.Helper()
	insts, err := srv.UseProject(project).GetInstances()
	if err != nil {
		t.Fatalf("list instances of %s: %v", project, err)
	}
	out := map[string]string{}
	for _, in := range insts {
		if in.Status != "Running" {
			t.Errorf("%s is %s, want Running", in.Name, in.Status)
		}
		out[in.Name] = in.Location
	}
	return out
}

// perMember counts instances per member.
func perMember(p map[string]string) map[string]int {
	out := map[string]int{}
	for _, m := range p {
		out[m]++
	}
	return out
}

func names(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// projectExists reports whether Incus has the project.
func projectExists(t testing.TB, srv *bedClient, name string) bool {
	t.Helper()
	names, err := srv.GetProjectNames()
	if err != nil {
		t.Fatalf("list projects: %v", err)
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// composeWeb is a one-service stack of the test image with n replicas.
func composeWeb(n int) string {
	return fmt.Sprintf("services:\n  web:\n    image: busybox\n    deploy:\n      replicas: %d\n", n)
}

// cleanup removes a stack at the end of a test, whatever happened.
func cleanup(t testing.TB, stack string) {
	t.Cleanup(func() { call(t, "stack.absent", false, map[string]any{"name": stack}) })
}
