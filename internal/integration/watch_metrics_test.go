package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWatchMetrics: `stack watch --metrics` serves the Prometheus text
// format (parsed strictly, see parseMetrics), and its replica
// counts match what stack.status (`stack ps`) reports; the start
// reconcile is counted with its duration, the update state is ok, and the
// time of the last successful reconcile is set.
func TestWatchMetrics(t *testing.T) {
	t.Parallel()
	testbed(t)
	const stack = "it-metrics"
	cleanup(t, stack)
	file := writeCompose(t, `services:
  web:
    image: busybox
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
    deploy:
      replicas: 2
  plain:
    image: busybox
`)
	addr := freeLoopbackPort(t)
	w := startWatch(t, stack, file, "--metrics", addr)

	// Wait (bounded) until the watch has reconciled once and recorded
	// both web replicas healthy; then the numbers must be stable.
	var fams metricFamilies
	deadline := time.Now().Add(90 * time.Second)
	for {
		fams = scrape(t, addr)
		if value(fams, "incus_fleet_reconciles_total", map[string]string{"trigger": "start", "result": "ok"}) == 1 &&
			value(fams, "incus_fleet_service_replicas_healthy", map[string]string{"service": "web"}) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful start reconcile with 2 healthy web replicas within 90s\nwatch log:\n%s", w.log())
		}
		time.Sleep(500 * time.Millisecond)
	}

	want := statusCounts(t, stack, map[string]bool{"plain": true})
	if len(want) != 2 || want["web"] != [3]float64{2, 2, 2} || want["plain"] != [3]float64{1, 1, 1} {
		t.Fatalf("stack.status is not what this test expects: %v", want)
	}
	fams = scrape(t, addr)
	if got := metricCounts(fams, stack); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics (desired, running, healthy per service) %v, stack.status says %v", got, want)
	}
	if got := value(fams, "incus_fleet_stack_update_state", map[string]string{"state": "ok"}); got != 1 {
		t.Errorf("update state ok = %v, want 1", got)
	}
	if got := value(fams, "incus_fleet_stack_update_state", map[string]string{"state": "paused"}); got != 0 {
		t.Errorf("update state paused = %v, want 0", got)
	}
	if got := value(fams, "incus_fleet_last_successful_reconcile_timestamp_seconds", nil); got < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("last successful reconcile at %v", got)
	}
	if got := value(fams, "incus_fleet_stack_status_up", nil); got != 1 {
		t.Errorf("status_up = %v", got)
	}
	count := value(fams, "incus_fleet_reconcile_duration_seconds_count", map[string]string{"trigger": "start"})
	sum := value(fams, "incus_fleet_reconcile_duration_seconds_sum", map[string]string{"trigger": "start"})
	inf := value(fams, "incus_fleet_reconcile_duration_seconds_bucket", map[string]string{"trigger": "start", "le": "+Inf"})
	if count != 1 || sum <= 0 || inf != 1 {
		t.Errorf("reconcile duration histogram for the start: count %v, sum %v, +Inf bucket %v", count, sum, inf)
	}
}

// statusCounts reads stack.status and counts per service its rows,
// the Running ones, and the running ones healthy (for the services in
// unchecked, which have no healthcheck: every running one).
func statusCounts(t *testing.T, stack string, unchecked map[string]bool) map[string][3]float64 {
	t.Helper()
	status := call(t, "stack.status", false, map[string]any{"name": stack}).mustSucceed(t)
	var st struct {
		Instances []struct{ Service, State, Health string } `json:"instances"`
	}
	if err := json.Unmarshal(status.Raw, &st); err != nil {
		t.Fatal(err)
	}
	out := map[string][3]float64{}
	for _, in := range st.Instances {
		c := out[in.Service]
		c[0]++
		if in.State == "Running" {
			c[1]++
			if in.Health == "healthy" || (unchecked[in.Service] && in.Health == "") {
				c[2]++
			}
		}
		out[in.Service] = c
	}
	return out
}

