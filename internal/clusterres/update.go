package clusterres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// patch is one planned PATCH: on target ("" = cluster-wide keys).
type patch struct {
	target  string
	prefix  string // of the change keys: "config." or "member_config.<member>."
	config  map[string]string
	desc    *string
	changes []Change
}

// update converges a created resource: cluster-wide keys and description
// in one PATCH, then each member's member-specific keys on that member.
// Keys the params do not mention are left alone. Everything is read and
// planned first, and a key Incus never changes in place stops the run
// before the first write, so a refused run changes nothing.
func (r *Run) update(ctx context.Context, s Spec, cur incus.ResourceRecord) error {
	global, _ := r.Kind.Split(s.Config)
	p := diff(global, cur.Config, "config.")
	if s.Description != nil && *s.Description != cur.Description {
		p.desc = s.Description
		p.changes = append(p.changes, Change{Key: "description", Old: cur.Description, New: *s.Description})
	}
	plan := []patch{p}
	if !r.Server.Clustered || !r.Kind.PerMember(s.Type) {
		plan = append(plan, diff(nonEmpty(r.Kind.ForMember(s, r.Server.Self)), cur.Config, "member_config."+r.Server.Self+"."))
	} else {
		for _, m := range r.Server.Members {
			want := nonEmpty(r.Kind.ForMember(s, m))
			if len(want) == 0 {
				continue // nothing member-specific asked for: no request
			}
			onMember, found, err := r.Server.API.Get(ctx, s.Name, m)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			mp := diff(want, onMember.Config, "member_config."+m+".")
			mp.target = m
			plan = append(plan, mp)
		}
	}
	var fixed []string
	for _, p := range plan {
		for _, c := range p.changes {
			if r.Kind.fixedKey(strings.TrimPrefix(c.Key, p.prefix)) {
				fixed = append(fixed, fmt.Sprintf("%s (%v -> %v)", c.Key, c.Old, c.New))
			}
		}
	}
	if len(fixed) > 0 {
		return fmt.Errorf("%s %s cannot change %s in place: Incus fixes it when the %s is created; put the old value back, "+
			"or remove the %s and create it anew; nothing was changed: %w",
			r.Kind.Noun, s.Name, strings.Join(fixed, ", "), r.Kind.Noun, r.Kind.Noun, incus.ErrConflict)
	}
	for _, p := range plan {
		if len(p.changes) == 0 {
			continue
		}
		p := p
		if err := r.apply(p.changes, func() error { return r.Server.API.Update(ctx, s.Name, p.target, p.config, p.desc) }); err != nil {
			return r.refused(s.Name, p.changes, err)
		}
	}
	return nil
}

// diff plans the keys of want that differ from cur.
func diff(want, cur map[string]string, prefix string) patch {
	p := patch{prefix: prefix, config: map[string]string{}}
	for _, k := range sortedKeys(want) {
		if old, ok := cur[k]; !ok || old != want[k] {
			p.config[k] = want[k]
			p.changes = append(p.changes, Change{Key: prefix + k, Old: oldValue(cur, k), New: want[k]})
		}
	}
	return p
}

func (r *Run) apply(changes []Change, do func() error) error {
	if !r.Test {
		if err := do(); err != nil {
			return err
		}
	}
	r.Changes = append(r.Changes, changes...)
	return nil
}

// refused turns Incus refusing an in-place change into a conflict that
// names the keys; outages and timeouts stay what they are.
func (r *Run) refused(name string, changes []Change, err error) error {
	if errors.Is(err, incus.ErrUnreachable) || errors.Is(err, incus.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	keys := make([]string, 0, len(changes))
	for _, c := range changes {
		keys = append(keys, c.Key)
	}
	return fmt.Errorf("Incus refused to change %s of %s %s in place (%v); such a key is fixed once the %s exists: "+
		"put the old value back, or remove the %s and create it anew: %w",
		strings.Join(keys, ", "), r.Kind.Noun, name, err, r.Kind.Noun, r.Kind.Noun, incus.ErrConflict)
}

func oldValue(cfg map[string]string, k string) any {
	if v, ok := cfg[k]; ok {
		return v
	}
	return nil
}

// nonEmpty drops empty values: "" means Incus's default for that member.
func nonEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
