package model

import (
	"regexp"
	"strconv"
	"strings"
)

// TaskContext is what Swarm's service templates ({{.Task.Slot}}, ...)
// name, for one instance. The member is only known once the scheduler has
// placed the slot, so templates stay in the model as written (and in the
// config hash: moving a slot to another member is no config change) and
// are expanded where the instance spec is built.
type TaskContext struct {
	Service  string
	Member   string
	Slot     int
	Instance string
}

// SwarmTemplates maps each supported template to its meaning here: a
// Swarm node is a cluster member (its name is both its hostname and its
// identity), a task is one instance, its slot the instance's slot.
var SwarmTemplates = map[string]func(TaskContext) string{
	".Service.Name":  func(t TaskContext) string { return t.Service },
	".Node.Hostname": func(t TaskContext) string { return t.Member },
	".Node.ID":       func(t TaskContext) string { return t.Member },
	".Task.Slot":     func(t TaskContext) string { return strconv.Itoa(t.Slot) },
	".Task.Name":     func(t TaskContext) string { return t.Instance },
}

// templateRe matches one Go template action, with optional trim markers.
var templateRe = regexp.MustCompile(`\{\{-?\s*(.*?)\s*-?\}\}`)

// TemplateActions lists the actions of s in order ("{{ .Task.Slot }}"
// gives ".Task.Slot").
func TemplateActions(s string) []string {
	var out []string
	for _, m := range templateRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// IsSwarmAction tells an action that reads Swarm's template context
// (.Service, .Node, .Task): Docker Compose passes other braces through
// literally, and so does the fleet.
func IsSwarmAction(action string) bool {
	for _, root := range []string{".Service", ".Node", ".Task"} {
		if i := strings.Index(action, root); i >= 0 {
			rest := action[i+len(root):]
			if rest == "" || rest[0] == '.' || rest[0] == ' ' || rest[0] == '}' {
				return true
			}
		}
	}
	return false
}

// ExpandTemplates replaces the supported Swarm templates in s with their
// values for t; anything else is left as written (the loader has already
// refused unknown Swarm templates).
func ExpandTemplates(s string, t TaskContext) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return templateRe.ReplaceAllStringFunc(s, func(m string) string {
		if f, ok := SwarmTemplates[templateRe.FindStringSubmatch(m)[1]]; ok {
			return f(t)
		}
		return m
	})
}
