package integration

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// TestClusterMembership is issue 5's acceptance on four fresh standalone
// daemons: bootstrap m1 and join m2 (fleet client certificate, pinned) and
// m3 (join token) through the protocol only; labels, groups and failure
// domains converge and a re-run changes nothing; wrong fingerprint,
// untrusted certificate, unreachable cluster and name clash fail clearly
// and change nothing; m4 joins and leaves gracefully; m3 is killed and
// removed with force. No secret appears in anything incus-fleet printed.
func TestClusterMembership(t *testing.T) {
	testbed(t) // skips like every integration test when the bed is not up
	b := newMemberBed(t, map[string]int{"m1": 9601, "m2": 9602, "m3": 9603, "m4": 9604})
	var secrets []string // everything that must never be printed

	// The fleet client certificate pair, and a second pair nobody trusts.
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "fleet.crt"), filepath.Join(dir, "fleet.key")
	if code, out := b.cli(t, "cluster", "cert", "--cert", certFile, "--key", keyFile); code != 0 {
		t.Fatalf("cluster cert: exit %d: %s", code, out)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: mode %v, err %v; want 0600", keyFile, st.Mode(), err)
	}
	otherCert, otherKey := filepath.Join(dir, "other.crt"), filepath.Join(dir, "other.key")
	if code, out := b.cli(t, "cluster", "cert", "--cert", otherCert, "--key", otherKey); code != 0 {
		t.Fatalf("cluster cert: exit %d: %s", code, out)
	}
	for _, f := range []string{keyFile, otherKey} {
		secrets = append(secrets, keyMaterial(t, f)...)
	}

	// A dir pool on m1 before it becomes a cluster, so joining members
	// must get its per-member config (source) filled in.
	m1 := b.client(t, "m1")
	if err := m1.CreateStoragePool("local", "dir"); err != nil {
		t.Fatal(err)
	}

	// Bootstrap: a dry run changes nothing, the real run clusters m1.
	boot := map[string]any{"name": "m1", "address": b.address("m1"), "trust": map[string]any{"client_cert": certFile},
		"labels": map[string]any{"rack": "r1"},
		// Above Incus's minimum of 10 s, so the killed member below shows
		// as offline quickly.
		"config": map[string]any{"cluster.offline_threshold": "11"}}
	r := b.call(t, "m1", "cluster.member.present", true, boot).mustSucceed(t)
	if r.Result != nil || r.Changes["member"] == nil {
		t.Fatalf("bootstrap dry run: %s", r.Raw)
	}
	if clustered(t, m1) {
		t.Fatal("the bootstrap dry run clustered m1")
	}
	r = b.call(t, "m1", "cluster.member.present", false, boot).mustSucceed(t)
	fp := stringField(t, r, "cluster_fingerprint")
	if !clustered(t, m1) || len(fp) != 64 {
		t.Fatalf("bootstrap: clustered=%v fingerprint %q: %s", clustered(t, m1), fp, r.Raw)
	}
	m1 = b.client(t, "m1") // a fresh view of the now clustered server
	mustNoChange(t, b.call(t, "m1", "cluster.member.present", false, boot))

	// Join m2 with the certificate, pinned; dry run first.
	join2 := map[string]any{"name": "m2", "address": b.address("m2"), "cluster": b.url("m1"),
		"trust":  map[string]any{"client_cert": certFile, "client_key": keyFile, "server_fingerprint": fp},
		"labels": map[string]any{"rack": "r2", "ssd": "true"}, "groups": []string{"default", "gpu"}, "failure_domain": "rack2",
		"description": "Cluster node 2"}
	r = b.call(t, "m2", "cluster.member.present", true, join2).mustSucceed(t)
	if r.Result != nil || r.Changes["member"] == nil || r.Changes["labels.rack"] == nil || r.Changes["cluster_groups.gpu"] == nil {
		t.Fatalf("join dry run: %s", r.Raw)
	}
	if clustered(t, b.client(t, "m2")) {
		t.Fatal("the join dry run joined m2")
	}
	b.call(t, "m2", "cluster.member.present", false, join2).mustSucceed(t)
	checkMember(t, m1, "m2", map[string]string{"user.rack": "r2", "user.ssd": "true"}, []string{"default", "gpu"}, "rack2")
	if m, _, err := m1.GetClusterMember("m2"); err != nil || m.Description != "Cluster node 2" {
		t.Fatalf("m2 description: %+v %v", m, err)
	}
	if pool, err := m1.UseTarget("m2").GetStoragePool("local"); err != nil || !strings.HasPrefix(pool["source"], filepath.Join(b.dir, "m2")) {
		t.Fatalf("pool local on m2: %+v, %v (want its source inside m2's directory)", pool, err)
	}
	mustNoChange(t, b.call(t, "m2", "cluster.member.present", false, join2))
	checkDefaultRoot(t, b, m1)

	// Join m3 with a join token issued out of band.
	token, tokenSecret, err := m1.IssueJoinToken("m3")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, token, tokenSecret)
	join3 := map[string]any{"name": "m3", "address": b.address("m3"), "cluster_token": token,
		"labels": map[string]any{"zone": "z3"}, "groups": []string{"gpu"}, "failure_domain": "rack3"}
	b.call(t, "m3", "cluster.member.present", false, join3).mustSucceed(t)
	checkMember(t, m1, "m3", map[string]string{"user.zone": "z3"}, []string{"gpu"}, "rack3")
	mustNoChange(t, b.call(t, "m3", "cluster.member.present", false, join3))

	// Labels converge: one dropped from the request goes, one changes, one
	// set by someone else stays, and the bookkeeping is no label.
	setMemberConfig(t, m1, "m2", "user.publish_address", "127.0.5.2")
	join2["labels"] = map[string]any{"rack": "r2b"}
	r = b.call(t, "m2", "cluster.member.present", false, join2).mustSucceed(t)
	if len(r.Changes) != 2 || r.Changes["labels.rack"] == nil || r.Changes["labels.ssd"] == nil {
		t.Fatalf("label change: %s", r.Raw)
	}
	checkMember(t, m1, "m2", map[string]string{"user.rack": "r2b", "user.publish_address": "127.0.5.2"}, []string{"default", "gpu"}, "rack2")
	mustNoChange(t, b.call(t, "m2", "cluster.member.present", false, join2))

	// Issue 12 item 11, one rule for labels, groups and failure_domain:
	// omitted = not managed (a join re-run without them strips nothing),
	// {} / [] = none.
	bare := map[string]any{}
	for k, v := range join2 {
		if k != "labels" && k != "groups" && k != "failure_domain" && k != "description" {
			bare[k] = v
		}
	}
	mustNoChange(t, b.call(t, "m2", "cluster.member.present", false, bare))
	checkMember(t, m1, "m2", map[string]string{"user.rack": "r2b", "user.publish_address": "127.0.5.2"}, []string{"default", "gpu"}, "rack2")
	noLabels := maps.Clone(join2)
	noLabels["labels"] = map[string]any{}
	if r = b.call(t, "m2", "cluster.member.present", false, noLabels).mustSucceed(t); r.Changes["labels.rack"] == nil {
		t.Errorf("labels {} should remove the managed labels: %s", r.Raw)
	}
	checkMember(t, m1, "m2", map[string]string{"user.publish_address": "127.0.5.2"}, []string{"default", "gpu"}, "rack2")
	b.call(t, "m2", "cluster.member.present", false, join2).mustSucceed(t)

	// Issue 12 item 10: the member is in a cluster whose certificate is not
	// the pinned one: conflict, and nothing changes.
	otherPin := maps.Clone(join2)
	otherPin["trust"] = map[string]any{"client_cert": certFile, "client_key": keyFile, "server_fingerprint": strings.Repeat("ab", 32)}
	otherPin["labels"] = map[string]any{"rack": "elsewhere"}
	r = b.call(t, "m2", "cluster.member.present", false, otherPin)
	if r.Error == nil || r.Error.Code != "conflict" || !strings.Contains(r.Error.Message, "another cluster") || len(r.Changes) != 0 {
		t.Errorf("a member of another cluster than the pinned one: want conflict changing nothing, got %s", r.Raw)
	}
	checkMember(t, m1, "m2", map[string]string{"user.rack": "r2b", "user.publish_address": "127.0.5.2"}, []string{"default", "gpu"}, "rack2")
	// Issue 23: the same with a join token (of another cluster) instead
	// of the fingerprint form.
	otherToken := maps.Clone(join2)
	delete(otherToken, "trust")
	delete(otherToken, "cluster")
	tok, _ := json.Marshal(map[string]any{"server_name": "m2", "fingerprint": strings.Repeat("ab", 32), "addresses": []string{"127.0.0.1:1"}, "secret": "not-a-real-secret"})
	otherToken["cluster_token"] = base64.StdEncoding.EncodeToString(tok)
	otherToken["labels"] = map[string]any{"rack": "elsewhere"}
	r = b.call(t, "m2", "cluster.member.present", false, otherToken)
	if r.Error == nil || r.Error.Code != "conflict" || !strings.Contains(r.Error.Message, "another cluster") || len(r.Changes) != 0 {
		t.Errorf("a member of another cluster than its join token's: want conflict changing nothing, got %s", r.Raw)
	}
	checkMember(t, m1, "m2", map[string]string{"user.rack": "r2b", "user.publish_address": "127.0.5.2"}, []string{"default", "gpu"}, "rack2")

	status := b.call(t, "m1", "cluster.status", false, map[string]any{}).mustSucceed(t)
	if strings.Contains(string(status.Raw), "fleet.labels") {
		t.Fatalf("cluster.status shows the bookkeeping key as a label: %s", status.Raw)
	}

	// Maintenance: evacuate and restore, each idempotent.
	for _, step := range []struct{ action, want string }{{"cluster.member.evacuate", "Evacuated"}, {"cluster.member.restore", "Online"}} {
		b.call(t, "m2", step.action, false, map[string]any{"name": "m2"}).mustSucceed(t)
		if got := memberStatus(t, m1, "m2"); got != step.want {
			t.Fatalf("%s: m2 is %s, want %s", step.action, got, step.want)
		}
		mustNoChange(t, b.call(t, "m2", step.action, false, map[string]any{"name": "m2"}))
	}

	// Failures: clear errors, nothing changed, no token left behind.
	unreachable := closedPort(t)
	good := map[string]any{"client_cert": certFile, "client_key": keyFile, "server_fingerprint": fp}
	wrongFP := strings.Repeat("0", 64)
	for _, c := range []struct {
		name, code, contains string
		params               map[string]any
	}{
		{"wrong fingerprint", "cluster_unreachable", "but the pinned fingerprint is " + wrongFP,
			joinParams(b, "m4", b.url("m1"), map[string]any{"client_cert": certFile, "client_key": keyFile, "server_fingerprint": wrongFP})},
		{"untrusted certificate", "cluster_unreachable", "does not trust the fleet client certificate",
			joinParams(b, "m4", b.url("m1"), map[string]any{"client_cert": otherCert, "client_key": otherKey, "server_fingerprint": fp})},
		{"unreachable cluster", "cluster_unreachable", "cannot reach 127.0.0.1:" + unreachable,
			joinParams(b, "m4", "https://127.0.0.1:"+unreachable, good)},
		{"name clash", "conflict", `already has a member named "m2"`, joinParams(b, "m2", b.url("m1"), good)},
		{"trust password", "invalid_request", "Incus 6 removed trust passwords",
			map[string]any{"name": "m4", "address": b.address("m4"), "cluster_password": "hunter2-hunter2"}},
		{"join fails after the token was issued", "internal", "could not join the cluster",
			withMemberConfig(joinParams(b, "m4", b.url("m1"), good), "/nonexistent/incus-fleet-test")},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := b.call(t, "m4", "cluster.member.present", false, c.params)
			if r.Error == nil || r.Error.Code != c.code || !strings.Contains(r.Error.Message, c.contains) {
				t.Fatalf("want %s error containing %q, got: %s", c.code, c.contains, r.Raw)
			}
			t.Logf("%s: %s", c.name, r.Error.Message)
			if len(r.Changes) != 0 {
				t.Errorf("a failed run reports changes: %s", r.Raw)
			}
			checkUnchanged(t, b, m1)
		})
	}
	secrets = append(secrets, "hunter2-hunter2")

	// A fourth member joins, then leaves gracefully (run on itself).
	join4 := joinParams(b, "m4", b.url("m1"), good)
	b.call(t, "m4", "cluster.member.present", false, join4).mustSucceed(t)
	if got := memberNames(t, m1); !slices.Contains(got, "m4") {
		t.Fatalf("m4 did not join: %v", got)
	}
	r = b.call(t, "m4", "cluster.member.absent", false, map[string]any{"name": "m4"}).mustSucceed(t)
	if r.Changes["member"] == nil {
		t.Fatalf("absent reported no change: %s", r.Raw)
	}
	if got := memberNames(t, m1); slices.Contains(got, "m4") || clustered(t, b.client(t, "m4")) {
		t.Fatalf("m4 still a member (%v) or still clustered", got)
	}
	mustNoChange(t, b.call(t, "m4", "cluster.member.absent", false, map[string]any{"name": "m4"}))

	// An offline member: refused without force, removed with it.
	if err := b.script("member.sh", "kill", "m3"); err != nil {
		t.Fatal(err)
	}
	mbWaitFor(t, 30*time.Second, "m3 offline", func() (bool, string) {
		s := memberStatus(t, m1, "m3")
		return s == "Offline", s
	})
	r = b.call(t, "m1", "cluster.member.absent", false, map[string]any{"name": "m3"})
	if r.Error == nil || !strings.Contains(r.Error.Message, "set force") {
		t.Fatalf("removing an offline member without force: %s", r.Raw)
	}
	b.call(t, "m1", "cluster.member.absent", false, map[string]any{"name": "m3", "force": true}).mustSucceed(t)
	if got := memberNames(t, m1); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Fatalf("members after forced removal: %v", got)
	}
	mustNoChange(t, b.call(t, "m1", "cluster.member.absent", false, map[string]any{"name": "m3", "force": true}))

	// Nothing incus-fleet printed holds a token, a key or a password.
	all := b.out.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("a secret (%d chars, starting %.4s…) appears in incus-fleet's output", len(s), s)
		}
	}
}

