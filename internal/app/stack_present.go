package app

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/planner"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
	"github.com/incus-fleet/incus-fleet/internal/rollout"
)

// composeInput names a Compose project (or a bundle) and how to load it:
// what stack.present deploys and stack.config shows.
type composeInput struct {
	Name         string            `json:"name"`
	ComposeFiles []string          `json:"compose_files"`
	ComposeYAML  string            `json:"compose_yaml"`
	Bundle       string            `json:"bundle"`
	ProjectDir   string            `json:"project_dir"`
	Env          map[string]string `json:"env"`
	Profiles     []string          `json:"profiles"`
	Services     []string          `json:"services"`
}

type stackPresentParams struct {
	composeInput
	ForceRecreate  bool                `json:"force_recreate"`
	MoveVolumes    bool                `json:"move_volumes"`
	PruneVolumes   bool                `json:"prune_volumes"`
	FailoverShared bool                `json:"failover_shared_volumes"`
	Resume         bool                `json:"resume"`
	LockTimeout    *float64            `json:"lock_timeout"`
	WaitTimeout    *float64            `json:"wait_timeout"` // stack_wait.go
	Cluster        *model.ClusterState `json:"cluster"`
}

func (p stackPresentParams) check(test bool) error {
	sources := 0
	for _, set := range []bool{len(p.ComposeFiles) > 0, p.ComposeYAML != "", p.Bundle != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources != 1:
		return protocol.Invalid("params", "give exactly one of compose_files, compose_yaml or bundle (got %d)", sources)
	case p.checkBundle() != nil: // stack_bundle.go
		return p.checkBundle()
	case p.WaitTimeout != nil && *p.WaitTimeout <= 0:
		return protocol.Invalid("params.wait_timeout", "must be a number of seconds above 0 (got %v); leave it out not to wait", *p.WaitTimeout)
	case p.Cluster != nil && !test:
		return protocol.Invalid("params.cluster", "a cluster snapshot only plans offline: set \"test\": true, or drop params.cluster to deploy for real")
	}
	return nil
}

func stackPresent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p stackPresentParams
	if err := protocol.DecodeParams(req, &p); err != nil {
		return protocol.Response{}, err
	}
	if err := p.check(req.Test); err != nil {
		return protocol.Response{}, err
	}
	stack, err := p.loadStack(ctx, req.Test) // compose input or bundle: stack_bundle.go
	if err != nil {
		return protocol.Response{}, err
	}
	d := deployment{stack: stack, params: p, stderr: e.stderr}
	if p.Cluster != nil {
		d.state = p.Cluster
		if err := checkSnapshotNetworks(stack, p.Cluster); err != nil { // stack_offline_networks.go
			return protocol.Response{}, err
		}
	} else if err := d.readCluster(ctx, req); err != nil {
		return protocol.Response{}, err
	}
	plan, res, err := planner.Plan(stack, d.state, planner.Options{
		ForceRecreate: p.ForceRecreate, Services: p.Services, ImageFingerprints: d.fingerprints(),
		MoveVolumes: p.MoveVolumes, PruneVolumes: p.PruneVolumes, FailoverSharedVolumes: p.FailoverShared,
	})
	if err != nil {
		return protocol.Response{}, err
	}
	warnings := append(append([]string{}, stack.Warnings...), res.Warnings...)
	var netWarnings []string
	if d.client != nil && plan.Changes() {
		// Bad network input fails here, before the lock creates anything.
		nets, err := d.client.ResolveNetworks(ctx, stack, d.state.Members)
		if err != nil {
			return protocol.Response{}, err
		}
		netWarnings = nets.Warnings
		warnings = append(warnings, netWarnings...)
	}
	resp := protocol.Response{Warnings: warnings, Changes: planChanges(plan)}
	resp.Set("plan", plan)
	setBundle(&resp, stack)
	stale, held := d.recordStale()
	if held != nil {
		// A paused update stays paused: the same spec changes nothing (and
		// a dry run says so instead of showing the steps it would resume).
		resp.Changes = planChanges(model.Plan{Stack: plan.Stack})
		return resp, held
	}
	if req.Test || (!plan.Changes() && !stale) {
		resp.Result = protocol.True()
		if plan.Changes() {
			resp.Result = nil
		}
		resp.Comment = summarise(plan, req.Test)
		if t := waitTimeout(p.WaitTimeout); t > 0 && !req.Test {
			return resp, d.waitReady(ctx, req, t) // stack_wait.go
		}
		return resp, nil
	}
	// Something to do: take the stack's lock, then look again, because a
	// concurrent run may have changed the cluster since the first look.
	lock, err := d.lock(ctx, req)
	if err != nil {
		return resp, err
	}
	defer d.unlock(lock)
	if err := d.readCluster(ctx, req); err != nil {
		return resp, err
	}
	if plan, res, err = planner.Plan(stack, d.state, planner.Options{
		ForceRecreate: p.ForceRecreate, Services: p.Services, ImageFingerprints: d.fingerprints(),
		MoveVolumes: p.MoveVolumes, PruneVolumes: p.PruneVolumes, FailoverSharedVolumes: p.FailoverShared,
	}); err != nil {
		return resp, err
	}
	resp = protocol.Response{Warnings: append(append(append(append([]string{}, stack.Warnings...), res.Warnings...), netWarnings...), lock.Warnings...)}
	resp.Set("plan", plan)
	setBundle(&resp, stack)
	outcome, err := d.apply(ctx, plan)
	resp.Changes = planChanges(model.Plan{Stack: plan.Stack, Steps: outcome.Done})
	resp.Warnings = append(resp.Warnings, outcome.Warnings...)
	if err != nil {
		return resp, err
	}
	resp.Comment = summarise(plan, false)
	if t := waitTimeout(p.WaitTimeout); t > 0 {
		d.unlock(lock) // others may deploy while this run only waits (Release is idempotent)
		if err := d.waitReady(ctx, req, t); err != nil {
			return resp, err
		}
	}
	resp.Result = protocol.True()
	return resp, nil
}

