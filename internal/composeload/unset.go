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
	used := map[string]bool{} // Compose paths holding an unset variable
	for _, name := range sortedKeys(env.unset) {
		note := fmt.Sprintf("variable %q is not set", name)
		uses := variableUses(files, name)
		for _, u := range uses {
			_, path, _ := strings.Cut(u, " ")
			used[path] = true
			// Through a YAML anchor the use sits elsewhere (x-limits.
			// mem_limit) than the faulty value (services.db.mem_limit).
			used["*."+lastKey(path)] = true
		}
		if len(uses) > maxUses {
			uses = append(uses[:maxUses], fmt.Sprintf("and %d more", len(uses)-maxUses))
		}
		if len(uses) > 0 {
			note += " (used in " + strings.Join(uses, ", ") + ")"
		}
		notes = append(notes, note)
	}
	fix := ": set it in env, .env or the environment, or give a default with ${NAME:-default}"
	if explainedByUnset(e.Message, used) {
		// Every line of the error is an empty value that a type rejects
		// (one per use, so one per service): the notes say it all.
		return &Error{Field: e.Field, Message: "invalid compose input: " + strings.Join(notes, "; ") +
			", and an empty value is not valid there" + fix}
	}
	return &Error{Field: e.Field, Message: e.Message + "; " + strings.Join(notes, "; ") + fix}
}

// maxUses bounds the places listed per variable: a variable used in every
// service would otherwise make the one useful line as long as the file.
const maxUses = 5

// errorPathRe finds the Compose path a compose-go error line is about, in
// its two spellings: services[web].mem_limit (decoding) and
// services.web.cpus (interpolation).
var errorPathRe = regexp.MustCompile(`\bservices(?:\[([^\]]+)\]|\.([A-Za-z0-9_-]+))((?:\.[A-Za-z0-9_]+)+)`)

// explainedByUnset reports whether every line of a compose-go error that
// names a path names one where an unset variable is used, and one does.
func explainedByUnset(msg string, used map[string]bool) bool {
	found := false
	for _, line := range strings.Split(msg, "\n") {
		m := errorPathRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		path := "services." + m[1] + m[2] + m[3]
		empty := strings.Contains(line, `""`) || strings.Contains(line, "''") || strings.Contains(line, "<empty>")
		if !used[path] && !(empty && used["*."+lastKey(path)]) {
			return false
		}
		found = true
	}
	return found
}

func lastKey(path string) string {
	path = strings.TrimRight(path, "]0123456789[")
	return path[strings.LastIndex(path, ".")+1:]
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
