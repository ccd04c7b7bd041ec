package planner

import (
	"strconv"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

// pending is a slot that needs a member from the scheduler: missing, or
// moving off a member that is no longer eligible (old is then set).
type pending struct {
	slot int
	old  *current
}

// servicePlan accumulates one service's decisions until steps are emitted.
type servicePlan struct {
	svc      *model.Service
	sched    *scheduler.Service
	fp       string // resolved image fingerprint, "" = unknown
	force    bool
	existing []current // every current instance, for global slot numbering

	replaces []model.Step // in place (filled in pass 1) and moved (pass 2)
	creates  []model.Step
	deletes  []model.Step
	keeps    []model.Step
	pending  []pending
	notes    []string        // warnings found while classifying (offline.go)
	occupied map[string]bool // names held by instances the stack cannot read
	portBuf  []int

	// Volumes (sticky.go, volume_steps.go).
	vols        *volumeIndex
	cl          *scheduler.Cluster
	sticky      map[int]sticky // slot → the member its volume ties it to
	moves       map[int]string // slot → member its volumes move off (move_volumes)
	stopFirst   string         // why updates must run stop-first; "" = free
	volumeOps   []model.Step   // volume creates and moves, before the instance steps
	staleCopies []model.Step   // deletes of copies a cut-short move left, last
}

// name is the instance name of a new slot: <service>-<slot>, unless an
// instance the stack cannot read holds that name (occupied.go).
func (p *servicePlan) name(slot int) string {
	var buf [64]byte
	b := append(buf[:0], p.svc.Name...)
	b = append(b, '-')
	return freeName(string(strconv.AppendInt(b, int64(slot), 10)), p.occupied)
}

// ports returns the slot's host ports, carved from one shared buffer so a
// 10,000-replica service does not make 10,000 small allocations.
func (p *servicePlan) ports(slot int) []int {
	n := len(p.svc.Ports)
	if n == 0 {
		return nil
	}
	if len(p.portBuf) < n {
		p.portBuf = make([]int, n*64)
	}
	out := p.portBuf[:n:n]
	p.portBuf = p.portBuf[n:]
	fillHostPorts(out, p.svc, slot)
	return out
}

// rank orders duplicate claimants of a slot (lower is better).
// A replacement that never passed its gate loses to a running instance
// that did, even one with an older hash: a run killed during the gate
// must not leave the unproven copy serving in place of the healthy one
// (the update then runs again, gate included).
func (p *servicePlan) rank(c current) int {
	r := 0
	if !p.sched.Eligible(c.member) {
		r += 8
	}
	if c.gatePending {
		r += 2
	}
	if c.stopped() {
		r += 2
	}
	if changeReason(c.hash, p.svc, p.fp, false) != "" {
		r++
	}
	return r
}

// stay records that the instance stays on its member: a keep when up to
// date, else a replace in place.
func (p *servicePlan) stay(c current) {
	p.sched.Add(c.member)
	reason := changeReason(c.hash, p.svc, p.fp, p.force)
	if reason == "" && c.stopped() && p.svc.Deploy.RestartPolicy.Condition != "none" {
		reason = model.ReasonNotRunning
	}
	if reason == "" && c.gatePending {
		// Up to date but never proven healthy: re-run the gate on it.
		p.replaces = append(p.replaces, model.Step{
			Op: model.OpUpdate, Service: p.svc.Name, Slot: c.slot, Instance: c.name, Member: c.member,
			Reason: model.ReasonGatePending, HostPorts: p.ports(c.slot),
		})
		return
	}
	if reason == "" {
		p.keeps = append(p.keeps, model.Step{
			Op: model.OpKeep, Service: p.svc.Name, Slot: c.slot, Instance: c.name, Member: c.member,
			HostPorts: p.ports(c.slot),
		})
		return
	}
	p.replaces = append(p.replaces, p.replace(c.slot, c.member, reason, &c))
}

func (p *servicePlan) replace(slot int, member, reason string, old *current) model.Step {
	return model.Step{
		Op: model.OpReplace, Service: p.svc.Name, Slot: slot, Instance: p.name(slot), Member: member,
		Reason: reason, OldInstance: old.name, OldMember: old.member,
		HostPorts: p.ports(slot),
	}
}

func (p *servicePlan) remove(c current, reason string, cl *scheduler.Cluster) {
	cl.Release(c.member)
	if unreachable(c, cl) {
		p.notes = append(p.notes, leftAlone(p.svc.Name, c, reason))
		return
	}
	p.deletes = append(p.deletes, deleteStep(p.svc.Name, c, reason))
}

func deleteStep(service string, c current, reason string) model.Step {
	return model.Step{Op: model.OpDelete, Service: service, Slot: c.slot, Instance: c.name, Member: c.member, Reason: reason}
}

func keepStep(service string, c current, svc *model.Service) model.Step {
	s := model.Step{Op: model.OpKeep, Service: service, Slot: c.slot, Instance: c.name, Member: c.member}
	if svc != nil {
		s.HostPorts = hostPorts(svc, c.slot)
	}
	return s
}
