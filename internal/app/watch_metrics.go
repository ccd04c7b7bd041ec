package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/promtext"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// `stack watch --metrics ADDR`: the Prometheus text format on
// http://ADDR/metrics, written by internal/promtext (the Prometheus Go
// client was measured: +25 modules, +21% binary, about 17% more CPU on
// every CLI call, for a handful of series).
//
// The replica counts are read on each scrape through the same stack.status
// request `stack ps` makes, so they are exactly what `stack ps` shows at
// that moment; the reconcile counters come from the watch loop itself.

// Trigger classes: the label of a reconcile, a fixed set so a stream of
// events with instance and member names cannot grow the series.
const (
	triggerStart     = "start"
	triggerResync    = "resync"
	triggerRetry     = "retry"
	triggerReconnect = "reconnect"
	triggerMember    = "member"
	triggerInstance  = "instance"
	triggerHealth    = "health"
	triggerOther     = "other"
)

// triggerClass names a reconcile by its first reason (watch_trigger.go
// writes them).
func triggerClass(reasons []string) string {
	if len(reasons) == 0 {
		return triggerOther
	}
	r := reasons[0]
	switch {
	case r == "start":
		return triggerStart
	case r == "periodic resync":
		return triggerResync
	case strings.HasPrefix(r, "retry after "):
		return triggerRetry
	case r == "reconnect":
		return triggerReconnect
	case strings.HasPrefix(r, "cluster-member-"), strings.HasPrefix(r, "member "):
		return triggerMember
	case strings.HasPrefix(r, "instance-"):
		return triggerInstance
	case strings.HasPrefix(r, "replica "):
		return triggerHealth
	}
	return triggerOther
}

// watchMetrics holds the watch's own series and serves them.
type watchMetrics struct {
	w          *watcher
	mu         sync.Mutex
	reconciles map[[2]string]float64 // {trigger, result} -> count
	duration   *promtext.Histogram
	lastOK     float64
	read       sync.Mutex // one cluster read at a time, however many scrapers
	lastErr    string     // logged once per distinct failure
}

func newWatchMetrics(w *watcher) *watchMetrics {
	return &watchMetrics{w: w, reconciles: map[[2]string]float64{},
		duration: &promtext.Histogram{Name: "incus_fleet_reconcile_duration_seconds",
			Help:   "How long each reconcile of stack watch took, by trigger.",
			Bounds: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}}}
}

// observe records one reconcile.
func (m *watchMetrics) observe(reasons []string, resp protocol.Response, took time.Duration) {
	if m == nil {
		return
	}
	trigger, result := triggerClass(reasons), "ok"
	m.mu.Lock()
	defer m.mu.Unlock()
	if resp.Error != nil {
		result = resp.Error.Code
	} else {
		m.lastOK = float64(time.Now().UnixNano()) / 1e9
	}
	m.reconciles[[2]string{trigger, result}]++
	m.duration.Observe([]promtext.Label{{Name: "stack", Value: m.w.stack}, {Name: "trigger", Value: trigger}}, took.Seconds())
}

// serve listens on addr (before returning, so a taken port fails the
// start) and serves /metrics until ctx ends.
func (m *watchMetrics) serve(ctx context.Context, addr string, logf func(string, ...any)) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", m.scrape)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("metrics: %v (the watch goes on without them)", err)
		}
	}()
	return ln.Addr().String(), nil
}

