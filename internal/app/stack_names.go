package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/names"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
)

// The names hook into a run: the rollout's actuator is wrapped so that the
// stack's names follow its replicas. Every running instance's /etc/hosts
// is rewritten (only where it changed):
//   - before an instance is stopped: it leaves the names first, then the
//     run waits drainDelay so requests already resolved can finish;
//   - when a new instance is ready: after its healthcheck passed, after the
//     start-first step that created it stops the old one (it passed the
//     monitor window then), or once its batch is over;
//   - once more at the end of the run, before the apply returns.
// A new instance gets the file (its peers) before it starts.

// drainDelay is how long a leaving instance keeps running after the names
// no longer point at it, for requests resolved just before.
const drainDelay = 300 * time.Millisecond

// addressWait bounds the wait for a new instance's addresses.
const addressWait = 10 * time.Second

type nameSync struct {
	client *incus.Client
	stack  *model.Stack
	nets   *incus.NetPlan
	steps  map[string]model.Step // by new instance
	olds   map[string]model.Step // by old instance (replace/delete)

	mu       sync.Mutex
	leaving  map[string]bool
	fresh    map[string]bool           // created by this run, not published yet
	written  names.Record              // instance -> digest of the file it holds
	recorded string                    // the stack's names record as read (KeyNames)
	all      map[string]names.Endpoint // running instances, read once, then kept up to date
	loaded   bool
	warnings []string
}

func newNameSync(c *incus.Client, stack *model.Stack, nets *incus.NetPlan, plan model.Plan) *nameSync {
	n := &nameSync{client: c, stack: stack, nets: nets, steps: map[string]model.Step{}, olds: map[string]model.Step{},
		leaving: map[string]bool{}, fresh: map[string]bool{}, written: names.Record{}, all: map[string]names.Endpoint{}}
	for _, s := range plan.Steps {
		if s.Op == model.OpCreate || s.Op == model.OpReplace {
			n.steps[s.Instance] = s
		}
		if s.Op == model.OpReplace && s.OldInstance != "" {
			n.olds[s.OldInstance] = s
		}
		if s.Op == model.OpDelete {
			n.olds[s.Instance] = s
		}
	}
	return n
}

func (n *nameSync) warnf(format string, args ...any) {
	n.mu.Lock()
	n.warnings = append(n.warnings, fmt.Sprintf(format, args...))
	n.mu.Unlock()
}

// initialHosts is the file a new instance starts with: its peers,
// itself without an address yet.
func (n *nameSync) initialHosts(ctx context.Context, s model.Step) model.File {
	n.mu.Lock()
	n.load(ctx, false)
	eps := append(n.published(), names.Endpoint{Instance: s.Instance, Service: s.Service})
	n.mu.Unlock()
	entries := names.Book(n.stack, eps)[s.Instance]
	return model.File{Target: incus.HostsPath, Mode: 0o644, Source: "names of stack " + n.stack.Name,
		Content: n.hostsFile(s.Instance, s.Service, entries)}
}

// load reads the stack's running instances and their addresses (one
// call): once per run, and again at its end (refresh), when the result is
// the truth the run leaves behind. In between, the run itself tells what
// changed (learn, leaving), so a step costs only the writes it needs.
func (n *nameSync) load(ctx context.Context, refresh bool) bool {
	if n.loaded && !refresh {
		return true
	}
	if !n.loaded {
		// What the last run wrote: files whose content stays the same are
		// not written again.
		rec, err := n.client.ReadRecord(n.stack.Name)
		if err == nil {
			n.recorded = rec.Names
			n.written = names.DecodeRecord(rec.Names)
		}
	}
	eps, err := n.client.Endpoints(ctx, n.stack, n.nets)
	if err != nil {
		n.warnings = append(n.warnings, fmt.Sprintf("stack %s: names not updated: %v", n.stack.Name, err))
		return false
	}
	n.all = map[string]names.Endpoint{}
	for _, ep := range eps {
		n.all[ep.Instance] = ep
	}
	n.loaded = true
	return true
}

// learn records a new instance's addresses.
func (n *nameSync) learn(ep names.Endpoint) {
	n.mu.Lock()
	n.all[ep.Instance] = ep
	n.mu.Unlock()
}

// published are the endpoints others may be sent to.
func (n *nameSync) published() []names.Endpoint {
	var out []names.Endpoint
	for _, ep := range n.all {
		if !n.leaving[ep.Instance] && !n.fresh[ep.Instance] {
			out = append(out, ep)
		}
	}
	return out
}

// hostsFile renders one instance's whole /etc/hosts: the one place that
// decides its content when the stack has networks, so one writer owns the
// file: the fleet's names, then the service's Compose extra_hosts; the
// instance's own name is the service's hostname when it sets one.
func (n *nameSync) hostsFile(instance, service string, fleet []names.Entry) []byte {
	h := names.Hosts{Stack: n.stack.Name, Instance: instance, Fleet: fleet}
	if svc := n.stack.Service(service); svc != nil {
		h.Hostname = ownHostname(svc, instance)
		for _, e := range svc.Runtime.ExtraHosts {
			h.Extra = append(h.Extra, names.Entry{IP: e.Address, Names: []string{e.Name}})
		}
	}
	return names.Render(h)
}

