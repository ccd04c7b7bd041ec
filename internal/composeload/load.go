// Package composeload turns Compose input into model.Stack. It is the only
// package that imports compose-go: everything Compose-specific (file merging,
// .env, interpolation, profiles, Swarm defaults) is settled here so the
// scheduler, planner and Incus adapter only ever see plain model types.
package composeload

import (
	"context"
	"errors"
	"fmt"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Options says where the Compose input comes from and how to resolve it.
type Options struct {
	Name       string                      // stack name (required; also the compose project name)
	Files      []string                    // compose file paths (multiple -f, later override earlier)
	Inline     string                      // inline compose YAML (alternative to Files)
	ProjectDir string                      // default: dir of first file, or cwd for Inline
	Env        map[string]string           // extra env for interpolation; wins over .env and the process env
	Profiles   []string                    // active profiles; services outside them are dropped
	Services   []string                    // optional subset: error if a named service does not exist
	LookupEnv  func(string) (string, bool) // process env; nil = os.LookupEnv
	// Pinned says the input is a bundle's compose file (pin.go): already
	// interpolated and profile-resolved, so it is loaded without
	// interpolation (a literal "$" must stay one) and Env/Profiles are refused.
	Pinned bool
}

// Load reads, merges, interpolates and normalises the Compose input and
// returns the stack it describes. Invalid input yields an *Error; only a
// cancelled ctx yields something else (ctx.Err()).
func Load(ctx context.Context, o Options) (stack *model.Stack, err error) {
	// compose-go parses arbitrary user input; should it ever panic, the
	// caller (CLI, Salt module) must still get an input error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			stack = nil
			err = errorf("compose", "the compose input could not be loaded (loader failure: %v); simplify the construct it trips on", r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	w := &warnings{}
	project, err := loadProject(ctx, o, w)
	if err != nil {
		return nil, err
	}
	if o.Pinned {
		if err := pinnedPathsInside(project); err != nil { // pinned.go
			return nil, err
		}
	}
	st, err := toStack(o.Name, onlyServices(project, o.Services), o.Pinned, w)
	var e *Error
	if err != nil && errors.As(err, &e) && w.explain != nil {
		// user: "${U}:${G}" fails our own checks as ":", which names no
		// variable: say which were unset, as for compose-go's errors.
		return nil, w.explain(e)
	}
	return st, err
}

// loadProject runs compose-go's loader over the input with our environment
// layering, profiles and the stack name as project name. It loads in two
// steps (model, then project) to give services that only name an
// x-incus.image an image before compose-go's consistency check demands one.
func loadProject(ctx context.Context, o Options, w *warnings) (*types.Project, error) {
	dir, err := projectDir(o)
	if err != nil {
		return nil, err
	}
	files, err := configFiles(o)
	if err != nil {
		return nil, err
	}
	env, err := newEnvironment(o, dir)
	if err != nil {
		return nil, err
	}
	// Some problems are only visible (or only cheap to find) in the raw
	// YAML, before compose-go rewrites it.
	if err := prescan(files, env); err != nil {
		return nil, err
	}
	details := types.ConfigDetails{WorkingDir: dir, ConfigFiles: files, Environment: env.project}
	opts := func(lo *loader.Options) {
		lo.SetProjectName(o.Name, true)
		lo.Profiles = activeProfiles(o, env) // profiles.go
		// Selecting in the loader (not afterwards) enables profile-gated
		// services before their env_file is resolved.
		lo.SelectedServices = o.Services
		lo.SkipInterpolation = o.Pinned
		if lo.Interpolate != nil {
			// The default lookup only sees the project map; ours falls
			// through to the (possibly injected) process environment.
			lo.Interpolate.LookupValue = env.lookup
			lo.Interpolate.Substitute = env.substitute
		}
	}
	var project *types.Project
	for _, line := range captureLoaderLogs(func() { // logs.go
		project, w.keys, err = loadOnce(ctx, details, opts)
	}) {
		w.add(line)
	}
	if err != nil && ctx.Err() == nil {
		// compose-go reports the first fault it meets in map order, so
		// two faulty services would take turns in the error: name the
		// first one by service name instead (isolate.go).
		captureLoaderLogs(func() { err = firstFault(ctx, details, opts, err) })
	}
	if err == nil {
		resolveFromProcess(project, env)
		resolveConfigEnvironment(project, env) // files.go
		resolveSecretEnvironment(project, env) // secrets.go
		env.warnings(w)
		w.explain = func(e *Error) *Error { return withUnsetVariables(e, env, files) }
		return project, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(o.Services) > 0 {
		if uerr := unknownService(ctx, o, err); uerr != nil {
			return nil, uerr
		}
	}
	return nil, withUnsetVariables(fromCompose(err), env, files) // unset.go
}

// loadOnce is one pass of compose-go's loader: the merged model (where
// the key warnings are read), then the project.
func loadOnce(ctx context.Context, details types.ConfigDetails, opts func(*loader.Options)) (*types.Project, map[string][]string, error) {
	dict, err := loader.LoadModelWithContext(ctx, details, opts)
	if err != nil {
		return nil, nil, err
	}
	ignored := dropContainerName(dict) // platform.go
	keys := keyWarnings(dict)          // keys.go
	for name, msg := range ignored {
		keys[name] = append(keys[name], msg)
	}
	imageFromExtension(dict)
	project, err := loader.ModelToProject(dict, loader.ToOptions(&details, []func(*loader.Options){opts}), details)
	return project, keys, err
}

// imageFromExtension copies x-incus.image into image where image is
// missing, in the merged model. The effective image is chosen later
// (serviceImage); this only satisfies compose-go's "image or build" rule.
func imageFromExtension(dict map[string]any) {
	services, _ := dict["services"].(map[string]any)
	for _, raw := range services {
		svc, ok := raw.(map[string]any)
		if !ok || svc["image"] != nil {
			continue
		}
		ext, _ := svc[incusExtension].(map[string]any)
		if img, ok := ext["image"].(string); ok && img != "" {
			svc["image"] = img
		}
	}
}

// resolveFromProcess fills `environment: [VAR]` entries (no value) from the
// process environment: compose-go resolved them from the project map only,
// since the process layer is a function it cannot enumerate.
func resolveFromProcess(p *types.Project, env *environment) {
	for name, s := range p.Services {
		for k, v := range s.Environment {
			if v != nil {
				continue
			}
			if val, ok := env.process(k); ok {
				s.Environment[k] = &val
			}
		}
		p.Services[name] = s
	}
}

// toStack converts every service, in name order so errors and warnings are
// deterministic.
func toStack(name string, p *types.Project, pinned bool, w *warnings) (*model.Stack, error) {
	st := &model.Stack{Name: name}
	volumes, err := toVolumes(p, w) // volumes.go
	if err != nil {
		return nil, err
	}
	st.Volumes = volumes
	for _, svcName := range sortedKeys(p.Services) {
		s := p.Services[svcName]
		if err := serviceTemplates(p, s); err != nil { // templates.go
			return nil, err
		}
		files, err := serviceFiles(p, s, w) // files.go
		if err != nil {
			return nil, err
		}
		svc, err := toService(portablePaths(s, p.WorkingDir), w)
		if err != nil {
			return nil, err
		}
		if svc.Runtime.HostBinds, err = hostBinds(p.WorkingDir, s, w); err != nil { // binds.go
			return nil, err
		}
		for _, msg := range w.keys[svcName] {
			w.add(msg)
		}
		svc.Files, svc.Hash = files, withFiles(svc.Hash, files)
		if svc.Mounts, err = serviceMounts(s); err != nil { // volumes.go
			return nil, err
		}
		if svc.Secrets, err = serviceSecrets(p, s, pinned, w); err != nil { // secrets.go
			return nil, err
		}
		st.Services = append(st.Services, svc)
	}
	if n := supportBytes(st.Services); n > maxSupportBytes {
		return nil, errorf("volumes", "the support files (bind-mounted files and configs) of this stack add up to %d bytes, over the limit of %d: they travel in the stack record; put large files into the image", n, maxSupportBytes)
	}
	if err := toNetworks(p, st, w); err != nil { // networks.go
		return nil, err
	}
	for _, job := range sortedKeys(p.Jobs) {
		w.add(fmt.Sprintf("job %q: jobs are not supported and are ignored; declare it as a service", job))
	}
	st.Warnings = w.list()
	return st, nil
}
