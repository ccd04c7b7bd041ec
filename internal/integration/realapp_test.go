package integration

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The example application of testdata/examples/counter on the Debian image
// (make testbed-debian): proxy -> api x3 -> redis, driven from a client
// instance on the stand-in LAN.
const (
	realAppStack = "it-realapp"
	realAppImage = "debian-app"
	realAppDir   = "../../testdata/examples/counter"
	// Not the example's own 8088, so the test runs next to a deployed
	// example on the same bed.
	realAppPort = 18480
)

// realAppClient is the client instance's request loop (python3 of the
// Debian image), pushed as a config. `once URL` prints one answer; `loop
// URL OUT STOP` sends requests one after the other until the file STOP
// exists, and writes one line per request to OUT: "ok <unix time> <json>"
// or "fail <unix time> <reason>", then "done". No dollar signs: Compose interpolates them.
const realAppClient = `import os, sys, time, urllib.request
def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode().strip()
if sys.argv[1] == "once":
    print(get(sys.argv[2]))
    sys.exit(0)
url, out, stop = sys.argv[2], sys.argv[3], sys.argv[4]
with open(out, "w", buffering=1) as f:
    while not os.path.exists(stop):
        t = "%.3f" % time.time()
        try:
            f.write("ok " + t + " " + get(url) + "\n")
        except Exception as e:
            f.write("fail " + t + " " + e.__class__.__name__ + " " + str(e).replace("\n", " ") + "\n")
            time.sleep(0.05)
    f.write("done\n")
`

// realAppOverride is the second Compose file the test adds to the example:
// the proxy's published port, the api's version (an update when it changes), the store's revision
// (likewise), and the client, a Debian instance booting systemd (no
// command:) on node1.
func realAppOverride(t *testing.T, apiVersion, redisRev string) string {
	t.Helper()
	indented := "      " + strings.ReplaceAll(strings.TrimSuffix(realAppClient, "\n"), "\n", "\n      ")
	return writeCompose(t, fmt.Sprintf(`services:
  proxy:
    ports: !override ["%d:80"]
  api:
    environment:
      API_VERSION: "%s"
  redis:
    environment:
      REDIS_REV: "%s"
  client:
    image: %s
    configs:
      - source: client_py
        target: /usr/local/bin/client.py
    deploy:
      placement:
        constraints: [node.hostname == node1]
configs:
  client_py:
    content: |
%s
`, realAppPort, apiVersion, redisRev, realAppImage, indented))
}

// apiAnswer is what api.py answers.
type apiAnswer struct {
	Host    string `json:"host"`
	Version string `json:"version"`
	Count   int    `json:"count"`
	Sig     string `json:"sig"`
}

// requireImage stops the test unless the bed has the image alias.
func requireImage(t *testing.T, srv *bedClient, alias string) {
	t.Helper()
	if _, err := srv.GetImageAlias(alias); err != nil {
		if os.Getenv("INCUS_FLEET_REQUIRE_TESTBED") != "" {
			t.Fatalf("image %s missing on the test bed (%v): run `make testbed-debian`", alias, err)
		}
		t.Skipf("image %s missing on the test bed: run `make testbed-debian`", alias)
	}
}

// loopResult counts what a client loop saw.
type loopResult struct {
	sent, failed int
	answers      []apiAnswer
	failures     []string
	// failedAfter counts failures among the requests sent after the mark
	// (the apply returned); window is the time from the first failure to
	// the last one.
	failedAfter, sentAfter int
	hostsAfter             map[string]bool
	window                 time.Duration
	// lastFail is when the last failed request was sent (zero if none);
	// maxGap the longest time between two requests sent one after the
	// other (about the slowest request).
	lastFail time.Time
	maxGap   time.Duration
}

// clientLoop is a request loop running in client-1, through the proxy.
type clientLoop struct {
	out, stopFile string
}

// startLoop starts the client's request loop through the proxy and waits
// for its first answer.
func startLoop(t *testing.T, name string) *clientLoop {
	t.Helper()
	l := &clientLoop{out: "/tmp/" + name + ".out", stopFile: "/tmp/" + name + ".stop"}
	if _, err := inside(t, realAppStack, "client-1", "sh", "-c",
		fmt.Sprintf("rm -f %s %s; nohup python3 /usr/local/bin/client.py loop http://proxy/ %s %s >/dev/null 2>&1 &", l.out, l.stopFile, l.out, l.stopFile)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the client loop's first answer", func() (bool, string) {
		got, _ := inside(t, realAppStack, "client-1", "cat", l.out)
		return strings.Contains(got, "\n"), got
	})
	return l
}

// lines is how many requests the loop has written so far.
func (l *clientLoop) lines(t *testing.T) int {
	t.Helper()
	got, err := inside(t, realAppStack, "client-1", "cat", l.out)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(got, "\n")
}