// joinParams is a certificate join of name through url.
func joinParams(b *memberBed, name, url string, trust map[string]any) map[string]any {
	return map[string]any{"name": name, "address": b.address("m4"), "cluster": url, "trust": trust}
}

// withMemberConfig points the dir pool's source at a missing path: the
// join fails on the joining daemon, after the token was issued and used.
func withMemberConfig(p map[string]any, source string) map[string]any {
	p["member_config"] = []map[string]string{{"entity": "storage-pool", "name": "local", "key": "source", "value": source}}
	return p
}

// checkUnchanged asserts a failed join left everything as it was: m4 is
// standalone, the cluster has m1..m3, no join token is pending and m4's
// certificate is not trusted by the cluster.
func checkUnchanged(t *testing.T, b *memberBed, m1 *bedClient) {
	t.Helper()
	m4 := b.client(t, "m4")
	if clustered(t, m4) {
		t.Fatal("m4 is clustered after a failed join")
	}
	if cfg := serverConfig(t, m4); cfg["cluster.https_address"] != "" {
		t.Errorf("the failed join left cluster.https_address=%s on m4", cfg["cluster.https_address"])
	}
	if got := memberNames(t, m1); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Errorf("members %v, want m1 m2 m3", got)
	}
	ops, err := m1.UseProject("default").GetOperations()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.StatusCode == 103 && op.Metadata["serverName"] == "m4" {
			t.Errorf("a join token for m4 is still pending (operation %s)", op.ID)
		}
	}
	info, _, err := m4.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	fps, err := m1.GetCertificateFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(fps, info.Environment.CertificateFingerprint) {
		t.Errorf("the cluster trusts m4's server certificate after a failed join")
	}
}

