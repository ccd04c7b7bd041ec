package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/app"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// poolSpare is the daemon that joins later; its API port is this bed's
// base port + 7, so two beds never clash.
const poolSpare = "poolspare"

func bedPort(t *testing.T, offset int) int {
	t.Helper()
	addr := strings.TrimSpace(mustCLI(t, "config", "get", "core.https_address"))
	base, err := strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
	if err != nil {
		t.Fatalf("node1 address %q: %v", addr, err)
	}
	return base + offset
}

// callOn runs one request against a given daemon socket.
func callOn(t *testing.T, socket, action string, params any) response {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"version": 1, "action": action,
		"connection": map[string]any{"socket": socket}, "params": params})
	var out, errOut bytes.Buffer
	code := app.Main([]string{"incus-fleet", "call"}, bytes.NewReader(req), &out, &errOut)
	r := response{Exit: code, Raw: out.Bytes(), Stderr: errOut.String()}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%s: %v: %s", action, err, out.String())
	}
	var doc any
	_ = json.Unmarshal(out.Bytes(), &doc)
	if err := protocol.ValidateResponse(action, doc); err != nil {
		t.Fatalf("%s: response does not match its schema: %v\n%s", action, err, out.String())
	}
	return r
}

// TestPoolReachesJoiningMember: a pool defined for the three members (and,
// in member_config, for a member that has not joined yet) reaches a
// member that joins later through its join member_config, with the source
// its definition gives it. While it is a 4th member, cluster.status warns
// that the member count is even.
func TestPoolReachesJoiningMember(t *testing.T) {
	const pool = "fleet-tjoin"
	dir := bedDir(t)
	members := append(append([]string{}, bedMembers...), poolSpare)
	sources := poolSources(t, pool, members...)
	dropPool(t, pool)
	t.Cleanup(func() { dropPool(t, pool) })
	port := bedPort(t, 7)
	spareSocket := filepath.Join(dir, poolSpare, "unix.socket")
	leave := func() {
		if _, err := incusCLI(t, "cluster", "remove", poolSpare, "--yes"); err != nil {
			_, _ = incusCLI(t, "cluster", "remove", "--force", "--yes", poolSpare)
		}
		if err := testbedScript(t, "spare.sh", "remove", poolSpare); err != nil {
			t.Error(err)
		}
	}
	if strings.Contains(mustCLI(t, "cluster", "list", "--format", "csv", "--columns", "n"), poolSpare) {
		leave()
	}
	t.Cleanup(leave)

	params := poolParams(pool, sources)
	r := call(t, "storage_pool.present", false, params).mustSucceed(t)
	mustChangeKeys(t, r, "pending.node1", "pending.node2", "pending.node3", "storage_pool")
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], poolSpare+", which is not a cluster member (yet)") {
		t.Fatalf("warnings %q", r.Warnings)
	}

	// The fleet client certificate, trusted by the bed for this test only.
	certFile, keyFile := filepath.Join(t.TempDir(), "c.crt"), filepath.Join(t.TempDir(), "c.key")
	var out bytes.Buffer
	if code := app.Main([]string{"incus-fleet", "cluster", "cert", "--cert", certFile, "--key", keyFile}, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("cluster cert: %s", out.String())
	}
	mustCLI(t, "config", "trust", "add-certificate", certFile, "--name", "fleet-tjoin")
	t.Cleanup(func() {
		for _, line := range strings.Split(mustCLI(t, "config", "trust", "list", "--format", "csv", "--columns", "nf"), "\n") {
			if name, fp, ok := strings.Cut(line, ","); ok && name == "fleet-tjoin" {
				_, _ = incusCLI(t, "config", "trust", "remove", fp)
			}
		}
	})
	server, _ := query(t, "/1.0")
	fp, _ := server["environment"].(map[string]any)["certificate_fingerprint"].(string)

	if err := testbedScript(t, "spare.sh", "start", poolSpare, fmt.Sprint(port)); err != nil {
		t.Fatal(err)
	}
	join := map[string]any{"name": poolSpare, "address": fmt.Sprintf("127.0.0.1:%d", port),
		"cluster":       "https://" + strings.TrimSpace(mustCLI(t, "config", "get", "core.https_address")),
		"trust":         map[string]any{"client_cert": certFile, "client_key": keyFile, "server_fingerprint": fp},
		"storage_pools": map[string]any{pool: map[string]any{"driver": "dir", "member_config": params["member_config"]}}}
	var joined response
	for attempt := 0; attempt < 4; attempt++ {
		if joined = callOn(t, spareSocket, "cluster.member.present", join); joined.Exit == 0 {
			break
		}
		t.Logf("join attempt %d: %s", attempt+1, joined.Raw)
		time.Sleep(3 * time.Second)
	}
	joined.mustSucceed(t)
	var sent struct {
		New string `json:"new"`
	}
	if err := json.Unmarshal(joined.Changes["member_config.storage-pool/"+pool+"/source"], &sent); err != nil || sent.New != sources[poolSpare] {
		t.Fatalf("the join does not report the source it sent (%v): %s", err, joined.Raw)
	}
	on, _ := query(t, "/1.0/storage-pools/"+pool+"?target="+poolSpare)
	if on["status"] != "Created" || configOf(on)["source"] != sources[poolSpare] {
		t.Fatalf("pool on the joined member: %v (want source %s)", on, sources[poolSpare])
	}
	if _, err := os.Stat(filepath.Join(sources[poolSpare], "custom")); err != nil {
		t.Errorf("the joined member did not set up the pool in its source: %v", err)
	}
	// The definition is now true on all four members: nothing to do.
	mustChangeKeys(t, call(t, "storage_pool.present", false, params).mustSucceed(t))

	status := call(t, "cluster.status", false, map[string]any{}).mustSucceed(t)
	if !hasWarningPart(status.Warnings, "4 members, an even number") {
		t.Fatalf("no even-count warning with 4 members: %q", status.Warnings)
	}

	// Again with a join token (no certificate: the cluster's required
	// keys cannot be read, so every key the definitions give is sent).
	leave()
	if err := os.RemoveAll(sources[poolSpare]); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sources[poolSpare], 0o711); err != nil {
		t.Fatal(err)
	}
	if err := testbedScript(t, "spare.sh", "start", poolSpare, fmt.Sprint(port)); err != nil {
		t.Fatal(err)
	}
	_, _ = incusCLI(t, "cluster", "revoke-token", poolSpare)
	token := strings.TrimSpace(mustCLI(t, "cluster", "add", poolSpare, "--quiet"))
	byToken := map[string]any{"name": poolSpare, "address": fmt.Sprintf("127.0.0.1:%d", port), "cluster_token": token,
		"storage_pools": join["storage_pools"]}
	for attempt := 0; attempt < 4; attempt++ {
		if joined = callOn(t, spareSocket, "cluster.member.present", byToken); joined.Exit == 0 {
			break
		}
		t.Logf("token join attempt %d: %s", attempt+1, joined.Raw)
		time.Sleep(3 * time.Second)
		_, _ = incusCLI(t, "cluster", "revoke-token", poolSpare)
		byToken["cluster_token"] = strings.TrimSpace(mustCLI(t, "cluster", "add", poolSpare, "--quiet"))
	}
	joined.mustSucceed(t)
	if strings.Contains(string(joined.Raw)+joined.Stderr, token) {
		t.Fatal("the join token reached the output")
	}
	if on, _ := query(t, "/1.0/storage-pools/"+pool+"?target="+poolSpare); on["status"] != "Created" || configOf(on)["source"] != sources[poolSpare] {
		t.Fatalf("pool on the member joined by token: %v (want source %s)", on, sources[poolSpare])
	}
}

func hasWarningPart(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}
