package composeload

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// withUnsetVariables adds to a load error the variables that were unset,
// and where the files use them: an unset variable is the usual cause of
// errors such as "invalid spec: :/var/lib/postgresql/data: empty section
// between colons", which name neither.
func withUnsetVariables(e *Error, env *environment, files []types.ConfigFile) *Error {
	if e == nil || len(env.unset) == 0 {
		return e
	}
	var notes []string
	for _, name := range sortedKeys(env.unset) {
		note := fmt.Sprintf("variable %q is not set", name)
		if uses := variableUses(files, name); len(uses) > 0 {
			note += " (used in " + strings.Join(uses, ", ") + ")"
		}
		notes = append(notes, note)
	}
	return &Error{Field: e.Field, Message: e.Message + "; " + strings.Join(notes, "; ") +
		": set it in env, .env or the environment, or give a default with ${NAME:-default}"}
}

// variableUses lists the places (file:line and the Compose path) where a
// variable is referenced as $NAME or ${NAME...}.
func variableUses(files []types.ConfigFile, name string) []string {
	re := regexp.MustCompile(`\$(\{` + regexp.QuoteMeta(name) + `([:?+-}]|$)|` + regexp.QuoteMeta(name) + `\b)`)
	var out []string
	for _, f := range files {
		var doc yaml.Node
		if yaml.NewDecoder(bytes.NewReader(f.Content)).Decode(&doc) != nil {
			continue
		}
		walkScalars(&doc, "", func(path string, n *yaml.Node) {
			if re.MatchString(strings.ReplaceAll(n.Value, "$$", "")) {
				out = append(out, fmt.Sprintf("%s:%d %s", f.Filename, n.Line, path))
			}
		})
	}
	return slices.Compact(out)
}

// walkScalars calls fn for every scalar value with its dotted path
// (services.db.volumes[0]).
func walkScalars(n *yaml.Node, path string, fn func(string, *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkScalars(c, path, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			walkScalars(n.Content[i+1], key, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkScalars(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case yaml.ScalarNode:
		fn(path, n)
	}
}