// writer is where progress goes (stderr).
type writer = io.Writer

// deployment carries what one stack.present run learns along the way.
type deployment struct {
	stack  *model.Stack
	params stackPresentParams
	stderr writer
	client *incus.Client
	state  *model.ClusterState
	images map[string]incus.Image // by service
}

// readCluster reads the cluster (again, after taking the lock) on the
// connection of the first look, and resolves each image once per run, so
// both looks plan with the same fingerprints.
func (d *deployment) readCluster(ctx context.Context, req *protocol.Request) error {
	if d.client == nil {
		c, err := connect(ctx, req)
		if err != nil {
			return err
		}
		d.client = c
	}
	var err error
	// Read as the stack's project resolves the instance profile (its own,
	// when the project was made with features.profiles=true).
	if d.state, err = d.client.ReadStackState(ctx, d.stack.Name); err != nil {
		return err
	}
	if d.state.RootPool == "" && len(d.stack.Services) > 0 {
		// Caught here, before anything is created: Incus would only refuse
		// each instance one by one ("No root device could be found").
		return fmt.Errorf("the %q profile has no root disk, so instances of stack %s would have no root filesystem; "+
			"add one with `incus profile device add default root disk path=/ pool=POOL` "+
			"(with --project %s when that project has profiles of its own): %w", "default", d.stack.Name, d.stack.Name, incus.ErrNotFound)
	}
	if incus.NeedsCapacity(d.stack) {
		if err := d.client.FillCapacity(ctx, d.state); err != nil {
			return err
		}
	}
	if d.images == nil {
		return d.resolveImages(ctx)
	}
	return nil
}

// resolveImages pins each service's image, one lookup per distinct
// reference: services usually share images. An OCI image's ENTRYPOINT is
// read here too when a command runs after it, so a registry that cannot
// say fails the plan, before anything changes.
func (d *deployment) resolveImages(ctx context.Context) error {
	images := map[string]incus.Image{}
	byRef := map[string]incus.Image{}
	for i, svc := range d.stack.Services {
		img, ok := byRef[svc.Image]
		if !ok {
			var err error
			if img, err = d.client.ResolveImage(svc.Image); err != nil {
				return fmt.Errorf("service %q: %w", svc.Name, err)
			}
			byRef[svc.Image] = img
		}
		img, err := d.client.WithImageEntrypoint(ctx, &svc, img)
		if err != nil {
			return err
		}
		images[svc.Name] = img
		// Without healthcheck.test an OCI image's HEALTHCHECK runs; the
		// stack record keeps the check that results.
		hc := incus.ImageHealthcheck(&svc, img)
		d.stack.Services[i].Healthcheck = hc
		if svc.Healthcheck != nil && !svc.Healthcheck.Disabled && len(svc.Healthcheck.Test) == 0 && (hc == nil || len(hc.Test) == 0) {
			d.stack.Warnings = append(d.stack.Warnings, fmt.Sprintf("service %q: healthcheck without test: image %s has no HEALTHCHECK to inherit (Incus images carry none), so no check runs; add healthcheck.test", svc.Name, svc.Image))
			slices.Sort(d.stack.Warnings)
		}
	}
	d.images = images
	return nil
}