// stop lets the loop send `more` requests after line `mark`, stops it and
// returns what it saw.
func (l *clientLoop) stop(t *testing.T, mark, more int) loopResult {
	t.Helper()
	waitFor(t, 60*time.Second, "the client loop's requests after the change", func() (bool, string) {
		n := l.lines(t)
		return n >= mark+more, fmt.Sprintf("%d lines", n)
	})
	if _, err := inside(t, realAppStack, "client-1", "touch", l.stopFile); err != nil {
		t.Fatal(err)
	}
	var text string
	waitFor(t, 30*time.Second, "the client loop to stop", func() (bool, string) {
		text, _ = inside(t, realAppStack, "client-1", "cat", l.out)
		return strings.HasSuffix(text, "done\n"), lastLines(text, 3)
	})
	r := loopResult{hostsAfter: map[string]bool{}}
	var first, last, prev float64
	for i, line := range strings.Split(strings.TrimSuffix(text, "done\n"), "\n") {
		kind, rest, _ := strings.Cut(line, " ")
		stamp, body, _ := strings.Cut(rest, " ")
		at, _ := strconv.ParseFloat(stamp, 64)
		if gap := time.Duration((at - prev) * float64(time.Second)); prev != 0 && gap > r.maxGap {
			r.maxGap = gap
		}
		if at != 0 {
			prev = at
		}
		switch kind {
		case "ok":
			var a apiAnswer
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				t.Fatalf("client loop: not an api answer: %q", line)
			}
			r.answers = append(r.answers, a)
			if i >= mark {
				r.hostsAfter[a.Host] = true
			}
		case "fail":
			r.failed++
			r.failures = append(r.failures, body)
			if first == 0 {
				first = at
			}
			last = at
			if i >= mark {
				r.failedAfter++
			}
		default:
			continue
		}
		r.sent++
		if i >= mark {
			r.sentAfter++
		}
	}
	r.window = time.Duration((last - first) * float64(time.Second))
	if last != 0 {
		r.lastFail = time.UnixMilli(int64(last * 1000))
	}
	return r
}

// checkAnswers: every answer is signed with the example's key (so the api
// read its secret), and the counter only goes up.
func checkAnswers(t *testing.T, what string, key []byte, answers []apiAnswer) {
	t.Helper()
	last := 0
	for _, a := range answers {
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s %d", a.Host, a.Count)
		if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(a.Sig)) {
			t.Errorf("%s: answer of %s (count %d) is not signed with the api key", what, a.Host, a.Count)
		}
		if a.Count <= last {
			t.Errorf("%s: counter went from %d to %d (answer of %s)", what, last, a.Count, a.Host)
		}
		last = a.Count
	}
}

