package bundle

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// IgnoreFile is the project file listing what never goes into a bundle.
const IgnoreFile = ".fleetignore"

// defaultIgnores are always applied first (a "!" line can re-include
// them): version-control data, and .env, which only feeds interpolation
// (already applied in the pinned compose file) and often holds secrets.
var defaultIgnores = []string{".git/", ".hg/", ".svn/", ".env"}

// ignoreRule is one gitignore-like line.
type ignoreRule struct {
	text     string   // as written, for messages
	segs     []string // pattern split on "/"; "**" matches any number of segments
	anchored bool     // contains a "/" (other than a trailing one): relative to the project root
	dirOnly  bool     // trailing "/": matches directories only
	negate   bool     // leading "!": re-includes
}

// ignore is an ordered rule list; the last matching rule wins.
type ignore struct{ rules []ignoreRule }

// parseIgnore reads the subset of gitignore syntax bundles need: comments,
// "!" negation, trailing "/" for directories, a leading or inner "/" to
// anchor at the project root, and the globs of path.Match plus "**".
func parseIgnore(data []byte) *ignore {
	ig := &ignore{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{text: line}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		}
		if strings.HasPrefix(line, `\`) { // "\#file", "\!file"
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimRight(line, "/")
		}
		r.anchored = strings.Contains(line, "/")
		line = strings.TrimPrefix(line, "/")
		if line == "" {
			continue
		}
		r.segs = strings.Split(line, "/")
		ig.rules = append(ig.rules, r)
	}
	return ig
}

// loadIgnore reads the project's .fleetignore after the defaults.
func loadIgnore(dir string) (*ignore, error) {
	ig := parseIgnore([]byte(strings.Join(defaultIgnores, "\n")))
	data, err := os.ReadFile(filepath.Join(dir, IgnoreFile))
	if errors.Is(err, fs.ErrNotExist) {
		return ig, nil
	}
	if err != nil {
		return nil, errorf(IgnoreFile, "cannot be read: %v", err)
	}
	ig.rules = append(ig.rules, parseIgnore(data).rules...)
	return ig, nil
}

// match reports whether rel (slash-separated, relative to the project)
// is ignored, and the rule that decided it.
func (ig *ignore) match(rel string, isDir bool) (bool, string) {
	ignored, by := false, ""
	for _, r := range ig.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if r.matches(rel) {
			ignored, by = !r.negate, r.text
		}
	}
	return ignored, by
}

// excludedBy explains why a file is left out: the rule that ignores the
// file itself or one of its parent directories (which hides the subtree).
func (ig *ignore) excludedBy(rel string) (string, bool) {
	parts := strings.Split(rel, "/")
	for i := 1; i <= len(parts); i++ {
		if ok, by := ig.match(strings.Join(parts[:i], "/"), i < len(parts)); ok {
			return by, true
		}
	}
	return "", false
}

func (r ignoreRule) matches(rel string) bool {
	if !r.anchored {
		// No slash: matches the name at any depth (we test each entry, and
		// a matched directory hides its subtree).
		ok, _ := path.Match(r.segs[0], path.Base(rel))
		return ok
	}
	return matchSegs(r.segs, strings.Split(rel, "/"))
}

// matchSegs matches pattern segments against path segments; "**" matches
// zero or more whole segments.
func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for skip := 0; skip <= len(name); skip++ {
				if matchSegs(pat[1:], name[skip:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
