package composeload

import (
	"github.com/compose-spec/compose-go/v2/types"
)

// pinnedPathsInside refuses, in a bundle's compose file, env and label
// files outside the project directory. A bundle comes from elsewhere: it
// must not read host files into instances (bind mounts and config files
// are held inside the project for every stack; see readSupportFile).
func pinnedPathsInside(p *types.Project) error {
	for _, name := range sortedKeys(p.Services) {
		s := p.Services[name]
		for _, f := range s.EnvFiles {
			if _, ok := insideDir(p.WorkingDir, f.Path); !ok || !insideAfterSymlinks(p.WorkingDir, f.Path) && exists(f.Path) {
				return serviceErr(name, "env_file", "%s is outside the bundle; a bundle may only refer to its own files", f.Path)
			}
		}
		for _, f := range s.LabelFiles {
			if _, ok := insideDir(p.WorkingDir, f); !ok || !insideAfterSymlinks(p.WorkingDir, f) && exists(f) {
				return serviceErr(name, "label_file", "%s is outside the bundle; a bundle may only refer to its own files", f)
			}
		}
	}
	return nil
}