// TestRealAppEndToEnd deploys the example application (nginx -> api x3 ->
// redis, on the Debian image, healthchecks and depends_on, a secret, a
// named volume) and drives requests from a client instance through the
// proxy: api replicas on different members answer and the counter kept in
// redis goes up; a start-first update of api and `stack rollback` fail no
// request; a stop-first update of redis keeps the counter.
func TestRealAppEndToEnd(t *testing.T) {
	t.Parallel() // a stack of its own; leaves the members and the cluster config alone (doc.go)
	srv := testbed(t)
	requireLAN(t)
	requireImage(t, srv, realAppImage)
	example, err := filepath.Abs(filepath.Join(realAppDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(realAppDir, "secrets", "api_key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	key = []byte(strings.TrimSpace(string(key)))
	removeWithVolumes(t, realAppStack)
	apply := func(apiVersion, redisRev string) response {
		t.Helper()
		start := time.Now()
		r := call(t, "stack.present", false, map[string]any{"name": realAppStack,
			"compose_files": []string{example, realAppOverride(t, apiVersion, redisRev)}}).mustSucceed(t)
		t.Logf("apply api=%s redis=%s: %.1fs, warnings: %q", apiVersion, redisRev, time.Since(start).Seconds(), r.Warnings)
		return r
	}

	apply("1", "1")
	where := placement(t, srv, realAppStack)
	t.Logf("placement: %v", where)
	apiMembers := map[string]string{}
	for inst, member := range where {
		if strings.HasPrefix(inst, "api-") {
			apiMembers[inst] = member
		}
	}
	if len(apiMembers) != 3 || len(perMember(apiMembers)) != 3 {
		t.Fatalf("api replicas %v, want 3 on 3 members", apiMembers)
	}

	// The api runs as www-data and its secret belongs to www-data.
	for inst := range apiMembers {
		status, err := inside(t, realAppStack, inst, "grep", "^Uid:", "/proc/1/status")
		if err != nil || !strings.HasPrefix(strings.Join(strings.Fields(status), " "), "Uid: 33 33") {
			t.Errorf("%s: api process runs as %q (%v), want uid 33 (www-data)", inst, status, err)
		}
		mode, err := inside(t, realAppStack, inst, "stat", "-c", "%u:%g %a", "/run/secrets/api_key")
		if err != nil || strings.TrimSpace(mode) != "33:33 400" {
			t.Errorf("%s: /run/secrets/api_key is %q (%v), want 33:33 400", inst, mode, err)
		}
	}

	// The run does not wait for the proxy's healthcheck (nothing depends
	// on it), as `docker compose up` without --wait.
	took := waitFor(t, 60*time.Second, "a first answer through the proxy", func() (bool, string) {
		out, err := inside(t, realAppStack, "client-1", "python3", "/usr/local/bin/client.py", "once", "http://proxy/")
		return err == nil, lastLines(out, 2)
	})
	t.Logf("first answer through the proxy %.1fs after the apply returned", took.Seconds())

	// Requests through the proxy reach every replica; the counter goes up.
	var answers []apiAnswer
	seen := map[string]bool{}
	for i := 0; i < 12; i++ {
		out, err := inside(t, realAppStack, "client-1", "python3", "/usr/local/bin/client.py", "once", "http://proxy/")
		if err != nil {
			t.Fatalf("request %d through the proxy: %v", i, err)
		}
		var a apiAnswer
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("request %d: not an api answer: %q", i, out)
		}
		answers = append(answers, a)
		seen[a.Host] = true
	}
	checkAnswers(t, "through the proxy", key, answers)
	if len(seen) != 3 {
		t.Errorf("12 requests through the proxy reached %v, want all 3 api replicas", seen)
	}
	// The published port, on the loopback address of the proxy's member.
	addr := memberAddresses(t, srv)[where["proxy-1"]]
	if body := httpGet(t, fmt.Sprintf("http://%s:%d/", addr, realAppPort)); !strings.Contains(body, `"host": "api-`) {
		t.Errorf("published port %s:%d answered %q", addr, realAppPort, body)
	}

	// A start-first update of api: no request fails.
	loop := startLoop(t, "api-update")
	apply("2", "1")
	r := loop.stop(t, loop.lines(t), 20)
	t.Logf("start-first update of api: %d requests, %d failed %q; after it, answers from %v", r.sent, r.failed, r.failures, r.hostsAfter)
	if len(r.hostsAfter) != 3 {
		t.Errorf("after the api update, %d requests through the proxy reached %v, want 3 replicas", r.sentAfter, r.hostsAfter)
	}
	checkAnswers(t, "during the api update", key, r.answers)
	if r.failed != 0 {
		t.Errorf("start-first update of api: %d of %d requests failed: %q", r.failed, r.sent, r.failures)
	}
	if n := len(r.answers); n == 0 || r.answers[n-1].Version != "2" {
		t.Errorf("after the api update the last answer is %+v, want version 2", r.answers)
	}

	// stack rollback: the previous version (1) serves again, start-first
	// (rollback_config), with the secret pushed again; no request fails.
	loop = startLoop(t, "api-rollback")
	start := time.Now()
	call(t, "stack.rollback", false, map[string]any{"name": realAppStack}).mustSucceed(t)
	t.Logf("stack rollback: %.1fs", time.Since(start).Seconds())
	r = loop.stop(t, loop.lines(t), 20)
	t.Logf("rollback of api: %d requests, %d failed %q; after it, answers from %v", r.sent, r.failed, r.failures, r.hostsAfter)
	checkAnswers(t, "during the api rollback", key, r.answers)
	if r.failed != 0 {
		t.Errorf("rollback of api: %d of %d requests failed: %q", r.failed, r.sent, r.failures)
	}
	if n := len(r.answers); n == 0 || r.answers[n-1].Version != "1" || len(r.hostsAfter) != 3 {
		t.Errorf("after the rollback the last answer is %+v from %v, want version 1 from 3 replicas", r.answers[len(r.answers)-1], r.hostsAfter)
	}
	before := r.answers[len(r.answers)-1].Count

	// A stop-first update of redis (its volume is single-writer on a local
	// pool): requests fail only while it is away, and the counter survives.
	loop = startLoop(t, "redis-update")
	replaced := false
	for _, st := range apply("1", "2").Plan.Steps {
		replaced = replaced || (st.Op == "replace" && st.Instance == "redis-1")
	}
	if !replaced {
		t.Errorf("changing redis's environment did not replace redis-1")
	}
	r = loop.stop(t, loop.lines(t), 20)
	t.Logf("stop-first update of redis: %d requests, %d failed within %.1fs (first to last failure), %d failed of %d sent after the apply returned",
		r.sent, r.failed, r.window.Seconds(), r.failedAfter, r.sentAfter)
	checkAnswers(t, "during the redis update", key, r.answers)
	if r.failedAfter != 0 {
		t.Errorf("after the redis update returned, %d of %d requests failed: %q", r.failedAfter, r.sentAfter, r.failures)
	}
	// checkAnswers saw the counter only go up across the store's restart;
	// here: answers came from the new store, above the count before.
	if n := len(r.answers); n == 0 || r.answers[n-1].Count <= before || len(r.hostsAfter) == 0 {
		t.Errorf("the counter did not survive: %d before the redis update, answers after it from %v", before, r.hostsAfter)
	}
}
