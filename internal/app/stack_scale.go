package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/planner"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type stackScaleParams struct {
	Name     string         `json:"name"`
	Replicas map[string]int `json:"replicas"` // service → replicas
}

// stackScale sets the replicas of services of the deployed spec and
// reconciles to it, as `docker service scale` does. The result becomes the
// deployed spec, so status, ls and the watch keep it; but as in Swarm the
// Compose file wins on the next stack.present, which deploys its own
// replicas again. Only the scaled services are touched; replicas are not
// part of the config hash, so no running slot is replaced.
func stackScale(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p stackScaleParams
	c, err := decodeAndConnect(ctx, req, &p)
	if err != nil {
		return protocol.Response{}, err
	}
	if exists, err := c.ProjectState(p.Name); err != nil {
		return protocol.Response{}, err
	} else if !exists {
		return protocol.Response{}, fmt.Errorf("stack %q is not deployed; deploy it with stack.present first: %w", p.Name, incus.ErrNotFound)
	}
	release, err := lockStack(ctx, c, p.Name, req.Test, e.stderr) // stack_run.go
	if err != nil {
		return protocol.Response{}, err
	}
	defer release()
	rec, err := c.ReadRecord(p.Name)
	if err != nil {
		return protocol.Response{}, err
	}
	if upd, err := readUpdate(p.Name, rec); err != nil {
		return protocol.Response{}, err
	} else if upd != nil {
		return protocol.Response{}, fmt.Errorf("stack %s has an update that is %s; finish it (stack up --resume) or roll it back (stack rollback) before scaling: %w",
			p.Name, updateStates[upd.State], incus.ErrConflict)
	}
	stack, images, err := decodeSpec(p.Name, rec.Current)
	if err != nil {
		return protocol.Response{}, err
	}
	services, err := applyScale(stack, p.Replicas)
	if err != nil {
		return protocol.Response{}, err
	}
	if images, err = rollbackImages(ctx, c, stack, images); err != nil {
		return protocol.Response{}, err
	}
	state, err := c.ReadStackState(ctx, p.Name)
	if err != nil {
		return protocol.Response{}, err
	}
	plan, res, err := planner.Plan(stack, state, planner.Options{Services: services, ImageFingerprints: fingerprintsOf(images)})
	if err != nil {
		return protocol.Response{}, err
	}
	resp, dryRun := planResponse(plan, res.Warnings, req.Test)
	if dryRun {
		return resp, nil
	}
	outcome, err := execute(ctx, c, state, stack, images, plan, e.stderr, "scale")
	withOutcome(&resp, p.Name, outcome)
	if err != nil {
		return resp, err
	}
	spec, err := encodeSpec(stack, images)
	if err != nil {
		return resp, err
	}
	if spec != rec.Current {
		rec.Previous, rec.Current = rec.Current, spec
		if err := c.WriteRecord(p.Name, &rec); err != nil {
			return resp, err
		}
	}
	resp.Result = protocol.True()
	resp.Comment = "scaled: " + summarise(plan, false)
	return resp, nil
}

// applyScale sets deploy.replicas of the named services; they must exist
// and be replicated. It returns the services scaled, sorted.
func applyScale(stack *model.Stack, replicas map[string]int) ([]string, error) {
	var problems, names []string
	for name, n := range replicas {
		svc := stack.Service(name)
		switch {
		case svc == nil:
			problems = append(problems, fmt.Sprintf("service %q is not in the deployed spec", name))
		case svc.Deploy.Mode == model.ModeGlobal:
			problems = append(problems, fmt.Sprintf("service %q is global (one per member): it has no replicas to scale", name))
		case n < 0:
			problems = append(problems, fmt.Sprintf("service %q: replicas %d is negative", name, n))
		default:
			svc.Deploy.Replicas = n
			names = append(names, name)
		}
	}
	sort.Strings(problems)
	sort.Strings(names)
	if len(problems) > 0 {
		return nil, protocol.Invalid("params.replicas", "%s", strings.Join(problems, "; "))
	}
	return names, nil
}
