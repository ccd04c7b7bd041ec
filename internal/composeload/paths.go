package composeload

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// insideDir reports whether file lies inside dir (lexically) and returns
// its slash-separated path relative to dir.
func insideDir(dir, file string) (string, bool) {
	rel, err := filepath.Rel(dir, file)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// insideAfterSymlinks reports whether file, with every symlink resolved,
// still lies inside dir (itself resolved: the project may live under a
// symlinked path such as /tmp on some systems).
func insideAfterSymlinks(dir, file string) bool {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	realFile, err := filepath.EvalSymlinks(file)
	if err != nil {
		return false
	}
	_, ok := insideDir(realDir, realFile)
	return ok
}

// displayPath shows a path relative to the project when it is inside it.
func displayPath(dir, file string) string {
	if filepath.Clean(file) == filepath.Clean(dir) {
		return "."
	}
	if rel, ok := insideDir(dir, file); ok {
		return "./" + rel
	}
	return file
}

// relativeTo rewrites an absolute path inside dir as "./rel"; other paths
// are returned unchanged.
func relativeTo(dir, file string) string {
	if !filepath.IsAbs(file) {
		return file
	}
	if filepath.Clean(file) == filepath.Clean(dir) {
		return "."
	}
	if rel, ok := insideDir(dir, file); ok {
		return "./" + rel
	}
	return file
}

// portablePaths returns a copy of the service whose host paths (bind
// sources, env_file, label_file) are relative to the project directory.
// compose-go makes them absolute, which would tie the config hash to where
// the project happens to sit: a bundle extracted into another directory,
// or a checkout moved elsewhere, would look like a changed service. The
// files' contents are hashed separately (filesHash).
func portablePaths(s types.ServiceConfig, dir string) types.ServiceConfig {
	if len(s.Volumes) > 0 {
		s.Volumes = slices.Clone(s.Volumes)
		for i, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				s.Volumes[i].Source = relativeTo(dir, v.Source)
			}
		}
	}
	if len(s.EnvFiles) > 0 {
		s.EnvFiles = slices.Clone(s.EnvFiles)
		for i, f := range s.EnvFiles {
			s.EnvFiles[i].Path = relativeTo(dir, f.Path)
		}
	}
	if len(s.LabelFiles) > 0 {
		s.LabelFiles = slices.Clone(s.LabelFiles)
		for i, f := range s.LabelFiles {
			s.LabelFiles[i] = relativeTo(dir, f)
		}
	}
	return s
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