func (d *deployment) fingerprints() map[string]string {
	out := map[string]string{}
	for name, img := range d.images {
		out[name] = img.Fingerprint
	}
	return out
}

// stackActuator adapts the Incus client to the rollout executor.
type stackActuator struct {
	client  *incus.Client
	stack   *model.Stack
	images  map[string]incus.Image
	members map[string]model.Member
	volumes *slotVolumes   // stack_volumes.go
	nets    *incus.NetPlan // NIC devices (network_resolve.go)
	names   *nameSync      // nil without networks (stack_names.go)
}

func (a *stackActuator) Create(ctx context.Context, s model.Step) error {
	svc := a.stack.Service(s.Service)
	if svc == nil {
		return fmt.Errorf("plan step for unknown service %q", s.Service)
	}
	// Images from a record (rollback, recovery) learn an OCI ENTRYPOINT
	// here; the client reads each digest's once.
	img, err := a.client.WithImageEntrypoint(ctx, svc, a.images[s.Service])
	if err != nil {
		return err
	}
	post := incus.InstanceSpec(a.stack.Name, svc, s, img, a.members[s.Member], model.SlotHash(svc.Hash, img.Fingerprint))
	if s.Op == model.OpReplace {
		// Unproven until its gate passes (GatePassed): a run killed in
		// between must not leave this copy preferred over the old one.
		post.Config[model.KeyGate] = model.GatePending
	}
	if a.volumes != nil {
		devices, err := a.volumes.prepare(ctx, svc, s)
		if err != nil {
			return err
		}
		for name, dev := range devices {
			post.Devices[name] = dev
		}
	}
	files := append(append([]model.File{}, svc.Files...), svc.Secrets...)
	if nics := a.nets.ServiceNICs(svc); len(nics) > 0 {
		// The names' hosts file carries extra_hosts too (one writer).
		maps.Copy(post.Devices, incus.NetworkDevices(nics))
		post.Config[incus.KeyNICs] = incus.EncodeNICs(nics)
		files = append(files, a.names.initialHosts(ctx, s))
	} else if hosts, ok := incus.HostsFile(svc); ok { // extra_hosts
		files = append(files, hosts)
	}
	err = a.client.CreateAndStart(ctx, a.stack.Name, s.Member, post, files...)
	if incus.IsRunError(err) {
		// The spec cannot run (unknown user, does not start): the new
		// version is at fault, so an update stops at it for good.
		return &rollout.GateError{Err: err}
	}
	return err
}

func (a *stackActuator) Delete(ctx context.Context, s model.Step, instance string) error {
	return a.client.StopAndDeleteOwned(ctx, incus.Owner{Stack: a.stack.Name, Service: s.Service, Slot: s.Slot}, instance)
}

func (a *stackActuator) GatePassed(ctx context.Context, s model.Step) error {
	return a.client.MarkGatePassed(ctx, a.stack.Name, s.Instance)
}

func (a *stackActuator) Running(ctx context.Context, instance string) (bool, error) {
	return a.client.Running(ctx, a.stack.Name, instance)
}

func (a *stackActuator) Probe(ctx context.Context, instance string, test []string, timeout time.Duration) (bool, error) {
	argv, err := incus.HealthcheckArgv(test)
	if err != nil || argv == nil {
		return argv == nil && err == nil, err
	}
	code, err := a.client.Exec(ctx, a.stack.Name, instance, argv, timeout)
	if err != nil && !incus.ClusterFault(ctx, err) {
		// Incus could not run the probe in the instance (its main process
		// exited: "Failed to retrieve PID of executing child process"):
		// a failed probe, as Docker counts an exec that cannot start. But
		// only while its member still answers for it: a member lost
		// meanwhile is the cluster's failure.
		if _, rerr := a.client.Running(ctx, a.stack.Name, instance); rerr == nil {
			return false, nil
		}
	}
	return code == 0, err
}
