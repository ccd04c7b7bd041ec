package composeload

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// inlineName stands in for a file name in compose-go messages about Inline.
const inlineName = "inline compose"

// check validates the options themselves, before any file is touched.
func (o Options) check() error {
	if o.Name == "" {
		return errorf("name", "stack name is required; pass one (it is also the compose project name)")
	}
	if o.Name != loader.NormalizeProjectName(o.Name) {
		return errorf("name", "stack name %q is invalid: use only lowercase letters, digits, '-' and '_', starting with a letter or digit", o.Name)
	}
	switch {
	case len(o.Files) > 0 && o.Inline != "":
		return errorf("inline", "both compose files and inline compose given; pass one or the other")
	case len(o.Files) == 0 && strings.TrimSpace(o.Inline) == "":
		return errorf("files", "no compose input; pass at least one compose file or inline compose YAML")
	}
	if o.Pinned && (len(o.Env) > 0 || len(o.Profiles) > 0) {
		return errorf("env", "a bundle is already interpolated and its profiles applied when it was created; drop env and profiles, or create a new bundle with them")
	}
	for i, f := range o.Files {
		if strings.TrimSpace(f) == "" {
			return errorf("files", "compose file #%d has an empty path; remove it or give the path", i+1)
		}
	}
	return nil
}

// projectDir is the base for relative paths and the .env file.
func projectDir(o Options) (string, error) {
	dir := o.ProjectDir
	if dir == "" && len(o.Files) > 0 {
		dir = filepath.Dir(o.Files[0])
	}
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", errorf("project_dir", "cannot determine the current directory (%v); pass a project directory", err)
		}
		dir = wd
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", errorf("project_dir", "invalid project directory %q: %v", dir, err)
	}
	return abs, nil
}

// configFiles reads the inputs ourselves so Files and Inline take the same
// path through the loader and read errors name the file plainly.
func configFiles(o Options) ([]types.ConfigFile, error) {
	if len(o.Files) == 0 {
		return []types.ConfigFile{{Filename: inlineName, Content: []byte(o.Inline)}}, nil
	}
	out := make([]types.ConfigFile, 0, len(o.Files))
	for _, f := range o.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, errorf("files", "invalid compose file path %q: %v", f, err)
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return nil, errorf("files", "cannot read compose file %q: %v; check the path", f, err)
		}
		out = append(out, types.ConfigFile{Filename: abs, Content: b})
	}
	return out, nil
}