// metricCounts is the same per service, from the scraped series.
func metricCounts(fams metricFamilies, stack string) map[string][3]float64 {
	out := map[string][3]float64{}
	for i, name := range []string{"incus_fleet_service_replicas_desired", "incus_fleet_service_replicas_running", "incus_fleet_service_replicas_healthy"} {
		for _, m := range fams[name] {
			if m.labels["stack"] != stack {
				continue
			}
			c := out[m.labels["service"]]
			c[i] = m.value
			out[m.labels["service"]] = c
		}
	}
	return out
}

// freeLoopbackPort returns a 127.0.0.1 address no one listens on now.
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// scrape reads /metrics and parses it strictly (parseMetrics).
func scrape(t *testing.T, addr string) metricFamilies {
	t.Helper()
	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ { // the watch may still be starting
		if resp, err = http.Get("http://" + addr + "/metrics"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %s, %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := parseMetrics(string(body))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v\n%s", err, body)
	}
	return fams
}

// metricFamilies are the samples of a scrape by series name (histogram
// samples under their _bucket, _sum and _count names).
type metricFamilies map[string][]metricSample

type metricSample struct {
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)`)
)

// parseMetrics reads the Prometheus text format strictly: every sample's
// family has a TYPE line before it (a histogram's samples are its _bucket,
// _sum and _count), label values use only the format's escapes, every
// value parses, no series is repeated, and a histogram's buckets are
// cumulative and end with +Inf equal to _count.
func parseMetrics(text string) (metricFamilies, error) {
	fams := metricFamilies{}
	types := map[string]string{}
	seen := map[string]bool{}
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			if typ != "gauge" && typ != "counter" && typ != "histogram" {
				return nil, fmt.Errorf("line %d: type %q", n+1, typ)
			}
			types[name] = typ
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: not a sample: %q", n+1, line)
		}
		name, family := m[1], m[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && types[base] == "histogram" {
				family = base
			}
		}
		if types[family] == "" {
			return nil, fmt.Errorf("line %d: %s has no TYPE before it", n+1, name)
		}
		labels := map[string]string{}
		for rest := m[2]; rest != ""; {
			l := labelPair.FindStringSubmatch(rest)
			if l == nil {
				return nil, fmt.Errorf("line %d: bad labels %q", n+1, m[2])
			}
			labels[l[1]] = strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n").Replace(l[2])
			rest = rest[len(l[0]):]
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: value %q", n+1, m[3])
		}
		if seen[name+"{"+m[2]+"}"] {
			return nil, fmt.Errorf("line %d: %s{%s} repeated", n+1, name, m[2])
		}
		seen[name+"{"+m[2]+"}"] = true
		fams[name] = append(fams[name], metricSample{labels: labels, value: v})
	}
	for base, typ := range types {
		if typ != "histogram" {
			continue
		}
		for _, c := range fams[base+"_count"] {
			last := -1.0
			for _, b := range fams[base+"_bucket"] {
				if !sameSeries(b.labels, c.labels, "le") {
					continue
				}
				if b.value < last {
					return nil, fmt.Errorf("%s buckets are not cumulative", base)
				}
				last = b.value
				if b.labels["le"] == "+Inf" && b.value != c.value {
					return nil, fmt.Errorf("%s: +Inf bucket %v, count %v", base, b.value, c.value)
				}
			}
		}
	}
	return fams, nil
}

// sameSeries compares two label sets but one label.
func sameSeries(a, b map[string]string, but string) bool {
	for k, v := range a {
		if k != but && b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if k != but && a[k] != v {
			return false
		}
	}
	return true
}

// find returns the series of a family whose labels include want.
func find(fams metricFamilies, name string, want map[string]string) *metricSample {
next:
	for i, m := range fams[name] {
		for k, v := range want {
			if m.labels[k] != v {
				continue next
			}
		}
		return &fams[name][i]
	}
	return nil
}

// value is a series' value, or -1 when the series is absent.
func value(fams metricFamilies, name string, want map[string]string) float64 {
	if m := find(fams, name, want); m != nil {
		return m.value
	}
	return -1
}
