package bundle

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// entry is one project file to store: its bundle path and the file to read
// (a symlink inside the project is stored as the file it points to).
type entry struct {
	rel  string
	abs  string
	mode string
}

// collect walks the project directory and returns the files a bundle
// stores, sorted: everything not ignored or excluded. Symlinks are
// followed only to files inside the project; one pointing outside is an
// error (it would smuggle a host file into the bundle).
func collect(dir string, ig *ignore, exclude map[string]bool) ([]entry, []string, error) {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, nil, errorf("", "project directory %s cannot be read: %v", dir, err)
	}
	var out []entry
	var warnings []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return errorf(relOf(dir, p), "cannot be read: %v", err)
		}
		if p == dir {
			return nil
		}
		rel := relOf(dir, p)
		if exclude[rel] {
			return nil
		}
		if ignored, _ := ig.match(rel, d.IsDir()); ignored {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch t := d.Type(); {
		case d.IsDir():
			return nil
		case t.IsRegular():
			info, err := d.Info()
			if err != nil {
				return errorf(rel, "cannot be read: %v", err)
			}
			out = append(out, entry{rel: rel, abs: p, mode: modeString(uint32(info.Mode().Perm()))})
		case t&fs.ModeSymlink != 0:
			e, warn, err := symlinkEntry(realDir, p, rel)
			if err != nil {
				return err
			}
			if warn != "" {
				warnings = append(warnings, warn)
			} else {
				out = append(out, e)
			}
		default:
			warnings = append(warnings, fmt.Sprintf("./%s is a %s, not a regular file: left out of the bundle", rel, t))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.rel, b.rel) })
	return out, warnings, nil
}

// symlinkEntry stores a symlink to a file inside the project as that file.
func symlinkEntry(realDir, p, rel string) (entry, string, error) {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return entry{}, "", errorf(rel, "is a broken symlink (%v); remove it or add it to %s", err, IgnoreFile)
	}
	if r, err := filepath.Rel(realDir, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return entry{}, "", errorf(rel, "is a symlink to %s, outside the project directory; copy the file into the project or add it to %s", target, IgnoreFile)
	}
	info, err := os.Stat(target)
	if err != nil {
		return entry{}, "", errorf(rel, "cannot be read: %v", err)
	}
	if !info.Mode().IsRegular() {
		return entry{}, fmt.Sprintf("./%s is a symlink to a directory or special file: not followed, left out of the bundle", rel), nil
	}
	return entry{rel: rel, abs: target, mode: modeString(uint32(info.Mode().Perm()))}, "", nil
}

func relOf(dir, p string) string {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}
