package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/bundle"
	"github.com/incus-fleet/incus-fleet/internal/composeload"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type bundleCreateParams struct {
	ComposeFiles []string          `json:"compose_files"`
	ProjectDir   string            `json:"project_dir"`
	Output       string            `json:"output"`
	Name         string            `json:"name"`
	Env          map[string]string `json:"env"`
	Profiles     []string          `json:"profiles"`
}

// bundleCreate pins every service's image to the fingerprint it has on the
// target cluster now, and packs the pinned compose file with the project's
// files into a deterministic bundle. Creating the same bundle again leaves
// the output untouched and reports no change; a dry run writes nothing.
func bundleCreate(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p bundleCreateParams
	if err := protocol.DecodeParams(req, &p); err != nil {
		return protocol.Response{}, err
	}
	output, err := filepath.Abs(p.Output)
	if err != nil {
		return protocol.Response{}, protocol.Invalid("params.output", "%v", err)
	}
	if st, err := os.Stat(filepath.Dir(output)); err != nil || !st.IsDir() {
		return protocol.Response{}, protocol.Invalid("params.output", "directory %s does not exist; create it first", filepath.Dir(output))
	}
	c, err := connect(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	pinned, err := composeload.Pin(ctx, composeload.Options{Name: bundleProjectName(p), Files: p.ComposeFiles, ProjectDir: p.ProjectDir,
		Env: p.Env, Profiles: p.Profiles}, imageResolver(c))
	if err != nil {
		return protocol.Response{}, err
	}
	src := bundle.Source{Dir: pinned.ProjectDir, Compose: pinned.YAML, Images: map[string]bundle.Image{}, Required: pinned.Files,
		Exclude: append(projectRelative(pinned.ProjectDir, append(pinned.Inputs, output)...), pinned.Secrets...)}
	for svc, img := range pinned.Images {
		src.Images[svc] = bundle.Image{Ref: img.Ref, Fingerprint: img.Fingerprint}
	}
	res, err := writeBundle(output, src, req.Test)
	if err != nil {
		return protocol.Response{}, err
	}
	resp := protocol.Response{Result: protocol.True(), Warnings: append(pinned.Warnings, res.Warnings...), Changes: map[string]protocol.Change{}}
	if old := existingDigest(output); old != res.SHA256 {
		change := protocol.Change{New: res.SHA256}
		if old != "" {
			change.Old = old
		}
		resp.Changes[output] = change
		if req.Test {
			resp.Result = nil
		}
	}
	if !req.Test {
		if err := res.commit(output); err != nil {
			return protocol.Response{}, err
		}
	}
	setBundleFields(&resp, output, res.SHA256, res.Size, res.Manifest)
	verb := "created"
	switch {
	case len(resp.Changes) == 0:
		verb = "unchanged"
	case req.Test:
		verb = "would be created"
	}
	resp.Comment = fmt.Sprintf("bundle %s %s: sha256 %s, %d files, %d bytes", output, verb, res.SHA256, len(res.Manifest.Files), res.Size)
	return resp, nil
}

// imageResolver pins references on the cluster, looking each one up once.
func imageResolver(c *incus.Client) composeload.Resolver {
	seen := map[string]string{}
	return func(service, ref string) (string, error) {
		if fp, ok := seen[ref]; ok {
			return fp, nil
		}
		img, err := c.ResolveImage(ref)
		if err != nil {
			return "", fmt.Errorf("service %q: %w", service, err)
		}
		seen[ref] = img.Fingerprint
		return img.Fingerprint, nil
	}
}

// bundleProjectName is the compose project name used while creating: the
// name given, else the project directory's, as Compose would default it.
// It only shows in the pinned file where Compose derives names from it.
func bundleProjectName(p bundleCreateParams) string {
	if p.Name != "" {
		return p.Name
	}
	dir := p.ProjectDir
	if dir == "" {
		dir = filepath.Dir(p.ComposeFiles[0])
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(filepath.Base(dir)), "-"), "-"); name != "" {
		return name
	}
	return "bundle"
}

// projectRelative keeps the paths inside dir, as slash paths relative to it.
func projectRelative(dir string, paths ...string) []string {
	var out []string
	for _, p := range paths {
		rel, err := filepath.Rel(dir, p)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			out = append(out, filepath.ToSlash(rel))
		}
	}
	return out
}

// staged is a bundle written next to its output, not yet in place.
type staged struct {
	*bundle.Result
	tmp string
}

// writeBundle writes the bundle to a temporary file beside the output (or
// nowhere, for a dry run), so a failure never leaves a half-written bundle
// where the old one was.
func writeBundle(output string, src bundle.Source, test bool) (*staged, error) {
	if test {
		res, err := bundle.Create(io.Discard, src)
		return &staged{Result: res}, err
	}
	f, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write the bundle next to %s: %w", output, err)
	}
	src.Exclude = append(src.Exclude, projectRelative(src.Dir, f.Name())...)
	res, err := bundle.Create(f, src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &staged{Result: res, tmp: f.Name()}, nil
}

// commit puts the staged bundle in place, unless the output already holds
// the very same bytes (then it is left alone, mtime and all).
func (s *staged) commit(output string) error {
	if existingDigest(output) == s.SHA256 {
		return os.Remove(s.tmp)
	}
	if err := os.Chmod(s.tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(s.tmp, output); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("cannot move the bundle into %s: %w", output, err)
	}
	return nil
}
