package integration

import (
	"fmt"
	"testing"
	"time"
)

// TestWatchMetricsMemberLoss: with the member holding db-1 (and its
// volume) crashed and offline, the replica series of `stack watch
// --metrics` still match stack.status: db has 1 slot desired, 0 running,
// 0 healthy; web keeps 2 of 2. Not parallel: it crashes a member.
func TestWatchMetricsMemberLoss(t *testing.T) {
	srv := testbed(t)
	const stack = "it-metrics-loss"
	setServerConfig(t, srv, "cluster.offline_threshold", "11")
	prepareSpare(t, srv, stack)
	joinSpare(t)
	file := writeCompose(t, `services:
  web:
    image: busybox
    deploy:
      replicas: 2
      placement: {constraints: [node.hostname != `+spareName+`]}
  db:
    image: busybox
    volumes: [data:/data]
    deploy:
      placement: {constraints: [node.hostname == `+spareName+`]}
volumes:
  data: {}
`)
	call(t, "stack.present", false, map[string]any{"name": stack, "compose_files": []string{file}}).mustSucceed(t)
	addr := freeLoopbackPort(t)
	w := startWatch(t, stack, file, "--metrics", addr)
	unchecked := map[string]bool{"web": true, "db": true}
	all := fmt.Sprint(map[string][3]float64{"db": {1, 1, 1}, "web": {2, 2, 2}})
	waitFor(t, 30*time.Second, "metrics of the running stack", func() (bool, string) {
		got := fmt.Sprint(metricCounts(scrape(t, addr), stack))
		return got == all, got + "\nwatch log:\n" + w.log()
	})

	if err := testbedScript(t, "member.sh", "crash", spareName); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 40*time.Second, spareName+" offline", func() (bool, string) {
		m, _, err := srv.GetClusterMember(spareName)
		if err != nil {
			return false, err.Error()
		}
		return m.Status == "Offline", m.Status
	})
	want := map[string][3]float64{"db": {1, 0, 0}, "web": {2, 2, 2}}
	// The watch reconciles meanwhile; compare a scrape with the
	// stack.status reads just before and after it, until they agree.
	var last string
	waitFor(t, 60*time.Second, "metrics matching stack.status with the member lost", func() (bool, string) {
		before := statusCounts(t, stack, unchecked)
		got := metricCounts(scrape(t, addr), stack)
		after := statusCounts(t, stack, unchecked)
		last = fmt.Sprintf("status %v, metrics %v, status %v", before, got, after)
		return fmt.Sprint(before) == fmt.Sprint(after) && fmt.Sprint(got) == fmt.Sprint(before), last
	})
	if got := metricCounts(scrape(t, addr), stack); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("with %s offline: metrics %v, want %v (%s)\nwatch log:\n%s", spareName, got, want, last, w.log())
	}
}
