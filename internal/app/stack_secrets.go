package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// A stack record never holds a secret's content, only where it goes
// (secretRef). A rollback re-creates instances from a record, so it must
// find the content elsewhere: in the stack being deployed when a failed
// update rolls back (the same Compose input), otherwise in the running
// instances it is about to replace, which hold the very files a deploy
// pushed. Content read so goes straight back into new instances and is
// never printed.

// secretRef is a secret of a service without its content.
type secretRef struct {
	Source string `json:"source"` // the top-level secrets: key
	Target string `json:"target"`
	Mode   uint32 `json:"mode"`
	UID    int64  `json:"uid,omitempty"`
	GID    int64  `json:"gid,omitempty"`
}

// secretPrefix starts model.File.Source for secrets (composeload).
const secretPrefix = "secret "

func secretRefsOf(stack *model.Stack) map[string][]secretRef {
	if stack == nil {
		return nil
	}
	var out map[string][]secretRef
	for _, svc := range stack.Services {
		for _, f := range svc.Secrets {
			if out == nil {
				out = map[string][]secretRef{}
			}
			out[svc.Name] = append(out[svc.Name], secretRef{Source: strings.TrimPrefix(f.Source, secretPrefix), Target: f.Target, Mode: f.Mode, UID: f.UID, GID: f.GID})
		}
	}
	return out
}

// secretSource finds what a rollback pushes for one secret.
type secretSource struct {
	client   *incus.Client
	from     *model.Stack           // the stack being deployed; nil for stack.rollback
	current  map[string][]secretRef // where the instances running now got theirs
	state    *model.ClusterState
	stack    string
	warnings []string
}

// fill gives a stack decoded from a record the secrets its record names,
// each with its content. A record written before secrets were recorded
// gets those of the stack being deployed, service by service, as before.
func (s *secretSource) fill(ctx context.Context, target *model.Stack, refs map[string][]secretRef) {
	for i := range target.Services {
		svc := &target.Services[i]
		if refs == nil {
			if s.from != nil {
				if src := s.from.Service(svc.Name); src != nil {
					svc.Secrets = src.Secrets
				}
			}
			continue
		}
		svc.Secrets = nil
		for _, ref := range refs[svc.Name] {
			content, ok := s.content(ctx, svc.Name, ref)
			if !ok {
				s.warnings = append(s.warnings, fmt.Sprintf("service %s: secret %s could not be found in the stack being deployed nor in a running instance of %s, so nothing is put at %s; deploy with the Compose file (stack up) to push it",
					svc.Name, ref.Source, svc.Name, ref.Target))
				continue
			}
			svc.Secrets = append(svc.Secrets, model.File{Target: ref.Target, Mode: ref.Mode, UID: ref.UID, GID: ref.GID, Content: content, Source: secretPrefix + ref.Source})
		}
	}
}

func (s *secretSource) content(ctx context.Context, service string, ref secretRef) ([]byte, bool) {
	if s.from != nil {
		if svc := s.from.Service(service); svc != nil {
			for _, f := range svc.Secrets {
				if f.Source == secretPrefix+ref.Source {
					return f.Content, true
				}
			}
		}
	}
	if s.client == nil || s.state == nil {
		return nil, false
	}
	// The running instances of the service got the secret at the target
	// the spec they run gave it, which may differ from the one rolled to.
	paths := []string{ref.Target}
	for _, cur := range s.current[service] {
		if cur.Source == ref.Source && cur.Target != ref.Target {
			paths = append(paths, cur.Target)
		}
	}
	for _, name := range s.runningInstances(service) {
		for _, p := range paths {
			if data, _, err := s.client.ReadFile(ctx, s.stack, name, p); err == nil {
				return data, true
			}
		}
	}
	return nil, false
}

// runningInstances lists the running instances of a service, by name.
func (s *secretSource) runningInstances(service string) []string {
	var out []string
	for _, in := range s.state.Instances {
		if in.Project == s.stack && in.Config[model.KeyService] == service && in.Config[model.KeyStack] == s.stack && strings.EqualFold(in.Status, "running") {
			out = append(out, in.Name)
		}
	}
	sort.Strings(out)
	return out
}
