package clusterres

import (
	"context"
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// API is the REST surface of one collection (*incus.ResourceAPI).
type API interface {
	Get(ctx context.Context, name, target string) (incus.ResourceRecord, bool, error)
	CreatePending(ctx context.Context, name, typ, target string, cfg map[string]string) error
	Create(ctx context.Context, name, typ, description string, cfg map[string]string) error
	Update(ctx context.Context, name, target string, cfg map[string]string, description *string) error
	Delete(ctx context.Context, name string) error
}

// Server is where the resource lives: the collection, whether the server is
// a cluster, its own member name, and the members (sorted by name).
type Server struct {
	API       API
	Clustered bool
	Self      string
	Members   []string
}

// Change is one thing a run changed (or would change, in test mode).
type Change struct {
	Key      string
	Old, New any
}

// Run is one present/absent run: what it changed and what it warns about.
type Run struct {
	Kind     Kind
	Server   Server
	Test     bool
	Progress func(format string, args ...any)
	Changes  []Change
	Warnings []string
	Status   string // the resource's status after the run ("" = absent)
}

func (r *Run) progress(format string, args ...any) {
	if r.Progress != nil {
		r.Progress(format, args...)
	}
}

// Step records a change and, outside test mode, carries it out; a failed
// step records nothing, so the changes say exactly what was done.
func (r *Run) Step(c Change, do func() error) error {
	if !r.Test {
		if err := do(); err != nil {
			return err
		}
	}
	r.Changes = append(r.Changes, c)
	return nil
}

// Present creates the resource, finishes a create an earlier run left
// half-way, or updates what may change in place.
func (r *Run) Present(ctx context.Context, s Spec) error {
	if err := r.validate(s); err != nil {
		return err
	}
	cur, found, err := r.Server.API.Get(ctx, s.Name, "")
	if err != nil {
		return err
	}
	if !found {
		return r.create(ctx, s, nil)
	}
	if err := r.checkManaged(s.Name, cur); err != nil {
		return err
	}
	r.Status = cur.Status
	if cur.Type != s.Type {
		return fmt.Errorf("%s %s exists with %s %q, not %q, and Incus cannot change a %s's %s in place: "+
			"remove it first (%s.absent, once nothing uses it) or give the new one another name; nothing was changed: %w",
			r.Kind.Noun, s.Name, r.Kind.TypeParam, cur.Type, s.Type, r.Kind.Noun, r.Kind.TypeParam, r.Kind.Key, incus.ErrConflict)
	}
	switch cur.Status {
	case "Created", "":
		r.Status = "Created"
		return r.update(ctx, s, cur)
	case "Pending", "Errored":
		return r.create(ctx, s, &cur)
	default:
		return fmt.Errorf("%s %s is %s: Incus cannot use it on every member; fix the member it failed on and retry: %w",
			r.Kind.Noun, s.Name, cur.Status, incus.ErrConflict)
	}
}

// checkManaged refuses a host interface Incus merely reports under the
// name: it is not a network Incus (or this tool) can converge or delete.
func (r *Run) checkManaged(name string, cur incus.ResourceRecord) error {
	if cur.Managed != nil && !*cur.Managed {
		return fmt.Errorf("%s is a host interface (type %s) that Incus does not manage, not a managed network: choose another name; "+
			"nothing was changed: %w", name, cur.Type, incus.ErrConflict)
	}
	return nil
}

// validate checks the params against the kind before anything changes.
func (r *Run) validate(s Spec) error {
	for _, member := range sortedKeys(s.MemberConfig) {
		for _, key := range sortedKeys(s.MemberConfig[member]) {
			if !r.Kind.MemberKey(key) {
				return protocol.Invalid(fmt.Sprintf("params.member_config.%s.%s", member, key),
					"%s is not a member-specific key of a %s (those are %s): put it in config, which applies to the whole cluster",
					key, r.Kind.Noun, strings.Join(r.Kind.MemberKeys(), ", "))
			}
		}
	}
	if !r.Kind.PerMember(s.Type) {
		_, member := r.Kind.Split(s.Config)
		if len(s.MemberConfig) > 0 || len(member) > 0 {
			return protocol.Invalid("params.member_config", "a %s of type %s has no member-specific keys: Incus defines it on every member itself; "+
				"drop member_config (and %s from config)", r.Kind.Noun, s.Type, strings.Join(sortedKeys(member), ", "))
		}
	}
	if r.Server.Clustered {
		for _, member := range sortedKeys(s.MemberConfig) {
			if !contains(r.Server.Members, member) {
				r.Warnings = append(r.Warnings, fmt.Sprintf("member_config names %s, which is not a cluster member (yet): it is used when %s joins", member, member))
			}
		}
	}
	return nil
}

// create runs both phases, skipping what an earlier run already did (cur
// is the pending or errored record it left).
func (r *Run) create(ctx context.Context, s Spec, cur *incus.ResourceRecord) error {
	global, _ := r.Kind.Split(s.Config)
	desc := ""
	if s.Description != nil {
		desc = *s.Description
	}
	if !r.Server.Clustered {
		cfg := global
		for k, v := range nonEmpty(r.Kind.ForMember(s, r.Server.Self)) {
			cfg[k] = v
		}
		return r.createGlobal(ctx, s, desc, cfg, nil)
	}
	if r.Kind.PerMember(s.Type) {
		for _, m := range r.Server.Members {
			if cur != nil && contains(cur.Locations, m) {
				continue
			}
			cfg := nonEmpty(r.Kind.ForMember(s, m))
			err := r.Step(Change{Key: "pending." + m, Old: nil, New: cfg}, func() error {
				r.progress("defining %s %s on %s (pending)", r.Kind.Noun, s.Name, m)
				return lostRace(r.Server.API.CreatePending(ctx, s.Name, s.Type, m, cfg), "already defined on", "not in pending state")
			})
			if err != nil {
				return err
			}
			crashpoint.Hit(r.Kind.Key + ".pending")
		}
	}
	if err := r.createGlobal(ctx, s, desc, global, cur); err != nil {
		return err
	}
	// Incus takes the record from the pending definitions, which have no
	// description, and ignores the one of the cluster-wide create.
	if desc != "" && !r.Test {
		return r.Server.API.Update(ctx, s.Name, "", nil, &desc)
	}
	return nil
}

// createGlobal is the cluster-wide create. Incus refuses global keys when
// retrying a create whose global config is already recorded (status
// Errored), so a retry sends none.
func (r *Run) createGlobal(ctx context.Context, s Spec, desc string, cfg map[string]string, cur *incus.ResourceRecord) error {
	send := cfg
	if cur != nil && partiallyCreated(r.Kind, *cur) {
		send = map[string]string{}
	}
	verb := "creating"
	if cur != nil {
		verb = "finishing the create of"
	}
	err := r.Step(Change{Key: r.Kind.Key, Old: nil, New: map[string]any{r.Kind.TypeParam: s.Type, "config": cfg, "description": desc}}, func() error {
		r.progress("%s %s %s on the whole cluster", verb, r.Kind.Noun, s.Name)
		return lostRace(r.Server.API.Create(ctx, s.Name, s.Type, desc, send), "is already created")
	})
	if err != nil {
		return err
	}
	if !r.Test {
		r.Status = "Created"
	}
	return nil
}

// lostRace treats Incus saying a concurrent run (another Salt minion, a
// second incus-fleet) already did this very step, or the whole create, as
// done: the next read converges whatever differs.
func lostRace(err error, incusWordings ...string) error {
	if err == nil {
		return nil
	}
	for _, w := range incusWordings {
		if strings.Contains(err.Error(), w) {
			return nil
		}
	}
	return err
}

// partiallyCreated mirrors Incus: an errored create, or one whose
// cluster-wide keys are recorded already.
func partiallyCreated(k Kind, cur incus.ResourceRecord) bool {
	if cur.Status == "Errored" {
		return true
	}
	for key := range cur.Config {
		if !k.MemberKey(key) {
			return true
		}
	}
	return false
}
