package composeload

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// onlyServices keeps exactly the named services. The loader already
// enabled them (a named service behind an inactive profile is enabled, as
// `docker compose up NAME` does) and pulled in their dependencies; those are
// dropped again because the caller asked for a subset to act on.
func onlyServices(p *types.Project, names []string) *types.Project {
	if len(names) == 0 {
		return p
	}
	keep := types.Services{}
	for _, n := range names {
		if s, ok := p.Services[n]; ok {
			keep[n] = s
		}
	}
	p.Services = keep
	return p
}

var noSuchServiceRe = regexp.MustCompile(`no such service: ([^\s:]+)`)

// unknownService explains a Services entry that names no service, listing
// the services that do exist (found by loading again without the subset).
func unknownService(ctx context.Context, o Options, err error) error {
	m := noSuchServiceRe.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	msg := fmt.Sprintf("service %q does not exist in the compose project", m[1])
	o.Services = nil
	if p, err := loadProject(ctx, o, &warnings{}); err == nil {
		msg += "; known services: " + strings.Join(sortedKeys(p.AllServices()), ", ")
	}
	return errorf("services", "%s", msg)
}