func checkMember(t *testing.T, srv *bedClient, name string, config map[string]string, groups []string, fd string) {
	t.Helper()
	m, _, err := srv.GetClusterMember(name)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range m.Config {
		if cluster.IsLabelKey(k) && config[k] != v {
			t.Errorf("%s: unexpected label %s=%s", name, k, v)
		}
	}
	for k, v := range config {
		if m.Config[k] != v {
			t.Errorf("%s: %s=%q, want %q", name, k, m.Config[k], v)
		}
	}
	got := append([]string{}, m.Groups...)
	slices.Sort(got)
	if !slices.Equal(got, groups) || m.FailureDomain != fd {
		t.Errorf("%s: groups %v failure domain %q, want %v %q", name, got, m.FailureDomain, groups, fd)
	}
}

func setMemberConfig(t *testing.T, srv *bedClient, name, key, value string) {
	t.Helper()
	m, etag, err := srv.GetClusterMember(name)
	if err != nil {
		t.Fatal(err)
	}
	put := m.Writable()
	put.Config[key] = value
	if err := srv.UpdateClusterMember(name, put, etag); err != nil {
		t.Fatal(err)
	}
}

func memberStatus(t *testing.T, srv *bedClient, name string) string {
	t.Helper()
	m, _, err := srv.GetClusterMember(name)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status
}

func memberNames(t *testing.T, srv *bedClient) []string {
	t.Helper()
	names, err := srv.GetClusterMemberNames()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func clustered(t *testing.T, srv *bedClient) bool {
	t.Helper()
	info, _, err := srv.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	return info.Environment.ServerClustered
}

func serverConfig(t *testing.T, srv *bedClient) map[string]string {
	t.Helper()
	info, _, err := srv.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	return info.Config
}

func mustNoChange(t *testing.T, r response) {
	t.Helper()
	r.mustSucceed(t)
	if len(r.Changes) != 0 || r.Result == nil || !*r.Result {
		t.Fatalf("re-run changed something: %s", r.Raw)
	}
}

func stringField(t *testing.T, r response, key string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	s, _ := doc[key].(string)
	return s
}

// keyMaterial is a private key file's whole text and each of its base64
// lines: any of them in the output is a leak.
func keyMaterial(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{string(data)}
	for _, line := range strings.Split(string(data), "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// closedPort is a loopback port nothing listens on (asked from the kernel,
// then released).
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
