package composeload

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// Resolver pins the image a service names to an immutable fingerprint.
type Resolver func(service, image string) (fingerprint string, err error)

// PinnedImage is one service's image before and after pinning.
type PinnedImage struct {
	Ref         string `json:"ref"`
	Fingerprint string `json:"fingerprint"`
}

// Pinned is a Compose project flattened into one self-contained file: the
// compose file of a bundle. Files merged, variables interpolated, profiles
// applied, every image pinned, host paths relative to the project.
type Pinned struct {
	YAML       []byte
	ProjectDir string                 // absolute
	Inputs     []string               // the compose files read (absolute), superseded by YAML
	Images     map[string]PinnedImage // by service
	// Files are the project-relative (slash) paths the YAML refers to:
	// bind-mounted files, config files, env files, label files. A bundle
	// must carry every one of them.
	Files []string
	// Secrets are the project-relative paths of secret files, which a
	// bundle must never carry (secrets are not supported yet).
	Secrets  []string
	Warnings []string
}

// Pin loads the project like Load (so anything Load refuses, Pin refuses),
// then pins each service's image with resolve and renders the result.
func Pin(ctx context.Context, o Options, resolve Resolver) (pinned *Pinned, err error) {
	defer func() {
		if r := recover(); r != nil {
			pinned = nil
			err = errorf("compose", "the compose input could not be loaded (loader failure: %v); simplify the construct it trips on", r)
		}
	}()
	if err := o.check(); err != nil {
		return nil, err
	}
	w := &warnings{}
	project, err := loadProject(ctx, o, w)
	if err != nil {
		return nil, err
	}
	project = onlyServices(project, o.Services)
	stack, err := toStack(o.Name, project, false, w)
	if err != nil {
		return nil, err
	}
	out := &Pinned{ProjectDir: project.WorkingDir, Images: map[string]PinnedImage{}, Warnings: stack.Warnings}
	files := map[string]bool{}
	for _, name := range sortedKeys(project.Services) {
		ref := stack.Service(name).Image
		fp, err := resolve(name, ref)
		if err != nil {
			return nil, err
		}
		out.Images[name] = PinnedImage{Ref: ref, Fingerprint: fp}
		s, err := pinService(project.Services[name], project.WorkingDir, ref, fp, files)
		if err != nil {
			return nil, err
		}
		project.Services[name] = s
	}
	if err := pinConfigs(project, files); err != nil {
		return nil, err
	}
	out.Secrets = pinSecrets(project)
	project.Name = "" // the stack name is given at deploy time
	if out.YAML, err = project.MarshalYAML(); err != nil {
		return nil, errorf("compose", "the pinned project cannot be rendered: %v", err)
	}
	out.Files = slices.Sorted(maps.Keys(files))
	for _, f := range o.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, errorf("files", "invalid compose file path %q: %v", f, err)
		}
		out.Inputs = append(out.Inputs, abs)
	}
	return out, nil
}

// pinService rewrites one service for the bundle: the image (and
// x-incus.image, which wins over it) becomes the fingerprint, build and
// profiles go (resolved at creation), host paths become project-relative.
func pinService(s types.ServiceConfig, dir, ref, fp string, files map[string]bool) (types.ServiceConfig, error) {
	s.Image = fp
	s.Build = nil
	s.Profiles = nil
	ext := maps.Clone(s.Extensions)
	if ext == nil {
		ext = types.Extensions{}
	}
	incus := map[string]any{}
	if m, ok := ext[incusExtension].(map[string]any); ok {
		incus = maps.Clone(m)
	}
	incus["image"] = fp
	incus["pinned_from"] = ref // for people reading the bundle; not used
	ext[incusExtension] = incus
	s.Extensions = ext

	s = portablePaths(s, dir)
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && isRelative(v.Source) {
			if st, err := os.Stat(joinRel(dir, v.Source)); err == nil && st.Mode().IsRegular() {
				files[v.Source[2:]] = true
			}
		}
	}
	for _, f := range s.EnvFiles {
		if err := needInside(s.Name, "env_file", f.Path); err != nil {
			return s, err
		}
		if _, err := os.Stat(joinRel(dir, f.Path)); err == nil {
			files[f.Path[2:]] = true // a missing optional env_file stays missing
		}
	}
	for _, f := range s.LabelFiles {
		if err := needInside(s.Name, "label_file", f); err != nil {
			return s, err
		}
		files[f[2:]] = true
	}
	return s, nil
}

// pinConfigs makes config files project-relative and turns configs taken
// from an environment variable into inline content: the bundle is deployed
// without the creator's environment.
func pinConfigs(p *types.Project, files map[string]bool) error {
	for _, name := range sortedKeys(p.Configs) {
		c := p.Configs[name]
		switch {
		case c.File != "":
			c.File = relativeTo(p.WorkingDir, c.File)
			if !isRelative(c.File) {
				return errorf("configs."+name+".file", "config %q: file %s is outside the project directory %s; a bundle only carries files inside it", name, c.File, p.WorkingDir)
			}
			files[c.File[2:]] = true
		case c.Environment != "": // content filled by resolveConfigEnvironment
			c.Environment = ""
		}
		p.Configs[name] = c
	}
	return nil
}

// pinSecrets makes secret files project-relative (so the creator's paths
// do not leak into the bundle) and lists those inside the project, which
// the bundle leaves out.
func pinSecrets(p *types.Project) []string {
	var out []string
	for _, name := range sortedKeys(p.Secrets) {
		s := p.Secrets[name]
		if s.File != "" {
			s.File = relativeTo(p.WorkingDir, s.File)
			if isRelative(s.File) {
				out = append(out, s.File[2:])
			}
		}
		p.Secrets[name] = s
	}
	return out
}

func needInside(service, attr, path string) error {
	if isRelative(path) {
		return nil
	}
	return serviceErr(service, attr, "%s is outside the project directory; a bundle only carries files inside it: move it into the project", path)
}

// isRelative recognises the "./rel" form relativeTo produces.
func isRelative(p string) bool { return len(p) > 2 && p[:2] == "./" }

func joinRel(dir, rel string) string { return filepath.Join(dir, filepath.FromSlash(rel[2:])) }
