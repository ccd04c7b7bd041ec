package composeload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/compose-spec/compose-go/v2/types"
)

// serviceHash follows Compose's ServiceHash rule: the service config minus
// the fields that do not change what a container is (build, pull_policy,
// scale, deploy.replicas, depends_on, profiles), and, as in Swarm, without
// deploy.update_config, deploy.rollback_config and deploy.labels: they say
// how to roll and what to tell the orchestrator, not what an instance is,
// so editing them replaces nothing (the stack record keeps them and the
// next update rolls with them). encoding/json sorts map
// keys, so the digest is independent of map order and of how the config was
// split across files. image is the effective image (x-incus.image wins):
// extensions are not marshalled, yet changing it must change the hash.
func serviceHash(s types.ServiceConfig, image string) (string, error) {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	s.DependsOn = nil
	s.Profiles = nil
	s.Image = image
	if s.Deploy != nil {
		d := *s.Deploy // s is a copy, but Deploy still points into the project
		d.Replicas = nil
		d.UpdateConfig, d.RollbackConfig, d.Labels = nil, nil, nil
		s.Deploy = &d
		// A deploy: holding nothing but replicas must hash like no deploy:
		// at all, or going from the implicit 1 replica to 3 would look like
		// a config change.
		if empty, err := sameJSON(d, types.DeployConfig{}); err == nil && empty {
			s.Deploy = nil
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", errorf("services."+s.Name, "service %q cannot be hashed (%v); simplify its definition", s.Name, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func sameJSON(a, b any) (bool, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return string(ja) == string(jb), nil
}
