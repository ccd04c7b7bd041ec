package model

import "testing"

func TestSwarmTemplateActions(t *testing.T) {
	for action, want := range map[string]bool{
		".Task.Slot": true, ".Task": true, `index .Service.Labels "x"`: true, "json .Node": true,
		".Services": false, ".NodeName": false, ".Time": false, "": false,
	} {
		if got := IsSwarmAction(action); got != want {
			t.Errorf("IsSwarmAction(%q) = %t, want %t", action, got, want)
		}
	}
	task := TaskContext{Service: "web", Member: "node2", Slot: 3, Instance: "web-3-b"}
	for in, want := range map[string]string{
		"{{.Service.Name}}-{{ .Task.Slot }}@{{- .Node.Hostname -}}": "web-3@node2",
		"{{.Node.ID}} {{.Task.Name}}":                               "node2 web-3-b",
		"{{.Time}} {{.Task.ID}} plain":                              "{{.Time}} {{.Task.ID}} plain",
	} {
		if got := ExpandTemplates(in, task); got != want {
			t.Errorf("ExpandTemplates(%q) = %q, want %q", in, got, want)
		}
	}
}
