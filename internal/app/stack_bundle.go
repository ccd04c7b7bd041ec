package app

import (
	"context"
	"os"

	"github.com/incus-fleet/incus-fleet/internal/bundle"
	"github.com/incus-fleet/incus-fleet/internal/composeload"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// checkBundle refuses what cannot go with a bundle: it carries its own
// project directory, and its variables and profiles were applied when it
// was made (the pinned compose file is deployed exactly as created).
func (p stackPresentParams) checkBundle() error {
	if p.Bundle != "" && (p.ProjectDir != "" || len(p.Env) > 0 || len(p.Profiles) > 0) {
		return protocol.Invalid("params.bundle", "a bundle carries its project directory, and its variables and profiles were applied "+
			"when it was created; drop project_dir, env and profiles (or create a new bundle with them)")
	}
	return nil
}

// loadStack reads the stack.present input: compose files or inline YAML,
// or a bundle, verified and extracted into its content-addressed directory
// and loaded from there. A dry run extracts into a temporary directory, so
// it leaves nothing behind.
func (p stackPresentParams) loadStack(ctx context.Context, test bool) (*model.Stack, error) {
	if p.Bundle == "" {
		return composeload.Load(ctx, composeload.Options{
			Name: p.Name, Files: p.ComposeFiles, Inline: p.ComposeYAML, ProjectDir: p.ProjectDir,
			Env: p.Env, Profiles: p.Profiles, Services: p.Services,
		})
	}
	cache, err := bundle.CacheDir()
	if test {
		cache, err = os.MkdirTemp("", "incus-fleet-bundle-")
		defer os.RemoveAll(cache)
	}
	if err != nil {
		return nil, err
	}
	opened, err := bundle.Extract(p.Bundle, cache, bundle.Limits{})
	if err != nil {
		return nil, err
	}
	stack, err := composeload.Load(ctx, composeload.Options{
		Name: p.Name, Files: []string{opened.ComposeFile()}, ProjectDir: opened.ProjectDir(), Services: p.Services, Pinned: true,
	})
	if err != nil {
		return nil, err
	}
	stack.Bundle = opened.SHA256
	return stack, nil
}

// setBundle reports which bundle a stack.present run deployed.
func setBundle(resp *protocol.Response, stack *model.Stack) {
	if stack.Bundle != "" {
		resp.Set("bundle", stack.Bundle)
	}
}

// recordedBundle is the digest of the bundle the stack's current record
// was deployed from ("" for plain compose input or no record).
func recordedBundle(c *incus.Client, name string) (string, error) {
	rec, err := c.ReadRecord(name)
	if err != nil || rec.Current == "" {
		return "", err
	}
	stack, _, err := decodeSpec(name, rec.Current)
	if err != nil {
		return "", nil // an unreadable record is stack.present's to report, not status's
	}
	return stack.Bundle, nil
}
