package composeload

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// supportedTemplates is the list an error about a Swarm template offers.
const supportedTemplates = "{{.Service.Name}} (the service), {{.Node.Hostname}} and {{.Node.ID}} (the member), {{.Task.Slot}} (the slot), {{.Task.Name}} (the instance name)"

// checkTemplates refuses a Swarm service template that has no meaning on
// Incus ({{.Service.ID}}, {{.Task.ID}}, {{.Node.Platform.OS}}, a function
// over them, ...). The supported ones stay in the value as written: they
// are expanded per instance when its spec is built (model.ExpandTemplates).
func checkTemplates(service, attr, value string) error {
	for _, a := range model.TemplateActions(value) {
		if _, ok := model.SwarmTemplates[a]; ok || !model.IsSwarmAction(a) {
			continue
		}
		return serviceErr(service, attr, "uses the Swarm template {{%s}}, which has no meaning on Incus; use %s", a, supportedTemplates)
	}
	return nil
}

// sampleTask stands in for any instance of a service, to validate values
// whose templates are only expanded once the instance is placed.
func sampleTask(service string) model.TaskContext {
	return model.TaskContext{Service: service, Member: "node1", Slot: 1, Instance: service + "-1"}
}

// serviceTemplates checks the templates Swarm expands, in environment and
// mount sources (hostname is checked with the other runtime keys), in a
// stable order. A template anywhere else is refused where it would only
// name a file of the planning machine or a volume shared by every slot.
func serviceTemplates(p *types.Project, s types.ServiceConfig) error {
	for _, k := range sortedKeys(s.Environment) {
		if v := s.Environment[k]; v != nil {
			if err := checkTemplates(s.Name, "environment."+k, *v); err != nil {
				return err
			}
		}
	}
	for i, v := range s.Volumes {
		attr := fmt.Sprintf("volumes[%d]", i)
		if err := checkTemplates(s.Name, attr, v.Source); err != nil {
			return err
		}
		if !hasSwarmTemplate(v.Source) || isHostBind(p.WorkingDir, v) {
			continue
		}
		return serviceErr(s.Name, attr, "source %q uses a Swarm template, which is expanded only in paths of the member (absolute paths outside the project); a named volume already gets one Incus volume per slot", v.Source)
	}
	return nil
}

// volumeNameTemplate handles a template in a top-level volume's name:
// each slot already gets a volume of its own (data-1, data-2, ...), which
// is what such names are for in Swarm; an external volume is one that
// exists, and naming one per instance is not supported.
func volumeNameTemplate(name string, c types.VolumeConfig, w *warnings) error {
	if !hasSwarmTemplate(c.Name) {
		return nil
	}
	if c.External {
		return errorf("volumes."+name+".name", "volume %q: name %q uses a Swarm template; an external volume must name one existing Incus volume", name, c.Name)
	}
	w.add(fmt.Sprintf("volume %q: name %q ignored: the fleet names volumes itself, one per slot (%s-1, %s-2, ...), as the template intends", name, c.Name, name, name))
	return nil
}

func hasSwarmTemplate(s string) bool {
	for _, a := range model.TemplateActions(s) {
		if model.IsSwarmAction(a) {
			return true
		}
	}
	return false
}

// checkHostname validates hostname with its templates expanded for a
// sample instance: the expanded name must be a valid host name.
func checkHostname(s types.ServiceConfig) error {
	if err := checkTemplates(s.Name, "hostname", s.Hostname); err != nil {
		return err
	}
	if h := model.ExpandTemplates(s.Hostname, sampleTask(s.Name)); !validHostName(h) || strings.Contains(h, "{{") {
		return serviceErr(s.Name, "hostname", "%q is not a valid host name (letters, digits, '-' and '.', at most 63 characters per label)", s.Hostname)
	}
	return nil
}