// scrape writes every series: the stack's (read now) and the watch's own.
func (m *watchMetrics) scrape(rw http.ResponseWriter, r *http.Request) {
	fams := m.stackFamilies(r.Context())
	stack := promtext.Label{Name: "stack", Value: m.w.stack}
	m.mu.Lock()
	rec := promtext.Family{Name: "incus_fleet_reconciles_total", Type: "counter",
		Help: "Reconciles run by stack watch, by trigger (start, resync, retry, reconnect, member, instance, health, other) and result (ok or the error code)."}
	for k, n := range m.reconciles {
		rec.Samples = append(rec.Samples, promtext.Sample{Labels: []promtext.Label{stack, {Name: "trigger", Value: k[0]}, {Name: "result", Value: k[1]}}, Value: n})
	}
	fams = append(fams, rec, promtext.Family{Name: "incus_fleet_last_successful_reconcile_timestamp_seconds", Type: "gauge",
		Help: "Unix time the last successful reconcile ended (0 before the first).", Samples: []promtext.Sample{{Labels: []promtext.Label{stack}, Value: m.lastOK}}})
	var b bytes.Buffer
	err := promtext.Write(&b, fams, []*promtext.Histogram{m.duration})
	m.mu.Unlock()
	if err != nil {
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = rw.Write(b.Bytes())
}

// stackFamilies reads the stack at scrape time: replicas per service from
// stack.status (what `stack ps` shows), and the update state from the
// stack's record.
func (m *watchMetrics) stackFamilies(ctx context.Context) []promtext.Family {
	m.read.Lock()
	defer m.read.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stack := promtext.Label{Name: "stack", Value: m.w.stack}
	insts, spec, update, err := m.readStack(ctx)
	up := promtext.Family{Name: "incus_fleet_stack_status_up", Type: "gauge",
		Help:    "1 if this scrape could read the stack's status from the cluster, else 0 (and the replica series are absent).",
		Samples: []promtext.Sample{{Labels: []promtext.Label{stack}, Value: cond01(err == nil)}}}
	if err != nil {
		if msg := err.Error(); msg != m.lastErr {
			m.lastErr = msg
			m.w.logf("metrics: cannot read the stack's status: %s", msg)
		}
		return []promtext.Family{up}
	}
	m.lastErr = ""
	type counts struct{ desired, running, healthy int }
	by := map[string]*counts{}
	for _, svc := range spec.Services { // a service with no slot yet still shows 0
		by[svc.Name] = &counts{}
	}
	for _, in := range insts {
		c := by[in.Service]
		if c == nil {
			c = &counts{}
			by[in.Service] = c
		}
		c.desired++
		if in.State != "Running" {
			continue
		}
		c.running++
		svc := spec.Service(in.Service)
		checked := svc != nil && svc.Healthcheck != nil && !svc.Healthcheck.Disabled && len(svc.Healthcheck.Test) > 0
		if in.Health == "healthy" || (!checked && in.Health == "") {
			c.healthy++
		}
	}
	desired := promtext.Family{Name: "incus_fleet_service_replicas_desired", Type: "gauge",
		Help: "Slots the service has, as stack ps lists them (also those on offline members or missing)."}
	running := promtext.Family{Name: "incus_fleet_service_replicas_running", Type: "gauge",
		Help: "Replicas whose instance is Running, as stack ps shows them."}
	healthy := promtext.Family{Name: "incus_fleet_service_replicas_healthy", Type: "gauge",
		Help: "Running replicas that pass their healthcheck (health healthy in stack ps); for a service without a healthcheck, the running ones."}
	for name, c := range by {
		labels := []promtext.Label{stack, {Name: "service", Value: name}}
		desired.Samples = append(desired.Samples, promtext.Sample{Labels: labels, Value: float64(c.desired)})
		running.Samples = append(running.Samples, promtext.Sample{Labels: labels, Value: float64(c.running)})
		healthy.Samples = append(healthy.Samples, promtext.Sample{Labels: labels, Value: float64(c.healthy)})
	}
	state := promtext.Family{Name: "incus_fleet_stack_update_state", Type: "gauge",
		Help: "1 for the stack's current update state (ok, updating, paused, rolled_back, rollback_failed), 0 for the others."}
	for _, st := range []string{"ok", "updating", "paused", "rolled_back", "rollback_failed"} {
		state.Samples = append(state.Samples, promtext.Sample{Labels: []promtext.Label{stack, {Name: "state", Value: st}}, Value: cond01(st == update)})
	}
	return []promtext.Family{up, desired, running, healthy, state}
}

// readStack makes the stack.status request of `stack ps` (same connection as
// the watch) and reads the recorded spec and update state.
func (m *watchMetrics) readStack(ctx context.Context) ([]stackInstance, *model.Stack, string, error) {
	req := request("stack.status", false, map[string]any{"name": m.w.stack})
	req.Connection = m.w.req.Connection
	data, err := json.Marshal(req)
	if err != nil {
		return nil, nil, "", err
	}
	resp := run(ctx, bytes.NewReader(data), io.Discard)
	if resp.Error != nil {
		return nil, nil, "", resp.Error
	}
	insts, ok := resp.Fields["instances"].([]stackInstance)
	if !ok {
		return nil, nil, "", fmt.Errorf("stack.status returned no instance list")
	}
	c, err := connect(ctx, &m.w.req)
	if err != nil {
		return nil, nil, "", err
	}
	rec, err := c.ReadRecord(m.w.stack)
	if err != nil {
		return nil, nil, "", err
	}
	spec := &model.Stack{Name: m.w.stack}
	if rec.Current != "" {
		if spec, _, err = decodeSpec(m.w.stack, rec.Current); err != nil {
			return nil, nil, "", err
		}
	}
	update := "ok"
	if u, err := readUpdate(m.w.stack, rec); err != nil {
		return nil, nil, "", err
	} else if u != nil {
		update = updateStates[u.State]
		if update == "" {
			update = u.State
		}
	}
	return insts, spec, update, nil
}

func cond01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