// sync rewrites the hosts file of every running instance whose names
// changed. One at a time.
func (n *nameSync) sync(ctx context.Context, refresh bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.load(ctx, refresh) {
		return
	}
	published := n.published()
	eps := make([]names.Endpoint, 0, len(n.all))
	for _, ep := range n.all {
		eps = append(eps, ep)
	}
	book := names.Book(n.stack, published)
	writes := map[string]string{}
	for _, ep := range eps {
		if n.leaving[ep.Instance] {
			continue
		}
		view := book[ep.Instance]
		if n.fresh[ep.Instance] {
			// Not published yet, but it sees its peers and itself.
			view = names.Book(n.stack, append(append([]names.Endpoint(nil), published...), ep))[ep.Instance]
		}
		if content := string(n.hostsFile(ep.Instance, ep.Service, view)); n.written[ep.Instance] != names.Digest([]byte(content)) {
			writes[ep.Instance] = content
		}
	}
	var wg sync.WaitGroup
	var wmu sync.Mutex
	sem := make(chan struct{}, 8)
	for instance, content := range writes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := n.client.WriteHosts(ctx, n.stack.Name, instance, []byte(content))
			wmu.Lock()
			defer wmu.Unlock()
			if err != nil {
				delete(n.written, instance) // unknown now: the next run writes it again
				n.warnings = append(n.warnings, fmt.Sprintf("%s: names not updated: %v", instance, err))
				return
			}
			n.written[instance] = names.Digest([]byte(content))
		}()
	}
	wg.Wait()
}

// ready publishes fresh instances: the given one, and every fresh one of
// the same service from an earlier batch (its batch is over).
func (n *nameSync) ready(instance string, batch int, service string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for x := range n.fresh {
		s := n.steps[x]
		if x == instance || (s.Service == service && s.Batch < batch) {
			delete(n.fresh, x)
		}
	}
}

// namedActuator is the rollout's actuator with the names hook.
type namedActuator struct {
	rollout.Actuator
	names *nameSync
}

func (a *namedActuator) Create(ctx context.Context, s model.Step) error {
	a.names.mu.Lock()
	a.names.fresh[s.Instance] = true
	// A stop-first step re-creates the name it just stopped: the new
	// instance is not leaving, it is fresh (it joins the names when ready).
	delete(a.names.leaving, s.Instance)
	delete(a.names.written, s.Instance)
	a.names.mu.Unlock()
	if err := a.Actuator.Create(ctx, s); err != nil {
		return err
	}
	svc := a.names.stack.Service(s.Service)
	if nics := a.names.nets.ServiceNICs(svc); len(nics) > 0 {
		addrs, missing, err := a.names.client.WaitAddresses(ctx, a.names.stack.Name, s.Instance, nics, addressWait)
		if err != nil {
			return err
		}
		if len(missing) > 0 && isVersionChange(s) {
			// The new version of a slot that has its names would drop out
			// of them: that fails the update, as its gate would. (A slot
			// moved off a lost member, or re-created, only warns: the
			// version is the same, so the network is to blame.)
			return &rollout.GateError{Err: fmt.Errorf("%s has no IPv4 address on %v after %s, so it could not take over the names of the instance it replaces "+
				"(does the new version still obtain a lease from the network's DHCP server?)", s.Instance, missing, addressWait)}
		}
		if len(missing) > 0 {
			a.names.warnf("%s: no IPv4 address on %v after %s (is there a DHCP server on the network?); it is left out of the names", s.Instance, missing, addressWait)
		}
		a.names.learn(names.Endpoint{Instance: s.Instance, Service: s.Service, Addrs: addrs})
	}
	// Its own file now carries its address; others learn it when ready.
	a.names.sync(ctx, false)
	return nil
}

// isVersionChange reports whether a step replaces an instance with a new
// version of it (an update), not the same version elsewhere.
func isVersionChange(s model.Step) bool {
	return s.Op == model.OpReplace && (s.Reason == model.ReasonConfigChanged || s.Reason == model.ReasonImageChanged || s.Reason == model.ReasonForced)
}

func (a *namedActuator) Delete(ctx context.Context, step model.Step, instance string) error {
	if old, ok := a.names.olds[instance]; ok {
		if old.Op == model.OpReplace && old.Order == model.OrderStartFirst {
			a.names.ready(old.Instance, old.Batch, old.Service) // healthy: start-first stops the old one only then
		} else {
			a.names.ready("", old.Batch, old.Service)
		}
	}
	a.names.mu.Lock()
	a.names.leaving[instance] = true
	a.names.mu.Unlock()
	a.names.sync(ctx, false)
	if err := rollout.Sleep(ctx, drainDelay); err != nil {
		return err
	}
	err := a.Actuator.Delete(ctx, step, instance)
	if err != nil && strings.Contains(err.Error(), "Instance is running") {
		// It was read as stopped and started meanwhile (a start that a
		// killed run left in flight finished during the drain): stop it
		// again.
		err = a.Actuator.Delete(ctx, step, instance)
	}
	return err
}

func (a *namedActuator) Probe(ctx context.Context, instance string, test []string, timeout time.Duration) (bool, error) {
	ok, err := a.Actuator.Probe(ctx, instance, test, timeout)
	if ok && err == nil {
		a.names.ready(instance, 0, "")
		a.names.sync(ctx, false)
	}
	return ok, err
}

// ownHostname is the service's hostname as the instance's own hosts line
// gives it. A Swarm template naming only the service or the instance is
// expanded; one naming the member or slot is not known here, so the
// instance name stands in (the hosts line only has to resolve).
func ownHostname(svc *model.Service, instance string) string {
	h := svc.Runtime.Hostname
	if !strings.Contains(h, "{{") {
		return h
	}
	if strings.Contains(h, ".Node.") || strings.Contains(h, ".Task.Slot") {
		return ""
	}
	return model.ExpandTemplates(h, model.TaskContext{Service: svc.Name, Instance: instance})
}
